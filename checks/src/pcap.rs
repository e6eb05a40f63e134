//! `mtulab check --pcap DIR`: packet captures of every failing path.
//!
//! The checks run first, uncaptured (their timings stay what they were);
//! then each host pair and family that has a violation is probed again
//! with captures running on every interface its packets cross, both
//! directions' routes, so a reader sees the whole story of that path:
//! the bulk transfer (when `tcp-transfer` ran), DF pings of the path MTU
//! and one byte over it (when `pmtud` ran), and the crafted frag-needed /
//! packet-too-big of each router whose error did not arrive (when
//! `icmp-passes` found one). Every node's PMTU exceptions are flushed
//! first, so the capture starts from what the path does, not from what
//! the checks taught it.
//!
//! One file per interface: `TOPOLOGY.FROM-to-TO.FAMILY.K-NODE.IFACE.pcapng`,
//! K the node's place on the path (0 = the sender).

use std::path::{Path, PathBuf};

use harness::capture::{self, Capture, CaptureOpts};
use harness::probe::{exceptions, icmp_delivery, ping, transfer};
use harness::Lab;
use mtulab_core::plan::path_mtu;
use mtulab_core::{CheckId, Family};

use crate::check::CheckOptions;
use crate::report::Report;

#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    #[error("create capture directory {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Capture(#[from] capture::CaptureError),
    #[error("probe while capturing: {0}")]
    Probe(#[from] harness::probe::error::ProbeError),
}

/// One failing path: who sends to whom, in which family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingPath {
    pub from: String,
    pub to: String,
    pub family: Family,
    /// Routers whose crafted ICMP error did not reach `from`.
    pub lost_icmp: Vec<String>,
}

/// The distinct paths `report` has violations on, in report order.
pub fn failing_paths(report: &Report) -> Vec<FailingPath> {
    let mut out: Vec<FailingPath> = Vec::new();
    for v in &report.violations {
        let (Some(from), Some(to), Some(family)) = (&v.from, &v.to, v.family) else {
            continue;
        };
        if out
            .iter()
            .any(|p| &p.from == from && &p.to == to && p.family == family)
        {
            continue;
        }
        let lost_icmp = report
            .paths
            .iter()
            .filter(|p| &p.from == from && &p.to == to && p.family == family)
            .flat_map(|p| {
                p.icmp
                    .iter()
                    .filter(|i| !i.arrived)
                    .map(|i| i.router.clone())
            })
            .collect();
        out.push(FailingPath {
            from: from.clone(),
            to: to.clone(),
            family,
            lost_icmp,
        });
    }
    out
}

/// Every interface packets of `from -> to` and of the way back cross, as
/// (place on the path, node, interface), forward path first.
pub fn path_interfaces(
    lab: &Lab,
    from: &str,
    to: &str,
    family: Family,
) -> Vec<(usize, String, String)> {
    let mut out: Vec<(usize, String, String)> = Vec::new();
    let mut add = |k: usize, node: &str, iface: &str| {
        if !out.iter().any(|(_, n, i)| n == node && i == iface) {
            out.push((k, node.to_string(), iface.to_string()));
        }
    };
    let fwd = lab.plan().path(from, to, family).unwrap_or_default();
    for (k, h) in fwd.iter().enumerate() {
        add(k, &h.node, &h.out_iface);
        add(k + 1, &h.next, &h.in_iface);
    }
    let back = lab.plan().path(to, from, family).unwrap_or_default();
    let n = back.len();
    for (k, h) in back.iter().enumerate() {
        add(n - k, &h.node, &h.out_iface);
        add(n - k - 1, &h.next, &h.in_iface);
    }
    out.sort_by_key(|(k, _, _)| *k);
    out
}

/// Probe `path` again with captures on all its interfaces and write one
/// pcapng file per interface into `dir`; returns the files written.
pub fn capture_path(
    lab: &Lab,
    topology: &str,
    path: &FailingPath,
    opts: &CheckOptions,
    dir: &Path,
) -> Result<Vec<PathBuf>, PcapError> {
    let (from, to, family) = (path.from.as_str(), path.to.as_str(), path.family);
    let ifaces = path_interfaces(lab, from, to, family);
    let hops = lab.plan().path(from, to, family).unwrap_or_default();
    let expected = path_mtu(&hops).unwrap_or(0);
    exceptions::flush(lab)?;
    let pairs: Vec<(String, String)> = ifaces
        .iter()
        .map(|(_, n, i)| (n.clone(), i.clone()))
        .collect();
    let cap = Capture::start(lab, &pairs, &CaptureOpts::default())?;
    // The capture is stopped and joined on every way out (drop).
    if opts.checks.contains(&CheckId::TcpTransfer) {
        transfer::transfer_hosts(
            lab,
            from,
            to,
            family,
            &transfer::TransferOpts {
                bytes: opts.transfer_bytes,
                ..Default::default()
            },
        )?;
    }
    if opts.checks.contains(&CheckId::Pmtud) && expected > 0 {
        for size in [expected, expected + 1] {
            ping::df_ping_hosts(
                lab,
                from,
                to,
                family,
                size,
                std::time::Duration::from_secs(1),
            )?;
        }
    }
    if opts.checks.contains(&CheckId::IcmpPasses) {
        for router in &path.lost_icmp {
            icmp_delivery::icmp_delivery(lab, router, from, to, family)?;
        }
    }
    let captured = cap.stop();
    std::fs::create_dir_all(dir).map_err(|source| PcapError::Dir {
        path: dir.display().to_string(),
        source,
    })?;
    let mut files = Vec::new();
    for ((k, _, _), c) in ifaces.iter().zip(&captured) {
        let name = format!(
            "{topology}.{from}-to-{to}.{}.{k}-{}.{}.pcapng",
            family.as_str(),
            c.node,
            c.iface
        );
        let file = dir.join(name);
        let comment = format!(
            "mtulab {topology}: {from} -> {to} {}, captured on {}:{} (place {k} on the path)",
            family.as_str(),
            c.node,
            c.iface
        );
        capture::write_pcapng(c, &file, &comment)?;
        files.push(file);
    }
    exceptions::flush(lab)?;
    Ok(files)
}

/// Captures of every failing host-to-host path of `report` into `dir`.
pub fn capture_failing(
    lab: &Lab,
    report: &Report,
    opts: &CheckOptions,
    dir: &Path,
) -> Result<Vec<PathBuf>, PcapError> {
    let mut files = Vec::new();
    // Only host-to-host paths: an anycast download's destination is a
    // shared address, not a node (not captured yet).
    for p in failing_paths(report)
        .into_iter()
        .filter(|p| lab.plan().path(&p.from, &p.to, p.family).is_some())
    {
        files.extend(capture_path(lab, &report.topology, &p, opts, dir)?);
    }
    Ok(files)
}
