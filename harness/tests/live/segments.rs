//! Live tests of `[[segments]]` (a Linux bridge in a namespace of its own)
//! and of `pmtu_icmp = "ignore"` (a host whose stack ignores PMTU ICMP).
//! Each negative trial has its control. Root only: without root each trial
//! is *ignored* (never passed), and with MTULAB_REQUIRE_ROOT=1 failed.
//!
//! Segments: three hosts on one LAN, `a` at 9000, `b` and `c` at 1500
//! (control: all at 9000). A DF ping from `a` to `b` of 1505 bytes (b's
//! MTU + 5, beyond veth's 4-byte slack) vanishes; at 1500 it is answered.
//!
//! Host behaviour: `app` (pmtu_icmp = "ignore"; control: "obey") sends to
//! `h2` over r1 --1400-- r2: r1's frag-needed reaches app's interface,
//! its stack does not act on it and its bulk transfer stalls.

use std::time::{Duration, Instant};

use harness::probe::icmp_delivery::icmp_delivery;
use harness::probe::ping::{df_ping_hosts, PingOutcome};
use harness::probe::transfer::{transfer_hosts, TransferOpts, TransferVerdict};
use harness::Lab;
use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;
use mtulab_core::Topology;
use serde_json::Value;

use crate::common;
use common::live;

const TIMEOUT: Duration = Duration::from_secs(2);

