//! Live tests of user-given addresses and routes, multipath routes and the
//! anycast probe. Root only: without root every trial is reported *ignored*
//! (never passed), and with MTULAB_REQUIRE_ROOT=1 failed.
//!
//! ```text
//! anycast (the bundled anycast_hash_l3 / anycast_hash_l4, hash policy P on lb):
//!
//!                                                 +--9000-- s1  [anycast on lo]
//!   client --1500-- r0 --1300-- r1 --9000-- lb <--+
//!                                                 +--9000-- s2  [anycast on lo]
//!
//! diamond (topologies/fixtures/diamond.toml; given routes): ra's own
//! route to the server's subnet goes via r1 (1300) instead of the
//! automatic r2 (1400):
//!
//!                     +--1400-- r2 --1400--+
//!   client --1500-- ra                      rb --1500-- server
//!                     +--1300-- r1 --1300--+
//! ```

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use harness::probe::anycast::{anycast_flows, AnycastOpts, AnycastRun};
use harness::probe::exceptions;
use harness::probe::ping::{df_ping_hosts, PingOutcome};
use harness::probe::transfer::TransferVerdict;
use harness::Lab;
use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;
use mtulab_core::Topology;

use crate::common;
use common::{ip_json, live, load, source};

fn build(topo: &Topology) -> Result<Lab, Failed> {
    Lab::build(topo).map_err(|e| format!("build lab: {e}").into())
}

fn parse(src: &str) -> Topology {
    Topology::from_str(src, Path::new("anycast.rs/test.toml"))
        .unwrap_or_else(|e| panic!("test topology does not parse: {e}\n{src}"))
}

/// Build the bundled `scenario`, run the anycast probe from its client to
/// its anycast address: the flows, and them as a table for messages.
fn client_flows(scenario: &str, family: Family) -> Result<(AnycastRun, String), Failed> {
    let topo = load(scenario);
    let lab = build(&topo)?;
    let run = anycast_flows(
        &lab,
        "client",
        &topo.anycast[0],
        family,
        &AnycastOpts::default(),
    )?;
    let table = format!("{:#?}", run.flows);
    Ok((run, table))
}

/// With hash policy 0 (IPv4 L3; IPv6 L3 with the client's flow label
/// reflected by the servers) every flow completes and its ICMP reaches the
/// server that holds it.
fn anycast_l3_all_ok(family: Family) -> Result<(), Failed> {
    let (run, table) = client_flows("anycast_hash_l3", family)?;
    if run.flows.len() != 32 {
        return Err(format!("{} flows, expected 32", run.flows.len()).into());
    }
    for f in &run.flows {
        if f.verdict != TransferVerdict::Ok {
            return Err(
                format!("flow from port {} stalled with policy 0:\n{table}", f.port).into(),
            );
        }
        // Each flow starts flushed and needs the 1300 hop reported: its
        // ICMP must have arrived, at its own server.
        if !f.icmp_at.contains(&f.server) {
            return Err(format!(
                "flow from port {} (server {}) saw its ICMP at {:?}:\n{table}",
                f.port, f.server, f.icmp_at
            )
            .into());
        }
        if f.pmtu != 1300 {
            return Err(format!(
                "flow from port {} ended with pmtu {}:\n{table}",
                f.port, f.pmtu
            )
            .into());
        }
    }
    Ok(())
}

