//! Import from hand-made snapshots: no root, no kernel.

use super::*;
use crate::snapshot::{self, Address, Link as SLink, NextHop, Route as SRoute, Vxlan};

/// A snapshot: forwarding, interfaces (name, MTU, addresses "a/len"),
/// main-table routes (to, via).
fn snap(forward: bool, ifaces: &[(&str, u32, &[&str])], routes: &[(&str, &str)]) -> Snapshot {
    let mut links = vec![SLink {
        index: 1,
        name: "lo".into(),
        kind: None,
        mtu: 65536,
        up: true,
        oper_state: "unknown".into(),
        peer_index: None,
        link_netnsid: None,
        master: None,
        vxlan: None,
    }];
    let mut addresses = vec![];
    for (i, (name, mtu, addrs)) in ifaces.iter().enumerate() {
        links.push(SLink {
            index: i as u32 + 2,
            name: name.to_string(),
            kind: Some("veth".into()),
            mtu: *mtu,
            oper_state: "up".into(),
            ..links[0].clone()
        });
        for a in *addrs {
            let c = parse_cidr(a).unwrap();
            addresses.push(Address {
                link: name.to_string(),
                address: c.addr,
                prefix_len: c.prefix_len,
                scope: "universe".into(),
            });
        }
    }
    let routes = routes
        .iter()
        .map(|(to, via)| SRoute {
            family: if to.contains(':') { "ipv6" } else { "ipv4" }.into(),
            table: 254,
            kind: "unicast".into(),
            protocol: "static".into(),
            scope: "universe".into(),
            to: to.to_string(),
            via: Some(via.parse().unwrap()),
            dev: None,
            metric: None,
            mtu: None,
            nexthops: vec![],
            nhid: None,
        })
        .collect();
    let f = if forward { "1" } else { "0" };
    Snapshot {
        schema: snapshot::SCHEMA.into(),
        node: None,
        hostname: None,
        taken: 0,
        mtulab: "test".into(),
        links,
        addresses,
        routes,
        sysctl: [
            ("net.ipv4.ip_forward".to_string(), f.to_string()),
            ("net.ipv6.conf.all.forwarding".to_string(), f.to_string()),
            ("net.ipv4.route.min_pmtu".to_string(), "552".to_string()),
        ]
        .into(),
        nft: Some(String::new()),
        iptables: None,
        ip6tables: None,
        iptables_backend: Some("nf_tables".into()),
        unread: vec![],
    }
}

fn input(stem: &str, s: Snapshot) -> SnapshotInput {
    SnapshotInput {
        label: format!("{stem}.json"),
        stem: stem.into(),
        snapshot: s,
    }
}

fn opts() -> ImportOptions {
    ImportOptions {
        name: "t".into(),
        ruleset_prefix: "t.".into(),
        ..ImportOptions::default()
    }
}

/// Two routers: r1 --(198.18.1.0/24, 1500/1400)-- r2, each with an
/// unshared subnet that becomes an edge host.
fn two_routers() -> Vec<SnapshotInput> {
    vec![
        input(
            "r1",
            snap(
                true,
                &[
                    ("lan", 1500, &["198.18.0.1/24"]),
                    ("up", 1500, &["198.18.1.1/24"]),
                ],
                &[("198.18.2.0/24", "198.18.1.2")],
            ),
        ),
        input(
            "r2",
            snap(
                true,
                &[
                    ("down", 1400, &["198.18.1.2/24"]),
                    ("srv", 9000, &["198.18.2.1/24"]),
                ],
                &[("198.18.0.0/24", "198.18.1.1")],
            ),
        ),
    ]
}

/// Shared subnets are joined with per-end MTUs and names as found; the
/// unshared ones get edge hosts with the interface's MTU.
#[test]
fn joins_shared_subnets_and_adds_edges() {
    let out = import(&two_routers(), &opts()).unwrap();
    let t = &out.topology;
    assert_eq!(t.links.len(), 3, "{}", out.toml);
    let mid = t.links.iter().find(|l| l.between == ["r1", "r2"]).unwrap();
    assert_eq!(mid.mtu, [1500, 1400]);
    assert_eq!(mid.names, ["up", "down"]);
    let srv = t
        .links
        .iter()
        .find(|l| l.between[0] == "r2" && l.names[0] == "srv")
        .unwrap();
    assert_eq!(srv.mtu, [9000, 9000]);
    assert!(!t.nodes[&srv.between[1]].router);
    assert!(t.nodes["r1"].router && t.nodes["r2"].router);
    assert_eq!(t.nodes["r1"].routes.len(), 1);
    // The only warning: the snapshots have no IPv6, the lab would add it.
    assert_eq!(out.warnings.len(), 1, "{:?}", out.warnings);
    assert!(
        out.warnings[0].contains("check with -4"),
        "{:?}",
        out.warnings
    );
    assert!(out
        .toml
        .contains("# r1:up (r1.json) <-> r2:down (r2.json): 198.18.1.0/24"));
    assert!(out.toml.contains("synthetic edge host"));
}

