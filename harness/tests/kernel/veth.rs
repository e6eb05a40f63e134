//! `kernel::veth::…` (beyond pmtu.sh): a veth receives frames a little
//! larger than its own MTU: the kernel's `is_skb_forwardable` admits
//! MTU + hard header + VLAN_HLEN, i.e. IP packets up to MTU + 4. On a link
//! with ends [1500, M], a DF ping of M + 4 from the 1500 end is answered
//! and one of M + 5 vanishes (its twin in the same trial).

use std::time::Duration;

use harness::probe::ping::PingOutcome;
use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::expect;
use super::kit;

pub fn trials() -> Vec<Trial> {
    [Family::V4, Family::V6]
        .into_iter()
        .map(|f| {
            kit::trial(
                kit::name("veth", "rx_tolerance_mtu_plus_4", f),
                &[],
                move || tolerance(f),
            )
        })
        .collect()
}

/// The smaller end per family (IPv6 needs 1280 on both ends).
pub fn small(f: Family) -> u32 {
    match f {
        Family::V4 => 1200,
        Family::V6 => 1300,
    }
}

/// Two hosts, big (1500) and small (`small(f)`).
pub fn mismatch(f: Family) -> Result<kit::KLab, Failed> {
    kit::build(&format!(
        "name = \"k-mismatch\"\n[nodes.big]\n[nodes.small]\n[[links]]\n\
         between = [\"big\", \"small\"]\nmtu = [1500, {}]\n",
        small(f)
    ))
}

fn tolerance(f: Family) -> Result<(), Failed> {
    let lab = mismatch(f)?;
    let dst = lab.addr("small", f)?;
    lab.reachable("big", dst, Duration::from_secs(3))?;
    let m = small(f);
    let at = lab.ping("big", dst, m + 4, Duration::from_secs(1))?;
    expect(
        "DF ping outcome",
        at.outcome.as_str(),
        PingOutcome::Reply.as_str(),
        &format!("sending {} bytes to a {m} veth end", m + 4),
    )?;
    let over = lab.ping("big", dst, m + 5, Duration::from_millis(400))?;
    expect(
        "DF ping outcome",
        over.outcome.as_str(),
        PingOutcome::Silence.as_str(),
        &format!("sending {} bytes to a {m} veth end", m + 5),
    )
}
