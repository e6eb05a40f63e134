//! What the kernel did on one path, as the probes report it: the
//! comparator's input ([`crate::compare`]) and the report's `paths`
//! entries (design.md §5). Typed inside; text only where rendered.

use std::fmt;

use serde::Serialize;

use crate::topology::{Family, Verdict};

/// What became of a DF echo request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PingOutcome {
    /// An echo reply came back: the packet fit the whole path.
    Reply,
    /// A router answered frag-needed / packet-too-big (`mtu`, `from`).
    TooBig,
    /// The sender's own kernel refused it (EMSGSIZE): larger than the
    /// interface MTU or a cached PMTU exception (`mtu`).
    LocalTooBig,
    /// Some other ICMP error came back (unreachable, time exceeded: `from`).
    Unreachable,
    /// Nothing came back before the deadline: the packet or the answer was
    /// dropped — a PMTU blackhole when the packet was too big.
    Silence,
}

impl PingOutcome {
    /// The report's word for it, as serialised: `reply`, `too-big`, …
    pub fn as_str(self) -> &'static str {
        match self {
            PingOutcome::Reply => "reply",
            PingOutcome::TooBig => "too-big",
            PingOutcome::LocalTooBig => "local-too-big",
            PingOutcome::Unreachable => "unreachable",
            PingOutcome::Silence => "silence",
        }
    }
}

impl fmt::Display for PingOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// The per-path summary of design.md §5.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathReport {
    pub from: String,
    pub to: String,
    pub family: Family,
    pub expected_pmtu: u32,
    pub observed_pmtu: Option<u32>,
    /// None when the transfer was not run.
    pub transfer: Option<Verdict>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_seconds: Option<f64>,
    /// DF ping of exactly `expected_pmtu` bytes (the pmtud check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping_at_pmtu: Option<PingReport>,
    /// DF ping of `expected_pmtu + 1` bytes: what PMTUD has to work with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping_over_pmtu: Option<PingReport>,
    /// Per router on the path: whether its crafted frag-needed /
    /// packet-too-big reached the sender (the icmp-passes check).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub icmp: Vec<IcmpReport>,
}

impl PathReport {
    /// A path about to be probed: nothing observed yet.
    pub fn new(from: &str, to: &str, family: Family, expected_pmtu: u32) -> PathReport {
        PathReport {
            from: from.into(),
            to: to.into(),
            family,
            expected_pmtu,
            observed_pmtu: None,
            transfer: None,
            transfer_seconds: None,
            ping_at_pmtu: None,
            ping_over_pmtu: None,
            icmp: Vec::new(),
        }
    }
}

/// One DF ping as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PingReport {
    /// Whole IP packet size.
    pub size: u32,
    pub outcome: PingOutcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// The node that answered (its address when it is not a lab node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

impl fmt::Display for PingReport {
    /// `1201: too-big 1200 from router-a`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.size, self.outcome)?;
        if let Some(m) = self.mtu {
            write!(f, " {m}")?;
        }
        if let (Some(n), true) = (&self.from, self.outcome != PingOutcome::Reply) {
            write!(f, " from {n}")?;
        }
        Ok(())
    }
}

/// Whether one router's ICMP error reached the path's sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IcmpReport {
    pub router: String,
    pub arrived: bool,
}
