//! Live tests of `[[tunnels]]` (VXLAN over the lab's links): the device is
//! what the plan says (kind, VNI, ends, port, MTU read back), overlay
//! traffic really crosses it at its MTU, the default MTU is the underlay's
//! minus 50 (IPv4) / 70 (IPv6), the underlay stays on the physical links,
//! and what happens when the underlay shrinks beneath the tunnel. Root
//! only: without root each trial is *ignored* (never passed), and with
//! MTULAB_REQUIRE_ROOT=1 failed.
//!
//!   client --1500-- gw-a --1500-- inet --1500-- gw-b --1500-- server
//!                     \\======= vx (VXLAN) 1450 =======//

use std::path::Path;
use std::time::Duration;

use harness::netlink::{self, Request};
use harness::probe::ping::{df_ping_hosts, PingOutcome};
use harness::probe::transfer::{transfer_hosts, TransferOpts, TransferVerdict};
use harness::Lab;
use libtest_mimic::{Failed, Trial};
use mtulab_core::plan::tunnel::TunnelPlan;
use mtulab_core::plan::LinkPlan;
use mtulab_core::Family;
use mtulab_core::Topology;
use serde_json::Value;

use crate::common;
use common::{ip_json, live, load, varied};

const TIMEOUT: Duration = Duration::from_secs(3);

/// vxlan_1450 with the tunnel over an IPv6 underlay.
fn vxlan_over_ipv6() -> Topology {
    varied(
        "vxlan_1450.toml",
        "underlay = \"ipv4\"",
        "underlay = \"ipv6\"",
    )
}

/// `ip -j -d link show DEV` in a node.
fn link_details(lab: &Lab, node: &str, dev: &str) -> Result<Value, Failed> {
    Ok(ip_json(lab, node, &["-d", "-s", "link", "show", "dev", dev])?[0].clone())
}

/// Bytes a node's interface has sent (rtnetlink stats, via `ip -s`;
/// packets would count GSO super-packets once).
fn tx_bytes(lab: &Lab, node: &str, dev: &str) -> Result<u64, Failed> {
    link_details(lab, node, dev)?["stats64"]["tx"]["bytes"]
        .as_u64()
        .ok_or_else(|| format!("{node}:{dev}: no tx byte counter").into())
}

/// A counter from the node's own /proc/net/snmp (`Ip: … FragCreates …`).
fn ip_counter(lab: &Lab, node: &str, name: &str) -> Result<u64, Failed> {
    let out = lab
        .command(node, "cat")
        .ok_or("no such node")?
        .arg("/proc/net/snmp")
        .output()?;
    let text = String::from_utf8(out.stdout)?;
    let mut lines = text.lines().filter(|l| l.starts_with("Ip: "));
    let (names, values) = (
        lines.next().ok_or("no Ip header")?,
        lines.next().ok_or("no Ip values")?,
    );
    let k = names
        .split_whitespace()
        .position(|n| n == name)
        .ok_or_else(|| format!("no Ip counter {name}"))?;
    Ok(values
        .split_whitespace()
        .nth(k)
        .ok_or("short Ip line")?
        .parse()?)
}

/// The lab's first tunnel: its link and its tunnel plan.
fn tunnel_link(lab: &Lab) -> Result<(&LinkPlan, &TunnelPlan), Failed> {
    let found = lab
        .plan()
        .links
        .iter()
        .find_map(|l| Some((l, l.tunnel.as_ref()?)));
    Ok(found.ok_or("no tunnel planned")?)
}

/// The kernel's device is the planned VXLAN end: kind, VNI, local and
/// remote, port 4789, learning off, MTU as planned on both ends.
fn device_as_planned(topo: Topology, mtu: u32) -> Result<(), Failed> {
    let lab = Lab::build(&topo)?;
    let (link, t) = tunnel_link(&lab)?;
    if link.mtu != [mtu, mtu] {
        return Err(format!(
            "planned tunnel MTU {:?}, expected {mtu} both ends",
            link.mtu
        )
        .into());
    }
    for end in 0..2 {
        let (node, dev) = (&link.between[end], &link.names[end]);
        let read = lab.mtu(node, dev);
        if read != Some(mtu) {
            return Err(
                format!("{node}:{dev} has MTU {read:?} after building, expected {mtu}").into(),
            );
        }
        let d = link_details(&lab, node, dev)?;
        let info = &d["linkinfo"];
        let data = &info["info_data"];
        let local = t.local[end].to_string();
        let remote = t.local[1 - end].to_string();
        let checks = [
            (info["info_kind"] == "vxlan", "kind vxlan"),
            (data["id"] == t.vni, "the planned VNI"),
            (data["port"] == 4789, "port 4789"),
            (data["learning"] == false, "learning off"),
            (
                data["local"] == local.as_str() || data["local6"] == local.as_str(),
                "the planned local address",
            ),
            (
                data["remote"] == remote.as_str()
                    || data["group"] == remote.as_str()
                    || data["remote6"] == remote.as_str()
                    || data["group6"] == remote.as_str(),
                "the planned remote address",
            ),
            (d["mtu"] == mtu, "the planned MTU"),
        ];
        for (ok, what) in checks {
            if !ok {
                return Err(format!("{node}:{dev} lacks {what} ({local} -> {remote}): {d}").into());
            }
        }
    }
    Ok(())
}

