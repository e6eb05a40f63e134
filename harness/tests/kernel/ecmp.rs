//! `kernel::ecmp::…` (beyond pmtu.sh): ICMP-aware multipath hashing. Two
//! servers share an anycast address behind an ECMP router
//! (`topologies/anycast_hash_l3.toml`); downloads need the 1300 hop's
//! too-big, which is addressed to the anycast address and so hashed by
//! the ECMP router.
//!
//! - `icmp_follows_flow`: `fib_multipath_hash_policy=0` hashes an ICMP
//!   error on the header it quotes: every flow's too-big reaches its own
//!   server, every download completes. Control: policy 1
//!   (`anycast_hash_l4`) hashes the error on its own header: some stall.
//! - `flowlabel_reflect` (IPv6): the L3 hash covers the flow label; with
//!   `flowlabel_reflect=1` the servers reply with the client's label, which
//!   the quoted header carries: every download completes. Control: without
//!   reflection (`anycast_flowlabel`) some stall.

use harness::probe::anycast::{anycast_flows, AnycastOpts};
use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::{expect, holds};
use super::kit;

/// Flows per run (fixed source ports: the outcome per kernel is stable).
const FLOWS: usize = 12;

pub fn trials() -> Vec<Trial> {
    let mut out = Vec::new();
    for f in [Family::V4, Family::V6] {
        out.push(kit::trial(
            kit::name("ecmp", "icmp_follows_flow", f),
            &[],
            move || stalls("anycast_hash_l3", f, false),
        ));
        out.push(kit::trial(
            kit::name("ecmp", "icmp_follows_flow", f) + "::control",
            &[],
            move || stalls("anycast_hash_l4", f, true),
        ));
    }
    let v6 = Family::V6;
    out.push(kit::trial(
        kit::name("ecmp", "flowlabel_reflect", v6),
        &[],
        move || stalls("anycast_hash_l3", v6, false),
    ));
    out.push(kit::trial(
        kit::name("ecmp", "flowlabel_reflect", v6) + "::control",
        &[],
        move || stalls("anycast_flowlabel", v6, true),
    ));
    out
}

fn stalls(scenario: &str, f: Family, expect_some: bool) -> Result<(), Failed> {
    let (lab, topo) = kit::build_bundled(scenario)?;
    let opts = AnycastOpts {
        flows: FLOWS,
        ..AnycastOpts::default()
    };
    let run = anycast_flows(lab.lab(), "client", &topo.anycast[0], f, &opts)?;
    let stalled = run.stalled().count();
    let step = format!("{FLOWS} downloads from the anycast address in {scenario}");
    if expect_some {
        holds(
            stalled > 0,
            || format!("found {stalled} of {FLOWS} downloads stalled, expected some"),
            &step,
        )
    } else {
        expect("number of stalled downloads", stalled, 0, &step)
    }
}
