//! What a check run found, and its three renderings: human (a line per
//! check and path, colour on a TTY, a summary), JSON (design.md §5) and
//! JUnit XML for CI systems.

use std::path::PathBuf;

use serde::Serialize;

use harness::probe::anycast::AnycastFlow;
pub use mtulab_core::observe::{IcmpReport, PathReport, PingReport};
use mtulab_core::{CheckId, Family};

/// One broken rule or model/kernel disagreement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub check: CheckId,
    /// What is wrong and what a user would see.
    pub message: String,
    /// How to fix it, when there is a fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    /// For link-mtu-match on a `[[links]]` entry: its number N, as in the
    /// messages' `link N` (1-based, file order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<usize>,
    /// For link-mtu-match on a `[[segments]]` entry: its name, as in the
    /// messages' `segment NAME`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// For link-mtu-match on a `[[tunnels]]` entry: its number K, as in the
    /// messages' `tunnel K` (1-based, file order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<usize>,
}

/// One check on one subject (a link set, or a path in one family).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckLine {
    pub check: CheckId,
    /// "links", or "server -> client ipv4".
    pub subject: String,
    pub holds: bool,
    /// What was measured, in a few words.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub topology: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    pub ok: bool,
    pub violations: Vec<Violation>,
    pub paths: Vec<PathReport>,
    pub checks: Vec<CheckLine>,
    /// Host pairs with no path in a family (not a violation).
    pub no_path: Vec<String>,
    /// With --expect: how the outcome differs from the file's `[expect]`
    /// (empty: as expected). None without --expect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_mismatches: Option<Vec<String>>,
    pub seconds: f64,
    /// Per-flow tables of downloads from `[[anycast]]` addresses (absent
    /// when the topology has none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anycast: Vec<AnycastReport>,
    /// Why the topology could not be built on this kernel (a tunnel kind
    /// it lacks): nothing was checked. Neither a pass (`ok` is false) nor
    /// a violation (`violations` is empty). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<String>,
    /// With `--pcap DIR`: the pcapng files written for the failing paths.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub captures: Vec<String>,
    /// Routers that clamp the TCP MSS ("router-a (pmtu)"), for the summary
    /// that tells a TCP-only fix from a PMTUD fix (not in JSON: the
    /// topology says it).
    #[serde(skip)]
    pub mss_clamps: Vec<String>,
}

/// Downloads from one anycast address to one client, in one family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnycastReport {
    pub address: String,
    pub family: Family,
    pub client: String,
    pub members: Vec<String>,
    /// Routers with a multipath route to the address and their hash policy.
    pub ecmp: Vec<(String, u32)>,
    /// Flows that did not complete promptly.
    pub stalled: usize,
    /// The model's per-flow prediction: "ok", "blackhole", or `{"unknown": why}`.
    pub predicted: serde_json::Value,
    pub flows: Vec<AnycastFlow>,
}

impl Report {
    /// A report with nothing checked yet.
    pub fn empty(topology: &str) -> Report {
        Report {
            topology: topology.into(),
            file: None,
            ok: true,
            violations: Vec::new(),
            paths: Vec::new(),
            checks: Vec::new(),
            no_path: Vec::new(),
            expect_mismatches: None,
            seconds: 0.0,
            anycast: Vec::new(),
            unsupported: None,
            captures: Vec::new(),
            mss_clamps: Vec::new(),
        }
    }

    /// The report of a topology this kernel cannot build: no checks ran.
    /// Neither a pass (`ok` is false) nor a violation (none listed).
    pub fn unsupported(topology: &str, file: Option<PathBuf>, reason: String) -> Report {
        Report {
            file,
            ok: false,
            unsupported: Some(reason),
            ..Report::empty(topology)
        }
    }

    /// The distinct check ids that have violations, sorted.
    pub fn violated_checks(&self) -> Vec<CheckId> {
        let mut ids: Vec<CheckId> = self.violations.iter().map(|v| v.check).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

mod human;
mod json;
mod junit;

pub use human::{human, tcp_fixed_pmtud_not};
pub use json::json;
pub use junit::{junit, subject_of};

#[cfg(test)]
mod tests;
