//! Shared kit: scratch dirs, hand-made namespaces, `mtulab import`, DF-ping measurements and comparing them with the check's verdicts.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use harness::probe::transfer::TransferVerdict;
use libtest_mimic::Failed;
use mtulab::check::{self, CheckOptions};
use mtulab::report::Report;
use mtulab_core::{CheckId, Family, Loaded};

/// Hand-made namespaces `mlh-TAG-PID-NODE`, deleted on drop (also on panic).
pub(crate) struct Net {
    pub(crate) prefix: String,
    pub(crate) nodes: Vec<String>,
}

impl Net {
    pub(crate) fn new(tag: &str, nodes: &[&str]) -> Result<Net, Failed> {
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
    pub(crate) fn ns(&self, node: &str) -> String {
        format!("{}{node}", self.prefix)
    }
    /// Run a command inside a node; an error with its stderr if it fails.
    pub(crate) fn exec(&self, node: &str, cmd: &[&str]) -> Result<String, Failed> {
        let mut all = vec!["ip", "netns", "exec"];
        let ns = self.ns(node);
        all.push(&ns);
        all.extend_from_slice(cmd);
        sh(&all)
    }
    /// A veth between `a` and `b`: on each the interface is named after the
    /// other; MTUs per end; addresses "A/len" per end (IPv4 and/or IPv6).
    pub(crate) fn link(
        &self,
        a: &str,
        b: &str,
        mtu: [u32; 2],
        addrs: &[[&str; 2]],
    ) -> Result<(), Failed> {
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
    pub(crate) fn forward(&self, node: &str) -> Result<(), Failed> {
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
    pub(crate) fn snapshot(&self, nodes: &[&str], dir: &Path) -> Result<Vec<PathBuf>, Failed> {
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

pub(crate) fn sh(args: &[&str]) -> Result<String, Failed> {
    let o = Command::new(args[0]).args(&args[1..]).output()?;
    if !o.status.success() {
        return Err(format!("{} failed: {}", args.join(" "), text(&o.stderr)).into());
    }
    Ok(text(&o.stdout))
}

/// `mtulab import FILES -o DIR/net.toml`; the topology.
pub(crate) fn import(files: &[PathBuf], dir: &Path) -> Result<Loaded, Failed> {
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
pub(crate) struct Measured {
    /// The PMTU the sender learns after one DF packet of 1500 bytes (None:
    /// nothing learned).
    pub(crate) learned: Option<u32>,
    /// A DF packet of the path's narrowest MTU arrives.
    pub(crate) delivered: bool,
    /// A 1 MiB TCP transfer (harness probe, fresh PMTU cache).
    pub(crate) transfer: TransferVerdict,
}

pub(crate) fn measure(
    net: &Net,
    from: &str,
    to: &str,
    dst: &str,
    narrow: u32,
) -> Result<Measured, Failed> {
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
pub(crate) fn same_as_measured(
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

pub(crate) fn run_check(t: &Loaded) -> Result<Report, Failed> {
    Ok(check::run(t, &CheckOptions::default())?)
}
