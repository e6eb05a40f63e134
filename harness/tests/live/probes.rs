//! Live tests of the probes: DF ping, tracepath, TCP transfer, PMTU
//! exceptions and ICMP delivery, each against the real kernel, each
//! blackhole with its control twin. Root only: without root every trial is
//! reported *ignored* (never passed), and with MTULAB_REQUIRE_ROOT=1 failed.
//!
//! Every trial builds its own lab (unique namespace names, so trials run in
//! parallel) from one of these, drawn once here:
//!
//! ```text
//! hidden_smaller (IPv4: N = 1200; IPv6: N = 1300, IPv6 needs >= 1280)
//!
//!   client ---1500--- router-a ---N--- router-b ---9000--- server
//!
//! Client-to-server data is too big at router-a (its egress to router-b
//! is N): router-a sends the frag-needed / packet-too-big. Server-to-client
//! data (MSS 1460 from the client) is too big at router-b: router-b sends it.
//!
//! hidden_smaller_blackhole: the same, router-b drops the PMTU ICMP it
//! generates (OUTPUT hook): server-to-client is a blackhole, client-to-server
//! is not.
//!
//! hidden_smaller_probing: the blackhole, and the server (the sender) has
//! net.ipv4.tcp_mtu_probing=1.
//! ```

use std::net::IpAddr;
use std::time::{Duration, Instant};

use harness::probe::exceptions;
use harness::probe::icmp_delivery::icmp_delivery;
use harness::probe::ping::{df_ping, df_ping_hosts, PingOutcome};
use harness::probe::tracepath::{tracepath_hosts, TraceOpts};
use harness::probe::transfer::{transfer_hosts, Transfer, TransferOpts, TransferVerdict};
use harness::timers::Timers;
use harness::Lab;
use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;
use mtulab_core::Topology;

use crate::common;
use common::{live, source};

const PING_TIMEOUT: Duration = Duration::from_millis(500);

/// The narrow link per family.
fn narrow(family: Family) -> u32 {
    match family {
        Family::V4 => 1200,
        Family::V6 => 1300,
    }
}

/// The bundled hidden_smaller with the narrow link for `family`, extra
/// `[[filters]]` as (node, hook), and sysctls on the server.
fn hidden_smaller(
    family: Family,
    filters: &[(&str, &str)],
    server_sysctl: &[(&str, &str)],
) -> Topology {
    let (mut toml, path) = source("hidden_smaller.toml");
    assert!(toml.contains("mtu = 1200"), "hidden_smaller.toml changed");
    toml = toml.replace("mtu = 1200", &format!("mtu = {}", narrow(family)));
    if !server_sysctl.is_empty() {
        let kv: Vec<String> = server_sysctl
            .iter()
            .map(|(k, v)| format!("\"{k}\" = \"{v}\""))
            .collect();
        let sysctl = format!("[nodes.server]\nsysctl = {{ {} }}\n", kv.join(", "));
        toml = toml.replace("[nodes.server]\n", &sysctl);
    }
    for (node, hook) in filters {
        toml +=
            &format!("[[filters]]\nnode = \"{node}\"\ndrop = \"pmtu-icmp\"\nhook = \"{hook}\"\n");
    }
    Topology::from_str(&toml, &path)
        .unwrap_or_else(|e| panic!("test topology does not parse: {e}\n{toml}"))
}

/// Build a lab. The probes' lab-level helpers check each path with a
/// minimal echo first, so a fresh lab's first lost ARP / ND solicitation
/// (seen now and then under parallel builds) cannot pass for silence.
fn build(topo: &Topology) -> Result<Lab, Failed> {
    Lab::build(topo).map_err(|e| format!("build lab: {e}").into())
}

fn build_with(topo: &Topology, timers: Timers) -> Result<Lab, Failed> {
    Lab::build_with(topo, timers).map_err(|e| format!("build lab: {e}").into())
}

/// The sender's RTO must be the lab's: well under the kernel's 200 ms floor
/// with fast timers, at least that floor with kernel defaults.
fn expect_rto(t: &Transfer, timers: Timers) -> Result<(), Failed> {
    let ok = if timers.is_fast() {
        t.rto_ms < 100.0
    } else {
        t.rto_ms >= 200.0
    };
    if !ok {
        return Err(format!(
            "sender's RTO {:.1} ms does not follow the lab's timers ({})",
            t.rto_ms,
            timers.describe()
        )
        .into());
    }
    Ok(())
}

