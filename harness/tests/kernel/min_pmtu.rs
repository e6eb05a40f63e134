//! `kernel::min_pmtu::…` (IPv4): a frag-needed below
//! `net.ipv4.route.min_pmtu` (552) gives a *locked* exception at the floor;
//! the local MTU still lowers and raises it; a new frag-needed locks it
//! again (pmtu.sh `pmtu_ipv4_exception`, its second half). Control: with
//! the floor lowered below the router's MTU the exception is the router's
//! MTU, unlocked.

use std::time::Duration;

use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::expect;
use super::kit;
use super::labs::{self, Routing};

const WHAT: &str = "PMTU exception with MTU";
const TIMEOUT: Duration = Duration::from_secs(2);
const SIZE: u32 = 1400;

pub fn trials() -> Vec<Trial> {
    let v4 = Family::V4;
    vec![
        kit::trial(kit::name("min_pmtu", "floor_locked", v4), &[], floor_locked),
        kit::trial(
            kit::name("min_pmtu", "floor_locked", v4) + "::control",
            &[],
            floor_control,
        ),
        kit::trial(kit::name("min_pmtu", "local_mtu_lowered", v4), &[], || {
            locked_then_local(false)
        }),
        kit::trial(kit::name("min_pmtu", "local_mtu_raised", v4), &[], || {
            locked_then_local(true)
        }),
        kit::trial(
            kit::name("min_pmtu", "relearned_locked", v4),
            &[],
            relearned,
        ),
    ]
}

/// The routing lab with b_r2 at 400 (below the 552 floor).
fn lab() -> Result<Routing, Failed> {
    let r = labs::routing(Family::V4, 1400, 1500)?;
    r.lab.link_mtu("r2", "b", 400)?;
    Ok(r)
}

fn learn_locked(r: &Routing) -> Result<(), Failed> {
    let p = r.lab.ping("a", r.dst2, SIZE, TIMEOUT)?;
    expect("too-big MTU from r2", p.mtu, Some(400), "exceeding MTU 400")?;
    expect(
        WHAT,
        r.lab.pmtu("a", r.dst2)?,
        Some("lock 552".into()),
        "exceeding MTU, with MTU < min_pmtu",
    )
}

/// frag-needed with MTU 400 → exception locked at min_pmtu (552).
fn floor_locked() -> Result<(), Failed> {
    learn_locked(&lab()?)
}

/// Control: min_pmtu = 300 in a → the exception is 400, not locked.
fn floor_control() -> Result<(), Failed> {
    let r = lab()?;
    r.lab.sysctl("a", "net.ipv4.route.min_pmtu", "300")?;
    r.lab.ping("a", r.dst2, SIZE, TIMEOUT)?;
    expect(
        WHAT,
        r.lab.pmtu("a", r.dst2)?,
        Some("400".into()),
        "exceeding MTU 400, with min_pmtu lowered to 300",
    )
}

/// The locked exception follows a's link to r2 down to 500 and back to 1500.
fn locked_then_local(raise: bool) -> Result<(), Failed> {
    let r = lab()?;
    learn_locked(&r)?;
    r.lab.link_mtu("a", "r2", 500)?;
    expect(
        WHAT,
        r.lab.pmtu("a", r.dst2)?,
        Some("500".into()),
        "decreasing the local MTU",
    )?;
    if raise {
        r.lab.link_mtu("a", "r2", 1500)?;
        expect(
            WHAT,
            r.lab.pmtu("a", r.dst2)?,
            Some("1500".into()),
            "increasing the local MTU",
        )?;
    }
    Ok(())
}

/// After the local MTU went down and up, a new frag-needed locks it again.
fn relearned() -> Result<(), Failed> {
    let r = lab()?;
    learn_locked(&r)?;
    r.lab.link_mtu("a", "r2", 500)?;
    r.lab.link_mtu("a", "r2", 1500)?;
    learn_locked(&r)
}