/// With hash policy 1 (L4) the ICMP is hashed on its own header: at least
/// one flow stalls, and every stalled flow's ICMP reached the other server.
fn anycast_l4_stalls(family: Family) -> Result<(), Failed> {
    let (run, table) = client_flows("anycast_hash_l4", family)?;
    let stalled: Vec<_> = run.stalled().collect();
    if stalled.is_empty() {
        return Err(format!("no flow stalled with policy 1:\n{table}").into());
    }
    for f in &stalled {
        if !f.icmp_misdelivered() {
            return Err(format!(
                "stalled flow from port {} (server {}) had its ICMP at {:?}, expected only the other server:\n{table}",
                f.port, f.server, f.icmp_at
            )
            .into());
        }
    }
    for f in run
        .flows
        .iter()
        .filter(|f| f.verdict == TransferVerdict::Ok)
    {
        if !f.icmp_at.contains(&f.server) {
            return Err(format!(
                "completed flow from port {} (server {}) without its ICMP ({:?}):\n{table}",
                f.port, f.server, f.icmp_at
            )
            .into());
        }
    }
    let servers: std::collections::BTreeSet<_> = run.flows.iter().map(|f| &f.server).collect();
    if servers.len() != 2 {
        return Err(format!("policy 1 should spread flows over both servers:\n{table}").into());
    }
    eprintln!(
        "anycast_hash_l4 {}: {} of {} flows stalled",
        family.as_str(),
        stalled.len(),
        run.flows.len()
    );
    Ok(())
}

/// lb holds one multipath route to the anycast address with a next hop
/// via each server; r1 a plain route via lb; the servers have it on lo.
fn multipath_installed(family: Family) -> Result<(), Failed> {
    let topo = load("anycast_hash_l3");
    let lab = build(&topo)?;
    let a = topo.anycast[0].addr(family).ok_or("no anycast address")?;
    let f = if family == Family::V4 { "-4" } else { "-6" };
    let routes = ip_json(&lab, "lb", &[f, "route", "show", &a.to_string()])?;
    let hops: Vec<String> = routes[0]["nexthops"]
        .as_array()
        .ok_or_else(|| format!("lb has no multipath route to {a}: {routes}"))?
        .iter()
        .map(|h| h["dev"].as_str().unwrap_or("").to_string())
        .collect();
    if hops != ["s1", "s2"] {
        return Err(format!("lb's next hops to {a}: {hops:?}, expected s1 and s2").into());
    }
    let r1 = ip_json(&lab, "r1", &[f, "route", "show", &a.to_string()])?;
    if r1[0]["dev"] != "lb" || r1[0].get("nexthops").is_some() {
        return Err(format!("r1's route to {a}: {r1}, expected a plain route via lb").into());
    }
    for s in ["s1", "s2"] {
        let addrs = ip_json(&lab, s, &[f, "addr", "show", "dev", "lo"])?;
        let on_lo: Vec<&str> = addrs[0]["addr_info"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["local"].as_str())
            .collect();
        if !on_lo.contains(&a.to_string().as_str()) {
            return Err(format!("{s} lacks {a} on lo: {on_lo:?}").into());
        }
    }
    Ok(())
}

const GIVEN: &str = r#"name = "given"
[nodes.client]
[nodes.ra]
router = true
[nodes.rb]
router = true
[nodes.server]
[[links]]
between = ["client", "ra"]
mtu = 1500
addresses = ["198.18.77.1/30", "198.18.77.2/30"]
addresses6 = ["2001:db8:77::a/64", "2001:db8:77::b/64"]
[[links]]
between = ["ra", "rb"]
mtu = 1400
[[links]]
between = ["rb", "server"]
mtu = 9000
addresses = ["198.18.1.1/24", "198.18.1.200/24"]
"#;

