//! Loading and validation: every rejection with its accepted twin.

use std::path::{Path, PathBuf};

use super::*;
use crate::check_id::CheckId;
use crate::topology::*;

const BASE: &str = r#"name = "chain"
description = "client, router, server"

[nodes.client]
[nodes.router-a]
router = true
[nodes.server]

[[links]]
between = ["client", "router-a"]
mtu = 1500

[[links]]
between = ["router-a", "server"]
mtu = 1500
"#;

fn parse(src: &str) -> Result<Topology, TopologyError> {
    load_str(src, Path::new("test.toml"), &KnownNames).map(|l| l.topology)
}

/// A stand-in for the kernel's `/proc/sys`: the sysctl names the tests and
/// the bundled topologies use exist, every other one does not.
struct KnownNames;

impl SysctlNames for KnownNames {
    fn exists(&self, key: &str) -> Option<bool> {
        let known = sysctl::PMTU_SYSCTLS.iter().any(|(k, _, _)| *k == key)
            || [
                "net.ipv4.tcp_rmem",
                "net.core.rmem_max",
                "net.ipv6.flowlabel_reflect",
                "net.ipv4.conf.default.rp_filter",
                "net.ipv4.conf.all.forwarding",
                "net.ipv6.conf.default.mtu",
                "net.ipv4.icmp_ratelimit",
            ]
            .contains(&key);
        Some(known)
    }
}

/// Line (1-based) of the first line that differs between `a` and `b`.
fn first_diff_line(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(b.lines().count()))
        + 1
}

/// `good` is accepted, `bad` (which differs only in the bad bit) is
/// rejected with a message containing `needle`, on the first line where
/// they differ (or on `line`, when given).
#[track_caller]
fn twin(good: &str, bad: &str, needle: &str, line: Option<usize>) -> TopologyError {
    if let Err(e) = parse(good) {
        panic!("twin should be accepted, got {e}\n{good}");
    }
    let e = match parse(bad) {
        Ok(_) => panic!("should be rejected (expected {needle:?}):\n{bad}"),
        Err(e) => e,
    };
    assert!(
        e.message.contains(needle),
        "message {:?} lacks {needle:?}",
        e.message
    );
    let want = line.unwrap_or_else(|| first_diff_line(good, bad));
    assert_eq!(e.line, want, "wrong line for {e}");
    assert_eq!(
        e.to_string(),
        format!("test.toml:{}: {}", e.line, e.message)
    );
    e
}

fn with(base: &str, from: &str, to: &str) -> String {
    assert!(base.contains(from), "{from:?} not in base");
    base.replacen(from, to, 1)
}

/// The base file parses into what it says.
#[test]
fn base_parses() {
    let t = parse(BASE).unwrap();
    assert_eq!(t.name, "chain");
    assert_eq!(t.description, "client, router, server");
    assert_eq!(t.source, None);
    assert_eq!(
        t.nodes.keys().collect::<Vec<_>>(),
        ["client", "router-a", "server"]
    );
    assert!(t.nodes["router-a"].router);
    assert!(!t.nodes["client"].router);
    assert_eq!(t.links.len(), 2);
    assert_eq!(t.links[0].between, ["client", "router-a"]);
    assert_eq!(t.links[0].mtu, [1500, 1500]);
    assert_eq!(t.links[0].names, ["router-a", "client"]);
    assert_eq!(t.links[1].names, ["server", "router-a"]);
    assert_eq!(t.hosts(), ["client", "server"]);
    assert_eq!(t.routers(), ["router-a"]);
    assert!(t.filters.is_empty());
    assert_eq!(t.expect, None);
}

/// A TOML syntax error is reported on its line.
#[test]
fn syntax_error() {
    let bad = with(BASE, "mtu = 1500\n\n[[links]]", "mtu = = 1500\n\n[[links]]");
    twin(BASE, &bad, "", None);
}

/// Unknown keys are rejected (deny_unknown_fields), at their line.
#[test]
fn unknown_key() {
    let bad = with(BASE, "mtu = 1500\n", "mtu = 1500\nmut = 1500\n");
    let e = twin(BASE, &bad, "unknown field `mut`", Some(12));
    assert!(e.message.contains("expected"), "{e}");
    let bad = with(BASE, "router = true", "router = true\nforward = true");
    twin(BASE, &bad, "unknown field `forward`", Some(7));
    let bad = with(BASE, "name = \"chain\"", "name = \"chain\"\nversion = 2");
    twin(BASE, &bad, "unknown field `version`", Some(2));
}