fn addr(lab: &Lab, host: &str, family: Family) -> Result<IpAddr, Failed> {
    lab.plan()
        .address_of(host, family)
        .ok_or_else(|| format!("{host} has no {} address", family.as_str()).into())
}

/// Where the path `from` -> `to` is narrowest, per the plan: the TTL at
/// which a full-size probe is refused, the router refusing it, the address
/// it answers from (its interface towards `from`) and the MTU.
struct Bottleneck {
    ttl: u8,
    router: String,
    addr: IpAddr,
    mtu: u32,
}

fn bottleneck(lab: &Lab, from: &str, to: &str, family: Family) -> Result<Bottleneck, Failed> {
    let path = lab
        .plan()
        .path(from, to, family)
        .ok_or_else(|| format!("no {} path {from} -> {to}", family.as_str()))?;
    let (i, hop) = path
        .iter()
        .enumerate()
        .min_by_key(|(_, h)| h.out_mtu)
        .ok_or("empty path")?;
    if i == 0 {
        return Err(format!("{from} itself is the bottleneck: no router reports it").into());
    }
    let toward_sender = &path[i - 1].in_iface;
    let addr = lab
        .plan()
        .node(&hop.node)
        .and_then(|n| n.iface(toward_sender))
        .and_then(|i| i.addr(family))
        .ok_or_else(|| format!("{}:{toward_sender} has no address", hop.node))?
        .addr;
    Ok(Bottleneck {
        ttl: i as u8 + 1,
        router: hop.node.clone(),
        addr,
        mtu: hop.out_mtu,
    })
}

fn expect<T: PartialEq + std::fmt::Debug>(what: &str, found: T, expected: T) -> Result<(), Failed> {
    if found != expected {
        return Err(format!("{what}: found {found:?}, expected {expected:?}").into());
    }
    Ok(())
}

// ---------------------------------------------------------------- ping

/// A DF packet of exactly the path MTU is answered, both directions.
fn df_ping_at_pmtu(family: Family) -> Result<(), Failed> {
    let lab = build(&hidden_smaller(family, &[], &[]))?;
    for (a, b) in [("client", "server"), ("server", "client")] {
        let r = df_ping_hosts(&lab, a, b, family, narrow(family), PING_TIMEOUT)?;
        expect(
            &format!("DF ping {a} -> {b} at the path MTU"),
            r.outcome,
            PingOutcome::Reply,
        )?;
    }
    Ok(())
}

/// One byte over the path MTU: too-big with the narrow MTU, from the router
/// that owns the narrow egress, both directions.
fn df_ping_over_pmtu(family: Family) -> Result<(), Failed> {
    let lab = build(&hidden_smaller(family, &[], &[]))?;
    for (a, b) in [("client", "server"), ("server", "client")] {
        let bn = bottleneck(&lab, a, b, family)?;
        let r = df_ping_hosts(&lab, a, b, family, bn.mtu + 1, PING_TIMEOUT)?;
        let what = format!("DF ping {a} -> {b} of {} bytes", bn.mtu + 1);
        expect(&format!("{what}: outcome"), r.outcome, PingOutcome::TooBig)?;
        expect(&format!("{what}: MTU"), r.mtu, Some(narrow(family)))?;
        expect(
            &format!("{what}: reported by ({})", bn.router),
            r.from,
            Some(bn.addr),
        )?;
    }
    Ok(())
}

/// With router-b dropping the PMTU ICMP it generates, an oversized DF ping
/// from the server meets silence; its twins: from the client (router-a
/// reports) it is too-big, and at the path MTU the server is answered.
fn df_ping_blackhole_silence(family: Family) -> Result<(), Failed> {
    let lab = build(&hidden_smaller(family, &[("router-b", "output")], &[]))?;
    let n = narrow(family);
    let r = df_ping_hosts(&lab, "server", "client", family, n + 1, PING_TIMEOUT)?;
    expect(
        "DF ping server -> client one over the PMTU",
        r.outcome,
        PingOutcome::Silence,
    )?;
    let r = df_ping_hosts(&lab, "server", "client", family, n, PING_TIMEOUT)?;
    expect(
        "DF ping server -> client at the PMTU",
        r.outcome,
        PingOutcome::Reply,
    )?;
    let r = df_ping_hosts(&lab, "client", "server", family, n + 1, PING_TIMEOUT)?;
    expect(
        "DF ping client -> server one over the PMTU",
        r.outcome,
        PingOutcome::TooBig,
    )?;
    Ok(())
}

