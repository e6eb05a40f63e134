//! Lab timers: the TCP timer settings a lab gives its nodes so that probes
//! which wait on the kernel (a blackhole verdict waits for retransmission
//! timeouts, a PLPMTUD recovery for the kernel's blackhole detection) end in
//! milliseconds instead of seconds. Everything here stays inside the lab's
//! own namespaces and routes; nothing outside them changes.
//!
//! Measured on 6.18 (README "Lab timers"):
//!
//! - RTO. Stock Linux never lets a retransmission timeout drop below
//!   200 ms (`TCP_RTO_MIN`), so a blackhole verdict (two RTOs without
//!   progress) took about 0.6 s. A route's `rto_min` metric (`RTAX_RTO_MIN`,
//!   locked, any kernel since 2.6.23) and, where the kernel has it, the
//!   per-namespace `net.ipv4.tcp_rto_min_us` (6.11+) lower it. The lab puts
//!   the metric on every route it installs, connected routes included (it
//!   adds addresses with `IFA_F_NOPREFIXROUTE` and installs the prefix
//!   route itself), and sets the sysctl where it exists.
//! - Delayed ACKs. With an RTO of a few milliseconds, a receiver that holds
//!   back an ACK for 40 ms would make the sender time out spuriously and
//!   turn an `ok` transfer into `recovered`. The `quickack` metric on the
//!   same routes makes every receiver ACK at once.
//! - PLPMTUD. With `tcp_mtu_probing=1` the kernel starts probing smaller
//!   segments when a retransmission times out after `tcp_retries1` worth
//!   of backoff *computed from the constant 200 ms* (`retransmits_timed_out`
//!   with `TCP_RTO_MIN` as the base): 3 s for the stock `tcp_retries1 = 3`,
//!   whatever the actual RTO. `tcp_retries1 = 0` makes that 200 ms: a
//!   recovered 1 MiB download took 0.27 s instead of 6.6 s. Nothing else in
//!   a lab depends on `tcp_retries1` (it also triggers `dst_negative_advice`,
//!   a route re-lookup that finds the same route).
//!
//! [`Timers::KERNEL_DEFAULTS`] (`--kernel-defaults`, or the environment
//! variable `MTULAB_KERNEL_DEFAULTS=1`) switches all of it off. Probes do not
//! assume either: they read the sender's `tcp_retries1` and its socket's
//! actual RTO (see [`plpmtud_grace`]).

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use netlink_packet_route::route::RouteMetric;

/// The TCP timer settings of a lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Timers {
    /// Minimum RTO in milliseconds on every route the lab installs (a
    /// locked `rto_min` metric) and, where the kernel has it,
    /// `net.ipv4.tcp_rto_min_us`. None: the kernel's 200 ms.
    pub rto_min_ms: Option<u32>,
    /// The `quickack` metric on every route the lab installs (no delayed
    /// ACKs).
    pub quickack: bool,
    /// `net.ipv4.tcp_retries1` in every node. None: the kernel's (3).
    pub retries1: Option<u32>,
}

/// `RTAX_RTO_MIN` (include/uapi/linux/rtnetlink.h): its lock bit is
/// `1 << 13` in `RTAX_LOCK`, and the kernel only honours a locked value.
const RTAX_RTO_MIN: u32 = 13;

/// The kernel's `TCP_RTO_MIN`: the base of its blackhole-detection clock.
pub const KERNEL_RTO_MIN: Duration = Duration::from_millis(200);
/// The kernel's `TCP_RTO_MAX` (the default `tcp_rto_max_ms`).
const KERNEL_RTO_MAX: Duration = Duration::from_secs(120);

impl Timers {
    /// What a lab uses unless told otherwise.
    pub const FAST: Timers = Timers {
        rto_min_ms: Some(10),
        quickack: true,
        retries1: Some(0),
    };
    /// Stock timers: the lab sets nothing of its own.
    pub const KERNEL_DEFAULTS: Timers = Timers {
        rto_min_ms: None,
        quickack: false,
        retries1: None,
    };

    /// Is anything changed from the kernel's own timers?
    pub fn is_fast(&self) -> bool {
        *self != Timers::KERNEL_DEFAULTS
    }

    /// The timers labs of this process get: [`Timers::FAST`] unless
    /// [`use_kernel_defaults`] was called or `MTULAB_KERNEL_DEFAULTS` is set
    /// to anything but `0` or the empty string.
    pub fn current() -> Timers {
        match MODE.load(Ordering::Relaxed) {
            MODE_FAST => Timers::FAST,
            MODE_KERNEL => Timers::KERNEL_DEFAULTS,
            _ => {
                let stock = std::env::var("MTULAB_KERNEL_DEFAULTS")
                    .map(|v| !v.is_empty() && v != "0")
                    .unwrap_or(false);
                if stock {
                    Timers::KERNEL_DEFAULTS
                } else {
                    Timers::FAST
                }
            }
        }
    }

    /// The metrics every route of the lab carries (empty: none).
    pub fn route_metrics(&self) -> Vec<RouteMetric> {
        let mut out = Vec::new();
        if let Some(ms) = self.rto_min_ms {
            out.push(RouteMetric::Lock(1 << RTAX_RTO_MIN));
            out.push(RouteMetric::RtoMin(ms));
        }
        if self.quickack {
            out.push(RouteMetric::QuickAck(1));
        }
        out
    }

