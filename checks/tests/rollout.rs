//! The rollout review end to end: `mtulab snapshot` inside namespaces,
//! `mtulab import`, `mtulab check` / `mtulab diff` on the result.
//!
//! - `handbuilt::CASE::{broken,control}` (a chain, IPv6 only, an nft
//!   ruleset, a LAN segment with a mismatched member): networks built with plain `ip` /
//!   `nft` commands (namespaces `mlh-…`, removed by a guard), snapshotted
//!   from inside each namespace, imported and checked; the check's verdicts
//!   must equal what DF pings measure on the hand-built network itself.
//! - `snapshot::read_only`: links, addresses, routes, rulesets and sysctls
//!   are byte-identical before and after a snapshot; `snapshot::unread`:
//!   what it cannot read is listed (and nothing when it can).
//! - `roundtrip::NAME`: every bundled scenario built, snapshotted node by
//!   node, imported, checked: the same violations per check and path and
//!   the same path verdicts as the original. Scenarios import cannot
//!   express yet are ignored with the reason.
//! - `diff::…`: a change that breaks exits 1 naming the new violations, a
//!   fix exits 0 naming what it fixed, identical files report no change.
//! - `bad_input::…`: each new command exits 2 with file and what is wrong,
//!   and creates nothing.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use harness::probe::transfer::TransferVerdict;
use libtest_mimic::{Arguments, Failed, Trial};
use mtulab::check::{self, CheckOptions};
use mtulab::diff::Subject;
use mtulab::report::Report;
use mtulab_core::{CheckId, Family, Loaded};

