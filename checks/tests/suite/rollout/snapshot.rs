//! `snapshot::…` trials: a snapshot changes nothing, and lists what it cannot read.

use std::collections::BTreeSet;
use std::process::Command;

use super::kit::*;
use crate::common::*;
use libtest_mimic::Failed;

/// Everything a snapshot could change, as text.
pub(crate) fn state_dump(net: &Net, node: &str) -> Result<String, Failed> {
    let mut out = String::new();
    for cmd in [
        vec!["ip", "-d", "-j", "link", "show"],
        vec!["ip", "-j", "addr", "show"],
        vec!["ip", "-j", "route", "show", "table", "all"],
        vec!["ip", "-6", "-j", "route", "show", "table", "all"],
        vec!["ip", "-j", "rule", "show"],
        vec!["nft", "list", "ruleset"],
        vec!["sh", "-c", "iptables-save | grep -v '^#'; ip6tables-save | grep -v '^#'; true"],
        vec!["sh", "-c", "sysctl -a 2>/dev/null | grep -E '^net\\.(ipv4|ipv6)\\.' | grep -v -E 'conf\\.lo\\.|neigh\\.|route\\.gc'; true"],
    ] {
        out.push_str(&format!("== {}\n", cmd.join(" ")));
        out.push_str(&net.exec(node, &cmd)?);
    }
    Ok(out)
}

/// A namespace with a bit of everything: veth, vxlan, v4/v6 addresses,
/// static, multipath and policy-table routes, an nft ruleset, an
/// iptables rule, changed sysctls.
pub(crate) fn busy_net(tag: &str) -> Result<Net, Failed> {
    let net = Net::new(tag, &["a", "b"])?;
    net.link(
        "a",
        "b",
        [1500, 1400],
        &[
            ["198.18.1.1/24", "198.18.1.2/24"],
            ["2001:db8:1::1/64", "2001:db8:1::2/64"],
        ],
    )?;
    net.exec(
        "a",
        &[
            "ip",
            "link",
            "add",
            "vx0",
            "type",
            "vxlan",
            "id",
            "5",
            "local",
            "198.18.1.1",
            "remote",
            "198.18.1.2",
            "dstport",
            "4789",
        ],
    )?;
    net.exec(
        "a",
        &[
            "ip",
            "route",
            "add",
            "198.18.9.0/24",
            "nexthop",
            "via",
            "198.18.1.2",
            "nexthop",
            "via",
            "198.18.1.3",
        ],
    )?;
    net.exec(
        "a",
        &[
            "ip",
            "route",
            "add",
            "198.18.8.0/24",
            "via",
            "198.18.1.2",
            "table",
            "100",
        ],
    )?;
    net.exec(
        "a",
        &[
            "ip",
            "-6",
            "route",
            "add",
            "2001:db8:9::/64",
            "via",
            "2001:db8:1::2",
        ],
    )?;
    net.exec("a", &["nft", "add table inet t; add chain inet t c { type filter hook forward priority 0; }; add rule inet t c icmp type echo-request accept"])?;
    net.exec(
        "a",
        &["iptables", "-A", "OUTPUT", "-p", "icmp", "-j", "ACCEPT"],
    )?;
    net.exec(
        "a",
        &[
            "sysctl",
            "-qw",
            "net.ipv4.tcp_mtu_probing=1",
            "net.ipv4.ip_forward=1",
        ],
    )?;
    Ok(net)
}

pub(crate) fn snapshot_read_only() -> Result<(), Failed> {
    let net = busy_net("ro")?;
    let scratch = Scratch::new("ro");
    let before = state_dump(&net, "a")?;
    let files = net.snapshot(&["a"], &scratch.0)?;
    let after = state_dump(&net, "a")?;
    if before != after {
        let diff: Vec<String> = before
            .lines()
            .zip(after.lines())
            .filter(|(x, y)| x != y)
            .map(|(x, y)| format!("- {x}\n+ {y}"))
            .take(10)
            .collect();
        return Err(format!("the snapshot changed the namespace:\n{}", diff.join("\n")).into());
    }
    // The dump is a real detector: a one-sysctl change shows.
    net.exec("a", &["sysctl", "-qw", "net.ipv4.tcp_mtu_probing=2"])?;
    if state_dump(&net, "a")? == before {
        return Err("the state dump does not see a changed sysctl".into());
    }
    // And the snapshot holds what was there.
    let s = harness::snapshot::Snapshot::from_json(&std::fs::read_to_string(&files[0])?)?;
    let has = |c: bool, what: &str| {
        if c {
            Ok(())
        } else {
            Err(Failed::from(format!("snapshot lacks {what}")))
        }
    };
    has(
        s.links
            .iter()
            .any(|l| l.name == "b" && l.mtu == 1500 && l.kind.as_deref() == Some("veth")),
        "veth b 1500",
    )?;
    has(
        s.links.iter().any(|l| {
            l.vxlan
                .as_ref()
                .is_some_and(|v| v.vni == 5 && v.remote == Some("198.18.1.2".parse().unwrap()))
        }),
        "vxlan vni 5",
    )?;
    has(
        s.routes
            .iter()
            .any(|r| r.to == "198.18.9.0/24" && r.nexthops.len() == 2),
        "the multipath route",
    )?;
    has(
        s.routes
            .iter()
            .any(|r| r.to == "198.18.8.0/24" && r.table == 100),
        "the table 100 route",
    )?;
    has(
        s.routes
            .iter()
            .any(|r| r.to == "2001:db8:9::/64" && r.via == Some("2001:db8:1::2".parse().unwrap())),
        "the IPv6 route",
    )?;
    has(
        s.nft.as_deref().is_some_and(|n| n.contains("table inet t")),
        "the nft table",
    )?;
    has(
        s.sysctl.get("net.ipv4.tcp_mtu_probing").map(String::as_str) == Some("1"),
        "tcp_mtu_probing = 1",
    )?;
    has(s.unread.is_empty(), "an empty unread list")?;
    Ok(())
}

/// What a snapshot cannot read is listed: without nft and iptables-save
/// on PATH, both rulesets are `unread` with the reason.
pub(crate) fn snapshot_unread() -> Result<(), Failed> {
    let net = Net::new("ur", &["a"])?;
    let o = Command::new("ip")
        .args([
            "netns",
            "exec",
            &net.ns("a"),
            "env",
            "PATH=/nonexistent",
            env!("CARGO_BIN_EXE_mtulab"),
            "snapshot",
        ])
        .output()?;
    if !o.status.success() {
        return Err(format!("snapshot failed: {}", text(&o.stderr)).into());
    }
    let s = harness::snapshot::Snapshot::from_json(&text(&o.stdout))?;
    let whats: BTreeSet<&str> = s.unread.iter().map(|u| u.what.as_str()).collect();
    for w in ["nft ruleset", "iptables rules", "ip6tables rules"] {
        if !whats.contains(w) {
            return Err(format!("unread lacks {w:?}: {:?}", s.unread).into());
        }
    }
    if s.nft.is_some() {
        return Err("nft is unread but present".into());
    }
    if !text(&o.stderr).contains("not read: nft ruleset") {
        return Err(format!("stderr does not say what was not read: {}", text(&o.stderr)).into());
    }
    Ok(())
}
