//! Given addresses and routes, anycast, clamps, sysctls, fixtures, round trips.

use super::*;

/// to_toml parses back to an equal topology.
#[test]
fn round_trip() {
    let src = format!(
        "{}\n[[links]]\nbetween = [\"server\", \"router-a\"]\nmtu = [9000, 1280]\n\n[[links]]\nbetween = [\"server\", \"router-a\"]\nmtu = 576\nnames = [\"e 0\", \"e\\\"1\"]\n\n[[filters]]\nnode = \"router-a\"\ndrop = \"pmtu-icmp\"\nhook = \"output\"\n\n[[filters]]\nnode = \"client\"\ndrop = \"pmtu-icmp\"\nhook = \"input\"\n\n[expect]\nviolations = []\n[[expect.paths]]\nfrom = \"client\"\nto = \"server\"\ntransfer = \"ok\"\n\n[expect.ipv6]\nviolations = [\"tcp-transfer\", \"model-mismatch\"]\n",
        with(BASE, "[nodes.server]", "[nodes.server]\nsysctl = { \"net.ipv4.tcp_mtu_probing\" = \"1\", \"net.core.rmem_max\" = 8 }")
    );
    // Interface names with a space are invalid; use a valid quoted one.
    let src = src.replace("\"e 0\"", "\"e0\"");
    let t = parse(&src).unwrap();
    let text = t.to_toml();
    let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(back, t, "{text}");
    assert_eq!(back.to_toml(), text);
    // Default names are not written out.
    assert!(!text.contains("names = [\"router-a\""), "{text}");
    assert!(text.contains("names = [\"e0\", "), "{text}");
}

/// The minimal topology round trips too.
#[test]
fn round_trip_minimal() {
    let t = parse("name = \"x\"\n[nodes.a]\n").unwrap();
    assert_eq!(parse(&t.to_toml()).unwrap(), t);
    let t = parse(BASE).unwrap();
    assert_eq!(parse(&t.to_toml()).unwrap(), t);
}

/// Given addresses: parsed per end, kept through to_toml, and each bad
/// form rejected on its line (twins of the fixture files, plus the rest).
#[test]
fn given_addresses() {
    let good = with(
        BASE,
        "between = [\"client\", \"router-a\"]\nmtu = 1500\n",
        "between = [\"client\", \"router-a\"]\nmtu = 1500\naddresses = [\"198.18.7.1/30\", \"198.18.7.2/30\"]\naddresses6 = [\"2001:db8:7::1/64\", \"2001:db8:7::2/64\"]\n",
    );
    let t = parse(&good).unwrap();
    let c = |s: &str| s.parse::<Cidr>().unwrap();
    assert_eq!(
        t.links[0].addresses,
        Some([c("198.18.7.1/30"), c("198.18.7.2/30")])
    );
    assert_eq!(
        t.links[0].addresses6,
        Some([c("2001:db8:7::1/64"), c("2001:db8:7::2/64")])
    );
    assert_eq!(t.links[1].addresses, None);
    assert_eq!(parse(&t.to_toml()).unwrap(), t);
    for (bad, needle) in [
        (
            "\"198.18.7.2/30\"]",
            "addresses must list exactly two addresses",
        ),
        (
            "\"198.18.7.2\"",
            "is not an IPv4 address with a prefix length",
        ),
        ("\"2001:db8:7::2/30\"", "is not an IPv4 address"),
        ("\"198.18.7.3/30\"", "is the subnet's broadcast address"),
        ("\"198.18.7.0/30\"", "is the subnet's network address"),
        ("\"198.18.7.2/29\"", "are not on the same subnet"),
        ("\"198.18.7.1/30\"", "both ends have address 198.18.7.1"),
        (
            "\"198.20.7.2/30\"",
            "is outside the lab range 198.18.0.0/15",
        ),
        ("\"198.18.7.2/14\"", "is outside the lab range"),
        ("\"198.18.7.2/32\"", "leaves no room for the peer"),
    ] {
        let from = if bad.ends_with(']') {
            "\"198.18.7.1/30\", \"198.18.7.2/30\"]"
        } else {
            "\"198.18.7.2/30\""
        };
        // A bad value ending in `]` replaces the whole list.
        twin(&good, &with(&good, from, bad), needle, None);
    }
    // /31: both addresses usable (RFC 3021).
    let p2p = with(
        &good,
        "\"198.18.7.1/30\", \"198.18.7.2/30\"",
        "\"198.18.7.0/31\", \"198.18.7.1/31\"",
    );
    assert!(parse(&p2p).is_ok());
    twin(
        &good,
        &with(&good, "\"2001:db8:7::2/64\"", "\"2001:db9:7::2/64\""),
        "outside the lab range 2001:db8::/32",
        None,
    );
    // Overlap with another link's given subnet.
    let two = with(
        &good,
        "between = [\"router-a\", \"server\"]\nmtu = 1500\n",
        "between = [\"router-a\", \"server\"]\nmtu = 1500\naddresses = [\"198.18.8.1/24\", \"198.18.8.2/24\"]\n",
    );
    twin(
        &two,
        &with(
            &two,
            "\"198.18.8.1/24\", \"198.18.8.2/24\"",
            "\"198.18.7.5/24\", \"198.18.7.6/24\"",
        ),
        "link 2: subnet 198.18.7.0/24 overlaps link 1's subnet 198.18.7.0/30",
        None,
    );
}

