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
//! `cargo bench -p mtulab-harness --bench probes` (as root).
//! MTULAB_BENCH_ROUNDS sets the rounds (default 10).

mod common;

use std::time::{Duration, Instant};

use common::median;
use harness::probe::tracepath::{tracepath, TraceOpts};
use harness::probe::transfer::{transfer_hosts, TransferOpts, TransferVerdict};
use harness::probe::{exceptions, ping};
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
         floor of two min RTOs {:.0} ms (verdict/floor {:.2}x)",
        ms(v),
        ms(c),
        v.as_secs_f64() / c.as_secs_f64(),
        ms(RTO_FLOOR),
        v.as_secs_f64() / RTO_FLOOR.as_secs_f64(),
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
    println!("kernel's own give-up (tcp_retries2=15, computed): about 924 s after the last ack");
}
