//! `kernel::vxlan::…` and `kernel::geneve::…`: a sender whose packets
//! exceed the tunnel's underlay path learns an exception of the underlay
//! MTU minus the encapsulation (4000 − 50 over IPv4, − 70 over IPv6), for
//! IPv4 and IPv6 inside, over an IPv4 and an IPv6 underlay; plain, and
//! bridged (c behind a bridge in a: the tunnel answers c on the bridge's
//! behalf), where 1 MiB of TCP then crosses from c and from a (pmtu.sh
//! `pmtu_ipvX_vxlanY_exception`, `pmtu_ipvX_br_vxlanY_exception`, and the
//! GENEVE twins). A kernel without the module: ignored with the reason.

use std::time::Duration;

use harness::probe::transfer::TransferOpts;
use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::expect;
use super::kit::{self, Cap};
use super::labs::{self, Encap, LL_MTU};

const WHAT: &str = "PMTU exception with MTU";
/// Inner packets of this size (pmtu.sh: `ping -s 4500`).
const SIZE: u32 = LL_MTU + 528;

pub fn trials() -> Vec<Trial> {
    let mut out = Vec::new();
    for encap in [Encap::Vxlan, Encap::Geneve] {
        let g = encap.as_str();
        for outer in [Family::V4, Family::V6] {
            for inner in [Family::V4, Family::V6] {
                let o = outer.as_str();
                out.push(kit::trial(
                    kit::name(g, &format!("exception_over_{o}"), inner),
                    &[encap.cap()],
                    move || plain(encap, outer, inner),
                ));
                out.push(kit::trial(
                    kit::name(g, &format!("bridged_exception_over_{o}"), inner),
                    &[encap.cap(), Cap::Bridge],
                    move || bridged(encap, outer, inner),
                ));
                out.push(kit::trial(
                    kit::name(g, &format!("bridged_tcp_over_{o}"), inner),
                    &[encap.cap(), Cap::Bridge],
                    move || bridged_tcp(encap, outer, inner),
                ));
            }
        }
    }
    out
}

/// Ping b inside the tunnel from `node` until the kernel answers with the
/// tunnel's too-big (the first packet only teaches the underlay exception).
fn learn(t: &labs::Tunnel, node: &str) -> Result<(), Failed> {
    for _ in 0..4 {
        let p = t.lab.ping(node, t.b, SIZE, Duration::from_millis(400))?;
        if p.mtu.is_some() {
            return Ok(());
        }
    }
    Ok(())
}

fn plain(encap: Encap, outer: Family, inner: Family) -> Result<(), Failed> {
    let t = labs::tunnel(encap, outer, inner, false)?;
    learn(&t, "a")?;
    expect(
        WHAT,
        t.lab.pmtu("a", t.b)?,
        Some(t.expected.to_string()),
        &format!("exceeding link layer MTU on {} interface", encap.as_str()),
    )
}

fn bridged(encap: Encap, outer: Family, inner: Family) -> Result<(), Failed> {
    let t = labs::tunnel(encap, outer, inner, true)?;
    let k = encap.as_str();
    for (node, step) in [
        (
            "c",
            format!("exceeding link layer MTU on bridged {k} interface"),
        ),
        (
            "a",
            format!("exceeding link layer MTU on locally bridged {k} interface"),
        ),
    ] {
        learn(&t, node)?;
        expect(
            WHAT,
            t.lab.pmtu(node, t.b)?,
            Some(t.expected.to_string()),
            &step,
        )?;
    }
    Ok(())
}

fn bridged_tcp(encap: Encap, outer: Family, inner: Family) -> Result<(), Failed> {
    let t = labs::tunnel(encap, outer, inner, true)?;
    let k = encap.as_str();
    let opts = TransferOpts {
        deadline: Duration::from_secs(10),
        ..TransferOpts::default()
    };
    for node in ["a", "c"] {
        // As pmtu.sh: pings first (the underlay exception), then the
        // inner exception flushed, then TCP.
        learn(&t, node)?;
        t.lab.ip(node, &["route", "flush", "cache"])?;
        let x = t.lab.transfer(node, "b", t.b, &opts)?;
        let step = format!(
            "1 MiB of TCP from {node} over bridged {k} ({:?}, {:.2} s)",
            x.verdict, x.seconds
        );
        expect("bytes received", x.bytes, 1 << 20, &step)?;
        expect(
            WHAT,
            t.lab.pmtu(node, t.b)?,
            Some(t.expected.to_string()),
            &format!("tcp: {step}"),
        )?;
    }
    Ok(())
}
