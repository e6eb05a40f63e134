//! Tunnel kinds in the plan: each kind's default MTU is the underlay path
//! MTU minus its overhead, a tunnel carries only its kind's families, and
//! the impossible combinations are refused with the line.

use std::path::Path;

use super::*;
use crate::topology::{Topology, TopologyError};

// topologies/fixtures/long_tunnel.toml: underlay path MTU 1400 (r1 -- r2).
const LONG: &str = include_str!("../../../../topologies/fixtures/long_tunnel.toml");

fn with(extra: &str) -> Result<Topology, TopologyError> {
    Topology::from_str(&format!("{LONG}{extra}"), Path::new("t.toml"))
}

/// Default MTU per kind and underlay: 1400 minus the kind's overhead.
#[test]
fn default_mtu_per_kind() {
    for kind in TunnelKind::ALL {
        for family in kind.underlays() {
            let t = with(&format!("kind = \"{kind}\"\nunderlay = \"{family}\"\n"))
                .unwrap_or_else(|e| panic!("{kind} over {family}: {e}"));
            assert_eq!(t.tunnels[0].kind, kind);
            let p = Plan::new(&t);
            let want = 1400 - kind.overhead(*family).unwrap();
            assert_eq!(p.links[6].mtu, [want, want], "{kind} over {family}");
            let tp = p.links[6].tunnel.as_ref().unwrap();
            assert_eq!(tp.kind, kind);
            assert_eq!(tp.underlay, *family);
        }
    }
    // ip6tnl defaults to an IPv6 underlay, everything else to IPv4.
    let t = with("kind = \"ip6tnl\"\n").unwrap();
    assert_eq!(t.tunnels[0].underlay, Family::V6);
    assert_eq!(Plan::new(&t).links[6].mtu, [1352, 1352]);
    let t = with("kind = \"wireguard\"\n").unwrap();
    assert_eq!(t.tunnels[0].underlay, Family::V4);
    assert_eq!(Plan::new(&t).links[6].mtu, [1340, 1340]);
}

/// IPIP carries IPv4 only, SIT IPv6 only: the other family's overlay
/// stays on the physical links, and the interfaces carry no address of it.
#[test]
fn carried_families() {
    let through_tunnel = |p: &Plan, family| {
        p.path("client", "server", family)
            .unwrap()
            .iter()
            .any(|h| h.link == 6)
    };
    let p = Plan::new(&with("kind = \"ipip\"\n").unwrap());
    assert!(through_tunnel(&p, Family::V4));
    assert!(!through_tunnel(&p, Family::V6));
    assert_eq!(p.links[6].ipv6, None);
    let p = Plan::new(&with("kind = \"sit\"\n").unwrap());
    assert!(!through_tunnel(&p, Family::V4));
    assert!(through_tunnel(&p, Family::V6));
    assert_eq!(p.links[6].subnet(Family::V4), None);
    let gwa = p.node("gw-a").unwrap().iface("sit-gw-b").unwrap();
    assert_eq!(gwa.ipv4, None);
    assert!(gwa.ipv6.is_some());
    // Control: GRE carries both.
    let p = Plan::new(&with("kind = \"gre\"\n").unwrap());
    assert!(through_tunnel(&p, Family::V4) && through_tunnel(&p, Family::V6));
}

/// Impossible combinations, each with its line: IPIP / SIT over IPv6,
/// ip6tnl over IPv4, SIT below 1280 (given or from the underlay), an
/// unknown kind; and the accepted twin of each.
#[test]
fn refused_combinations() {
    let line_of_last = LONG.lines().count() + 2;
    for (extra, want) in [
        ("kind = \"ipip\"\nunderlay = \"ipv6\"\n", "kind ipip cannot run over an ipv6 underlay"),
        ("kind = \"sit\"\nunderlay = \"ipv6\"\n", "kind sit cannot run over an ipv6 underlay"),
        ("kind = \"ip6tnl\"\nunderlay = \"ipv4\"\n", "kind ip6tnl cannot run over an ipv4 underlay"),
        ("kind = \"sit\"\nmtu = 1279\n", "kind sit carries IPv6 only, which needs an MTU of at least 1280, and this one's is 1279"),
        ("kind = \"gretap\"\nmtu = 1363\n", "mtu 1363 on \"gw-a\" does not fit the underlay: path MTU 1400 minus the 38-byte GRETAP overhead is 1362"),
    ] {
        let e = with(extra).unwrap_err();
        assert!(e.message.contains(want), "{extra}: {e}");
        assert_eq!(e.line, line_of_last, "{extra}: {e}");
    }
    let e = with("kind = \"l2tp\"\n").unwrap_err();
    assert!(e.message.contains("unknown kind \"l2tp\""), "{e}");
    assert_eq!(e.line, LONG.lines().count() + 1);
    // SIT over a 1300 underlay: 1280 left, just enough; over 1299 it is not.
    let narrow = |mtu: u32| {
        Topology::from_str(
            &format!(
                "{}kind = \"sit\"\n",
                LONG.replacen("mtu = 1400", &format!("mtu = {mtu}"), 1)
            ),
            Path::new("t.toml"),
        )
    };
    assert_eq!(Plan::new(&narrow(1300).unwrap()).links[6].mtu, [1280, 1280]);
    let e = narrow(1299).unwrap_err();
    assert!(e.message.contains("this one's is 1279"), "{e}");
    // Twins: the same kinds where they can run.
    for extra in [
        "kind = \"ipip\"\nunderlay = \"ipv4\"\n",
        "kind = \"ip6tnl\"\nunderlay = \"ipv6\"\n",
        "kind = \"sit\"\nmtu = 1280\n",
        "kind = \"gretap\"\nmtu = 1362\n",
    ] {
        with(extra).unwrap_or_else(|e| panic!("{extra}: {e}"));
    }
}

/// to_toml keeps the kind (VXLAN, the default, left out) and the names.
#[test]
fn kinds_round_trip() {
    for kind in TunnelKind::ALL {
        let t = with(&format!("kind = \"{kind}\"\n")).unwrap();
        let text = t.to_toml();
        assert_eq!(
            text.contains("kind = "),
            kind != TunnelKind::Vxlan,
            "{text}"
        );
        let back = Topology::from_str(&text, Path::new("t.toml")).unwrap();
        assert_eq!(back, t, "{text}");
        assert_eq!(
            t.tunnels[0].names[0],
            format!("{}gw-b", kind.name_prefix()),
            "{kind}"
        );
    }
}
