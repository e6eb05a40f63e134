//! Bench: the probes against honest baselines measured in the same run.
//!
//! (a) Blackhole verdict latency: a 1 MiB server -> client transfer on
//!     icmp_blackhole (IPv6: icmp_blackhole_v6) (router-b drops its own frag-needed / packet-too-big),
//!     from the call until `blackhole` is returned. Baselines: the same
//!     transfer on hidden_smaller(_v6), where it completes (`ok`), and the floor
//!     the verdict cannot beat: two retransmission timeouts at the kernel's
//!     minimum RTO (`TCP_RTO_MIN` 200 ms, then 400 ms = 0.6 s). The
//!     kernel's own give-up (`tcp_retries2` = 15: about 15 minutes) is
//!     printed as computed, not measured.
//! (b) tracepath: our native tracepath client -> server on hidden_smaller(_v6)
//!     against iputils `tracepath -n` run in the same namespace (process
//!     start included: what a user pays), each from a flushed lab.
//!
//! (c) The lab's fast timers against kernel defaults (harness::timers), in
//!     the same run, interleaved: the blackhole verdict of (a), and the
//!     PLPMTUD recovery of mtu_probing (server -> client, `recovered`).
//! (d) A silent DF ping (one byte over the path MTU on icmp_blackhole):
//!     with the ordering barrier (`df_ping_hosts`) against the same ping
//!     waiting out its 1 s deadline (`df_ping`, no barrier).
//!
//! `cargo bench -p mtulab-harness --bench probes` (as root).
//! MTULAB_BENCH_ROUNDS sets the rounds (default 10).

mod common;

use std::time::{Duration, Instant};

use common::median;
use harness::probe::tracepath::{tracepath, TraceOpts};
use harness::probe::transfer::{transfer_hosts, TransferOpts, TransferVerdict};
use harness::probe::{exceptions, ping};
use harness::timers::Timers;
use harness::Lab;
use mtulab_core::Family;

/// The verdict cannot come before two RTOs at `TCP_RTO_MIN` (200 ms, doubled).
const RTO_FLOOR: Duration = Duration::from_millis(200 + 400);

/// The bundled (control, blackholed) scenarios and the narrow MTU for a family.
fn scenarios(family: Family) -> (&'static str, &'static str, u32) {
    match family {
        Family::V4 => ("hidden_smaller", "icmp_blackhole", 1200),
        Family::V6 => ("hidden_smaller_v6", "icmp_blackhole_v6", 1280),
    }
}

/// Wall time of one server -> client transfer and its verdict.
fn timed_transfer(lab: &Lab, family: Family) -> (Duration, TransferVerdict) {
    let t = Instant::now();
    let r = transfer_hosts(lab, "server", "client", family, &TransferOpts::default())
        .expect("transfer");
    (t.elapsed(), r.verdict)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn blackhole_verdict(rounds: usize, family: Family) {
    let (ok, bh, _) = scenarios(family);
    let control = Lab::build(&common::topology(ok)).expect("build the control lab");
    let broken = Lab::build(&common::topology(bh)).expect("build the blackholed lab");
    let (mut verdicts, mut completions) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (d, v) = timed_transfer(&broken, family);
        assert_eq!(v, TransferVerdict::Blackhole, "{bh}");
        verdicts.push(d);
        let (d, v) = timed_transfer(&control, family);
        assert_eq!(v, TransferVerdict::Ok, "{ok}");
        completions.push(d);
    }
    let (v, c) = (median(verdicts), median(completions));
    println!(
        "blackhole verdict ({bh}, 1 MiB server->client): {:.0} ms; \
         control transfer on {ok} completes in {:.1} ms (verdict/control {:.0}x); \
         kernel-default floor of two min RTOs {:.0} ms (verdict/floor {:.2}x)",
        ms(v),
        ms(c),
        v.as_secs_f64() / c.as_secs_f64(),
        ms(RTO_FLOOR),
        v.as_secs_f64() / RTO_FLOOR.as_secs_f64(),
    );
}

/// (c): `scenario`'s server -> client transfer with fast and with stock
/// timers, `rounds` times each, interleaved; both must give `want`.
fn timers_vs_kernel(rounds: usize, family: Family, scenario: &str, want: TransferVerdict) {
    let topo = common::topology(scenario);
    let fast = Lab::build_with(&topo, Timers::FAST).expect("build (fast timers)");
    let stock = Lab::build_with(&topo, Timers::KERNEL_DEFAULTS).expect("build (kernel defaults)");
    let (mut f, mut k) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (d, v) = timed_transfer(&fast, family);
        assert_eq!(v, want, "{scenario}, fast timers");
        f.push(d);
        let (d, v) = timed_transfer(&stock, family);
        assert_eq!(v, want, "{scenario}, kernel defaults");
        k.push(d);
    }
    let (f, k) = (median(f), median(k));
    println!(
        "{want:?} verdict ({scenario}, {}, 1 MiB server->client): fast timers {:.0} ms, kernel defaults {:.0} ms (same run), ratio {:.1}x",
        family.as_str(),
        ms(f),
        ms(k),
        k.as_secs_f64() / f.as_secs_f64()
    );
}

