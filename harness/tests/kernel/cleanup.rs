//! `kernel::cleanup::…`: exceptions go with the route and the link they
//! hang on. Changing a's route to dst1 (now via r2) drops dst1's 1400
//! exception and keeps dst2's; deleting a's link to r1 with exceptions on
//! it completes promptly (a leaked exception would hold the device:
//! pmtu.sh `pmtu_ipv{4,6}_route_change`, `cleanup_ipv{4,6}_exception`,
//! the latter with the exceptions made on every CPU through a VXLAN).

use std::time::{Duration, Instant};

use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::{expect, holds};
use super::exception::create;
use super::kit::{self, Cap, KLab};
use super::labs::{self, Encap};

/// Deleting a link must finish within this (pmtu.sh: 2 s).
const DEL_DEADLINE: Duration = Duration::from_secs(2);

pub fn trials() -> Vec<Trial> {
    let mut out = Vec::new();
    for f in [Family::V4, Family::V6] {
        out.push(kit::trial(
            kit::name("cleanup", "route_change", f),
            &[],
            move || route_change(f),
        ));
        out.push(kit::trial(
            kit::name("cleanup", "route_change_then_link_delete", f),
            &[],
            move || route_change_link_delete(f),
        ));
        out.push(kit::trial(
            kit::name("cleanup", "link_delete_vxlan_every_cpu", f),
            &[Cap::Vxlan],
            move || link_delete_every_cpu(f),
        ));
    }
    out
}

/// Change dst1's route to go via r2 instead of r1.
fn change_route(lab: &KLab, f: Family) -> Result<(), Failed> {
    // The planner's own route to dst1's subnet (dst1 is b's end of it).
    let sub1 = match f {
        Family::V4 => "198.18.1.0/24",
        Family::V6 => "2001:db8:0:1::/64",
    };
    let gw = lab.iface_addr("r2", "a", f)?.to_string();
    lab.ip("a", &["route", "change", sub1, "via", &gw, "dev", "r2"])
}

/// After the route change, no exception to dst1 is left (listed or looked
/// up); dst2's is untouched.
fn route_change(f: Family) -> Result<(), Failed> {
    let r = labs::routing(f, 1400, 1500)?;
    create(&r)?;
    change_route(&r.lab, f)?;
    let step = "replacing the route to dst1";
    let left = r
        .lab
        .exceptions("a")?
        .into_iter()
        .filter(|e| e.dst == r.dst1 && e.mtu.is_some())
        .map(|e| e.mtu)
        .next()
        .flatten();
    expect("listed exception to dst1 with MTU", left, None, step)?;
    expect(
        "PMTU exception with MTU",
        r.lab.pmtu("a", r.dst1)?,
        None,
        step,
    )?;
    expect(
        "PMTU exception with MTU",
        r.lab.pmtu("a", r.dst2)?,
        Some("1500".into()),
        step,
    )
}

/// Delete `node`'s interface `iface` with `ip link del` and wait at most
/// [`DEL_DEADLINE`]; how long it took (the command is killed if late).
fn timed_delete(lab: &KLab, node: &str, iface: &str) -> Result<Duration, Failed> {
    let start = Instant::now();
    let mut child = lab
        .command(node, "ip")?
        .args(["link", "del", iface])
        .stdout(std::process::Stdio::null())
        .spawn()?;
    loop {
        if let Some(st) = child.try_wait()? {
            if !st.success() {
                return Err(format!("ip link del {iface} in {node} failed: {st}").into());
            }
            return Ok(start.elapsed());
        }
        if start.elapsed() > DEL_DEADLINE * 2 {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(start.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn deleted_promptly(lab: &KLab, node: &str, iface: &str, step: &str) -> Result<(), Failed> {
    let took = timed_delete(lab, node, iface)?;
    holds(
        took <= DEL_DEADLINE,
        || format!("deleting {node}:{iface} took {took:?}, expected at most {DEL_DEADLINE:?}"),
        step,
    )?;
    let still = lab.links(node)?.iter().any(|l| l.name == iface);
    expect(&format!("{node}:{iface} present"), still, false, step)
}

/// pmtu.sh's route change test: route replaced, then the device with the
/// old exceptions deleted, promptly.
fn route_change_link_delete(f: Family) -> Result<(), Failed> {
    let r = labs::routing(f, 1400, 1500)?;
    create(&r)?;
    change_route(&r.lab, f)?;
    deleted_promptly(
        &r.lab,
        "a",
        "r1",
        "replacing the route and deleting the link",
    )
}

/// Exceptions made from every CPU (the sender pinned to each in turn)
/// through a VXLAN over `outer`, then a's underlay link deleted: promptly.
fn link_delete_every_cpu(outer: Family) -> Result<(), Failed> {
    let t = labs::tunnel(Encap::Vxlan, outer, Family::V4, false)?;
    let cpus = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    for cpu in 0..cpus {
        let lab = &t.lab;
        let b = t.b;
        let r = std::thread::scope(|s| {
            s.spawn(move || -> Result<(), Failed> {
                let mut set = nix::sched::CpuSet::new();
                set.set(cpu)?;
                nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set)?;
                // The namespace thread df_ping starts inherits the mask.
                lab.ping("a", b, labs::LL_MTU + 528, Duration::from_secs(1))?;
                Ok(())
            })
            .join()
            .map_err(|_| Failed::from("pinned ping panicked"))?
        });
        r?;
    }
    expect(
        "PMTU exception with MTU",
        t.lab.pmtu("a", t.b)?,
        Some(t.expected.to_string()),
        "exceeding the tunnel's underlay MTU from every CPU",
    )?;
    deleted_promptly(
        &t.lab,
        "a",
        "r1",
        "deleting the underlay link with exceptions on it",
    )
}
