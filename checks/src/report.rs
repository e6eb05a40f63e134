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
    /// The link concerned (0-based, file order), for link-mtu-match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<usize>,
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

pub use human::human;
pub use json::json;
pub use junit::{junit, subject_of};

#[cfg(test)]
mod tests;
