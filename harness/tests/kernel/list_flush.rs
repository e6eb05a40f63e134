//! `kernel::list_flush::…`: many exceptions (100 via r1, one via r2) are
//! all listed (`ip route list cache` / `ip -6 route list cache`, here the
//! same rtnetlink dump), and flushing them with `ip route flush cache` /
//! `ip -6 route flush cache` leaves none (pmtu.sh
//! `list_flush_ipv{4,6}_exception`).

use std::net::IpAddr;
use std::time::Duration;

use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::expect;
use super::kit;
use super::labs::{self, Routing};

const TIMEOUT: Duration = Duration::from_secs(2);
const MANY: u32 = 100;

pub fn trials() -> Vec<Trial> {
    let mut out = Vec::new();
    for f in [Family::V4, Family::V6] {
        out.push(kit::trial(
            kit::name("list_flush", "list_many", f),
            &[],
            move || list(f),
        ));
        out.push(kit::trial(
            kit::name("list_flush", "flush_all", f),
            &[],
            move || flush(f),
        ));
    }
    out
}

/// The routing lab with b_r1 = 1500, 100 more addresses on b's r1 end,
/// and an exception towards each of them and towards dst2.
fn filled(f: Family) -> Result<(Routing, Vec<IpAddr>), Failed> {
    let r = labs::routing(f, 1500, 1500)?;
    let dsts: Vec<IpAddr> = (100..100 + MANY)
        .map(|i| match f {
            Family::V4 => format!("198.18.1.{i}").parse(),
            Family::V6 => format!("2001:db8:0:1::{i:x}").parse(),
        })
        .collect::<Result<_, _>>()?;
    let (plen, nodad) = match f {
        Family::V4 => (24, ""),
        Family::V6 => (64, " nodad"),
    };
    let batch: String = dsts
        .iter()
        .map(|d| format!("addr add {d}/{plen} dev r1{nodad}\n"))
        .collect();
    r.lab.ip_batch("b", &batch)?;
    for &d in dsts.iter().chain([&r.dst2]) {
        let p = r.lab.ping("a", d, 1800, TIMEOUT)?;
        expect(
            &format!("too-big MTU towards {d}"),
            p.mtu,
            Some(1500),
            "exceeding MTU",
        )?;
    }
    Ok((r, dsts))
}

fn listed(r: &Routing, f: Family) -> Result<usize, Failed> {
    Ok(r.lab
        .exceptions("a")?
        .iter()
        .filter(|e| e.mtu.is_some() && (e.dst.is_ipv4() == (f == Family::V4)))
        .count())
}

/// 101 exceptions are listed, by the rtnetlink dump and by `ip -j route
/// list cache` (what pmtu.sh counts).
fn list(f: Family) -> Result<(), Failed> {
    let (r, _) = filled(f)?;
    let step = format!("creating {} exceptions", MANY + 1);
    expect(
        "number of listed exceptions",
        listed(&r, f)?,
        MANY as usize + 1,
        &step,
    )?;
    let fam = if f == Family::V4 { "-4" } else { "-6" };
    let ip = r.lab.ip_json("a", &[fam, "route", "list", "cache"])?;
    let n = ip.as_array().map_or(0, |a| a.len());
    expect(
        "number of entries in `ip -j route list cache`",
        n,
        MANY as usize + 1,
        &step,
    )
}

/// After `ip route flush cache`, none is listed and lookups carry no MTU.
fn flush(f: Family) -> Result<(), Failed> {
    let (r, dsts) = filled(f)?;
    let fam = if f == Family::V4 { "-4" } else { "-6" };
    r.lab.ip("a", &[fam, "route", "flush", "cache"])?;
    let step = "flushing the exception cache";
    expect("number of listed exceptions", listed(&r, f)?, 0, step)?;
    expect(
        "PMTU exception with MTU",
        r.lab.pmtu("a", dsts[0])?,
        None,
        step,
    )?;
    expect(
        "PMTU exception with MTU",
        r.lab.pmtu("a", r.dst2)?,
        None,
        step,
    )
}