/// (d): a DF ping the path cannot carry and whose too-big is dropped.
fn silent_ping(rounds: usize, family: Family) {
    let (_, bh, narrow) = scenarios(family);
    let lab = Lab::build(&common::topology(bh)).expect("build");
    let timeout = Duration::from_secs(1);
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        let r = ping::df_ping_hosts(&lab, "server", "client", family, narrow + 1, timeout)
            .expect("ping");
        with.push(t.elapsed());
        assert_eq!(r.outcome, ping::PingOutcome::Silence, "with the barrier");
        exceptions::flush(&lab).expect("flush");
        let server = lab.node("server").expect("server");
        let dst = lab.plan().address_of("client", family).expect("address");
        let t = Instant::now();
        let r = ping::df_ping(server.ns(), dst, narrow + 1, timeout).expect("ping");
        without.push(t.elapsed());
        assert_eq!(r.outcome, ping::PingOutcome::Silence, "without the barrier");
    }
    let (w, o) = (median(with), median(without));
    println!(
        "silent DF ping ({bh}, {} bytes): with the ordering barrier {:.2} ms, waiting out the 1 s deadline {:.0} ms (same run), ratio {:.0}x",
        narrow + 1,
        ms(w),
        ms(o),
        o.as_secs_f64() / w.as_secs_f64()
    );
}

fn tracepath_vs_iputils(rounds: usize, family: Family) {
    let (ok, _, narrow) = scenarios(family);
    let lab = Lab::build(&common::topology(ok)).expect("build the lab");
    let client = lab.node("client").expect("client");
    let dst = lab.plan().address_of("server", family).expect("address");
    // Resolve neighbours once, so neither side pays for it.
    let warm = ping::df_ping_hosts(
        &lab,
        "client",
        "server",
        family,
        100,
        Duration::from_secs(3),
    )
    .expect("warm-up ping");
    assert_eq!(warm.outcome, ping::PingOutcome::Reply, "warm-up ping");
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        exceptions::flush(&lab).expect("flush");
        let t = Instant::now();
        let trace = tracepath(client.ns(), dst, &TraceOpts::default()).expect("tracepath");
        ours.push(t.elapsed());
        assert_eq!((trace.pmtu, trace.reached), (narrow, true), "our tracepath");

        exceptions::flush(&lab).expect("flush");
        let t = Instant::now();
        let out = lab
            .command("client", "tracepath")
            .expect("client")
            .args(["-n", &dst.to_string()])
            .output()
            .expect("run iputils tracepath");
        theirs.push(t.elapsed());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains(&format!("Resume: pmtu {narrow}")),
            "iputils tracepath:\n{text}"
        );
    }
    let (o, t) = (median(ours), median(theirs));
    println!(
        "tracepath client->server ({ok}): mtulab {:.2} ms, iputils tracepath {:.2} ms, ratio {:.1}x",
        ms(o),
        ms(t),
        t.as_secs_f64() / o.as_secs_f64()
    );
}

fn main() {
    if let Some(why) = harness::env::live_unavailable() {
        eprintln!("probes bench: {why}; skipped");
        return;
    }
    if let Some(tool) = harness::env::missing_tool(&["tracepath"]) {
        eprintln!("probes bench: needs {tool} (apt-get install iputils-tracepath); skipped");
        return;
    }
    let rounds = common::rounds(10);
    for family in [Family::V4, Family::V6] {
        tracepath_vs_iputils(rounds, family);
    }
    for family in [Family::V4, Family::V6] {
        blackhole_verdict(rounds, family);
    }
    for family in [Family::V4, Family::V6] {
        let (_, bh, _) = scenarios(family);
        timers_vs_kernel(rounds, family, bh, TransferVerdict::Blackhole);
    }
    // A stock recovery takes ~6.6 s: at most 3 rounds.
    for family in [Family::V4, Family::V6] {
        timers_vs_kernel(
            rounds.min(3),
            family,
            "mtu_probing",
            TransferVerdict::Recovered,
        );
    }
    for family in [Family::V4, Family::V6] {
        silent_ping(rounds.min(5), family);
    }
    println!("kernel's own give-up (tcp_retries2=15, computed): about 924 s after the last ack");
}