/// Given routes: network destinations, a gateway that is the peer's
/// address on one of the node's links, one route per destination.
#[test]
fn given_routes() {
    let good = with(
        BASE,
        "router = true\n",
        "router = true\nroutes = [{ to = \"0.0.0.0/0\", via = \"198.18.1.2\" }, { to = \"2001:db8:9::/48\", via = \"2001:db8:0:1::2\" }]\n",
    );
    let t = parse(&good).unwrap();
    assert_eq!(
        t.nodes["router-a"].routes,
        [
            Route {
                to: "0.0.0.0/0".parse().unwrap(),
                via: "198.18.1.2".parse().unwrap()
            },
            Route {
                to: "2001:db8:9::/48".parse().unwrap(),
                via: "2001:db8:0:1::2".parse().unwrap()
            },
        ]
    );
    assert_eq!(parse(&t.to_toml()).unwrap(), t);
    for (from, to, needle) in [
        ("\"0.0.0.0/0\"", "\"0.0.0.1/0\"", "has host bits set (did you mean 0.0.0.0/0?)"),
        ("\"0.0.0.0/0\"", "\"0.0.0.0\"", "is not a network with a prefix length"),
        ("\"198.18.1.2\"", "\"198.18.1.2/24\"", "is not an address without a prefix length"),
        ("\"198.18.1.2\"", "\"2001:db8:0:1::2\"", "is not of the same family"),
        ("\"198.18.1.2\"", "\"198.18.1.1\"", "is the node's own address on link 2"),
        ("\"198.18.1.2\"", "\"198.18.1.7\"", "the only other node there, \"server\", has 198.18.1.2"),
        ("\"198.18.1.2\"", "\"198.18.2.2\"", "is not on a subnet connected to \"router-a\" (its ipv4 subnets: 198.18.0.0/24, 198.18.1.0/24)"),
        ("\"2001:db8:9::/48\"", "\"::/0\", via = \"2001:db8:0:1::2\" }, { to = \"::/0\"", "a route to ::/0 is already route 2"),
        ("to = \"0.0.0.0/0\"", "too = \"0.0.0.0/0\"", "unknown field `too`"),
    ] {
        twin(&good, &with(&good, from, to), needle, None);
    }
}

