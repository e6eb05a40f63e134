//! `kernel::multipath::…` (IPv4): a too-big on a multipath route leaves an
//! exception on each next hop (`ip route get DST oif DEV` for each), with
//! the route given as `nexthop via … nexthop via …` or through nexthop
//! objects (`ip nexthop add … group`): pmtu.sh `pmtu_ipv4_mp_exceptions`.
//!
//! The routing lab with b_r1 = b_r2 = 1500, plus loopback addresses
//! A = 198.19.88.1 on a and B = 198.19.88.88 on b, each reaching the other
//! over both routers.

use std::net::IpAddr;
use std::time::Duration;

use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::expect;
use super::kit;
use super::labs;

const HOST_A: &str = "198.19.88.1";
const HOST_B: &str = "198.19.88.88";

pub fn trials() -> Vec<Trial> {
    let v4 = Family::V4;
    vec![
        kit::trial(
            kit::name("multipath", "exception_per_nexthop", v4),
            &[],
            || per_nexthop(false),
        ),
        kit::trial(
            kit::name("multipath", "exception_per_nexthop_objects", v4),
            &[],
            || per_nexthop(true),
        ),
    ]
}

fn per_nexthop(nh: bool) -> Result<(), Failed> {
    let r = labs::routing(Family::V4, 1500, 1500)?;
    let l = &r.lab;
    // a <-> b multipath over r1 and r2, as pmtu.sh's setup_multipath_{old,new}.
    for (node, me, peer, g1, g2) in [
        ("a", HOST_A, HOST_B, ("r1", "a"), ("r2", "a")),
        ("b", HOST_B, HOST_A, ("r1", "b"), ("r2", "b")),
    ] {
        let gw1 = l.iface_addr(g1.0, g1.1, Family::V4)?;
        let gw2 = l.iface_addr(g2.0, g2.1, Family::V4)?;
        let route = if nh {
            format!(
                "nexthop add id 401 via {gw1} dev r1\nnexthop add id 402 via {gw2} dev r2\n\
                 nexthop add id 403 group 401/402\nroute add {peer} src {me} nhid 403\n"
            )
        } else {
            format!(
                "route add {peer} src {me} nexthop via {gw1} weight 1 nexthop via {gw2} weight 1\n"
            )
        };
        l.ip_batch(node, &format!("addr add {me}/32 dev lo\n{route}"))?;
    }
    for (router, host_a_gw, host_b_gw) in [
        ("r1", ("a", "r1"), ("b", "r1")),
        ("r2", ("a", "r2"), ("b", "r2")),
    ] {
        let ga = l.iface_addr(host_a_gw.0, host_a_gw.1, Family::V4)?;
        let gb = l.iface_addr(host_b_gw.0, host_b_gw.1, Family::V4)?;
        l.ip_batch(
            router,
            &format!("route add {HOST_A} via {ga}\nroute add {HOST_B} via {gb}\n"),
        )?;
    }
    let dst: IpAddr = HOST_B.parse()?;
    l.reachable("a", dst, Duration::from_secs(3))?;
    let p = l.ping("a", dst, 1828, Duration::from_secs(2))?;
    expect(
        "too-big MTU",
        p.mtu,
        Some(1500),
        "exceeding MTU on a multipath route",
    )?;
    for dev in ["r1", "r2"] {
        let got = l.route_oif("a", dst, dev)?;
        expect(
            &format!("PMTU exception with MTU (via {dev})"),
            super::check::pmtu(got.mtu, got.locked),
            Some("1500".into()),
            "exceeding MTU on a multipath route",
        )?;
    }
    Ok(())
}