/// A default route's gateway on an unshared subnet becomes the edge host's address.
#[test]
fn edge_takes_the_gateway() {
    let inputs = vec![input(
        "r1",
        snap(
            true,
            &[
                ("a", 1500, &["198.18.0.1/24"]),
                ("b", 1500, &["198.18.1.1/24"]),
            ],
            &[("0.0.0.0/0", "198.18.1.254")],
        ),
    )];
    let out = import(&inputs, &opts()).unwrap();
    let l = out
        .topology
        .links
        .iter()
        .find(|l| l.names[0] == "b")
        .unwrap();
    assert_eq!(l.addresses.unwrap()[1].addr.to_string(), "198.18.1.254");
    assert_eq!(
        out.topology.nodes["r1"].routes[0].to.to_string(),
        "0.0.0.0/0"
    );
}

/// Three machines on one subnet make a segment: each member's MTU and
/// interface name as found, the addresses given; a route via the third
/// member's address is accepted.
#[test]
fn three_on_a_subnet_make_a_segment() {
    let mut inputs = two_routers();
    inputs.push(input(
        "h",
        snap(
            false,
            &[("eth0", 9000, &["198.18.1.3/24"])],
            &[("198.18.0.0/24", "198.18.1.1")],
        ),
    ));
    let out = import(&inputs, &opts()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.topology.segments.len(), 1, "{}", out.toml);
    let seg = &out.topology.segments[0];
    assert_eq!(seg.members, ["r1", "r2", "h"]);
    assert_eq!(seg.mtu, [1500, 1400, 9000]);
    assert_eq!(seg.names, ["up", "down", "eth0"]);
    // Members' interfaces differ: the LAN gets a made-up name.
    assert_eq!(seg.name, "lan1");
    assert_eq!(
        seg.addresses.as_ref().unwrap()[2].to_string(),
        "198.18.1.3/24"
    );
    assert!(out.toml.contains("[[segments]]"), "{}", out.toml);
    assert!(
        out.toml
            .contains("# a LAN of 3 snapshotted interfaces on 198.18.1.0/24"),
        "{}",
        out.toml
    );
    assert_eq!(
        out.topology.nodes["h"].routes[0].via.to_string(),
        "198.18.1.1"
    );
    // The same node twice on one subnet is not expressible.
    let mut twice = two_routers();
    twice[1] = input(
        "r2",
        snap(
            true,
            &[
                ("down", 1400, &["198.18.1.2/24"]),
                ("down2", 1400, &["198.18.1.9/24"]),
                ("srv", 9000, &["198.18.2.1/24"]),
            ],
            &[("198.18.0.0/24", "198.18.1.1")],
        ),
    );
    let e = import(&twice, &opts()).unwrap_err();
    assert!(e.message.contains("two interfaces on subnet"), "{e}");
}

/// Its twin: two machines on that subnet map cleanly (the control above).
#[test]
fn two_on_a_subnet_maps() {
    assert!(import(&two_routers(), &opts()).is_ok());
}

/// An address outside the lab ranges is an error naming the snapshot, the
/// interface and the address; the same network in lab addresses maps.
#[test]
fn address_outside_lab_is_an_error() {
    let inputs = vec![input(
        "r1",
        snap(true, &[("a", 1500, &["10.0.0.1/24"])], &[]),
    )];
    let e = import(&inputs, &opts()).unwrap_err();
    assert_eq!(e.snapshot, "r1.json");
    assert!(
        e.message
            .contains("10.0.0.1/24 on a is outside the lab ranges"),
        "{e}"
    );
    let inputs = vec![input(
        "r1",
        snap(true, &[("a", 1500, &["198.18.0.1/24"])], &[]),
    )];
    assert!(import(&inputs, &opts()).is_ok());
}

