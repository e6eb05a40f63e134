//! Addressing and routing of bundled and hand-made topologies.

use std::collections::{BTreeMap, VecDeque};
use std::path::Path;

use std::net::{Ipv4Addr, Ipv6Addr};

use super::*;

fn plan(src: &str) -> Plan {
    let t = Topology::from_str(src, Path::new("test.toml")).unwrap_or_else(|e| panic!("{e}"));
    Plan::new(&t)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IfAddr {
    let (a, p) = s.split_once('/').unwrap();
    IfAddr {
        addr: ip(a),
        prefix_len: p.parse().unwrap(),
    }
}

/// Routes of `node` as "dst via dev" strings, for compact assertions.
fn routes(p: &Plan, node: &str) -> Vec<String> {
    p.node(node)
        .unwrap()
        .routes
        .iter()
        .map(|r| {
            format!(
                "{}/{} via {} dev {}",
                r.dst.addr, r.dst.prefix_len, r.via, r.dev
            )
        })
        .collect()
}

/// Hops as "node:out(mtu)->next:in(mtu)".
fn hops(p: &Plan, from: &str, to: &str, family: Family) -> Option<Vec<String>> {
    p.path(from, to, family).map(|h| {
        h.iter()
            .map(|h| {
                format!(
                    "{}:{}({})->{}:{}({})",
                    h.node, h.out_iface, h.out_mtu, h.next, h.in_iface, h.in_mtu
                )
            })
            .collect()
    })
}

// The bundled hidden_smaller scenario, cut before its [expect] (whose
// `pmtu = 1200` the tests' `.replace("mtu = 1200", …)` must not touch):
//
//   client --1500-- router-a --1200-- router-b --9000-- server
//          link 0             link 1            link 2
//   198.18.0.0/24            198.18.1.0/24     198.18.2.0/24
//   2001:db8:0:0::/64        (no IPv6: 1200)   2001:db8:0:2::/64
fn chain() -> &'static str {
    let file = include_str!("../../../topologies/hidden_smaller.toml");
    file.split_once("\n[expect]").expect("[expect]").0
}

/// Link i gets 198.18.i.0/24 (.1 end 0, .2 end 1) and 2001:db8:0:i::/64
/// only where both ends are >= 1280.
#[test]
fn chain_addresses() {
    let p = plan(chain());
    assert_eq!(p.name, "hidden_smaller");
    assert_eq!(
        p.nodes.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(),
        ["client", "router-a", "router-b", "server"]
    );
    assert_eq!(p.hosts(), ["client", "server"]);
    let ra = p.node("router-a").unwrap();
    assert!(ra.router);
    assert_eq!(
        ra.interfaces,
        [
            IfacePlan {
                name: "client".into(),
                link: 0,
                end: 1,
                mtu: 1500,
                peer_node: "client".into(),
                peer_iface: "router-a".into(),
                ipv4: Some(net("198.18.0.2/24")),
                ipv6: Some(net("2001:db8::2/64")),
            },
            IfacePlan {
                name: "router-b".into(),
                link: 1,
                end: 0,
                mtu: 1200,
                peer_node: "router-b".into(),
                peer_iface: "router-a".into(),
                ipv4: Some(net("198.18.1.1/24")),
                ipv6: None,
            },
        ]
    );
    let server = &p.node("server").unwrap().interfaces[0];
    assert_eq!(server.ipv4, Some(net("198.18.2.2/24")));
    assert_eq!(server.ipv6, Some(net("2001:db8:0:2::2/64")));
    assert_eq!(server.mtu, 9000);
    assert_eq!(p.links[1].ipv4, net("198.18.1.0/24"));
    assert_eq!(p.links[1].ipv6, None);
    assert_eq!(p.address_of("client", Family::V4), Some(ip("198.18.0.1")));
    assert_eq!(p.address_of("client", Family::V6), Some(ip("2001:db8::1")));
    assert_eq!(p.address_of("server", Family::V4), Some(ip("198.18.2.2")));
    assert_eq!(p.address_of("nobody", Family::V4), None);
}