// ----------------------------------------------------------- tracepath

/// tracepath learns the narrow MTU at the TTL where the bottleneck router
/// refuses, from that router, and reaches the destination; both directions.
fn tracepath_finds_bottleneck(family: Family) -> Result<(), Failed> {
    let lab = build(&hidden_smaller(family, &[], &[]))?;
    for (a, b) in [("client", "server"), ("server", "client")] {
        let bn = bottleneck(&lab, a, b, family)?;
        let t = tracepath_hosts(&lab, a, b, family, &TraceOpts::default())?;
        let what = format!("tracepath {a} -> {b}");
        expect(&format!("{what}: pmtu"), t.pmtu, bn.mtu)?;
        expect(&format!("{what}: reached"), t.reached, true)?;
        let learned: Vec<_> = t
            .hops
            .iter()
            .filter(|h| h.pmtu == Some(bn.mtu))
            .map(|h| (h.ttl, h.pmtu_from))
            .collect();
        expect(
            &format!("{what}: (ttl, reporter) of pmtu {}", bn.mtu),
            learned,
            vec![(bn.ttl, Some(bn.addr))],
        )?;
        let last = t.hops.last().and_then(|h| h.addr);
        expect(
            &format!("{what}: last hop"),
            last,
            Some(addr(&lab, b, family)?),
        )?;
    }
    Ok(())
}

/// What iputils `tracepath -n` says: (pmtu, reached).
fn iputils_tracepath(lab: &Lab, node: &str, dst: IpAddr) -> Result<(u32, bool, f64), Failed> {
    let started = Instant::now();
    let out = lab
        .command(node, "tracepath")
        .ok_or("no such node")?
        .args(["-n", &dst.to_string()])
        .output()?;
    let secs = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout);
    let resume = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Resume: pmtu "))
        .ok_or_else(|| format!("no 'Resume: pmtu' line in iputils tracepath output:\n{text}"))?;
    let pmtu = resume
        .split_whitespace()
        .next()
        .and_then(|w| w.parse().ok())
        .ok_or_else(|| format!("unreadable resume line {resume:?}"))?;
    let reached = text.lines().any(|l| l.trim_end().ends_with("reached"));
    Ok((pmtu, reached, secs))
}

/// Our tracepath and iputils' agree on pmtu and reached, in the same
/// namespace, each from a flushed lab; ours is not slower than a few times
/// theirs.
fn tracepath_matches_iputils(family: Family) -> Result<(), Failed> {
    let lab = build(&hidden_smaller(family, &[], &[]))?;
    for (a, b) in [("client", "server"), ("server", "client")] {
        let dst = addr(&lab, b, family)?;
        let ours = tracepath_hosts(&lab, a, b, family, &TraceOpts::default())?;
        exceptions::flush(&lab)?;
        let (pmtu, reached, secs) = iputils_tracepath(&lab, a, dst)?;
        expect(
            &format!(
                "tracepath {a} -> {b}: (pmtu, reached) ours vs iputils ({secs:.3} s vs {:.3} s)",
                ours.seconds
            ),
            (ours.pmtu, ours.reached),
            (pmtu, reached),
        )?;
    }
    Ok(())
}

/// After tracepath, the sender's kernel holds a PMTU exception of the
/// narrow MTU towards the destination, and only there.
fn exception_after_tracepath(family: Family) -> Result<(), Failed> {
    let lab = build(&hidden_smaller(family, &[], &[]))?;
    let dst = addr(&lab, "server", family)?;
    let client = lab.node("client").ok_or("node")?;
    let before = exceptions::route_get(client, dst)?;
    expect("route to server before tracepath: mtu", before.mtu, None)?;
    tracepath_hosts(&lab, "client", "server", family, &TraceOpts::default())?;
    let after = exceptions::route_get(client, dst)?;
    expect(
        "route to server after tracepath: mtu",
        after.mtu,
        Some(narrow(family)),
    )?;
    let live = exceptions::live_in(&lab)?;
    let found: Vec<_> = live
        .iter()
        .map(|(n, e)| (n.as_str(), e.dst, e.mtu))
        .collect();
    expect(
        "exceptions in the lab after tracepath",
        found,
        vec![("client", dst, Some(narrow(family)))],
    )?;
    Ok(())
}

// ------------------------------------------------------------ transfer