/// Scenarios whose features import cannot express yet, and why.
const GAPS: [(&str, &str); 0] = [];

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("mlh-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("scratch dir");
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Hand-made namespaces `mlh-TAG-PID-NODE`, deleted on drop (also on panic).
struct Net {
    prefix: String,
    nodes: Vec<String>,
}

impl Net {
    fn new(tag: &str, nodes: &[&str]) -> Result<Net, Failed> {
        let net = Net {
            prefix: format!("mlh-{tag}-{}-", std::process::id()),
            nodes: Vec::new(),
        };
        let mut net = net;
        for n in nodes {
            sh(&["ip", "netns", "add", &net.ns(n)])?;
            net.nodes.push(n.to_string());
            net.exec(n, &["ip", "link", "set", "lo", "up"])?;
        }
        Ok(net)
    }
    fn ns(&self, node: &str) -> String {
        format!("{}{node}", self.prefix)
    }
    /// Run a command inside a node; an error with its stderr if it fails.
    fn exec(&self, node: &str, cmd: &[&str]) -> Result<String, Failed> {
        let mut all = vec!["ip", "netns", "exec"];
        let ns = self.ns(node);
        all.push(&ns);
        all.extend_from_slice(cmd);
        sh(&all)
    }
    /// A veth between `a` and `b`: on each the interface is named after the
    /// other; MTUs per end; addresses "A/len" per end (IPv4 and/or IPv6).
    fn link(&self, a: &str, b: &str, mtu: [u32; 2], addrs: &[[&str; 2]]) -> Result<(), Failed> {
        sh(&[
            "ip",
            "link",
            "add",
            "name",
            b,
            "netns",
            &self.ns(a),
            "type",
            "veth",
            "peer",
            "name",
            a,
            "netns",
            &self.ns(b),
        ])?;
        for (end, (node, peer)) in [(a, b), (b, a)].into_iter().enumerate() {
            self.exec(
                node,
                &[
                    "ip",
                    "link",
                    "set",
                    "dev",
                    peer,
                    "mtu",
                    &mtu[end].to_string(),
                    "up",
                ],
            )?;
            for pair in addrs {
                let mut cmd = vec!["ip", "addr", "add", pair[end], "dev", peer];
                if pair[end].contains(':') {
                    cmd.push("nodad");
                }
                self.exec(node, &cmd)?;
            }
        }
        Ok(())
    }
    fn forward(&self, node: &str) -> Result<(), Failed> {
        self.exec(
            node,
            &[
                "sysctl",
                "-qw",
                "net.ipv4.ip_forward=1",
                "net.ipv6.conf.all.forwarding=1",
            ],
        )?;
        Ok(())
    }
    /// `mtulab snapshot` inside each named node: the files' paths.
    fn snapshot(&self, nodes: &[&str], dir: &Path) -> Result<Vec<PathBuf>, Failed> {
        let mut out = Vec::new();
        for n in nodes {
            let file = dir.join(format!("{n}.json"));
            let o = Command::new("ip")
                .args([
                    "netns",
                    "exec",
                    &self.ns(n),
                    env!("CARGO_BIN_EXE_mtulab"),
                    "snapshot",
                    "-o",
                ])
                .arg(&file)
                .output()?;
            if !o.status.success() {
                return Err(format!("snapshot of {n} failed: {}", text(&o.stderr)).into());
            }
            out.push(file);
        }
        Ok(out)
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        for n in &self.nodes {
            let _ = Command::new("ip")
                .args(["netns", "del", &self.ns(n)])
                .status();
        }
    }
}

fn sh(args: &[&str]) -> Result<String, Failed> {
    let o = Command::new(args[0]).args(&args[1..]).output()?;
    if !o.status.success() {
        return Err(format!("{} failed: {}", args.join(" "), text(&o.stderr)).into());
    }
    Ok(text(&o.stdout))
}

/// `mtulab import FILES -o DIR/net.toml`; the topology.
fn import(files: &[PathBuf], dir: &Path) -> Result<Loaded, Failed> {
    let out = dir.join("net.toml");
    let o = mtulab()
        .arg("import")
        .args(files)
        .arg("-o")
        .arg(&out)
        .output()?;
    if !o.status.success() {
        return Err(format!("import failed: {}", text(&o.stderr)).into());
    }
    Ok(harness::load::load_file(&out)?)
}

/// What the hand-built network does from `from` to `dst` (on node `to`).
#[derive(Debug, Clone, PartialEq)]
struct Measured {
    /// The PMTU the sender learns after one DF packet of 1500 bytes (None:
    /// nothing learned).
    learned: Option<u32>,
    /// A DF packet of the path's narrowest MTU arrives.
    delivered: bool,
    /// A 1 MiB TCP transfer (harness probe, fresh PMTU cache).
    transfer: TransferVerdict,
}

fn measure(net: &Net, from: &str, to: &str, dst: &str, narrow: u32) -> Result<Measured, Failed> {
    let v6 = dst.contains(':');
    let hdr = if v6 { 48 } else { 28 };
    let fam = if v6 { "-6" } else { "-4" };
    net.exec(from, &["ip", fam, "route", "flush", "cache"])?;
    // The first big packet draws the frag-needed / packet-too-big (or not).
    let _ = net.exec(
        from,
        &[
            "ping",
            fam,
            "-M",
            "do",
            "-c",
            "2",
            "-i",
            "0.3",
            "-W",
            "1",
            "-s",
            &(1500 - hdr).to_string(),
            dst,
        ],
    );
    let route = net.exec(from, &["ip", fam, "route", "get", dst])?;
    let learned = route
        .split_whitespace()
        .skip_while(|w| *w != "mtu")
        .nth(1)
        .and_then(|m| m.parse().ok());
    let delivered = net
        .exec(
            from,
            &[
                "ping",
                fam,
                "-M",
                "do",
                "-c",
                "3",
                "-i",
                "0.3",
                "-W",
                "2",
                "-s",
                &(narrow - hdr).to_string(),
                dst,
            ],
        )
        .is_ok();
    net.exec(from, &["ip", fam, "route", "flush", "cache"])?;
    let t = harness::probe::transfer::transfer(
        &harness::netns::Netns::open(&net.ns(from))?,
        &harness::netns::Netns::open(&net.ns(to))?,
        dst.parse()?,
        &Default::default(),
    )?;
    Ok(Measured {
        learned,
        delivered,
        transfer: t.verdict,
    })
}

/// The check's verdict on one path must be what was measured: PMTU learned
/// and pmtud holding, or nothing learned and pmtud + icmp-passes violated.
fn same_as_measured(
    r: &Report,
    from: &str,
    to: &str,
    family: Family,
    measured: &Measured,
) -> Result<(), Failed> {
    let p = r
        .paths
        .iter()
        .find(|p| p.from == from && p.to == to && p.family == family)
        .ok_or_else(|| format!("no path {from} -> {to} {family} in the report"))?;
    let violated = |check: CheckId| {
        r.violations.iter().any(|v| {
            v.check == check
                && v.from.as_deref() == Some(from)
                && v.to.as_deref() == Some(to)
                && v.family == Some(family)
        })
    };
    let human = mtulab::report::human(r, false);
    let says = format!(
        "check says pmtu {:?}, transfer {:?}, violated: pmtud {}, icmp-passes {}, tcp-transfer {}",
        p.observed_pmtu,
        p.transfer,
        violated(CheckId::Pmtud),
        violated(CheckId::IcmpPasses),
        violated(CheckId::TcpTransfer)
    );
    let agrees = match measured.learned {
        Some(m) => measured.delivered && p.observed_pmtu == Some(m) && !violated(CheckId::Pmtud),
        None => violated(CheckId::Pmtud) && violated(CheckId::IcmpPasses),
    } && p.transfer == Some(measured.transfer)
        && violated(CheckId::TcpTransfer) == (measured.transfer != TransferVerdict::Ok);
    if !agrees {
        return Err(
            format!("measured on the hand-built network: {measured:?}; {says}\n{human}").into(),
        );
    }
    Ok(())
}

fn run_check(t: &Loaded) -> Result<Report, Failed> {
    Ok(check::run(t, &CheckOptions::default())?)
}

/// ```text
///  client --1500-- r1 --1280-- r2 --9000-- server
///  .1.2         .1.1  .2.1  .2.2  .3.1     .3.2     (198.18.N.x/24, 2001:db8:N::x/64)
/// ```
/// Static routes only; `broken`: r2 drops its own frag-needed /
/// packet-too-big (nft output), so downloads server -> client blackhole.
fn chain(tag: &str, v4: bool, v6: bool, broken: bool) -> Result<(), Failed> {
    let net = Net::new(tag, &["client", "r1", "r2", "server"])?;
    let pair = |n: u32, a: u32, b: u32| -> Vec<[String; 2]> {
        let mut v = Vec::new();
        if v4 {
            v.push([format!("198.18.{n}.{a}/24"), format!("198.18.{n}.{b}/24")]);
        }
        if v6 {
            v.push([
                format!("2001:db8:{n}::{a}/64"),
                format!("2001:db8:{n}::{b}/64"),
            ]);
        }
        v
    };
    let refs = |v: &Vec<[String; 2]>| -> Vec<[String; 2]> { v.clone() };
    for (a, b, mtu, p) in [
        ("client", "r1", [1500, 1500], pair(1, 2, 1)),
        ("r1", "r2", [1280, 1280], pair(2, 1, 2)),
        ("r2", "server", [9000, 9000], pair(3, 1, 2)),
    ] {
        let p = refs(&p);
        let strs: Vec<[&str; 2]> = p.iter().map(|[x, y]| [x.as_str(), y.as_str()]).collect();
        net.link(a, b, mtu, &strs)?;
    }
    net.forward("r1")?;
    net.forward("r2")?;
    if v4 {
        net.exec(
            "client",
            &["ip", "route", "add", "default", "via", "198.18.1.1"],
        )?;
        net.exec(
            "server",
            &["ip", "route", "add", "default", "via", "198.18.3.1"],
        )?;
        net.exec(
            "r1",
            &["ip", "route", "add", "198.18.3.0/24", "via", "198.18.2.2"],
        )?;
        net.exec(
            "r2",
            &["ip", "route", "add", "198.18.1.0/24", "via", "198.18.2.1"],
        )?;
    }
    if v6 {
        net.exec(
            "client",
            &[
                "ip",
                "-6",
                "route",
                "add",
                "default",
                "via",
                "2001:db8:1::1",
            ],
        )?;
        net.exec(
            "server",
            &[
                "ip",
                "-6",
                "route",
                "add",
                "default",
                "via",
                "2001:db8:3::1",
            ],
        )?;
        net.exec(
            "r1",
            &[
                "ip",
                "-6",
                "route",
                "add",
                "2001:db8:3::/64",
                "via",
                "2001:db8:2::2",
            ],
        )?;
        net.exec(
            "r2",
            &[
                "ip",
                "-6",
                "route",
                "add",
                "2001:db8:1::/64",
                "via",
                "2001:db8:2::1",
            ],
        )?;
    }
    if broken {
        net.exec(
            "r2",
            &["nft", "add table inet noicmp; add chain inet noicmp out { type filter hook output priority 0; }; \
               add rule inet noicmp out icmp type destination-unreachable icmp code frag-needed drop; \
               add rule inet noicmp out icmpv6 type packet-too-big drop"],
        )?;
    }
    let scratch = Scratch::new(tag);
    let files = net.snapshot(&["client", "r1", "r2", "server"], &scratch.0)?;
    let mut measured = Vec::new();
    if v4 {
        measured.push((
            Family::V4,
            measure(&net, "server", "client", "198.18.1.2", 1280)?,
        ));
    }
    if v6 {
        measured.push((
            Family::V6,
            measure(&net, "server", "client", "2001:db8:1::2", 1280)?,
        ));
    }
    for (fam, m) in &measured {
        let expect = if broken {
            (None, true, TransferVerdict::Blackhole)
        } else {
            (Some(1280), true, TransferVerdict::Ok)
        };
        if (m.learned, m.delivered, m.transfer) != expect {
            return Err(format!(
                "hand-built network, {fam}: measured {m:?}, the setup means {expect:?}"
            )
            .into());
        }
    }
    drop(net);
    let t = import(&files, &scratch.0)?;
    let r = run_check(&t)?;
    for (fam, m) in measured {
        same_as_measured(&r, "server", "client", fam, &m)?;
    }
    if !broken && !r.ok {
        return Err(format!(
            "control has violations:\n{}",
            mtulab::report::human(&r, false)
        )
        .into());
    }
    Ok(())
}

/// ```text
///  client --1500-- r1 --1400-- r2 --1500-- server
/// ```
/// r2 carries a real nft ruleset (topologies/rulesets/hardened.nft: only
/// ping passes; `control`: hardened-fixed.nft). Only the routers are
/// snapshotted: client and server come back as synthetic edge hosts.
fn ruleset(broken: bool) -> Result<(), Failed> {
    let tag = if broken { "rs-b" } else { "rs-c" };
    let net = Net::new(tag, &["client", "r1", "r2", "server"])?;
    net.link(
        "client",
        "r1",
        [1500, 1500],
        &[["198.18.1.2/24", "198.18.1.1/24"]],
    )?;
    net.link(
        "r1",
        "r2",
        [1400, 1400],
        &[["198.18.2.1/24", "198.18.2.2/24"]],
    )?;
    net.link(
        "r2",
        "server",
        [1500, 1500],
        &[["198.18.3.1/24", "198.18.3.2/24"]],
    )?;
    net.forward("r1")?;
    net.forward("r2")?;
    net.exec(
        "client",
        &["ip", "route", "add", "default", "via", "198.18.1.1"],
    )?;
    net.exec(
        "server",
        &["ip", "route", "add", "default", "via", "198.18.3.1"],
    )?;
    net.exec(
        "r1",
        &["ip", "route", "add", "198.18.3.0/24", "via", "198.18.2.2"],
    )?;
    net.exec(
        "r2",
        &["ip", "route", "add", "198.18.1.0/24", "via", "198.18.2.1"],
    )?;
    let file = topologies_dir().join("rulesets").join(if broken {
        "hardened.nft"
    } else {
        "hardened-fixed.nft"
    });
    net.exec("r2", &["nft", "-f", &file.to_string_lossy()])?;
    let scratch = Scratch::new(tag);
    let files = net.snapshot(&["r1", "r2"], &scratch.0)?;
    let m = measure(&net, "server", "client", "198.18.1.2", 1400)?;
    let expect = if broken {
        (None, true, TransferVerdict::Blackhole)
    } else {
        (Some(1400), true, TransferVerdict::Ok)
    };
    if (m.learned, m.delivered, m.transfer) != expect {
        return Err(
            format!("hand-built network: measured {m:?}, the setup means {expect:?}").into(),
        );
    }
    drop(net);
    let t = import(&files, &scratch.0)?;
    if !t.topology.filters.iter().any(|f| f.node == "r2") {
        return Err("r2's ruleset was not imported".into());
    }
    // The edge hosts standing in for client and server.
    let edge_on = |router: &str, iface: &str| {
        t.topology
            .links
            .iter()
            .find(|l| l.between[0] == router && l.names[0] == iface)
            .map(|l| l.between[1].clone())
    };
    let (Some(client), Some(server)) = (edge_on("r1", "client"), edge_on("r2", "server")) else {
        return Err(format!(
            "no edge hosts on the routers' outer links: {:?}",
            t.topology.links
        )
        .into());
    };
    let r = run_check(&t)?;
    same_as_measured(&r, &server, &client, Family::V4, &m)?;
    if !broken && !r.ok {
        return Err(format!(
            "control has violations:\n{}",
            mtulab::report::human(&r, false)
        )
        .into());
    }
    Ok(())
}

/// Everything a snapshot could change, as text.
fn state_dump(net: &Net, node: &str) -> Result<String, Failed> {
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
fn busy_net(tag: &str) -> Result<Net, Failed> {
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

fn snapshot_read_only() -> Result<(), Failed> {
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
fn snapshot_unread() -> Result<(), Failed> {
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

/// Violations per (check, subject); per path (from, to, family) its
/// expected PMTU, observed PMTU and transfer verdict.
type Outcome = (
    BTreeSet<(CheckId, Subject)>,
    BTreeMap<(String, String, Family), (u32, Option<u32>, Option<TransferVerdict>)>,
);

/// Per check and path; and per path its verdicts (timings ignored).
fn outcome(r: &Report) -> Outcome {
    let v = r
        .violations
        .iter()
        .map(|v| (v.check, Subject::of(v)))
        .collect();
    let p = r
        .paths
        .iter()
        .map(|p| {
            (
                (p.from.clone(), p.to.clone(), p.family),
                (p.expected_pmtu, p.observed_pmtu, p.transfer),
            )
        })
        .collect();
    (v, p)
}

fn roundtrip(file: &Path) -> Result<(), Failed> {
    let original = harness::load::load_file(file)?;
    let scratch = Scratch::new(&format!("rt-{}", original.topology.name));
    let lab = harness::Lab::build_loaded(&original)?;
    let mut files = Vec::new();
    for (node, ns) in lab.namespaces() {
        let f = scratch.0.join(format!("{node}.json"));
        let o = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                env!("CARGO_BIN_EXE_mtulab"),
                "snapshot",
                "-o",
            ])
            .arg(&f)
            .output()?;
        if !o.status.success() {
            return Err(format!("snapshot of {node} failed: {}", text(&o.stderr)).into());
        }
        files.push(f);
    }
    drop(lab);
    let out = scratch.0.join("imported.toml");
    let o = mtulab()
        .arg("import")
        .args(&files)
        .arg("-o")
        .arg(&out)
        .output()?;
    if !o.status.success() {
        return Err(format!("import failed: {}", text(&o.stderr)).into());
    }
    let warnings = text(&o.stderr);
    let imported = harness::load::load_file(&out)?;
    let (a, b) = (run_check(&original)?, run_check(&imported)?);
    let (oa, ob) = (outcome(&a), outcome(&b));
    if oa != ob {
        return Err(format!(
            "imported file checks differently\noriginal violations: {:?}\nimported violations: {:?}\noriginal paths: {:?}\nimported paths: {:?}\nimport said: {warnings}\n{}",
            oa.0, ob.0, oa.1, ob.1,
            std::fs::read_to_string(&out)?
        )
        .into());
    }
    Ok(())
}

/// `mtulab diff` on two bundled files: exit code, stdout.
fn diff(before: &str, after: &str, format: &str) -> Result<(i32, String), Failed> {
    let d = topologies_dir();
    let o = mtulab()
        .arg("diff")
        .arg(d.join(before))
        .arg(d.join(after))
        .args(["--format", format])
        .output()?;
    Ok((
        o.status.code().unwrap_or(-1),
        text(&o.stdout) + &text(&o.stderr),
    ))
}

fn expect_diff(before: &str, after: &str, code: i32, needles: &[&str]) -> Result<(), Failed> {
    let (c, out) = diff(before, after, "human")?;
    if c != code {
        return Err(format!("exit {c}, expected {code}:\n{out}").into());
    }
    for n in needles {
        if !out.contains(n) {
            return Err(format!("output lacks {n:?}:\n{out}").into());
        }
    }
    Ok(())
}

/// Run `mtulab ARGS` expecting exit 2 and each needle in stderr, with
/// nothing created in `dir`.
fn bad(args: &[&str], needles: &[&str], dir: &Path) -> Result<(), Failed> {
    let before: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    let o = mtulab().args(args).output()?;
    let err = text(&o.stderr);
    if o.status.code() != Some(2) {
        return Err(format!("exit {:?}, expected 2: {err}", o.status.code()).into());
    }
    for n in needles {
        if !err.contains(n) {
            return Err(format!("stderr lacks {n:?}: {err}").into());
        }
    }
    let after: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    if before != after {
        return Err(format!("files were created: {after:?}").into());
    }
    Ok(())
}

fn bad_import() -> Result<(), Failed> {
    let s = Scratch::new("bad-imp");
    let d = &s.0;
    let p = |n: &str| d.join(n).to_string_lossy().into_owned();
    std::fs::write(d.join("junk.json"), "{ not json")?;
    std::fs::write(d.join("other.json"), "{\"schema\": \"something/2\"}")?;
    let out = p("out.toml");
    bad(
        &["import", &p("missing.json"), "-o", &out],
        &["missing.json", "cannot read snapshot"],
        d,
    )?;
    bad(
        &["import", &p("junk.json"), "-o", &out],
        &["junk.json", "not JSON", "line 1"],
        d,
    )?;
    bad(
        &["import", &p("other.json"), "-o", &out],
        &["other.json", "\"something/2\""],
        d,
    )?;
    // Snapshots of one interface each.
    let mk = |addr: &str, stem: &str| -> Result<(), Failed> {
        let text = format!(
            r#"{{"schema":"mtulab-snapshot/1","taken":0,"mtulab":"t","links":[{{"index":2,"name":"eth0","kind":"veth","mtu":1500,"up":true,"oper_state":"up"}}],"addresses":[{{"link":"eth0","address":"{addr}","prefix_len":24,"scope":"universe"}}],"routes":[],"sysctl":{{"net.ipv4.ip_forward":"1"}},"nft":"","iptables":null,"ip6tables":null,"unread":[]}}"#
        );
        std::fs::write(d.join(format!("{stem}.json")), text)?;
        Ok(())
    };
    mk("198.18.1.1", "ra")?;
    mk("198.18.1.2", "rb")?;
    mk("198.18.1.3", "rc")?;
    // Unmappable state: a machine on one LAN twice (rd's eth0 and eth1).
    std::fs::write(
        d.join("rd.json"),
        r#"{"schema":"mtulab-snapshot/1","taken":0,"mtulab":"t","links":[{"index":2,"name":"eth0","kind":"veth","mtu":1500,"up":true,"oper_state":"up"},{"index":3,"name":"eth1","kind":"veth","mtu":1500,"up":true,"oper_state":"up"}],"addresses":[{"link":"eth0","address":"198.18.1.4","prefix_len":24,"scope":"universe"},{"link":"eth1","address":"198.18.1.5","prefix_len":24,"scope":"universe"}],"routes":[],"sysctl":{"net.ipv4.ip_forward":"1"},"nft":"","iptables":null,"ip6tables":null,"unread":[]}"#,
    )?;
    bad(
        &[
            "import",
            &p("ra.json"),
            &p("rb.json"),
            &p("rd.json"),
            "-o",
            &out,
        ],
        &["rd.json", "two interfaces on subnet 198.18.1.0/24"],
        d,
    )?;
    // Three machines on one subnet are a LAN: a segment.
    let o = mtulab()
        .args([
            "import",
            &p("ra.json"),
            &p("rb.json"),
            &p("rc.json"),
            "-o",
            &out,
        ])
        .output()?;
    let written = std::fs::read_to_string(d.join("out.toml")).unwrap_or_default();
    if !o.status.success() || !written.contains("[[segments]]") {
        return Err(format!(
            "three machines on a LAN did not import as a segment: {}",
            text(&o.stderr)
        )
        .into());
    }
    std::fs::remove_file(d.join("out.toml"))?;
    // Its twin maps cleanly and writes the file.
    let o = mtulab()
        .args(["import", &p("ra.json"), &p("rb.json"), "-o", &out])
        .output()?;
    if !o.status.success() || !d.join("out.toml").exists() {
        return Err(format!("the two-machine twin did not import: {}", text(&o.stderr)).into());
    }
    std::fs::remove_file(d.join("out.toml"))?;
    bad(
        &["import", &p("ra.json"), "-o", &p("nodir/out.toml")],
        &["nodir", "does not exist"],
        d,
    )?;
    Ok(())
}

fn bad_snapshot() -> Result<(), Failed> {
    let s = Scratch::new("bad-snap");
    let d = &s.0;
    let nodir = d.join("nodir/x.json").to_string_lossy().into_owned();
    bad(&["snapshot", "-o", &nodir], &["nodir", "does not exist"], d)?;
    bad(
        &["snapshot", "--node", "Bad_Name"],
        &["\"Bad_Name\"", "not a valid node name"],
        d,
    )?;
    Ok(())
}

fn bad_diff() -> Result<(), Failed> {
    let s = Scratch::new("bad-diff");
    let d = &s.0;
    let inv = topologies_dir().join("invalid/mtu_range.toml");
    let good = topologies_dir().join("direct_1500.toml");
    bad(
        &["diff", &good.to_string_lossy(), &inv.to_string_lossy()],
        &["mtu_range.toml:"],
        d,
    )?;
    bad(
        &[
            "diff",
            &d.join("none.toml").to_string_lossy(),
            &good.to_string_lossy(),
        ],
        &["none.toml", "cannot read"],
        d,
    )?;
    if !harness::netns::list_named("mtulab-")
        .iter()
        .all(|n| !n.contains(&format!("-{}-", std::process::id())))
    {
        return Err("a namespace was created".into());
    }
    Ok(())
}

/// ```text
///  storage --9000-- r1 ---lan---[ sw: bridge ]--- nas, pc     (198.18.1.0/24, 198.18.2.0/24)
/// ```
/// A LAN built with plain `ip` commands: a bridge in its own namespace
/// (not snapshotted, like a switch), r1, the NAS and a PC on it. `broken`:
/// r1's LAN port is 9000 (for storage's jumbo frames), the others 1500;
/// `control`: every member at 1500. Measured on the hand-built network: a
/// DF packet of 1505 bytes from storage to the NAS vanishes without ICMP
/// and nothing is learned (broken), or draws r1's frag-needed and storage
/// learns 1500 (control); one of 1500 is answered either way. The imported
/// topology must say the same: a segment whose odd member is r1 and pmtud
/// violated with 9000 learned, or everything holding with 1500 learned.
fn lan(broken: bool) -> Result<(), Failed> {
    let tag = if broken { "lan-b" } else { "lan-c" };
    let net = Net::new(tag, &["storage", "r1", "nas", "pc", "sw"])?;
    net.link(
        "storage",
        "r1",
        [9000, 9000],
        &[["198.18.1.2/24", "198.18.1.1/24"]],
    )?;
    net.exec(
        "sw",
        &[
            "ip",
            "link",
            "add",
            "name",
            "br",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ],
    )?;
    net.exec(
        "sw",
        &["ip", "link", "set", "dev", "br", "mtu", "65535", "up"],
    )?;
    let r1_mtu = if broken { "9000" } else { "1500" };
    for (member, mtu, addr) in [
        ("r1", r1_mtu, "198.18.2.1/24"),
        ("nas", "1500", "198.18.2.2/24"),
        ("pc", "1500", "198.18.2.3/24"),
    ] {
        sh(&[
            "ip",
            "link",
            "add",
            "name",
            "lan",
            "netns",
            &net.ns(member),
            "type",
            "veth",
            "peer",
            "name",
            member,
            "netns",
            &net.ns("sw"),
        ])?;
        net.exec(
            "sw",
            &[
                "ip", "link", "set", member, "mtu", "65535", "master", "br", "up",
            ],
        )?;
        net.exec(member, &["ip", "link", "set", "lan", "mtu", mtu, "up"])?;
        net.exec(member, &["ip", "addr", "add", addr, "dev", "lan"])?;
    }
    net.forward("r1")?;
    net.exec(
        "storage",
        &["ip", "route", "add", "default", "via", "198.18.1.1"],
    )?;
    for host in ["nas", "pc"] {
        net.exec(
            host,
            &["ip", "route", "add", "198.18.1.0/24", "via", "198.18.2.1"],
        )?;
    }
    let scratch = Scratch::new(tag);
    let files = net.snapshot(&["storage", "r1", "nas", "pc"], &scratch.0)?;
    // What the hand-built LAN does.
    let ping = |size: u32| {
        net.exec(
            "storage",
            &[
                "ping",
                "-4",
                "-M",
                "do",
                "-c",
                "2",
                "-i",
                "0.3",
                "-W",
                "1",
                "-s",
                &(size - 28).to_string(),
                "198.18.2.2",
            ],
        )
    };
    net.exec("storage", &["ip", "route", "flush", "cache"])?;
    let at_1500 = ping(1500).is_ok();
    let at_1505 = ping(1505);
    let route = net.exec("storage", &["ip", "-4", "route", "get", "198.18.2.2"])?;
    let learned: Option<u32> = route
        .split_whitespace()
        .skip_while(|w| *w != "mtu")
        .nth(1)
        .and_then(|m| m.parse().ok());
    let silent = match &at_1505 {
        Ok(_) => false,
        Err(e) => {
            let e = format!("{e:?}");
            !e.contains("Frag needed") && !e.contains("mtu")
        }
    };
    let measured = (at_1500, silent, learned);
    let setup_means = if broken {
        (true, true, None)
    } else {
        (true, false, Some(1500))
    };
    if measured != setup_means {
        return Err(format!(
            "hand-built LAN: measured (1500 answered, 1505 silent, learned) = {measured:?}, the setup means {setup_means:?} ({at_1505:?})"
        )
        .into());
    }
    drop(net);
    let t = import(&files, &scratch.0)?;
    if t.topology.segments.len() != 1 {
        return Err(format!("imported {} segments, want 1", t.topology.segments.len()).into());
    }
    let r = run_check(&t)?;
    let human = mtulab::report::human(&r, false);
    let odd_named = r.violations.iter().any(|v| {
        v.check == CheckId::LinkMtuMatch && v.message.contains("segment lan (r1:lan 9000 vs")
    });
    let p = r
        .paths
        .iter()
        .find(|p| p.from == "storage" && p.to == "nas" && p.family == Family::V4)
        .ok_or("no path storage -> nas ipv4 in the report")?;
    let pmtud_violated = r.violations.iter().any(|v| {
        v.check == CheckId::Pmtud
            && v.from.as_deref() == Some("storage")
            && v.to.as_deref() == Some("nas")
            && v.family == Some(Family::V4)
    });
    let agrees = if broken {
        odd_named && pmtud_violated && p.observed_pmtu == Some(9000)
    } else {
        r.ok && p.observed_pmtu == Some(1500)
    };
    if !agrees {
        return Err(format!(
            "measured on the hand-built LAN {measured:?}; the check on the import says otherwise:\n{human}"
        )
        .into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for (name, v4, v6) in [("chain_ipv4", true, false), ("ipv6_only", false, true)] {
        for broken in [true, false] {
            let variant = if broken { "broken" } else { "control" };
            let tag = format!("{}-{}", &name[..4], &variant[..1]);
            trials.push(live(format!("handbuilt::{name}::{variant}"), move || {
                chain(&tag, v4, v6, broken)
            }));
        }
    }
    trials.push(live("handbuilt::nft_ruleset::broken", || ruleset(true)));
    trials.push(live("handbuilt::nft_ruleset::control", || ruleset(false)));
    trials.push(live("handbuilt::lan_mismatched_member::broken", || {
        lan(true)
    }));
    trials.push(live("handbuilt::lan_mismatched_member::control", || {
        lan(false)
    }));
    trials.push(live("snapshot::read_only", snapshot_read_only));
    trials.push(live("snapshot::unread", snapshot_unread));
    let mut files: Vec<PathBuf> = std::fs::read_dir(topologies_dir())
        .expect("topologies/")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    for f in files {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        // Snapshot decodes VXLAN's tunnel parameters only: a scenario with
        // another tunnel kind cannot come back from its snapshots yet.
        let other_kind = mtulab_core::Topology::from_file(&f).ok().and_then(|t| {
            t.tunnels
                .iter()
                .find(|t| t.kind != mtulab_core::topology::TunnelKind::Vxlan)
                .map(|t| t.kind)
        });
        let trial = live(format!("roundtrip::{name}"), move || roundtrip(&f));
        let gap = GAPS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, why)| why.to_string())
            .or_else(|| {
                other_kind.map(|k| {
                    format!("snapshot/import decode VXLAN tunnels only, this file has a {k} tunnel")
                })
            });
        match gap {
            Some(why) => trials.push(
                trial
                    .with_ignored_flag(true)
                    .with_kind(format!("import gap: {why}")),
            ),
            None => trials.push(trial),
        }
    }
    trials.push(live("diff::breaks_drop_icmp", || {
        expect_diff(
            "hidden_smaller_v6.toml",
            "icmp_blackhole_v6.toml",
            1,
            &[
                "INTRODUCED icmp-passes",
                "INTRODUCED pmtud",
                "INTRODUCED tcp-transfer server -> client",
            ],
        )
    }));
    trials.push(live("diff::breaks_lower_one_end", || {
        expect_diff(
            "direct_1500.toml",
            "direct_mismatch.toml",
            1,
            &["INTRODUCED link-mtu-match link 1"],
        )
    }));
    trials.push(live("diff::fixes", || {
        expect_diff(
            "icmp_blackhole_v6.toml",
            "hidden_smaller_v6.toml",
            0,
            &[
                "FIXED      icmp-passes",
                "FIXED      tcp-transfer server -> client",
                "0 introduced",
            ],
        )
    }));
    trials.push(live("diff::identical", || {
        expect_diff(
            "hidden_smaller_v6.toml",
            "hidden_smaller_v6.toml",
            0,
            &["0 introduced, 0 fixed", "(no change)"],
        )
    }));
    trials.push(live("diff::json_and_junit", || {
        let (c, out) = diff("direct_1500.toml", "direct_mismatch.toml", "json")?;
        let v: serde_json::Value = serde_json::from_str(
            out.lines()
                .skip_while(|l| !l.starts_with('{'))
                .collect::<Vec<_>>()
                .join("\n")
                .as_str(),
        )?;
        if c != 1 || v["introduced"][0]["check"] != "link-mtu-match" {
            return Err(format!("json diff: exit {c}: {out}").into());
        }
        let (c, out) = diff("direct_1500.toml", "direct_mismatch.toml", "junit")?;
        let xml_start = out.find("<?xml").ok_or("no xml")?;
        let doc = roxmltree::Document::parse(&out[xml_start..])?;
        let failures = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count();
        if c != 1 || failures == 0 {
            return Err(format!("junit diff: exit {c}, {failures} failures: {out}").into());
        }
        Ok(())
    }));
    trials.push(Trial::test("bad_input::import", bad_import));
    trials.push(Trial::test("bad_input::snapshot", bad_snapshot));
    trials.push(live("bad_input::diff", bad_diff));
    libtest_mimic::run(&args, trials).exit();
}