/// An ICMP error's source address maps back to the node that sent it.
#[test]
fn owner_of_addresses() {
    let p = plan(chain());
    assert_eq!(p.owner_of(ip("198.18.1.2")), Some("router-b"));
    assert_eq!(p.owner_of(ip("198.18.0.2")), Some("router-a"));
    assert_eq!(p.owner_of(ip("2001:db8:0:2::2")), Some("server"));
    assert_eq!(p.owner_of(ip("198.18.1.3")), None);
    assert_eq!(p.owner_of(ip("2001:db8:0:1::1")), None);
}

/// Every node routes to every non-connected reachable subnet via its
/// neighbour on the shortest path; IPv6 only over IPv6 links.
#[test]
fn chain_routes() {
    let p = plan(chain());
    assert_eq!(
        routes(&p, "client"),
        [
            "198.18.1.0/24 via 198.18.0.2 dev router-a",
            "198.18.2.0/24 via 198.18.0.2 dev router-a",
        ]
    );
    assert_eq!(
        routes(&p, "router-a"),
        ["198.18.2.0/24 via 198.18.1.2 dev router-b"]
    );
    assert_eq!(
        routes(&p, "router-b"),
        ["198.18.0.0/24 via 198.18.1.1 dev router-a"]
    );
    assert_eq!(
        routes(&p, "server"),
        [
            "198.18.0.0/24 via 198.18.2.1 dev router-b",
            "198.18.1.0/24 via 198.18.2.1 dev router-b",
        ]
    );
    // The 1200 link splits IPv6 into two islands with nothing to route.
    for n in ["client", "router-a", "router-b", "server"] {
        assert_eq!(p.node(n).unwrap().routes_in(Family::V6).count(), 0, "{n}");
    }
}

