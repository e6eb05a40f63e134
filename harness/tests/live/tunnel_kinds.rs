//! Live tests of every tunnel kind (`[[tunnels]] kind = …`) over each
//! underlay it can use, on vxlan_1450's shape (1500 everywhere):
//!
//!   client --1500-- gw-a --1500-- inet --1500-- gw-b --1500-- server
//!                     \\======= KIND, 1500 - overhead =======//
//!
//! Per kind and underlay: the kernel's device is the kind asked for with the
//! planned MTU; in each family the kind carries, a DF ping of exactly the
//! tunnel MTU is answered and one byte more gets too-big with that MTU from
//! gw-a; and the encapsulation costs exactly the model's overhead (gw-a's
//! underlay interface sends tunnel MTU + overhead + 14 bytes of Ethernet
//! for a tunnel-MTU ping). Per kind: a tunnel end does not check its MTU on
//! receive (the model's assumption): with gw-b's end 100 bytes smaller,
//! gw-a's full-size packets still cross.
//!
//! Root only, and only where the kernel has the kind: otherwise each trial
//! is ignored with the reason (this machine: VXLAN only; the other kinds
//! run in ci/kernel-matrix's guests).

use std::time::Duration;

use harness::probe::ping::{df_ping, df_ping_hosts, PingOutcome};
use harness::Lab;
use libtest_mimic::{Failed, Trial};
use mtulab_core::topology::TunnelKind;
use mtulab_core::{Family, Topology};

use crate::common;
use common::{ip_json, live, varied};
use harness::env::live_tunnels;

const TIMEOUT: Duration = Duration::from_secs(3);

/// vxlan_1450 with the tunnel of `kind` over `underlay` (and `extra` lines).
fn topology(kind: TunnelKind, underlay: Family, extra: &str) -> Topology {
    varied(
        "vxlan_1450.toml",
        "underlay = \"ipv4\"",
        &format!("kind = \"{kind}\"\nunderlay = \"{underlay}\"\n{extra}"),
    )
}

/// The `info_kind` the kernel reports for `kind` over `underlay`.
fn kernel_kind(kind: TunnelKind, underlay: Family) -> &'static str {
    match (kind, underlay) {
        (TunnelKind::Gre, Family::V6) => "ip6gre",
        (TunnelKind::Gretap, Family::V6) => "ip6gretap",
        (TunnelKind::Ip6tnl, _) => "ip6tnl",
        (k, _) => k.as_str(),
    }
}

fn tx_bytes(lab: &Lab, node: &str, dev: &str) -> Result<u64, Failed> {
    ip_json(lab, node, &["-s", "link", "show", "dev", dev])?[0]["stats64"]["tx"]["bytes"]
        .as_u64()
        .ok_or_else(|| format!("{node}:{dev}: no tx byte counter").into())
}

fn as_planned(kind: TunnelKind, underlay: Family) -> Result<(), Failed> {
    let topo = topology(kind, underlay, "");
    let lab = Lab::build(&topo)?;
    let link = lab
        .plan()
        .links
        .iter()
        .find(|l| l.tunnel.is_some())
        .ok_or("no tunnel planned")?;
    let overhead = kind.overhead(underlay).ok_or("no overhead")?;
    let mtu = 1500 - overhead;
    if link.mtu != [mtu, mtu] {
        return Err(format!("planned {:?}, expected {mtu} (1500 - {overhead})", link.mtu).into());
    }
    let dev = link.names[0].clone();
    let d = &ip_json(&lab, "gw-a", &["-d", "link", "show", "dev", &dev])?[0];
    let want = kernel_kind(kind, underlay);
    if d["linkinfo"]["info_kind"] != want || d["mtu"] != mtu {
        return Err(format!("gw-a:{dev} is not a {want} with MTU {mtu}: {d}").into());
    }
    let gw_a = |family| {
        lab.plan()
            .node("gw-a")
            .and_then(|n| n.iface("client"))
            .and_then(|i| i.addr(family))
            .map(|a| a.addr)
    };
    for family in [Family::V4, Family::V6] {
        if !kind.carries(family) {
            continue;
        }
        let f = family.as_str();
        let at = df_ping_hosts(&lab, "client", "server", family, mtu, TIMEOUT)?;
        if at.outcome != PingOutcome::Reply {
            return Err(
                format!("{f}: DF ping of {mtu}: {:?}, expected a reply", at.outcome).into(),
            );
        }
        let over = df_ping_hosts(&lab, "client", "server", family, mtu + 1, TIMEOUT)?;
        if over.outcome != PingOutcome::TooBig || over.mtu != Some(mtu) || over.from != gw_a(family)
        {
            return Err(format!(
                "{f}: DF ping of {}: {over:?}, expected too-big with mtu {mtu} from gw-a",
                mtu + 1
            )
            .into());
        }
        // The overhead on the wire: what gw-a's underlay interface sends
        // for one tunnel-MTU echo request (a bare one: df_ping_hosts would
        // add its small warm-up echo; least of three: ARP/ND may add a frame).
        let client = lab.node("client").ok_or("no client")?.ns();
        let dst = lab
            .plan()
            .address_of("server", family)
            .ok_or("server has no address")?;
        let mut sent = u64::MAX;
        for _ in 0..3 {
            let before = tx_bytes(&lab, "gw-a", "inet")?;
            let r = df_ping(client, dst, mtu, TIMEOUT)?;
            if r.outcome != PingOutcome::Reply {
                return Err(format!("{f}: DF ping of {mtu}: {:?}", r.outcome).into());
            }
            sent = sent.min(tx_bytes(&lab, "gw-a", "inet")? - before);
        }
        let want = u64::from(mtu + overhead + 14);
        if sent != want {
            return Err(format!(
                "{f}: a {mtu}-byte packet left gw-a's underlay as {sent} bytes, expected {want} ({mtu} + {overhead} overhead + 14 Ethernet)"
            )
            .into());
        }
    }
    Ok(())
}