/// Anycast groups: one address per family (at least one), two or more
/// distinct member hosts, outside given subnets, not shared.
#[test]
fn anycast_groups() {
    let good = format!(
        "{BASE}\n[[anycast]]\naddress = \"198.18.250.1\"\naddress6 = \"2001:db8:fa::1\"\nnodes = [\"server\", \"client\"]\n"
    );
    let t = parse(&good).unwrap();
    assert_eq!(
        t.anycast,
        [Anycast {
            address: Some("198.18.250.1".parse().unwrap()),
            address6: Some("2001:db8:fa::1".parse().unwrap()),
            nodes: vec!["server".into(), "client".into()],
        }]
    );
    assert_eq!(parse(&t.to_toml()).unwrap(), t);
    for (from, to, needle) in [
        (
            "\"198.18.250.1\"",
            "\"198.18.250.1/32\"",
            "is not an IPv4 address without a prefix length",
        ),
        (
            "\"198.18.250.1\"",
            "\"2001:db8:fa::2\"",
            "is not an IPv4 address",
        ),
        (
            "\"198.18.250.1\"",
            "\"10.0.0.1\"",
            "address 10.0.0.1 is outside the lab range",
        ),
        (
            "\"2001:db8:fa::1\"",
            "\"2001:db9::1\"",
            "address6 2001:db9::1 is outside the lab range",
        ),
        (
            "\"server\", \"client\"",
            "\"server\", \"router-a\"",
            "\"router-a\" is a router; anycast members must be hosts",
        ),
        (
            "\"server\", \"client\"",
            "\"server\", \"clint\"",
            "unknown node \"clint\" (hosts: client, server)",
        ),
        (
            "\"server\", \"client\"",
            "\"server\", \"server\"",
            "node \"server\" listed twice",
        ),
        (
            "\"server\", \"client\"",
            "\"server\"",
            "needs at least two member nodes, found 1",
        ),
    ] {
        twin(&good, &with(&good, from, to), needle, None);
    }
    let e = parse(&with(
        &good,
        "address = \"198.18.250.1\"\naddress6 = \"2001:db8:fa::1\"\n",
        "",
    ))
    .unwrap_err();
    assert!(
        e.message
            .contains("needs address (IPv4), address6 (IPv6) or both"),
        "{e}"
    );
    assert!(e.line > 0);
    let twice = format!(
        "{good}\n[[anycast]]\naddress = \"198.18.250.1\"\nnodes = [\"server\", \"client\"]\n"
    );
    let e = parse(&twice).unwrap_err();
    assert!(
        e.message
            .contains("anycast 2: address 198.18.250.1 is already anycast 1"),
        "{e}"
    );
}