/// Overlay traffic crosses the tunnel (its tx counter grows by at least the
/// bytes transferred) at its MTU: a DF ping of exactly the tunnel MTU is
/// answered, one byte more gets frag-needed / packet-too-big with that MTU
/// from gw-a, and 1 MiB goes through promptly.
fn carries_traffic(topo: Topology, family: Family, mtu: u32) -> Result<(), Failed> {
    let lab = Lab::build(&topo)?;
    let before = tx_bytes(&lab, "gw-a", "vx-gw-b")?;
    let at = df_ping_hosts(&lab, "client", "server", family, mtu, TIMEOUT)?;
    if at.outcome != PingOutcome::Reply {
        return Err(format!("DF ping of {mtu} bytes: {:?}, expected a reply", at.outcome).into());
    }
    let over = df_ping_hosts(&lab, "client", "server", family, mtu + 1, TIMEOUT)?;
    let gw_a = lab
        .plan()
        .node("gw-a")
        .and_then(|n| n.iface("client"))
        .and_then(|i| i.addr(family))
        .map(|a| a.addr);
    if over.outcome != PingOutcome::TooBig || over.mtu != Some(mtu) || over.from != gw_a {
        return Err(format!(
            "DF ping of {} bytes: {:?} mtu {:?} from {:?}, expected too-big with mtu {mtu} from gw-a ({gw_a:?})",
            mtu + 1,
            over.outcome,
            over.mtu,
            over.from
        )
        .into());
    }
    let t = transfer_hosts(&lab, "client", "server", family, &TransferOpts::default())?;
    if t.verdict != TransferVerdict::Ok || t.pmtu != mtu {
        return Err(format!(
            "transfer: {:?} with pmtu {}, expected ok at {mtu}",
            t.verdict, t.pmtu
        )
        .into());
    }
    let after = tx_bytes(&lab, "gw-a", "vx-gw-b")?;
    if after < before + (1 << 20) {
        return Err(format!(
            "gw-a's tunnel sent {} bytes during the probes (1 MiB transferred): the traffic did not cross it",
            after - before
        )
        .into());
    }
    Ok(())
}

/// Every node's route to both underlay addresses leaves over a physical
/// link, as the kernel looks it up (three routers between the endpoints, so
/// a router next to gw-a would otherwise reach gw-b sooner via the tunnel):
/// topologies/fixtures/long_tunnel.toml with its 1400 link at 1500.
//   client -- gw-a -- r1 -- r2 -- r3 -- gw-b -- server
//                \\======= vx (VXLAN) 1450 ========//
fn underlay_routes_are_physical() -> Result<(), Failed> {
    let topo = varied("fixtures/long_tunnel.toml", "mtu = 1400", "mtu = 1500");
    let lab = Lab::build(&topo)?;
    let (link, t) = tunnel_link(&lab)?;
    let tunnel_devs: Vec<&str> = link.names.iter().map(String::as_str).collect();
    let mut pinned = 0;
    for node in &lab.plan().nodes {
        for dst in t.local {
            if node
                .interfaces
                .iter()
                .any(|i| i.ipv4.as_ref().is_some_and(|a| a.addr == dst))
            {
                continue;
            }
            let r = lab.node(&node.name).ok_or("node")?.rtnl().route_get(dst)?;
            let dev = r
                .oif
                .and_then(|oif| {
                    node.interfaces
                        .iter()
                        .find(|i| lab.ifindex(&node.name, &i.name) == Some(oif))
                })
                .map(|i| i.name.clone())
                .ok_or_else(|| {
                    format!("{}: route to {dst} via unknown oif {:?}", node.name, r.oif)
                })?;
            if tunnel_devs.contains(&dev.as_str()) {
                return Err(format!(
                    "{}: the route to underlay address {dst} goes into the tunnel ({dev})",
                    node.name
                )
                .into());
            }
            if node
                .routes
                .iter()
                .any(|r| r.dst.addr == dst && r.dst.prefix_len == 32)
            {
                pinned += 1;
            }
        }
    }
    // Control: the topology does need pinning (r1's overlay route towards
    // r3's link goes via gw-a and the tunnel).
    if pinned == 0 {
        return Err("no node needed a pinned underlay route: the test shows nothing".into());
    }
    // And the tunnel still carries the overlay.
    let over = df_ping_hosts(&lab, "client", "server", Family::V4, 1451, TIMEOUT)?;
    if over.outcome != PingOutcome::TooBig || over.mtu != Some(1450) {
        return Err(format!("DF 1451 over the tunnel: {over:?}").into());
    }
    Ok(())
}

