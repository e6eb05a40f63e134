//! `kernel::expiry::…` (beyond pmtu.sh): an exception lives
//! `net.ipv{4,6}.route.mtu_expires` seconds. Set to 2 s in the sender's
//! namespace, the exception is listed with at most 2 s left and is gone
//! from lookups within a bounded poll (deadline 10 s; the 2 s are the
//! kernel's own clock, not the lab's timers). Control: with the default
//! (600 s) the listed expiry is over 500 s.

use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::{expect, holds};
use super::kit;
use super::labs::{self, Routing};

const DEADLINE: Duration = Duration::from_secs(10);

pub fn trials() -> Vec<Trial> {
    let mut out = Vec::new();
    for f in [Family::V4, Family::V6] {
        out.push(kit::trial(
            kit::name("expiry", "exception_expires", f),
            &[],
            move || expires(f),
        ));
        out.push(kit::trial(
            kit::name("expiry", "exception_expires", f) + "::control",
            &[],
            move || default_expiry(f),
        ));
    }
    out
}

fn key(f: Family) -> &'static str {
    match f {
        Family::V4 => "net.ipv4.route.mtu_expires",
        Family::V6 => "net.ipv6.route.mtu_expires",
    }
}

/// Learn dst1's exception (1400); its listed expiry in seconds.
fn learn(r: &Routing) -> Result<u32, Failed> {
    r.lab.ping("a", r.dst1, 1900, Duration::from_secs(2))?;
    expect(
        "PMTU exception with MTU",
        r.lab.pmtu("a", r.dst1)?,
        Some("1400".into()),
        "exceeding MTU",
    )?;
    let listed = r
        .lab
        .exceptions("a")?
        .into_iter()
        .find(|e| e.dst == r.dst1 && e.mtu.is_some())
        .ok_or("the exception to dst1 is not listed")?;
    Ok(listed.expires)
}

fn expires(f: Family) -> Result<(), Failed> {
    let r = labs::routing(f, 1400, 1500)?;
    r.lab.sysctl("a", key(f), "2")?;
    let left = learn(&r)?;
    holds(
        left <= 2,
        || format!("found the exception listed with {left} s left, expected at most 2"),
        &format!("setting {}=2", key(f)),
    )?;
    let start = Instant::now();
    while r.lab.route("a", r.dst1)?.mtu.is_some() && start.elapsed() < DEADLINE {
        std::thread::sleep(Duration::from_millis(50));
    }
    expect(
        "PMTU exception with MTU",
        r.lab.pmtu("a", r.dst1)?,
        None,
        &format!(
            "waiting {:.1} s with {}=2",
            start.elapsed().as_secs_f64(),
            key(f)
        ),
    )
}

fn default_expiry(f: Family) -> Result<(), Failed> {
    let r = labs::routing(f, 1400, 1500)?;
    let left = learn(&r)?;
    holds(
        left > 500,
        || format!("found the exception listed with {left} s left, expected over 500"),
        &format!("leaving {} at its default", key(f)),
    )
}