fn topo(src: &str) -> Topology {
    Topology::from_str(src, std::path::Path::new("segments-test.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Hosts a, b, c on segment `lan` with these MTUs.
fn lan(a: u32, b: u32, c: u32) -> Topology {
    topo(&format!(
        r#"
name = "seglan"
[nodes.a]
[nodes.b]
[nodes.c]
[[segments]]
name = "lan"
members = ["a", "b", "c"]
mtu = {{ a = {a}, b = {b}, c = {c} }}
"#
    ))
}

/// app --1500-- r1 --1400-- r2 --1500-- h2, app's stack as `pmtu_icmp`.
fn appliance(pmtu_icmp: &str) -> Topology {
    topo(&format!(
        r#"
name = "seghost"
[nodes.app]
pmtu_icmp = "{pmtu_icmp}"
[nodes.r1]
router = true
[nodes.r2]
router = true
[nodes.h2]
[[links]]
between = ["app", "r1"]
mtu = 1500
[[links]]
between = ["r1", "r2"]
mtu = 1400
[[links]]
between = ["r2", "h2"]
mtu = 1500
"#
    ))
}

fn ping(lab: &Lab, from: &str, to: &str, family: Family, size: u32) -> Result<PingOutcome, Failed> {
    Ok(df_ping_hosts(lab, from, to, family, size, TIMEOUT)?.outcome)
}

/// `ip -j -d link show DEV` in a segment's bridge namespace.
fn seg_link(lab: &Lab, segment: &str, dev: &str) -> Result<Value, Failed> {
    let out = lab
        .segment_command(segment, "ip")
        .ok_or("no such segment")?
        .args(["-j", "-d", "link", "show", "dev", dev])
        .output()?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned().into());
    }
    let v: Value = serde_json::from_slice(&out.stdout)?;
    Ok(v[0].clone())
}

/// The bridge is as documented: no STP, forward delay 0, no multicast
/// snooping, bridge and ports at 65535, every member's port enslaved and
/// forwarding; the members' own ends at their MTUs.
fn bridge_as_planned() -> Result<(), Failed> {
    let lab = Lab::build(&lan(9000, 1500, 1500))?;
    let br = seg_link(&lab, "lan", "br")?;
    let info = &br["linkinfo"]["info_data"];
    let want = [
        ("stp_state", 0),
        ("forward_delay", 0),
        ("mcast_snooping", 0),
    ];
    for (key, value) in want {
        if info[key].as_u64() != Some(value) {
            return Err(format!("bridge {key} is {}, want {value}", info[key]).into());
        }
    }
    if br["mtu"].as_u64() != Some(65535) {
        return Err(format!("bridge mtu {}", br["mtu"]).into());
    }
    for member in ["a", "b", "c"] {
        let port = seg_link(&lab, "lan", member)?;
        if port["master"].as_str() != Some("br") || port["mtu"].as_u64() != Some(65535) {
            return Err(format!(
                "port {member}: master {} mtu {}",
                port["master"], port["mtu"]
            )
            .into());
        }
        let state = &port["linkinfo"]["info_slave_data"]["state"];
        if state.as_str() != Some("forwarding") {
            return Err(format!("port {member} is {state}, not forwarding").into());
        }
    }
    for (member, mtu) in [("a", 9000), ("b", 1500), ("c", 1500)] {
        if lab.mtu(member, "lan") != Some(mtu) {
            return Err(format!(
                "{member}:lan read back {:?}, want {mtu}",
                lab.mtu(member, "lan")
            )
            .into());
        }
    }
    Ok(())
}

/// A frame from the 9000 member to a 1500 member vanishes above 1504
/// (veth's slack); at 1500 it is answered. Control: all at 9000, the same
/// 1505-byte ping is answered.
fn odd_member_drops_silently(family: Family) -> Result<(), Failed> {
    let lab = Lab::build(&lan(9000, 1500, 1500))?;
    let seen = [
        (1500, ping(&lab, "a", "b", family, 1500)?),
        (1504, ping(&lab, "a", "b", family, 1504)?),
        (1505, ping(&lab, "a", "b", family, 1505)?),
        (8000, ping(&lab, "a", "c", family, 8000)?),
    ];
    let want = [
        (1500, PingOutcome::Reply),
        (1504, PingOutcome::Reply),
        (1505, PingOutcome::Silence),
        (8000, PingOutcome::Silence),
    ];
    if seen != want {
        return Err(format!("mismatched segment: {seen:?}, want {want:?}").into());
    }
    drop(lab);
    let control = Lab::build(&lan(9000, 9000, 9000))?;
    for size in [1505, 8000] {
        let got = ping(&control, "a", "b", family, size)?;
        if got != PingOutcome::Reply {
            return Err(format!("control (all 9000): DF {size} got {got:?}").into());
        }
    }
    Ok(())
}

/// IPv6 through the bridge at once: the first ping on a fresh lab is
/// answered well within a DAD period (1 s), so nothing waits for DAD or
/// an MLD querier. What this guards against (tentative addresses, a
/// querier wait) delays every fresh lab; a loaded machine can instead lose
/// one first solicitation now and then (answered after the 1 s
/// retransmission, as the probes' warm-up allows for), so a slow first
/// ping is tried once more on another fresh lab before it counts. (The
/// losses seen until 5 December were a veth end not yet activated by the
/// kernel's link watch: docs/kernel-behaviour.md, "A veth end whose index
/// equals its peer's"; `lab::links_up_when_built` guards that directly.)
fn ipv6_neighbour_discovery_at_once() -> Result<(), Failed> {
    let mut seen = Vec::new();
    for _ in 0..2 {
        let lab = Lab::build(&lan(1500, 1500, 1500))?;
        let started = Instant::now();
        let got = df_ping_hosts(&lab, "b", "c", Family::V6, 100, Duration::from_secs(3))?;
        let took = started.elapsed();
        if got.outcome == PingOutcome::Reply && took <= Duration::from_millis(500) {
            return Ok(());
        }
        seen.push(format!("{:?} after {took:?}", got.outcome));
    }
    Err(format!("first IPv6 ping on two fresh labs: {}", seen.join(", ")).into())
}

/// Dropping the lab removes the segment's namespace too.
fn leaves_nothing_behind() -> Result<(), Failed> {
    let lab = Lab::build(&lan(1500, 1500, 1500))?;
    let ns = lab.segment_namespaces()["lan"].clone();
    if !harness::netns::list_named("mtulab-").contains(&ns) {
        return Err(format!("{ns} was never made").into());
    }
    drop(lab);
    if harness::netns::list_named("mtulab-").contains(&ns) {
        return Err(format!("{ns} left behind").into());
    }
    Ok(())
}

/// The reaper counts a live lab's segment namespace as claimed (it is
/// registered with the lab), so a run starting meanwhile leaves it alone;
/// the lab's own teardown still removes it.
fn reaper_leaves_a_live_segment() -> Result<(), Failed> {
    let lab = Lab::build(&lan(1500, 1500, 1500))?;
    let ns = lab.segment_namespaces()["lan"].clone();
    let reaped = harness::state::reap();
    if reaped.orphan_namespaces.contains(&ns)
        || !harness::netns::list_named("mtulab-").contains(&ns)
    {
        return Err(format!("the reaper removed live {ns}: {reaped:?}").into());
    }
    drop(lab);
    if harness::netns::list_named("mtulab-").contains(&ns) {
        return Err(format!("{ns} left behind").into());
    }
    Ok(())
}

/// An ignoring host: r1's frag-needed reaches its interface (the counter
/// ahead of the discard moves: icmp-passes holds), its route keeps no
/// exception and its bulk transfer stalls. Control: the same host obeying
/// learns 1400 and completes.
fn ignore_vs_obey(family: Family) -> Result<(), Failed> {
    for (mode, want) in [
        ("ignore", TransferVerdict::Blackhole),
        ("obey", TransferVerdict::Ok),
    ] {
        let lab = Lab::build(&appliance(mode))?;
        let d = icmp_delivery(&lab, "r1", "app", "h2", family)?;
        if !d.arrived || d.ignored != (mode == "ignore") {
            return Err(format!("{mode}: delivery {d:?}").into());
        }
        let t = transfer_hosts(&lab, "app", "h2", family, &TransferOpts::default())?;
        if t.verdict != want {
            return Err(format!("{mode}: transfer {:?}, want {want:?}", t.verdict).into());
        }
        // The probe flushes exceptions first: r1 answers again, and the
        // ignoring host does not act on the answer.
        let over = ping(&lab, "app", "h2", family, 1401)?;
        let want_ping = if mode == "ignore" {
            PingOutcome::Silence
        } else {
            PingOutcome::TooBig
        };
        if over != want_ping {
            return Err(format!("{mode}: DF 1401: {over:?}, want {want_ping:?}").into());
        }
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![
        live("segments::bridge_as_planned", bridge_as_planned),
        live(
            "segments::ipv6_neighbour_discovery_at_once",
            ipv6_neighbour_discovery_at_once,
        ),
        live("segments::leaves_nothing_behind", leaves_nothing_behind),
        live(
            "segments::reaper_leaves_a_live_segment",
            reaper_leaves_a_live_segment,
        ),
    ];
    for family in [Family::V4, Family::V6] {
        let f = family.as_str();
        trials.push(live(
            format!("segments::{f}::odd_member_drops_silently"),
            move || odd_member_drops_silently(family),
        ));
        trials.push(live(format!("host::{f}::ignore_vs_obey"), move || {
            ignore_vs_obey(family)
        }));
    }
    trials
}