/// Given addresses are what the kernel has, and traffic flows on them: a
/// DF ping of exactly the path MTU (1400) gets a reply between the hosts,
/// one byte more gets too-big from ra. Link 1's automatic /24
/// (198.18.1.0) is taken by link 2's given one, so it moves elsewhere.
fn given_addresses(family: Family) -> Result<(), Failed> {
    let topo = parse(GIVEN);
    let lab = build(&topo)?;
    let client = lab
        .plan()
        .address_of("client", family)
        .ok_or("no client address")?;
    let server = lab
        .plan()
        .address_of("server", family)
        .ok_or("no server address")?;
    let want: (IpAddr, IpAddr) = match family {
        Family::V4 => ("198.18.77.1".parse()?, "198.18.1.200".parse()?),
        Family::V6 => ("2001:db8:77::a".parse()?, "2001:db8:0:2::2".parse()?),
    };
    if (client, server) != want {
        return Err(format!("planned addresses {client}, {server}, expected {want:?}").into());
    }
    let f = if family == Family::V4 { "-4" } else { "-6" };
    for (node, addr) in [("client", client), ("server", server)] {
        let j = ip_json(&lab, node, &[f, "addr", "show", "scope", "global"])?;
        let has = j
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|l| l["addr_info"].as_array().cloned().unwrap_or_default())
            .any(|i| i["local"].as_str() == Some(&addr.to_string()));
        if !has {
            return Err(format!("{node} lacks {addr} in the kernel: {j}").into());
        }
    }
    let mid = &lab.plan().links[1].ipv4;
    if mid.addr == "198.18.1.0".parse::<IpAddr>()? {
        return Err("link 1 kept the /24 that link 2's given addresses use".into());
    }
    for (from, to) in [("client", "server"), ("server", "client")] {
        exceptions::flush(&lab)?;
        let at = df_ping_hosts(&lab, from, to, family, 1400, Duration::from_secs(2))?;
        if at.outcome != PingOutcome::Reply {
            return Err(format!("{from} -> {to}: DF 1400 got {:?}", at.outcome).into());
        }
        exceptions::flush(&lab)?;
        let over = df_ping_hosts(&lab, from, to, family, 1401, Duration::from_secs(2))?;
        if over.outcome != PingOutcome::TooBig || over.mtu != Some(1400) {
            return Err(
                format!("{from} -> {to}: DF 1401 got {over:?}, expected too-big 1400").into(),
            );
        }
    }
    Ok(())
}

/// A given route is installed and used: ra sends the server's subnet via
/// r1 (1300) instead of r2 (1400), so a DF 1400 from the client gets
/// too-big 1300 from ra. Control: without the route the same ping gets a reply.
fn given_route(with_route: bool) -> Result<(), Failed> {
    let (mut src, _) = source("fixtures/diamond.toml");
    if with_route {
        src = src.replace(
            "[nodes.ra]\nrouter = true",
            "[nodes.ra]\nrouter = true\nroutes = [{ to = \"198.18.5.0/24\", via = \"198.18.2.2\" }]",
        );
    }
    let topo = parse(&src);
    let lab = build(&topo)?;
    let server: IpAddr = "198.18.5.2".parse()?;
    let ra = lab.node("ra").ok_or("no ra")?;
    let lookup = exceptions::route_get(ra, server)?;
    let want_gw: IpAddr = if with_route {
        "198.18.2.2"
    } else {
        "198.18.1.2"
    }
    .parse()?;
    if lookup.gateway != Some(want_gw) {
        return Err(format!(
            "ra routes {server} via {:?}, expected {want_gw}",
            lookup.gateway
        )
        .into());
    }
    exceptions::flush(&lab)?;
    let p = df_ping_hosts(
        &lab,
        "client",
        "server",
        Family::V4,
        1400,
        Duration::from_secs(2),
    )?;
    let ok = if with_route {
        p.outcome == PingOutcome::TooBig && p.mtu == Some(1300)
    } else {
        p.outcome == PingOutcome::Reply
    };
    if !ok {
        return Err(
            format!("DF 1400 client -> server got {p:?} (given route: {with_route})").into(),
        );
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for family in [Family::V4, Family::V6] {
        let f = family.as_str();
        trials.extend([
            live(format!("anycast::hash_l3::{f}::all_flows_ok"), move || {
                anycast_l3_all_ok(family)
            }),
            live(
                format!("anycast::hash_l4::{f}::some_flows_stall_icmp_elsewhere"),
                move || anycast_l4_stalls(family),
            ),
            live(
                format!("anycast::{f}::multipath_route_installed"),
                move || multipath_installed(family),
            ),
            live(format!("given::{f}::addresses_carry_traffic"), move || {
                given_addresses(family)
            }),
        ]);
    }
    trials.push(live("given::ipv4::route_installed_and_used", || {
        given_route(true)
    }));
    trials.push(live("given::ipv4::route_control_auto", || {
        given_route(false)
    }));
    trials
}