    /// Sysctls every node gets (after the base ones, before the
    /// topology's own, which win). A kernel without one of them skips it.
    pub fn sysctls(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(ms) = self.rto_min_ms {
            out.push(("net.ipv4.tcp_rto_min_us", (ms * 1000).to_string()));
        }
        if let Some(r) = self.retries1 {
            out.push(("net.ipv4.tcp_retries1", r.to_string()));
        }
        out
    }

    /// One line for `mtulab up` and reports.
    pub fn describe(&self) -> String {
        if !self.is_fast() {
            return "kernel defaults (RTO at least 200 ms, delayed ACKs, tcp_retries1 as the kernel has it)"
                .into();
        }
        let mut parts = Vec::new();
        if let Some(ms) = self.rto_min_ms {
            parts.push(format!(
                "rto_min {ms} ms on every route and tcp_rto_min_us where the kernel has it"
            ));
        }
        if self.quickack {
            parts.push("quickack on every route".into());
        }
        if let Some(r) = self.retries1 {
            parts.push(format!("tcp_retries1={r}"));
        }
        format!("fast ({}; --kernel-defaults for stock)", parts.join(", "))
    }
}

const MODE_ENV: u8 = 0;
const MODE_FAST: u8 = 1;
const MODE_KERNEL: u8 = 2;
static MODE: AtomicU8 = AtomicU8::new(MODE_ENV);

/// Labs built by this process from now on use stock kernel timers
/// (`--kernel-defaults`).
pub fn use_kernel_defaults() {
    MODE.store(MODE_KERNEL, Ordering::Relaxed);
}

/// Labs built by this process from now on use [`Timers::FAST`], whatever
/// the environment says.
pub fn use_fast() {
    MODE.store(MODE_FAST, Ordering::Relaxed);
}

/// How long the kernel waits, from a segment's first transmission, before
/// its retransmission timer may start PLPMTUD blackhole detection:
/// `tcp_model_timeout(retries1, TCP_RTO_MIN)` in net/ipv4/tcp_timer.c.
pub fn blackhole_detection_after(retries1: u32) -> Duration {
    // Exponential backoff doubles up to TCP_RTO_MAX, then grows linearly.
    let base = KERNEL_RTO_MIN.as_millis() as u64;
    let thresh = (KERNEL_RTO_MAX.as_millis() as u64 / base).ilog2();
    let ms = if retries1 <= thresh {
        ((2u64 << retries1) - 1) * base
    } else {
        ((2u64 << thresh) - 1) * base
            + (retries1 - thresh) as u64 * KERNEL_RTO_MAX.as_millis() as u64
    };
    Duration::from_millis(ms)
}

/// How long a sender with `tcp_mtu_probing` on may go without ack progress
/// before a stall is a blackhole rather than PLPMTUD at work, given its
/// `tcp_retries1` and its socket's RTO when the transfer started.
///
/// Detection runs at the first RTO firing at least
/// [`blackhole_detection_after`] (T) after the stall began. Firings come at
/// `rto * (2^k - 1)`, so the first one past T is before `2 T + rto`; a
/// second chance (the next firing: the probe size halved again, or a
/// detection that came too late to help) is at most twice as late again.
/// At least one second, against a loaded machine.
pub fn plpmtud_grace(retries1: u32, rto: Duration) -> Duration {
    let first = 2 * blackhole_detection_after(retries1) + rto;
    (2 * first + 2 * rto).max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's model: 200 ms * (2^(n+1) - 1) while doubling.
    #[test]
    fn detection_clock_follows_the_kernel_model() {
        assert_eq!(blackhole_detection_after(0), Duration::from_millis(200));
        assert_eq!(blackhole_detection_after(3), Duration::from_millis(3000));
        // 200 ms doubles 9 times before reaching 120 s; then 120 s a step.
        assert_eq!(
            blackhole_detection_after(10),
            Duration::from_millis(1023 * 200 + 120_000)
        );
    }

    /// Stock timers (retries1 3, RTO ~200 ms) must allow the measured
    /// 6.6 s recovery; fast ones (retries1 0, RTO ~15 ms) the measured
    /// 0.27-0.4 s, and still say blackhole well before the stock grace.
    #[test]
    fn grace_covers_the_measured_recoveries() {
        let stock = plpmtud_grace(3, Duration::from_millis(204));
        assert!(stock > Duration::from_millis(6600 * 3 / 2), "{stock:?}");
        assert!(stock < Duration::from_secs(20), "{stock:?}");
        let fast = plpmtud_grace(0, Duration::from_millis(15));
        assert!(fast > Duration::from_millis(400 * 2), "{fast:?}");
        assert!(fast < Duration::from_millis(1500), "{fast:?}");
    }

    #[test]
    fn kernel_defaults_change_nothing() {
        assert!(Timers::KERNEL_DEFAULTS.route_metrics().is_empty());
        assert!(Timers::KERNEL_DEFAULTS.sysctls().is_empty());
        assert!(!Timers::KERNEL_DEFAULTS.is_fast());
        assert!(Timers::FAST.is_fast());
    }

    #[test]
    fn fast_rto_min_is_locked() {
        let m = Timers::FAST.route_metrics();
        assert!(m.contains(&RouteMetric::Lock(1 << 13)));
        assert!(m.contains(&RouteMetric::RtoMin(10)));
        assert!(m.contains(&RouteMetric::QuickAck(1)));
    }
}