/// 1 MiB from `from` to `to` completes without an RTO, every byte checked,
/// and the sender's socket learned the narrow MTU.
fn transfer_ok(family: Family, from: &str, to: &str) -> Result<(), Failed> {
    let lab = build(&hidden_smaller(family, &[], &[]))?;
    let opts = TransferOpts::default();
    let t = transfer_hosts(&lab, from, to, family, &opts)?;
    let what = format!("1 MiB {from} -> {to}");
    expect(
        &format!("{what}: verdict ({t:?})"),
        t.verdict,
        TransferVerdict::Ok,
    )?;
    expect(&format!("{what}: bytes verified"), t.bytes, opts.bytes)?;
    expect(
        &format!("{what}: sender's tcpi_pmtu"),
        t.pmtu,
        narrow(family),
    )?;
    Ok(())
}

/// PMTU ICMP dropped where router-b generates it: server -> client stalls,
/// and the verdict comes fast, with the lab's timers or the kernel's.
/// (Control: `transfer_server_to_client`.)
fn transfer_blackhole(family: Family, timers: Timers) -> Result<(), Failed> {
    let lab = build_with(
        &hidden_smaller(family, &[("router-b", "output")], &[]),
        timers,
    )?;
    let t = transfer_hosts(&lab, "server", "client", family, &TransferOpts::default())?;
    expect(
        &format!("server -> client verdict ({t:?})"),
        t.verdict,
        TransferVerdict::Blackhole,
    )?;
    if t.seconds > 1.5 {
        return Err(format!(
            "blackhole verdict took {:.2} s, expected under 1.5 s",
            t.seconds
        )
        .into());
    }
    expect_rto(&t, timers)
}

/// The twin of `transfer_blackhole` in the filtered lab: client -> server
/// data is refused by router-a, whose ICMP is not dropped.
fn transfer_blackhole_other_way_ok(family: Family) -> Result<(), Failed> {
    let lab = build(&hidden_smaller(family, &[("router-b", "output")], &[]))?;
    let opts = TransferOpts {
        bytes: 256 * 1024,
        ..TransferOpts::default()
    };
    let t = transfer_hosts(&lab, "client", "server", family, &opts)?;
    expect(
        &format!("client -> server verdict ({t:?})"),
        t.verdict,
        TransferVerdict::Ok,
    )?;
    Ok(())
}

/// With tcp_mtu_probing=1 on the sender, the blackholed transfer completes
/// after RTOs: recovered, with the lab's timers (in well under a second)
/// or the kernel's (seconds: the grace is derived from the sender's
/// settings, not assumed).
fn transfer_recovered(family: Family, timers: Timers) -> Result<(), Failed> {
    let topo = hidden_smaller(
        family,
        &[("router-b", "output")],
        &[("net.ipv4.tcp_mtu_probing", "1")],
    );
    let lab = build_with(&topo, timers)?;
    let opts = TransferOpts {
        bytes: 200 * 1024,
        ..TransferOpts::default()
    };
    let t = transfer_hosts(&lab, "server", "client", family, &opts)?;
    expect(
        &format!("server -> client verdict ({t:?})"),
        t.verdict,
        TransferVerdict::Recovered,
    )?;
    expect("bytes verified", t.bytes, opts.bytes)?;
    if timers.is_fast() && t.seconds > 1.0 {
        return Err(format!("recovery took {:.2} s with fast timers", t.seconds).into());
    }
    expect_rto(&t, timers)
}

// ---------------------------------------------------------- exceptions

/// Exceptions made by too-big pings in both directions (and both hosts)
/// are all gone after a flush, and lookups no longer carry their MTU.
fn flush_removes_all(family: Family) -> Result<(), Failed> {
    let lab = build(&hidden_smaller(family, &[], &[]))?;
    let n = narrow(family);
    // Warms the path up and flushes first; the server's ping then needs no
    // warm-up (the echo and its reply resolved every neighbour).
    let r = df_ping_hosts(&lab, "client", "server", family, n + 1, PING_TIMEOUT)?;
    expect(
        "ping client -> server one over",
        r.outcome,
        PingOutcome::TooBig,
    )?;
    let server = &lab.node("server").ok_or("node")?.ns();
    let r = df_ping(server, addr(&lab, "client", family)?, n + 1, PING_TIMEOUT)?;
    expect(
        "ping server -> client one over",
        r.outcome,
        PingOutcome::TooBig,
    )?;
    expect("exceptions made", exceptions::live_in(&lab)?.len(), 2)?;
    let flushed = exceptions::flush(&lab)?;
    expect("exceptions flushed", flushed, 2)?;
    expect("exceptions left", exceptions::live_in(&lab)?.len(), 0)?;
    for (node, dst) in [("client", "server"), ("server", "client")] {
        let r = exceptions::route_get(lab.node(node).ok_or("node")?, addr(&lab, dst, family)?)?;
        expect(
            &format!("{node}'s route to {dst}: mtu after flush"),
            r.mtu,
            None,
        )?;
    }
    // The path teaches the same MTU again afterwards (nothing stale).
    let r = df_ping_hosts(&lab, "client", "server", family, n + 1, PING_TIMEOUT)?;
    expect(
        "too-big ping after flush",
        (r.outcome, r.mtu),
        (PingOutcome::TooBig, Some(n)),
    )?;
    exceptions::flush(&lab)?;
    Ok(())
}