/// The client→server path crosses every link with its MTUs; there is no
/// IPv6 path across the 1200 link.
#[test]
fn chain_path() {
    let p = plan(chain());
    assert_eq!(
        hops(&p, "client", "server", Family::V4).unwrap(),
        [
            "client:router-a(1500)->router-a:client(1500)",
            "router-a:router-b(1200)->router-b:router-a(1200)",
            "router-b:server(9000)->server:router-b(9000)",
        ]
    );
    assert_eq!(
        hops(&p, "server", "client", Family::V4).unwrap(),
        [
            "server:router-b(9000)->router-b:server(9000)",
            "router-b:router-a(1200)->router-a:router-b(1200)",
            "router-a:client(1500)->client:router-a(1500)",
        ]
    );
    let h = p.path("client", "server", Family::V4).unwrap();
    assert_eq!(h.iter().map(|h| h.link).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(p.path("client", "server", Family::V6), None);
    assert_eq!(p.path("server", "client", Family::V6), None);
    assert_eq!(p.path("client", "client", Family::V4), Some(vec![]));
}

/// With the middle link at 1280 IPv6 works end to end, per-end MTUs kept.
#[test]
fn chain_ipv6_at_1280() {
    let p = plan(&chain().replace("mtu = 1200", "mtu = [1280, 1300]"));
    assert_eq!(
        routes(&p, "client")[2..],
        [
            "2001:db8:0:1::/64 via 2001:db8::2 dev router-a",
            "2001:db8:0:2::/64 via 2001:db8::2 dev router-a",
        ]
    );
    assert_eq!(
        hops(&p, "client", "server", Family::V6).unwrap(),
        [
            "client:router-a(1500)->router-a:client(1500)",
            "router-a:router-b(1280)->router-b:router-a(1300)",
            "router-b:server(9000)->server:router-b(9000)",
        ]
    );
    assert_eq!(
        p.address_of("server", Family::V6),
        Some(ip("2001:db8:0:2::2"))
    );
    // One end below 1280 is enough to drop IPv6 from the link.
    let p = plan(&chain().replace("mtu = 1200", "mtu = [1500, 1279]"));
    assert_eq!(p.links[1].ipv6, None);
    assert_eq!(p.path("client", "server", Family::V6), None);
}

/// A host whose only link is below 1280 has no IPv6 address at all, so
/// no IPv6 path to or from it; IPv4 is unaffected.
#[test]
fn host_behind_small_link_has_no_ipv6() {
    let p = plan(&chain().replacen("mtu = 1500", "mtu = 1000", 1));
    assert_eq!(p.address_of("client", Family::V6), None);
    assert_eq!(p.node("client").unwrap().interfaces[0].ipv6, None);
    assert_eq!(p.path("client", "server", Family::V6), None);
    assert_eq!(p.path("server", "client", Family::V6), None);
    assert_eq!(p.path("client", "server", Family::V4).unwrap().len(), 3);
    // router-a still routes IPv6 nowhere: its only IPv6-capable link is gone too.
    assert_eq!(p.node("router-a").unwrap().routes_in(Family::V6).count(), 0);
}

// topologies/fixtures/diamond.toml:
//
//                    link 1   r2   link 4
//   client -- ra <                       > rb -- server
//   link 0           link 2   r1   link 3        link 5
const DIAMOND: &str = include_str!("../../../topologies/fixtures/diamond.toml");

/// Equal-cost next hops: each node picks the one on its lowest link
/// index (not the lowest node name), so ra sends via r2 (link 1) and rb
/// via r1 (link 3): the two directions take different routers.
#[test]
fn diamond_tie_break() {
    let p = plan(DIAMOND);
    let links = |from, to| {
        p.path(from, to, Family::V4)
            .unwrap()
            .iter()
            .map(|h| h.link)
            .collect::<Vec<_>>()
    };
    assert_eq!(links("client", "server"), [0, 1, 4, 5]);
    assert_eq!(links("server", "client"), [5, 3, 2, 0]);
    assert_eq!(
        hops(&p, "client", "server", Family::V6).unwrap(),
        [
            "client:ra(1500)->ra:client(1500)",
            "ra:r2(1400)->r2:ra(1400)",
            "r2:rb(1400)->rb:r2(1400)",
            "rb:server(1500)->server:rb(1500)",
        ]
    );
    assert!(routes(&p, "ra").contains(&"198.18.5.0/24 via 198.18.1.2 dev r2".to_owned()));
    assert!(routes(&p, "rb").contains(&"198.18.0.0/24 via 198.18.3.1 dev r1".to_owned()));
    // Deterministic: the same plan every time.
    assert_eq!(plan(DIAMOND), p);
    // Swapping the file order of ra's two links swaps ra's choice.
    let swapped = DIAMOND.replacen(
        "between = [\"ra\", \"r2\"]\nmtu = 1400\n[[links]]\nbetween = [\"ra\", \"r1\"]\nmtu = 1300",
        "between = [\"ra\", \"r1\"]\nmtu = 1300\n[[links]]\nbetween = [\"ra\", \"r2\"]\nmtu = 1400",
        1,
    );
    assert_ne!(swapped, DIAMOND);
    let p = plan(&swapped);
    assert_eq!(
        hops(&p, "client", "server", Family::V4).unwrap()[1],
        "ra:r1(1300)->r1:ra(1300)"
    );
}

/// Shortest path wins over link order: a later two-hop route beats an
/// earlier three-router detour.
#[test]
fn shortest_beats_link_order() {
    //   a -- r1 -- r2 -- r5 -- b   (links 0-3)
    //   a -- r3 -- b               (links 4-5)
    let src = r#"name = "shortcut"
[nodes.a]
[nodes.b]
[nodes.r1]
router = true
[nodes.r2]
router = true
[nodes.r3]
router = true
[nodes.r5]
router = true
[[links]]
between = ["a", "r1"]
mtu = 1500
[[links]]
between = ["r1", "r2"]
mtu = 1500
[[links]]
between = ["r2", "r5"]
mtu = 1500
[[links]]
between = ["r5", "b"]
mtu = 1500
[[links]]
between = ["a", "r3"]
mtu = 1400
[[links]]
between = ["r3", "b"]
mtu = 1400
"#;
    let p = plan(src);
    let h = p.path("a", "b", Family::V4).unwrap();
    assert_eq!(h.iter().map(|h| h.link).collect::<Vec<_>>(), [4, 5]);
    let h = p.path("b", "a", Family::V4).unwrap();
    assert_eq!(h.iter().map(|h| h.link).collect::<Vec<_>>(), [5, 4]);
}

/// A router next to a host delivers to it directly, even when the host's
/// probe address is on its other link and a lower-index link leads to
/// that link's far end (found by `random_topologies_route_shortest`).
#[test]
fn direct_delivery_beats_far_end_of_address_link() {
    //   a -- r1 -- h (link 3, 1500)      h's address is on link 1 (r2 - h)
    //         \-- r2 -- h (links 0, 1, 1000)
    let src = r#"name = "direct"
[nodes.a]
[nodes.h]
[nodes.r1]
router = true
[nodes.r2]
router = true
[[links]]
between = ["r2", "r1"]
mtu = 1000
[[links]]
between = ["r2", "h"]
mtu = 1000
[[links]]
between = ["r1", "a"]
mtu = 1000
[[links]]
between = ["r1", "h"]
mtu = 1500
"#;
    let p = plan(src);
    assert_eq!(p.address_of("h", Family::V4), Some(ip("198.18.1.2")));
    assert_eq!(
        hops(&p, "a", "h", Family::V4).unwrap(),
        ["a:r1(1000)->r1:a(1000)", "r1:h(1500)->h:r1(1500)"]
    );
    // r1: h's address on link 1 directly over link 3, r2's via link 0.
    let r1 = routes(&p, "r1");
    assert!(
        r1.contains(&"198.18.1.2/32 via 198.18.3.2 dev h".to_owned()),
        "{r1:?}"
    );
    assert!(
        r1.contains(&"198.18.1.1/32 via 198.18.0.1 dev r2".to_owned()),
        "{r1:?}"
    );
}

/// Hosts never forward: the validator rejects two hosts joined only
/// through a third host, and the plan never routes through a host.
#[test]
fn hosts_are_not_transit() {
    let src = r#"name = "via_host"
[nodes.a]
[nodes.b]
[nodes.c]
[[links]]
between = ["a", "b"]
mtu = 1500
[[links]]
between = ["b", "c"]
mtu = 1500
"#;
    let e = Topology::from_str(src, Path::new("t.toml")).unwrap_err();
    assert!(
        e.message
            .contains("hosts \"a\" and \"c\" cannot reach each other"),
        "{e}"
    );
    // Control: with b a router, a reaches c through it.
    let p = plan(&src.replace("[nodes.b]", "[nodes.b]\nrouter = true"));
    assert_eq!(
        hops(&p, "a", "c", Family::V4).unwrap(),
        ["a:b(1500)->b:a(1500)", "b:c(1500)->c:b(1500)"]
    );
}

/// A multi-homed host gets routes too, and is never used as transit even
/// when it offers a shorter path; its address on a far link is reached via
/// a host route where the subnet's two ends are reached differently.
#[test]
fn multihomed_host() {
    //   a -- r1 -- h -- r2 -- b      and   r1 -- r3 -- r4 -- r2
    let src = r#"name = "multihomed"
[nodes.a]
[nodes.b]
[nodes.h]
[nodes.r1]
router = true
[nodes.r2]
router = true
[nodes.r3]
router = true
[nodes.r4]
router = true
[[links]]
between = ["a", "r1"]
mtu = 1500
[[links]]
between = ["r1", "h"]
mtu = 1500
[[links]]
between = ["h", "r2"]
mtu = 1500
[[links]]
between = ["r2", "b"]
mtu = 1500
[[links]]
between = ["r1", "r3"]
mtu = 1500
[[links]]
between = ["r3", "r4"]
mtu = 1500
[[links]]
between = ["r4", "r2"]
mtu = 1500
"#;
    let p = plan(src);
    // a → b goes the long way round, never through h.
    let h = p.path("a", "b", Family::V4).unwrap();
    assert_eq!(
        h.iter().map(|h| h.link).collect::<Vec<_>>(),
        [0, 4, 5, 6, 3]
    );
    assert!(h.iter().all(|h| h.node != "h"));
    // h has routes for both of its sides.
    let hr = routes(&p, "h");
    assert!(
        hr.contains(&"198.18.0.0/24 via 198.18.1.1 dev r1".to_owned()),
        "{hr:?}"
    );
    assert!(
        hr.contains(&"198.18.3.0/24 via 198.18.2.2 dev r2".to_owned()),
        "{hr:?}"
    );
    // r1 reaches h's address on link 2 through h's link 1, but r2's
    // address on link 2 only round the ring: two host routes.
    let r1 = routes(&p, "r1");
    assert!(
        r1.contains(&"198.18.2.1/32 via 198.18.1.2 dev h".to_owned()),
        "{r1:?}"
    );
    assert!(
        r1.contains(&"198.18.2.2/32 via 198.18.4.2 dev r3".to_owned()),
        "{r1:?}"
    );
    assert!(!r1.iter().any(|r| r.starts_with("198.18.2.0/24")), "{r1:?}");
    // a, with a single link, just needs the subnet route.
    let ar = routes(&p, "a");
    assert!(
        ar.contains(&"198.18.2.0/24 via 198.18.0.2 dev r1".to_owned()),
        "{ar:?}"
    );
    // Every ordered host pair has a path that ends at the right node.
    for from in p.hosts() {
        for to in p.hosts() {
            let path = p
                .path(from, to, Family::V4)
                .unwrap_or_else(|| panic!("{from}->{to}"));
            if from != to {
                assert_eq!(path.last().unwrap().next, to);
                assert_eq!(path[0].node, from);
            }
        }
    }
}

/// Hop count from `from` to any of `targets` where only routers forward,
/// over links carrying `family` (an independent reference for `path`).
fn reference_dist(p: &Plan, from: &str, targets: &[&str], family: Family) -> Option<usize> {
    let mut dist = BTreeMap::from([(from.to_owned(), 0usize)]);
    let mut queue = VecDeque::from([from.to_owned()]);
    while let Some(cur) = queue.pop_front() {
        let d = dist[&cur];
        if targets.contains(&cur.as_str()) {
            return Some(d);
        }
        if cur != from && !p.node(&cur).unwrap().router {
            continue;
        }
        for i in &p.node(&cur).unwrap().interfaces {
            if i.addr(family).is_some() && !dist.contains_key(&i.peer_node) {
                dist.insert(i.peer_node.clone(), d + 1);
                queue.push_back(i.peer_node.clone());
            }
        }
    }
    None
}

/// Over a few thousand small pseudo-random topologies: every accepted one
/// has an IPv4 path between every ordered host pair, every path (either
/// family) is a chain of links of that family, forwarded only by
/// routers, ending at the destination, and as short as the shortest path
/// to it; a path exists exactly when the reference search finds one. Rejected ones are rejected for reachability.
#[test]
fn random_topologies_route_shortest() {
    let mut seed: u64 = 0x5eed;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    let mut accepted = 0;
    for case in 0..3000 {
        let n = 2 + next(5) as usize;
        let mut src = format!("name = \"r{case}\"\n");
        for i in 0..n {
            src += &format!("[nodes.n{i}]\nrouter = {}\n", next(2) == 0);
        }
        for _ in 0..1 + next(8) {
            let a = next(n as u64);
            let b = next(n as u64);
            if a == b {
                continue;
            }
            let mtu = [1000, 1280, 1500, 9000][next(4) as usize];
            src += &format!("[[links]]\nbetween = [\"n{a}\", \"n{b}\"]\nmtu = {mtu}\n");
        }
        let t = match Topology::from_str(&src, Path::new("r.toml")) {
            Ok(t) => t,
            Err(e) => {
                assert!(e.message.contains("cannot reach each other"), "{e}\n{src}");
                continue;
            }
        };
        accepted += 1;
        assert_eq!(
            Topology::from_str(&t.to_toml(), Path::new("r.toml")).unwrap(),
            t
        );
        let p = Plan::new(&t);
        for from in p.hosts() {
            for to in p.hosts() {
                for family in [Family::V4, Family::V6] {
                    let path = p.path(from, to, family);
                    let expected = p
                        .address_of(to, family)
                        .and_then(|_| reference_dist(&p, from, &[to], family));
                    let ctx = || format!("{from}->{to} {family}\n{src}");
                    if family == Family::V4 && from != to {
                        assert!(path.is_some(), "no ipv4 path {}", ctx());
                    }
                    assert_eq!(path.as_ref().map(Vec::len), expected, "{}", ctx());
                    let Some(path) = path else { continue };
                    let mut at = from;
                    for (k, h) in path.iter().enumerate() {
                        assert_eq!(h.node, at, "{}", ctx());
                        assert!(k == 0 || p.node(at).unwrap().router, "{}", ctx());
                        assert!(p.links[h.link].subnet(family).is_some(), "{}", ctx());
                        at = &h.next;
                    }
                    assert_eq!(at, to, "{}", ctx());
                }
            }
        }
    }
    assert!(accepted > 500, "only {accepted} accepted");
}

/// Every route's gateway is on a subnet connected to the node, through
/// the named device, in all test topologies.
#[test]
fn gateways_are_on_link() {
    for src in [chain(), DIAMOND] {
        let p = plan(src);
        for n in &p.nodes {
            for r in &n.routes {
                let dev = n.iface(&r.dev).unwrap();
                let a = dev.addr(family_of(r.via)).unwrap();
                assert!(contains(a, r.via), "{}: {r:?}", n.name);
                assert_ne!(a.addr, r.via);
            }
        }
    }
}

/// `path_to` agrees with `path` between hosts, and starts at routers too:
/// in the diamond, rb's way back to the client goes via r1 (link 3) while
/// the client's traffic came via r2.
#[test]
fn path_to_from_routers() {
    for src in [chain(), DIAMOND] {
        let p = plan(src);
        for from in p.hosts() {
            for to in p.hosts() {
                for family in [Family::V4, Family::V6] {
                    let via_addr = p
                        .address_of(to, family)
                        .and_then(|a| p.path_to(from, a, family));
                    assert_eq!(via_addr, p.path(from, to, family), "{from}->{to}");
                }
            }
        }
    }
    let p = plan(DIAMOND);
    let client = p.address_of("client", Family::V4).unwrap();
    let back = p.path_to("rb", client, Family::V4).unwrap();
    assert_eq!(back.iter().map(|h| h.link).collect::<Vec<_>>(), [3, 2, 0]);
    assert_eq!(p.path_to("rb", ip("198.18.200.1"), Family::V4), None);
    assert_eq!(p.path_to("nobody", client, Family::V4), None);
}

fn anycast_topology() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies/anycast_hash_l4.toml");
    std::fs::read_to_string(path).unwrap()
}