/// A missing required key is rejected with a line.
#[test]
fn missing_key() {
    let bad = with(BASE, "between = [\"router-a\", \"server\"]\n", "");
    let e = parse(&bad).unwrap_err();
    assert!(e.message.contains("missing field `between`"), "{e}");
    assert!(e.line > 0, "{e}");
    let bad = with(BASE, "name = \"chain\"\n", "");
    let e = parse(&bad).unwrap_err();
    assert!(e.message.contains("missing field `name`"), "{e}");
}

/// Links must name declared nodes; the message lists them.
#[test]
fn unknown_node() {
    let bad = with(
        BASE,
        r#"between = ["router-a", "server"]"#,
        r#"between = ["routr-a", "server"]"#,
    );
    let e = twin(BASE, &bad, "", None);
    assert_eq!(
        e.message,
        r#"link 2: unknown node "routr-a" (nodes: client, router-a, server)"#
    );
}

/// A link from a node to itself is rejected.
#[test]
fn self_link() {
    let bad = with(
        BASE,
        r#"between = ["client", "router-a"]"#,
        r#"between = ["client", "client"]"#,
    );
    let e = twin(BASE, &bad, "", None);
    assert_eq!(e.message, r#"link 1 connects "client" to itself"#);
}

/// `between` must have exactly two nodes.
#[test]
fn between_len() {
    let bad = with(
        BASE,
        r#"between = ["client", "router-a"]"#,
        r#"between = ["client", "router-a", "server"]"#,
    );
    twin(
        BASE,
        &bad,
        "link 1: between must name exactly two nodes, found 3",
        None,
    );
}

/// MTUs outside 68..=65535 are rejected, at both bounds; the bounds are accepted.
#[test]
fn mtu_range() {
    let e = twin(BASE, &with(BASE, "mtu = 1500", "mtu = 70000"), "", None);
    assert_eq!(e.message, "link 1: mtu 70000 is outside 68..=65535");
    twin(
        BASE,
        &with(BASE, "mtu = 1500", "mtu = 67"),
        "mtu 67 is outside",
        None,
    );
    twin(
        BASE,
        &with(BASE, "mtu = 1500", "mtu = -1"),
        "mtu -1 is outside",
        None,
    );
    twin(
        BASE,
        &with(BASE, "mtu = 1500", "mtu = [1500, 65536]"),
        "mtu 65536 is outside",
        None,
    );
    let t = parse(&with(BASE, "mtu = 1500", "mtu = [68, 65535]")).unwrap();
    assert_eq!(t.links[0].mtu, [68, 65535]);
}

/// An MTU list must have exactly two values; a list of two is per end.
#[test]
fn mtu_list_len() {
    let good = with(BASE, "mtu = 1500", "mtu = [1500, 9000]");
    assert_eq!(parse(&good).unwrap().links[0].mtu, [1500, 9000]);
    let bad = with(BASE, "mtu = 1500", "mtu = [1500, 9000, 1400]");
    let e = twin(&good, &bad, "", None);
    assert_eq!(
        e.message,
        "link 1: mtu list has 3 values; expected 2 (one per end, in `between` order)"
    );
    twin(
        &good,
        &with(BASE, "mtu = 1500", "mtu = []"),
        "mtu list has 0 values",
        None,
    );
}

/// An MTU of the wrong type names both accepted forms.
#[test]
fn mtu_type() {
    let bad = with(BASE, "mtu = 1500", "mtu = \"1500\"");
    twin(
        BASE,
        &bad,
        "mtu must be an integer or a list of two integers",
        None,
    );
    let bad = with(BASE, "mtu = 1500", "mtu = [1500, \"9000\"]");
    twin(BASE, &bad, "an integer mtu", None);
}

/// Node names follow [a-z][a-z0-9-]{0,14}.
#[test]
fn bad_node_name() {
    let bad = BASE.replace("client", "Client");
    let e = twin(BASE, &bad, "", Some(4));
    assert_eq!(
        e.message,
        r#"node name "Client" must match [a-z][a-z0-9-]{0,14}"#
    );
    let long = BASE.replace("client", "a23456789012345");
    let longer = BASE.replace("client", "a234567890123456");
    twin(&long, &longer, "must match", Some(4));
    twin(
        BASE,
        &BASE.replace("client", "1client"),
        "must match",
        Some(4),
    );
}

/// Topology names follow [a-z0-9_-]+, at most 24 characters.
#[test]
fn bad_topology_name() {
    let good = with(BASE, "\"chain\"", "\"a_23456789-1234567890123\"");
    let bad = with(BASE, "\"chain\"", "\"a_23456789-12345678901234\"");
    twin(
        &good,
        &bad,
        "must match [a-z0-9_-]+ and be at most 24",
        None,
    );
    twin(
        BASE,
        &with(BASE, "\"chain\"", "\"Chain\""),
        "\"Chain\" must match",
        None,
    );
    twin(BASE, &with(BASE, "\"chain\"", "\"\""), "must match", None);
}

/// Filter hooks are output, forward or input.
#[test]
fn bad_hook() {
    let good = format!(
        "{BASE}\n[[filters]]\nnode = \"router-a\"\ndrop = \"pmtu-icmp\"\nhook = \"forward\"\n"
    );
    let t = parse(&good).unwrap();
    assert_eq!(
        t.filters,
        [Filter {
            node: "router-a".into(),
            kind: FilterKind::DropPmtuIcmp {
                hook: Hook::Forward
            }
        }]
    );
    let bad = with(&good, "\"forward\"", "\"prerouting\"");
    let e = twin(&good, &bad, "", None);
    assert_eq!(
        e.message,
        r#"filter 1: unknown hook "prerouting" (expected output, forward or input)"#
    );
}

/// drop needs a hook and only knows "pmtu-icmp"; filters need a known node.
#[test]
fn bad_filter() {
    let good = format!(
        "{BASE}\n[[filters]]\nnode = \"router-a\"\ndrop = \"pmtu-icmp\"\nhook = \"output\"\n"
    );
    let bad = with(&good, "hook = \"output\"\n", "");
    let e = parse(&bad).unwrap_err();
    assert!(e.message.contains("filter 1: drop needs a hook"), "{e}");
    assert!(e.line > 0);
    twin(
        &good,
        &with(&good, "\"pmtu-icmp\"", "\"icmp\""),
        r#"filter 1: unknown drop "icmp" (expected "pmtu-icmp")"#,
        None,
    );
    twin(
        &good,
        &with(&good, "node = \"router-a\"", "node = \"router-b\""),
        r#"filter 1: unknown node "router-b" (nodes: client, router-a, server)"#,
        None,
    );
    let e = parse(&with(
        &good,
        "drop = \"pmtu-icmp\"\nhook = \"output\"\n",
        "",
    ))
    .unwrap_err();
    assert!(e.message.contains("needs drop"), "{e}");
    assert!(e.line > 0);
}

/// A ruleset file must exist (resolved against the topology file's
/// directory), and cannot be mixed with drop or another ruleset.
#[test]
fn ruleset_files() {
    let dir = std::env::temp_dir().join(format!("mtulab-topology-test-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("rulesets")).unwrap();
    let dir = dir.canonicalize().unwrap();
    std::fs::write(dir.join("rulesets/r.nft"), "table inet t {}\n").unwrap();
    let file = dir.join("topo.toml");
    let good = format!("{BASE}\n[[filters]]\nnode = \"router-a\"\nnft = \"rulesets/r.nft\"\n");
    let t = Topology::from_str(&good, &file).unwrap();
    assert_eq!(
        t.filters[0].kind,
        FilterKind::Nft(dir.join("rulesets/r.nft"))
    );

    let bad = with(&good, "r.nft", "missing.nft");
    let e = Topology::from_str(&bad, &file).unwrap_err();
    assert_eq!(e.line, 19, "{e}");
    assert_eq!(
        e.message,
        format!(
            "filter 1: nft ruleset {} does not exist",
            dir.join("rulesets/missing.nft").display()
        )
    );

    let bad = with(
        &good,
        "nft =",
        "drop = \"pmtu-icmp\"\nhook = \"output\"\nnft =",
    );
    let e = Topology::from_str(&bad, &file).unwrap_err();
    assert!(
        e.message.contains("use either drop or nft, not both"),
        "{e}"
    );
    let bad = with(&good, "nft =", "iptables = \"rulesets/r.nft\"\nnft =");
    let e = Topology::from_str(&bad, &file).unwrap_err();
    assert!(e.message.contains("use only one ruleset"), "{e}");

    // Round trip through a saved file keeps the ruleset path.
    std::fs::write(&file, &good).unwrap();
    let t = Topology::from_file(&file).unwrap();
    assert_eq!(t.source.as_deref(), Some(file.as_path()));
    assert!(
        t.to_toml().contains("nft = \"rulesets/r.nft\""),
        "{}",
        t.to_toml()
    );
    let back = Topology::from_str(&t.to_toml(), &file).unwrap();
    assert_eq!(back, Topology { source: None, ..t });
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Hosts never forward: two hosts joined only through a third host are
/// disconnected; making the middle node a router connects them.
#[test]
fn disconnected() {
    let good = BASE.to_owned();
    let bad = with(BASE, "router = true\n", "");
    let e = twin(&good, &bad, "", Some(6));
    assert_eq!(
        e.message,
        r#"hosts "client" and "server" cannot reach each other (only routers forward; add a link or make a node a router)"#
    );
    // A host without links is disconnected too.
    let bad = with(BASE, "[nodes.server]", "[nodes.server]\n[nodes.zed]");
    let e = twin(
        BASE,
        &bad,
        "hosts \"client\" and \"zed\" cannot reach each other",
        Some(8),
    );
    assert!(e.line > 0);
}

/// Two links between the same nodes get `peer` and `peer-2`; explicit
/// names that collide are rejected.
#[test]
fn duplicate_iface() {
    let good = format!(
        "{BASE}\n[[links]]\nbetween = [\"client\", \"router-a\"]\nmtu = 1400\nnames = [\"eth0\", \"eth1\"]\n"
    );
    let t = parse(&good).unwrap();
    assert_eq!(t.links[2].names, ["eth0", "eth1"]);
    let bad = with(&good, "\"eth0\", \"eth1\"", "\"router-a\", \"eth1\"");
    let e = twin(&good, &bad, "", None);
    assert_eq!(
        e.message,
        r#"link 3: interface name "router-a" on node "client" is already used by link 1"#
    );
    let bad = with(&good, "\"eth0\", \"eth1\"", "\"eth0\"");
    twin(
        &good,
        &bad,
        "link 3: names must list exactly two interface names, found 1",
        None,
    );
}

/// Interface names must be valid Linux names.
#[test]
fn bad_iface_name() {
    let good = with(
        BASE,
        "mtu = 1500\n",
        "mtu = 1500\nnames = [\"eth0\", \"a23456789012345\"]\n",
    );
    for name in ["lo", "a/b", "a b", "a234567890123456", "", "a:1"] {
        let bad = with(&good, "\"eth0\"", &format!("{name:?}"));
        twin(
            &good,
            &bad,
            &format!("link 1: interface name {name:?} on node \"client\""),
            None,
        );
    }
}

/// Default names: `peer`, `peer-2`, `peer-3`, truncated to 15 characters.
#[test]
fn default_names() {
    let long = "r23456789012345".to_owned();
    let b = |x: &str, y: &str| [x.to_owned(), y.to_owned()];
    let names = default_iface_names(&[b("a", &long), b(&long, "a"), b("a", &long), b("a", "c")]);
    assert_eq!(names[0], b(&long, "a"));
    assert_eq!(names[1], b("a-2", "r234567890123-2"));
    assert_eq!(names[2], b("r234567890123-3", "a-3"));
    assert_eq!(names[3], b("c", "a"));

    let src = format!("{BASE}\n[[links]]\nbetween = [\"server\", \"router-a\"]\nmtu = 9000\n");
    let t = parse(&src).unwrap();
    assert_eq!(t.links[2].names, ["router-a-2", "server-2"]);
}

/// Sysctls: net.* keys, string or integer values, file order kept.
#[test]
fn sysctls() {
    let good = with(
        BASE,
        "[nodes.server]",
        "[nodes.server]\nsysctl = { \"net.ipv4.tcp_mtu_probing\" = 1, \"net.ipv4.conf.router-a.rp_filter\" = \"0\", \"net.core.rmem_max\" = \"4096\" }",
    );
    let t = parse(&good).unwrap();
    assert_eq!(
        t.nodes["server"].sysctl,
        [
            ("net.ipv4.tcp_mtu_probing".to_owned(), "1".to_owned()),
            (
                "net.ipv4.conf.router-a.rp_filter".to_owned(),
                "0".to_owned()
            ),
            ("net.core.rmem_max".to_owned(), "4096".to_owned()),
        ]
    );
    for key in [
        "kernel.panic",
        "net.ipv4",
        "net..x",
        "net.ipv4/x",
        "net.ipv4.x y",
    ] {
        let bad = with(&good, "net.core.rmem_max", key);
        twin(
            &good,
            &bad,
            &format!("node \"server\": sysctl {key:?} must be a net.* key"),
            None,
        );
    }
    let bad = with(&good, "\"4096\"", "true");
    twin(&good, &bad, "a sysctl value (string or integer)", None);
}

/// Expectations: ids, hosts only, family/pmtu/transfer values.
#[test]
fn expectations() {
    let good = format!(
        "{BASE}\n[expect]\nviolations = [\"pmtud\", \"tcp-transfer\"]\n\n[[expect.paths]]\nfrom = \"server\"\nto = \"client\"\nfamily = \"ipv4\"\npmtu = 1200\ntransfer = \"blackhole\"\n"
    );
    let t = parse(&good).unwrap();
    assert_eq!(
        t.expect,
        Some(Expect {
            violations: Some(vec![CheckId::Pmtud, CheckId::TcpTransfer]),
            paths: vec![ExpectPath {
                from: "server".into(),
                to: "client".into(),
                family: Some(Family::V4),
                pmtu: Some(1200),
                transfer: Some(Verdict::Blackhole),
            }],
            ipv4: None,
            ipv6: None,
        })
    );
    twin(
        &good,
        &with(&good, "\"pmtud\"", "\"pmtu\""),
        "expect: unknown check id \"pmtu\"",
        None,
    );
    twin(
        &good,
        &with(&good, "\"tcp-transfer\"", "\"pmtud\""),
        "listed twice",
        None,
    );
    twin(
        &good,
        &with(&good, "to = \"client\"", "to = \"router-a\""),
        "expect path 1: \"router-a\" is a router",
        None,
    );
    twin(
        &good,
        &with(&good, "to = \"client\"", "to = \"clent\""),
        "expect path 1: unknown node \"clent\" (hosts: client, server)",
        None,
    );
    twin(
        &good,
        &with(&good, "to = \"client\"", "to = \"server\""),
        "from and to are both \"server\"",
        None,
    );
    twin(
        &good,
        &with(&good, "\"ipv4\"", "\"inet\""),
        "unknown family \"inet\"",
        None,
    );
    twin(
        &good,
        &with(&good, "1200", "60"),
        "pmtu 60 is outside",
        None,
    );
    twin(
        &good,
        &with(&good, "\"blackhole\"", "\"stall\""),
        "unknown transfer \"stall\"",
        None,
    );
    let bare = format!("{BASE}\n[expect]\n");
    assert_eq!(parse(&bare).unwrap().expect, Some(Expect::default()));
}

/// `[expect.ipv4]` / `[expect.ipv6]`: per-path check ids only, each
/// once, known families only; each rejection with its line.
#[test]
fn family_expectations() {
    let good = format!(
        "{BASE}\n[expect]\nviolations = [\"link-mtu-match\"]\n\n[expect.ipv6]\nviolations = [\"pmtud\", \"tcp-transfer\"]\n\n[expect.ipv4]\nviolations = []\n"
    );
    let t = parse(&good).unwrap();
    let e = t.expect.as_ref().unwrap();
    assert_eq!(e.violations, Some(vec![CheckId::LinkMtuMatch]));
    assert_eq!(
        e.ipv6,
        Some(ExpectFamily {
            violations: vec![CheckId::Pmtud, CheckId::TcpTransfer]
        })
    );
    assert_eq!(e.ipv4, Some(ExpectFamily::default()));
    assert!(e.per_family());
    assert_eq!(e.family(Family::V6), e.ipv6.as_ref());
    // Round trip keeps both tables.
    let back = parse(&t.to_toml()).unwrap();
    assert_eq!(back, t, "{}", t.to_toml());
    twin(
        &good,
        &with(&good, "[\"pmtud\", ", "[\"link-mtu-match\", "),
        "expect.ipv6: \"link-mtu-match\" has no family; list it in [expect] violations",
        None,
    );
    twin(
        &good,
        &with(&good, "[\"pmtud\", ", "[\"pmtu\", "),
        "expect.ipv6: unknown check id \"pmtu\" (expected one of icmp-passes, pmtud, tcp-transfer, model-mismatch)",
        None,
    );
    twin(
        &good,
        &with(&good, "\"pmtud\", \"tcp-transfer\"", "\"pmtud\", \"pmtud\""),
        "expect.ipv6: check id \"pmtud\" listed twice",
        None,
    );
    twin(
        &good,
        &with(&good, "[expect.ipv4]", "[expect.inet]"),
        "unknown field `inet`",
        None,
    );
    twin(
        &good,
        &with(
            &good,
            "[expect.ipv4]\nviolations = []",
            "[expect.ipv4]\nviolation = []",
        ),
        "unknown field `violation`",
        None,
    );
    // A family table alone: no top-level list, not per family otherwise.
    let alone = format!("{BASE}\n[expect.ipv4]\nviolations = [\"model-mismatch\"]\n");
    let e = parse(&alone).unwrap().expect.unwrap();
    assert_eq!(e.violations, None);
    assert_eq!(e.ipv6, None);
    assert!(e.per_family());
    assert!(!Expect::default().per_family());
}

mod features;