// ------------------------------------------------------- ICMP delivery

/// router-a's too-big about server -> client data, with a filter at `filter`
/// (None: none): does it reach the server?
fn delivery(family: Family, filter: Option<(&str, &str)>, arrives: bool) -> Result<(), Failed> {
    let filters: Vec<(&str, &str)> = filter.into_iter().collect();
    let lab = build(&hidden_smaller(family, &filters, &[]))?;
    let d = icmp_delivery(&lab, "router-a", "server", "client", family)?;
    expect(
        &format!("arrived with filter {filter:?} ({d:?})"),
        d.arrived,
        arrives,
    )?;
    if arrives {
        // router-a answers the server from its interface towards router-b.
        let expected = lab
            .plan()
            .node("router-a")
            .and_then(|n| n.iface("router-b"))
            .and_then(|i| i.addr(family))
            .map(|a| a.addr);
        expect("offender", d.from, expected)?;
    }
    expect(
        "exceptions left behind",
        exceptions::live_in(&lab)?.len(),
        0,
    )?;
    Ok(())
}

// ---------------------------------------------------------------- main

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for family in [Family::V4, Family::V6] {
        let f = family.as_str();
        let hs = |t: &str| format!("probes::hidden_smaller::{f}::{t}");
        let bh = |t: &str| format!("probes::hidden_smaller_blackhole::{f}::{t}");
        let de = |t: &str| format!("probes::icmp_delivery::{f}::{t}");
        trials.extend([
            live(hs("df_ping_at_pmtu"), move || df_ping_at_pmtu(family)),
            live(hs("df_ping_over_pmtu"), move || df_ping_over_pmtu(family)),
            live(hs("tracepath"), move || tracepath_finds_bottleneck(family)),
            live(hs("tracepath_matches_iputils"), move || {
                tracepath_matches_iputils(family)
            }),
            live(hs("exception_after_tracepath"), move || {
                exception_after_tracepath(family)
            }),
            live(hs("transfer_client_to_server"), move || {
                transfer_ok(family, "client", "server")
            }),
            live(hs("transfer_server_to_client"), move || {
                transfer_ok(family, "server", "client")
            }),
            live(bh("df_ping_silence"), move || {
                df_ping_blackhole_silence(family)
            }),
            live(bh("transfer_blackhole"), move || {
                transfer_blackhole(family, Timers::FAST)
            }),
            live(bh("transfer_other_way_ok"), move || {
                transfer_blackhole_other_way_ok(family)
            }),
            live(
                format!("probes::hidden_smaller_probing::{f}::transfer_recovered"),
                move || transfer_recovered(family, Timers::FAST),
            ),
            live(
                format!("probes::exceptions::{f}::flush_removes_all"),
                move || flush_removes_all(family),
            ),
            live(de("arrives"), move || delivery(family, None, true)),
            live(de("dropped_at_output"), move || {
                delivery(family, Some(("router-a", "output")), false)
            }),
            live(de("dropped_at_forward"), move || {
                delivery(family, Some(("router-b", "forward")), false)
            }),
            live(de("dropped_at_input"), move || {
                delivery(family, Some(("server", "input")), false)
            }),
            live(de("forward_on_generating_router_passes"), move || {
                delivery(family, Some(("router-a", "forward")), true)
            }),
        ]);
    }
    // The same verdicts with stock kernel timers are checked end to end
    // in checks/tests/suite/cli.rs (`cli::timers::stock::*`, through
    // `mtulab --kernel-defaults up` and `mtulab transfer`), where their
    // seconds of kernel timers overlap the CPU-bound suite.
    trials
}