/// A multipath route is a listed warning (never dropped silently), in the
/// file and in the result; without it there is none.
#[test]
fn multipath_route_is_a_warning() {
    let mut inputs = two_routers();
    let mut r = inputs[0].snapshot.routes[0].clone();
    r.to = "198.18.9.0/24".into();
    r.via = None;
    r.nexthops = vec![
        NextHop {
            via: Some("198.18.1.2".parse().unwrap()),
            dev: Some("up".into()),
            weight: 1,
        },
        NextHop {
            via: Some("198.18.0.9".parse().unwrap()),
            dev: Some("lan".into()),
            weight: 1,
        },
    ];
    inputs[0].snapshot.routes.push(r);
    let out = import(&inputs, &opts()).unwrap();
    let mp: Vec<&String> = out
        .warnings
        .iter()
        .filter(|w| w.contains("multipath"))
        .collect();
    assert_eq!(mp.len(), 1, "{:?}", out.warnings);
    assert!(mp[0].contains("multipath route to 198.18.9.0/24"));
    assert!(out.toml.contains("multipath route to 198.18.9.0/24"));
    // r1's IPv4 routes stay automatic, and the warning lists the one not given.
    assert!(mp[0].contains("left automatic"), "{}", mp[0]);
    assert!(
        mp[0].contains("not given: 198.18.2.0/24 via 198.18.1.2"),
        "{}",
        mp[0]
    );
    assert!(out.topology.nodes["r1"].routes.is_empty());
    assert_eq!(out.topology.nodes["r2"].routes.len(), 1);
}

/// A service address on lo of two hosts is anycast; on one only, a warning.
#[test]
fn loopback_service_address_is_anycast() {
    let lo = |s: &mut Snapshot, a: &str| {
        s.addresses.push(Address {
            link: "lo".into(),
            address: a.parse().unwrap(),
            prefix_len: 32,
            scope: "universe".into(),
        })
    };
    let mut inputs = two_routers();
    inputs.push(input(
        "s1",
        snap(false, &[("eth0", 1500, &["198.18.2.2/24"])], &[]),
    ));
    inputs.push(input(
        "s2",
        snap(false, &[("eth0", 1500, &["198.18.0.2/24"])], &[]),
    ));
    lo(&mut inputs[2].snapshot, "198.18.250.1");
    lo(&mut inputs[3].snapshot, "198.18.250.1");
    let out = import(&inputs, &opts()).unwrap();
    assert_eq!(out.topology.anycast.len(), 1, "{}", out.toml);
    assert_eq!(out.topology.anycast[0].nodes, ["s1", "s2"]);
    assert!(out.toml.contains("[[anycast]]\naddress = \"198.18.250.1\""));
    // One server only: no anycast, a warning naming it.
    inputs[3].snapshot.addresses.pop();
    let out = import(&inputs, &opts()).unwrap();
    assert!(out.topology.anycast.is_empty());
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("address 198.18.250.1 on lo left out")),
        "{:?}",
        out.warnings
    );
}

/// A route via a third machine on a joined link's subnet needs segments.
#[test]
fn gateway_not_on_a_joined_peer() {
    let mut inputs = two_routers();
    inputs[0].snapshot.routes[0].via = Some("198.18.1.77".parse().unwrap());
    let e = import(&inputs, &opts()).unwrap_err();
    assert!(e.message.contains("is neither"), "{e}");
}

/// A VXLAN whose other end is not snapshotted is an error; with both
/// ends it is a tunnel.
#[test]
fn vxlan_needs_both_ends() {
    let vx = |local: &str, remote: &str| SLink {
        index: 50,
        name: "vx0".into(),
        kind: Some("vxlan".into()),
        // The underlay's narrowest end is 1400: 1400 - 50.
        mtu: 1350,
        up: true,
        oper_state: "unknown".into(),
        peer_index: None,
        link_netnsid: None,
        master: None,
        vxlan: Some(Vxlan {
            vni: 7,
            local: Some(local.parse().unwrap()),
            remote: Some(remote.parse().unwrap()),
            port: Some(4789),
            dev: None,
            learning: Some(false),
        }),
    };
    let mut inputs = two_routers();
    inputs[0]
        .snapshot
        .links
        .push(vx("198.18.1.1", "198.18.1.2"));
    let e = import(&inputs, &opts()).unwrap_err();
    assert!(e.message.contains("no snapshot has its other end"), "{e}");
    inputs[1]
        .snapshot
        .links
        .push(vx("198.18.1.2", "198.18.1.1"));
    let out = import(&inputs, &opts()).unwrap();
    assert_eq!(out.topology.tunnels.len(), 1);
    assert_eq!(out.topology.tunnels[0].names, ["vx0", "vx0"]);
}