/// Anycast: members carry the address on lo; lb, whose shortest paths
/// split, gets one multipath route with a next hop per server; the
/// routers and the client in front get a plain route; members none.
#[test]
fn anycast_routes() {
    let p = plan(&anycast_topology());
    for fam in [Family::V4, Family::V6] {
        let a = if fam == Family::V4 {
            ip("198.18.250.1")
        } else {
            ip("2001:db8:fa::1")
        };
        let host = if fam == Family::V4 { 32 } else { 128 };
        for s in ["s1", "s2"] {
            let n = p.node(s).unwrap();
            assert!(
                n.loopback.contains(&IfAddr {
                    addr: a,
                    prefix_len: host
                }),
                "{s}"
            );
            assert!(!n.routes.iter().any(|r| r.dst.addr == a), "{s}");
        }
        let lb = p.node("lb").unwrap();
        let m: Vec<_> = lb.multipath.iter().filter(|m| m.dst.addr == a).collect();
        assert_eq!(m.len(), 1, "{fam}");
        let devs: Vec<&str> = m[0].nexthops.iter().map(|(_, d)| d.as_str()).collect();
        assert_eq!(devs, ["s1", "s2"]);
        assert_eq!(m[0].nexthops[0].0, p.address_of("s1", fam).unwrap());
        assert!(!lb.routes.iter().any(|r| r.dst.addr == a));
        for (n, dev) in [("r1", "lb"), ("r0", "r1"), ("client", "r0")] {
            let node = p.node(n).unwrap();
            let r: Vec<_> = node.routes.iter().filter(|r| r.dst.addr == a).collect();
            assert_eq!(r.len(), 1, "{n}");
            assert_eq!(r[0].dev, dev, "{n}");
            assert!(node.multipath.is_empty(), "{n}");
        }
        // The walk towards the anycast address reaches lb through plain routes.
        let hops = p.path_to("client", a, fam);
        assert_eq!(hops, None, "path_to stops at lb's multipath route");
    }
    // A member nearer than the other: a plain route to the nearer one.
    let src = anycast_topology().replace(
        "[[links]]\nbetween = [\"lb\", \"s2\"]\nmtu = 9000",
        "[[links]]\nbetween = [\"r1\", \"s2\"]\nmtu = 9000",
    );
    let p = plan(&src);
    let r1 = p.node("r1").unwrap();
    assert!(r1.multipath.is_empty());
    let r: Vec<_> = r1
        .routes
        .iter()
        .filter(|r| r.dst.addr == ip("198.18.250.1"))
        .collect();
    assert_eq!(r[0].dev, "s2");
}

