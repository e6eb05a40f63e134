//! `kernel::exception::…`: PMTU exceptions are created with the MTU the
//! router reported, and follow the local link's MTU when it is lowered
//! below them and raised again (pmtu.sh `pmtu_ipv4_exception`,
//! `pmtu_ipv6_exception`, with and without nexthop objects). The routing
//! lab (labs.rs): a reaches dst1 over b_r1 = 1400 and dst2 over b_r2 = 1500.

use std::time::Duration;

use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::expect;
use super::kit::{self, KLab};
use super::labs::{self, Routing};

const WHAT: &str = "PMTU exception with MTU";
const TIMEOUT: Duration = Duration::from_secs(2);
/// a's packets: bigger than both paths, within a's own 2000.
const SIZE: u32 = 1900;

pub fn trials() -> Vec<Trial> {
    let mut out = Vec::new();
    for f in [Family::V4, Family::V6] {
        out.push(kit::trial(
            kit::name("exception", "created", f),
            &[],
            move || created(f, false),
        ));
        out.push(kit::trial(
            kit::name("exception", "created_nexthop_objects", f),
            &[],
            move || created(f, true),
        ));
        out.push(kit::trial(
            kit::name("exception", "local_mtu_lowered", f),
            &[],
            move || lowered(f),
        ));
        out.push(kit::trial(
            kit::name("exception", "other_path_untouched", f),
            &[],
            move || other_path(f),
        ));
        out.push(kit::trial(
            kit::name("exception", "local_mtu_raised", f),
            &[],
            move || raised(f),
        ));
    }
    out
}

/// Ping both destinations too big from a: each gets its router's
/// too-big and an exception with that router's MTU.
pub fn create(r: &Routing) -> Result<(), Failed> {
    for (dst, mtu) in [(r.dst1, 1400), (r.dst2, 1500)] {
        let p = r.lab.ping("a", dst, SIZE, TIMEOUT)?;
        expect(
            &format!("too-big MTU for a DF ping of {SIZE} to {dst}"),
            p.mtu,
            Some(mtu),
            "exceeding the MTU",
        )?;
        expect(
            WHAT,
            r.lab.pmtu("a", dst)?,
            Some(mtu.to_string()),
            "exceeding the MTU",
        )?;
    }
    Ok(())
}

fn lab(f: Family, nh: bool) -> Result<Routing, Failed> {
    if nh {
        labs::routing_nh(f, 1400, 1500)
    } else {
        labs::routing(f, 1400, 1500)
    }
}

/// Exceptions are created with the router's MTU (1400 via r1, 1500 via r2).
fn created(f: Family, nh: bool) -> Result<(), Failed> {
    create(&lab(f, nh)?)
}

fn lower(lab: &KLab) -> Result<(), Failed> {
    lab.link_mtu("a", "r1", 1300)
}

/// Lowering a's link to r1 to 1300 lowers dst1's exception to 1300.
fn lowered(f: Family) -> Result<(), Failed> {
    let r = lab(f, false)?;
    create(&r)?;
    lower(&r.lab)?;
    expect(
        WHAT,
        r.lab.pmtu("a", r.dst1)?,
        Some("1300".into()),
        "decreasing the local MTU",
    )
}

/// …and leaves dst2's exception (on the other path) at 1500.
fn other_path(f: Family) -> Result<(), Failed> {
    let r = lab(f, false)?;
    create(&r)?;
    lower(&r.lab)?;
    expect(
        WHAT,
        r.lab.pmtu("a", r.dst2)?,
        Some("1500".into()),
        "changing the local MTU on a link not on this path",
    )
}

/// Raising a's link again (1700) raises the exception that followed it
/// down back up with it.
fn raised(f: Family) -> Result<(), Failed> {
    let r = lab(f, false)?;
    create(&r)?;
    lower(&r.lab)?;
    expect(
        WHAT,
        r.lab.pmtu("a", r.dst1)?,
        Some("1300".into()),
        "decreasing the local MTU",
    )?;
    r.lab.link_mtu("a", "r1", 1700)?;
    expect(
        WHAT,
        r.lab.pmtu("a", r.dst1)?,
        Some("1700".into()),
        "increasing the local MTU",
    )?;
    expect(
        WHAT,
        r.lab.pmtu("a", r.dst2)?,
        Some("1500".into()),
        "changing the local MTU on a link not on this path",
    )
}