/// Node names come from the file name, and a bad one is an error saying so.
#[test]
fn node_names() {
    let mut inputs = two_routers();
    inputs[0].stem = "Router_A".into();
    let e = import(&inputs, &opts()).unwrap_err();
    assert!(e.message.contains("--node"), "{e}");
}

/// Rulesets are carried as files; iptables only for the legacy backend
/// (with nf_tables its rules are in the nft ruleset already).
#[test]
fn rulesets_as_found() {
    let mut inputs = two_routers();
    inputs[0].snapshot.nft = Some("table inet f {\n}\n".into());
    inputs[0].snapshot.iptables = Some("*filter\n-A INPUT -j DROP\nCOMMIT\n".into());
    let out = import(&inputs, &opts()).unwrap();
    assert_eq!(
        out.rulesets,
        vec![("t.r1.nft".to_string(), "table inet f {\n}\n".to_string())]
    );
    inputs[0].snapshot.iptables_backend = Some("legacy".into());
    let out = import(&inputs, &opts()).unwrap();
    assert_eq!(out.rulesets.len(), 2);
    assert!(out.toml.contains("iptables = \"t.r1.iptables\""));
}

/// A PMTU sysctl that differs from the kernel default is kept; defaults are not written.
#[test]
fn pmtu_sysctls_kept() {
    let mut inputs = two_routers();
    inputs[1]
        .snapshot
        .sysctl
        .insert("net.ipv4.tcp_mtu_probing".into(), "1".into());
    let out = import(&inputs, &opts()).unwrap();
    assert_eq!(
        out.topology.nodes["r2"].sysctl,
        vec![("net.ipv4.tcp_mtu_probing".to_string(), "1".to_string())]
    );
    assert!(out.topology.nodes["r1"].sysctl.is_empty());
}

/// `--ignore` leaves an interface out (and the edge host with it).
#[test]
fn ignore_leaves_out() {
    let mut o = opts();
    o.ignore = vec!["lan".into()];
    let out = import(&two_routers(), &o).unwrap();
    assert_eq!(out.topology.links.len(), 2);
    assert!(out.toml.contains("Left out with --ignore: lan"));
}

/// The output parses back to the same topology.
#[test]
fn output_parses_back() {
    let out = import(&two_routers(), &opts()).unwrap();
    let back = Topology::from_str(&out.toml, Path::new("x.toml")).unwrap();
    assert_eq!(back.links, out.topology.links);
    assert_eq!(back.nodes, out.topology.nodes);
}

/// Links with IPv6 in the snapshots get it as given, and no warning.
#[test]
fn ipv6_given_no_warning() {
    let inputs = vec![
        input(
            "r1",
            snap(
                true,
                &[("up", 1500, &["198.18.1.1/24", "2001:db8:1::1/64"])],
                &[],
            ),
        ),
        input(
            "r2",
            snap(
                true,
                &[("down", 1500, &["198.18.1.2/24", "2001:db8:1::2/64"])],
                &[],
            ),
        ),
    ];
    let out = import(&inputs, &opts()).unwrap();
    assert!(out.warnings.is_empty(), "{:?}", out.warnings);
    assert_eq!(
        out.topology.links[0].addresses6.unwrap()[1].to_string(),
        "2001:db8:1::2/64"
    );
}

/// mtulab's own table for a host that ignores PMTU ICMP is recognised
/// (and only it): the rest of the ruleset stays.
#[test]
fn host_table_is_pmtu_icmp_ignore() {
    let text = "table inet mtulab_host {\n\tcounter pmtu_icmp4_ignored {\n\t\tpackets 0 bytes 0\n\t}\n\n\tchain entry {\n\t\ttype filter hook prerouting priority raw; policy accept;\n\t}\n}\ntable inet other {\n}\n";
    let (rest, table) = split_host_table(text).unwrap();
    assert_eq!(table, "inet mtulab_host");
    assert_eq!(rest, "table inet other {\n}");
    assert!(split_host_table("table inet other {\n}\n").is_none());
}