/// Automatic subnets avoid given subnets and anycast addresses: a
/// colliding link takes the lowest /24 (/64) nobody uses; the others
/// keep link-index addressing.
#[test]
fn auto_addressing_avoids_given() {
    let src = chain()
        .replace(
            "between = [\"router-b\", \"server\"]\nmtu = 9000",
            "between = [\"router-b\", \"server\"]\nmtu = 9000\naddresses = [\"198.18.1.1/24\", \"198.18.1.2/24\"]\naddresses6 = [\"2001:db8:0:0::a/64\", \"2001:db8:0:0::b/64\"]",
        )
        .replace("mtu = 1200", "mtu = 1280");
    let p = plan(&src);
    assert_eq!(p.links[0].ipv4, net("198.18.0.0/24"));
    assert_eq!(
        p.links[1].ipv4,
        net("198.18.2.0/24"),
        "1.0 is taken, 0.0 too"
    );
    assert_eq!(p.links[2].ipv4, net("198.18.1.0/24"));
    assert_eq!(p.links[0].ipv6, Some(net("2001:db8:0:2::/64")));
    assert_eq!(p.links[1].ipv6, Some(net("2001:db8:0:1::/64")));
    assert_eq!(p.address_of("server", Family::V4), Some(ip("198.18.1.2")));
    assert_eq!(p.address_of("server", Family::V6), Some(ip("2001:db8::b")));
    // Routes use the given addresses as gateways.
    assert!(routes(&p, "server").contains(&"198.18.0.0/24 via 198.18.1.1 dev router-b".to_owned()));
    // An anycast address inside a natural /24 moves that link.
    let src = format!(
        "{}\n[[anycast]]\naddress = \"198.18.1.77\"\nnodes = [\"client\", \"server\"]\n",
        chain()
    );
    let p = plan(&src);
    assert_eq!(p.links[1].ipv4, net("198.18.3.0/24"));
    // Every address in every plan is unique.
    let mut seen = std::collections::BTreeSet::new();
    for n in &p.nodes {
        for i in &n.interfaces {
            for a in [&i.ipv4, &i.ipv6].into_iter().flatten() {
                assert!(seen.insert(a.addr), "{a:?} twice");
            }
        }
    }
    // No room: a given /16 takes 256 of the 512 /24s; 257 automatic
    // links need one more than is left.
    let mut big = String::from("name = \"full\"\n[nodes.a]\n[nodes.r]\nrouter = true\n[[links]]\nbetween = [\"a\", \"r\"]\nmtu = 1500\naddresses = [\"198.18.0.1/16\", \"198.18.0.2/16\"]\n");
    for k in 0..256 {
        big += &format!("[nodes.h{k}]\n[[links]]\nbetween = [\"h{k}\", \"r\"]\nmtu = 1000\n");
    }
    let fits = Topology::from_str(&big, Path::new("full.toml"));
    assert!(fits.is_ok(), "256 automatic links fit");
    big += "[nodes.h256]\n[[links]]\nbetween = [\"h256\", \"r\"]\nmtu = 1000\n";
    match Topology::from_str(&big, Path::new("full.toml")) {
        Ok(_) => panic!("257 automatic links beside a /16 were accepted"),
        Err(e) => assert!(e.message.contains("no free /24 of 198.18.0.0/15"), "{e}"),
    }
}

