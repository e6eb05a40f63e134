//! Segments (`[[segments]]`): one subnet per segment, member `k` at `.k+1`,
//! routed through as an N-ended edge (next hop: the member's address on it).

use super::*;

/// h1 - r1 - [lan: r1, r2, nas] - r2 - h2.
const LAN: &str = r#"
name = "lan"
[nodes.h1]
[nodes.r1]
router = true
[nodes.r2]
router = true
[nodes.nas]
[nodes.h2]
[[links]]
between = ["h1", "r1"]
mtu = 1500
[[links]]
between = ["r2", "h2"]
mtu = 1500
[[segments]]
name = "lan"
members = ["r1", "r2", "nas"]
mtu = { r1 = 1500, r2 = 9000, nas = 1500 }
"#;

#[test]
fn one_subnet_member_k_at_k_plus_1() {
    let p = plan(LAN);
    assert_eq!(p.links.len(), 3);
    let lan = &p.links[2];
    assert_eq!(lan.segment.as_deref(), Some("lan"));
    let t = Topology::from_str(LAN, std::path::Path::new("lan.toml")).unwrap();
    assert_eq!(link_name(2, &t), "segment lan");
    assert_eq!(link_name(1, &t), "link 2");
    assert_eq!(lan.ipv4, net("198.18.2.0/24"));
    assert_eq!(lan.ipv6, Some(net("2001:db8:0:2::/64")));
    assert_eq!(
        lan.ends4,
        [
            net("198.18.2.1/24"),
            net("198.18.2.2/24"),
            net("198.18.2.3/24")
        ]
    );
    assert_eq!(lan.ends6.as_ref().unwrap()[2], net("2001:db8:0:2::3/64"));
    let nas = p.node("nas").unwrap().iface("lan").unwrap();
    assert_eq!((nas.link, nas.end, nas.mtu), (2, 2, 1500));
    assert_eq!(p.node("r2").unwrap().iface("lan").unwrap().mtu, 9000);
    // IPv6 only where every member is >= 1280.
    let small = plan(&LAN.replace("nas = 1500", "nas = 1200"));
    assert_eq!(small.links[2].ipv6, None);
}

#[test]
fn routed_through_with_member_next_hops() {
    let p = plan(LAN);
    assert_eq!(
        routes(&p, "r1"),
        [
            "198.18.1.0/24 via 198.18.2.2 dev lan",
            "2001:db8:0:1::/64 via 2001:db8:0:2::2 dev lan"
        ]
    );
    assert_eq!(
        routes(&p, "nas")[..2],
        [
            "198.18.0.0/24 via 198.18.2.1 dev lan",
            "198.18.1.0/24 via 198.18.2.2 dev lan"
        ]
    );
    assert_eq!(
        hops(&p, "h1", "h2", Family::V4).unwrap(),
        [
            "h1:r1(1500)->r1:h1(1500)",
            "r1:lan(1500)->r2:lan(9000)",
            "r2:h2(1500)->h2:r2(1500)"
        ]
    );
    // Straight to a member on the segment: its own address is the next hop.
    assert_eq!(
        hops(&p, "h2", "nas", Family::V4).unwrap(),
        ["h2:r2(1500)->r2:h2(1500)", "r2:lan(9000)->nas:lan(1500)"]
    );
}

#[test]
fn given_addresses_and_names() {
    let p = plan(&format!(
        "{LAN}names = [\"eth1\", \"eth1\", \"lan0\"]\naddresses = [\"198.18.40.1/24\", \"198.18.40.2/24\", \"198.18.40.3/24\"]\n"
    ));
    let lan = &p.links[2];
    assert_eq!(lan.ipv4, net("198.18.40.0/24"));
    assert_eq!(lan.names, ["eth1", "eth1", "lan0"]);
    assert!(routes(&p, "r1").contains(&"198.18.1.0/24 via 198.18.40.2 dev eth1".to_owned()));
}

#[test]
fn tunnels_are_numbered_after_segments() {
    let p = plan(&format!(
        "{LAN}[[tunnels]]\nbetween = [\"r1\", \"r2\"]\nunderlay = \"ipv4\"\n"
    ));
    assert_eq!(p.links.len(), 4);
    assert!(p.links[3].tunnel.is_some());
    assert_eq!(p.links[3].ipv4, net("198.18.3.0/24"));
}