/// The underlay shrinks beneath the tunnel (inet -- gw-b lowered to 1400
/// after building, tunnel still 1450): a 1450-byte DF packet fits the
/// tunnel but its 1500-byte encapsulation does not fit the underlay. With
/// the outer header's DF unset (our choice, the kernel default) inet
/// fragments the outer packet and the ping is still answered. Control: at
/// 1500 underlay the same ping makes no fragments.
fn underlay_shrinks_below_tunnel(family: Family) -> Result<(), Failed> {
    let lab = Lab::build(&load("vxlan_1450"))?;
    let frags = |lab: &Lab| ip_counter(lab, "inet", "FragCreates");
    let before = frags(&lab)?;
    let r = df_ping_hosts(&lab, "client", "server", family, 1450, TIMEOUT)?;
    if r.outcome != PingOutcome::Reply {
        return Err(format!("control: DF 1450 before shrinking: {:?}", r.outcome).into());
    }
    if frags(&lab)? != before {
        return Err("control: inet fragmented with a 1500 underlay".into());
    }
    for (node, dev) in [("inet", "gw-b"), ("gw-b", "inet")] {
        let index = lab.ifindex(node, dev).ok_or("no ifindex")?;
        lab.node(node)
            .ok_or("node")?
            .rtnl()
            .execute(vec![Request::plain(
                format!("lower {node}:{dev} to 1400"),
                netlink::set_mtu(index, 1400),
            )])?;
    }
    let before = frags(&lab)?;
    let r = df_ping_hosts(&lab, "client", "server", family, 1450, TIMEOUT)?;
    if r.outcome != PingOutcome::Reply {
        return Err(format!(
            "DF 1450 over the tunnel with a 1400 underlay: {:?} (mtu {:?}), expected a reply (outer packets fragmented)",
            r.outcome, r.mtu
        )
        .into());
    }
    let made = frags(&lab)? - before;
    if made == 0 {
        return Err(
            "inet made no fragments: the encapsulated packet did not need fragmenting?".into(),
        );
    }
    let t = transfer_hosts(&lab, "client", "server", family, &TransferOpts::default())?;
    if t.verdict != TransferVerdict::Ok {
        return Err(format!("transfer over the shrunk underlay: {:?}", t.verdict).into());
    }
    Ok(())
}

/// Init-namespace state a tunnel lab could disturb: its links (a VXLAN
/// device made in the wrong namespace) and UDP sockets on the VXLAN port.
fn init_ns_state() -> Result<(String, String), Failed> {
    let links = std::process::Command::new("ip")
        .args(["-j", "link", "show"])
        .output()?;
    let udp =
        std::fs::read_to_string("/proc/net/udp")? + &std::fs::read_to_string("/proc/net/udp6")?;
    // Port 4789 is 12B5 in /proc/net/udp's hex local address column.
    let udp: String = udp.lines().filter(|l| l.contains(":12B5 ")).collect();
    Ok((String::from_utf8(links.stdout)?, udp))
}

/// A tunnel lab is built in its namespaces only (nothing appears in the
/// one the test runs in, no VXLAN socket there) and leaves nothing behind.
fn leaves_nothing_behind() -> Result<(), Failed> {
    let before = init_ns_state()?;
    let lab = Lab::build(&load("vpn_1446"))?;
    let names: Vec<String> = lab.namespaces().values().cloned().collect();
    if init_ns_state()? != before {
        return Err(
            "building a tunnel lab changed the starting namespace's links or UDP sockets".into(),
        );
    }
    // Control: the namespaces exist while the lab does.
    for n in &names {
        if !Path::new("/run/netns").join(n).exists() {
            return Err(format!("namespace {n} missing while the lab is up").into());
        }
    }
    drop(lab);
    for n in &names {
        if Path::new("/run/netns").join(n).exists() {
            return Err(format!("namespace {n} left behind").into());
        }
    }
    if init_ns_state()? != before {
        return Err("the starting namespace's links or UDP sockets changed after teardown".into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![
        live("tunnels::vxlan_1450::device_as_planned", || {
            device_as_planned(load("vxlan_1450"), 1450)
        }),
        live("tunnels::default_mtu::ipv4_underlay_1500", || {
            device_as_planned(load("vxlan_1450"), 1500 - 50)
        }),
        live("tunnels::default_mtu::ipv4_underlay_1496", || {
            device_as_planned(load("vpn_1446"), 1496 - 50)
        }),
        live("tunnels::default_mtu::ipv6_underlay_1500", || {
            device_as_planned(vxlan_over_ipv6(), 1500 - 70)
        }),
        live(
            "tunnels::underlay_routes_are_physical",
            underlay_routes_are_physical,
        ),
        live("tunnels::leaves_nothing_behind", leaves_nothing_behind),
    ];
    for family in [Family::V4, Family::V6] {
        let f = family.as_str();
        trials.push(live(
            format!("tunnels::vxlan_1450::{f}::carries_traffic_at_its_mtu"),
            move || carries_traffic(load("vxlan_1450"), family, 1450),
        ));
        trials.push(live(
            format!("tunnels::vxlan_over_ipv6::{f}::carries_traffic_at_its_mtu"),
            move || carries_traffic(vxlan_over_ipv6(), family, 1430),
        ));
        trials.push(live(
            format!("tunnels::underlay_shrinks_below_tunnel::{f}"),
            move || underlay_shrinks_below_tunnel(family),
        ));
    }
    trials
}