/// Given routes replace the node's automatic routes of their family
/// (only): ra sends the server's subnet via r1 instead of r2, and keeps
/// automatic IPv6 routes.
#[test]
fn given_routes_replace_auto() {
    let src = DIAMOND.replace(
        "[nodes.ra]\nrouter = true",
        "[nodes.ra]\nrouter = true\nroutes = [{ to = \"198.18.5.0/24\", via = \"198.18.2.2\" }]",
    );
    let p = plan(&src);
    let v4: Vec<String> = routes(&p, "ra")
        .into_iter()
        .filter(|r| r.starts_with("198."))
        .collect();
    assert_eq!(v4, ["198.18.5.0/24 via 198.18.2.2 dev r1"]);
    assert!(p.node("ra").unwrap().routes_in(Family::V6).count() > 0);
    let h = p.path("client", "server", Family::V4).unwrap();
    assert_eq!(h.iter().map(|h| h.link).collect::<Vec<_>>(), [0, 2, 3, 5]);
    // Others unchanged.
    assert_eq!(routes(&p, "rb"), routes(&plan(DIAMOND), "rb"));
}

#[test]
fn networks() {
    assert_eq!(v4_network(0), Ipv4Addr::new(198, 18, 0, 0));
    assert_eq!(v4_network(255), Ipv4Addr::new(198, 18, 255, 0));
    assert_eq!(v4_network(256), Ipv4Addr::new(198, 19, 0, 0));
    assert_eq!(v4_network(511), Ipv4Addr::new(198, 19, 255, 0));
    assert_eq!(
        v6_network(10),
        "2001:db8:0:a::".parse::<Ipv6Addr>().unwrap()
    );
    assert!(contains(&net("198.18.1.0/24"), ip("198.18.1.200")));
    assert!(!contains(&net("198.18.1.0/24"), ip("198.18.2.1")));
    assert!(contains(&net("2001:db8:0:1::/64"), ip("2001:db8:0:1::2")));
    assert!(!contains(&net("2001:db8:0:1::/64"), ip("198.18.1.1")));
}

mod segments;
