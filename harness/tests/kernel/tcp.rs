//! `kernel::tcp::…` (beyond pmtu.sh): TCP crosses a link whose receiving
//! end is smaller (ends [1500, M]) even with GSO building super-packets:
//! the receiver's MSS bounds every segment, so 1 MiB arrives with no RTO
//! and the sender's MSS fits M. In the same lab a DF ping of 1500 towards
//! the small end vanishes: the mismatch is real.

use std::time::Duration;

use harness::probe::ping::PingOutcome;
use harness::probe::transfer::{TransferOpts, TransferVerdict};
use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::{expect, holds};
use super::kit;
use super::veth::{mismatch, small};

pub fn trials() -> Vec<Trial> {
    [Family::V4, Family::V6]
        .into_iter()
        .map(|f| {
            kit::trial(
                kit::name("tcp", "smaller_receiver_gso", f),
                &[],
                move || run(f),
            )
        })
        .collect()
}

fn run(f: Family) -> Result<(), Failed> {
    let lab = mismatch(f)?;
    let dst = lab.addr("small", f)?;
    lab.reachable("big", dst, Duration::from_secs(3))?;
    let p = lab.ping("big", dst, 1500, Duration::from_millis(400))?;
    expect(
        "DF ping outcome",
        p.outcome.as_str(),
        PingOutcome::Silence.as_str(),
        "sending 1500 bytes to the small end",
    )?;
    let x = lab.transfer("big", "small", dst, &TransferOpts::default())?;
    let step = "1 MiB of TCP towards the small end";
    expect(
        "transfer verdict",
        format!("{:?}", x.verdict),
        format!("{:?}", TransferVerdict::Ok),
        step,
    )?;
    expect("bytes received", x.bytes, 1 << 20, step)?;
    let hdr = if f == Family::V4 { 40 } else { 60 };
    let fit = small(f) - hdr;
    holds(
        x.snd_mss <= fit,
        || format!("found sender MSS {}, expected at most {fit}", x.snd_mss),
        step,
    )
}