#[test]
fn cidr_arithmetic() {
    let c = |s: &str| s.parse::<Cidr>().unwrap();
    assert_eq!(c("198.18.7.9/24").network(), c("198.18.7.0/24"));
    assert_eq!(c("2001:db8:7::9/64").network(), c("2001:db8:7::/64"));
    assert!(c("198.18.7.0/24").contains("198.18.7.255".parse().unwrap()));
    assert!(!c("198.18.7.0/24").contains("198.18.8.0".parse().unwrap()));
    assert!(!c("198.18.7.0/24").contains("2001:db8::1".parse().unwrap()));
    assert!(c("198.18.0.0/15").overlaps(&c("198.19.3.0/24")));
    assert!(c("198.18.7.128/25").overlaps(&c("198.18.7.0/24")));
    assert!(!c("198.18.7.128/25").overlaps(&c("198.18.7.0/25")));
    assert!(c("0.0.0.0/0").contains("198.18.1.1".parse().unwrap()));
    for bad in [
        "198.18.7.1",
        "198.18.7.1/33",
        "198.18.7.1/",
        "198.18.7.1/+4",
        "x/4",
        "::/129",
    ] {
        assert!(bad.parse::<Cidr>().is_err(), "{bad}");
    }
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../topologies")
        .join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Every topologies/invalid/*.toml is rejected with a line and the message
/// its `# error: ` comment quotes, and its twin
/// in topologies/valid/ (same file name) is accepted.
#[test]
fn fixture_files() {
    let invalid = fixtures("invalid");
    assert!(invalid.len() >= 10, "{invalid:?}");
    for path in &invalid {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.starts_with("# "),
            "{} lacks its opening comment",
            path.display()
        );
        match load_file(path, &KnownNames) {
            Ok(_) => panic!("{} was accepted", path.display()),
            Err(e) => {
                assert!(e.line > 0, "{e}");
                let want = text
                    .lines()
                    .find_map(|l| l.strip_prefix("# error: "))
                    .unwrap_or_else(|| panic!("{} lacks an `# error: ` line", path.display()));
                assert!(e.message.contains(want), "{e}\nexpected: {want}");
                assert_eq!(e.file, *path);
            }
        }
        let twin = path
            .parent()
            .unwrap()
            .join("../valid")
            .join(path.file_name().unwrap());
        assert!(twin.exists(), "{} has no twin", path.display());
    }
    let valid = fixtures("valid");
    assert!(valid.len() >= invalid.len());
    for path in &valid {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(
            text.starts_with("# "),
            "{} lacks its opening comment",
            path.display()
        );
        let t = load_file(path, &KnownNames)
            .map(|l| l.topology)
            .unwrap_or_else(|e| panic!("{e}"));
        let back = Topology::from_str(&t.to_toml(), path).unwrap();
        assert_eq!(back, Topology { source: None, ..t });
    }
}

/// mss_clamp: "pmtu" or an MSS, on routers only; mss_clamp_oif names one
/// of the node's interfaces and needs mss_clamp; both round trip.
#[test]
fn mss_clamps() {
    let good = with(
        BASE,
        "router = true\n",
        "router = true\nmss_clamp = \"pmtu\"\nmss_clamp_oif = \"server\"\n",
    );
    let t = parse(&good).unwrap();
    assert_eq!(
        t.nodes["router-a"].mss_clamp,
        Some(MssClamp {
            to: ClampTo::Pmtu,
            oif: Some("server".into())
        })
    );
    assert_eq!(t.nodes["client"].mss_clamp, None);
    assert_eq!(parse(&t.to_toml()).unwrap(), t);

    let fixed = with(&good, "\"pmtu\"", "1360");
    let t = parse(&fixed).unwrap();
    assert_eq!(
        t.nodes["router-a"].mss_clamp.as_ref().unwrap().to,
        ClampTo::Mss(1360)
    );
    assert_eq!(parse(&t.to_toml()).unwrap(), t);
    // A string holding a number is the same number.
    let t2 = parse(&with(&good, "\"pmtu\"", "\"1360\"")).unwrap();
    assert_eq!(t2, t);

    for bad in ["\"auto\"", "87", "65496", "-1"] {
        twin(
            &good,
            &with(&good, "\"pmtu\"", bad),
            "must be \"pmtu\" or an MSS in 88..=65495",
            None,
        );
    }
    parse(&with(&good, "\"pmtu\"", "88")).unwrap();
    parse(&with(&good, "\"pmtu\"", "65495")).unwrap();
    twin(
        &good,
        &with(&good, "\"server\"\n", "\"eth9\"\n"),
        "node \"router-a\": mss_clamp_oif \"eth9\" is not an interface of this node (interfaces: client, server)",
        None,
    );
    twin(
        &good,
        &with(&good, "\"pmtu\"", "true"),
        "expected \"pmtu\" or an MSS (integer)",
        None,
    );
    twin(
        &good,
        &with(&good, "mss_clamp = \"pmtu\"\n", ""),
        "mss_clamp_oif needs mss_clamp",
        None,
    );
    let host = with(
        BASE,
        "[nodes.client]\n",
        "[nodes.client]\nmss_clamp = \"pmtu\"\n",
    );
    twin(
        &good,
        &host,
        "node \"client\": mss_clamp needs router = true",
        None,
    );
}

/// PMTU sysctls are validated by value and name at their line; other
/// net.* names must exist (sysctl::key_problem has the details).
#[test]
fn pmtu_sysctls() {
    let good = with(
        BASE,
        "[nodes.server]",
        "[nodes.server]\nsysctl = { \"net.ipv4.tcp_mtu_probing\" = 1, \"net.ipv6.route.mtu_expires\" = 60 }",
    );
    parse(&good).unwrap();
    twin(
        &good,
        &with(&good, "= 1,", "= 3,"),
        "value \"3\" must be an integer in 0..=2",
        None,
    );
    twin(
        &good,
        &with(&good, "= 60", "= -1"),
        "must be an integer in 0..=2147483",
        None,
    );
    twin(
        &good,
        &with(&good, "ipv6.route.mtu_expires", "ipv6.route.mtu_expire"),
        "did you mean \"net.ipv4.route.mtu_expires\"?",
        None,
    );
    twin(
        &good,
        &with(&good, "ipv4.tcp_mtu_probing", "ipv6.tcp_mtu_probing"),
        "it exists as net.ipv4.tcp_mtu_probing",
        None,
    );
}