/// gw-b's end 100 bytes smaller than gw-a's: gw-a's full-size packets
/// still come out at gw-b (no receive-side MTU check) and are answered.
fn rx_unchecked(kind: TunnelKind) -> Result<(), Failed> {
    let underlay = kind.default_underlay();
    let big = 1500 - kind.overhead(underlay).ok_or("no overhead")?;
    let topo = topology(kind, underlay, &format!("mtu = [{big}, {}]\n", big - 100));
    let lab = Lab::build(&topo)?;
    let family = if kind.carries(Family::V4) {
        Family::V4
    } else {
        Family::V6
    };
    let r = df_ping_hosts(&lab, "client", "server", family, big, TIMEOUT)?;
    if r.outcome != PingOutcome::Reply {
        return Err(format!(
            "DF {big} into gw-a's {big} end, out of gw-b's {} end: {:?}, expected a reply (the model assumes no receive-side check)",
            big - 100,
            r.outcome
        )
        .into());
    }
    // Control: the other way gw-b's smaller end is enforced on send.
    let back = df_ping_hosts(&lab, "server", "client", family, big, TIMEOUT)?;
    if back.outcome != PingOutcome::TooBig || back.mtu != Some(big - 100) {
        return Err(format!("control, server -> client DF {big}: {back:?}").into());
    }
    Ok(())
}

/// The probe agrees with building: a (kind, underlay) it calls supported
/// builds, one it calls unsupported fails with `LabError::Unsupported`
/// and that reason before any namespace exists (run() then checks that
/// nothing was left behind). On this machine that is every kind but VXLAN.
fn probe_agrees_with_build() -> Result<(), Failed> {
    let mut unsupported = 0;
    for kind in TunnelKind::ALL {
        for &underlay in kind.underlays() {
            let built = Lab::build(&topology(kind, underlay, ""));
            match (harness::tunnels::support(kind, underlay), built) {
                (Ok(()), Ok(_lab)) => {}
                (Err(why), Err(harness::LabError::Unsupported { reason, .. })) if reason == why => {
                    unsupported += 1;
                }
                (probe, built) => {
                    return Err(format!(
                        "{kind} over {underlay}: probe {probe:?}, build {:?}",
                        built.map(|_| "ok")
                    )
                    .into())
                }
            }
        }
    }
    eprintln!("{unsupported} (kind, underlay) pairs unsupported by this kernel");
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![live(
        "tunnel_kinds::probe_agrees_with_build",
        probe_agrees_with_build,
    )];
    for kind in TunnelKind::ALL {
        for &underlay in kind.underlays() {
            trials.push(live_tunnels(
                format!("tunnel_kinds::{kind}::over_{underlay}::as_planned"),
                [(kind, underlay)],
                move || as_planned(kind, underlay),
            ));
        }
        trials.push(live_tunnels(
            format!("tunnel_kinds::{kind}::rx_unchecked"),
            [(kind, kind.default_underlay())],
            move || rx_unchecked(kind),
        ));
    }
    trials
}
