//! The static model: what a topology *should* do for Path MTU Discovery,
//! predicted from the topology and its [`Plan`] alone (no kernel). The live
//! probes observe what the kernel does; [`crate::compare`] reports every
//! disagreement.
//!
//! For each ordered host pair and family with a path, [`predict`] gives a
//! [`PathPrediction`]: the path MTU and what sets it (`path`), whether
//! each router's frag-needed / packet-too-big reaches the sender
//! (`icmp`), DF ping outcomes at and just over the path MTU (`ping`),
//! the PMTU the sender learns and the bulk-transfer verdict (`tcp`), and
//! what a user would notice (`findings`); anycast downloads in
//! `anycast`. Anything that depends on what the model cannot know (a
//! real nft/iptables ruleset, timing) is [`Knowable::Unknown`] with the
//! reason. The model assumes fresh state: no PMTU exceptions cached from
//! earlier probes. How it reasons and the kernel behaviour it relies on,
//! measured on 6.18: docs/kernel-behaviour.md.

use std::fmt;
use std::net::IpAddr;

use crate::check_id::CheckId;
use crate::plan::{Hop, Plan};
use crate::topology::{ClampTo, Family, FilterKind, Hook, PmtuIcmp, Topology, Verdict};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

mod anycast;
mod findings;
mod icmp;
mod path;
mod ping;
mod prediction;
mod tcp;

pub use anycast::{predict_anycast, AnycastPrediction};
use icmp::{culprit_fix, culprit_words, ignored_fix};
pub use path::link_mismatches;
use path::{walk, Fate, Frag, Run, DF};
pub use ping::predict_ping;
pub use prediction::*;
use tcp::sysctl_of;

/// Bytes beyond its MTU a veth accepts in a non-GSO packet (`VLAN_HLEN`;
/// docs/kernel-behaviour.md#veth-receive-slack).
pub const VETH_SLACK: u32 = 4;
/// `net.ipv4.route.min_pmtu` default: a smaller frag-needed is cached as a
/// locked 552 (docs/kernel-behaviour.md#below-min_pmtu-a-locked-552).
pub const IPV4_MIN_PMTU: u32 = 552;
/// IPv6 minimum link MTU.
pub const IPV6_MIN_MTU: u32 = 1280;

/// The smallest MSS the kernel sends TCP segments with
/// (`net.ipv4.tcp_min_snd_mss`, default 48, applies to IPv6 too): every
/// data segment is at least this plus the IP and TCP headers (88 bytes over
/// IPv4), so a path MTU below that stalls every bulk transfer, whatever the
/// ICMP does (measured: a 68- and an 80-byte link, `mss 36` = 48 minus the
/// 12-byte timestamp option, blackhole). Fact:
/// docs/kernel-behaviour.md#tcps-minimum-mss.
pub const TCP_MIN_SND_MSS: u32 = 48;
/// Largest ICMPv4 error a Linux router sends (RFC 1812: up to 576 bytes).
const ICMPV4_ERROR_MAX: u32 = 576;
/// IP + ICMP header bytes in front of the quoted packet (v4, v6).
const ICMP_ERROR_HEADER: [u32; 2] = [28, 48];

/// A value the model either knows or cannot know (and why).
/// Serialises as the value itself, or `{"unknown": "reason"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Knowable<T> {
    Known(T),
    Unknown(String),
}

impl<T> Knowable<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Knowable::Known(v) => Some(v),
            Knowable::Unknown(_) => None,
        }
    }

    pub fn as_ref(&self) -> Knowable<&T> {
        match self {
            Knowable::Known(v) => Knowable::Known(v),
            Knowable::Unknown(r) => Knowable::Unknown(r.clone()),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Knowable<U> {
        match self {
            Knowable::Known(v) => Knowable::Known(f(v)),
            Knowable::Unknown(r) => Knowable::Unknown(r),
        }
    }
}

impl<T: Serialize> Serialize for Knowable<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Knowable::Known(v) => v.serialize(s),
            Knowable::Unknown(reason) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("unknown", reason)?;
                m.end()
            }
        }
    }
}

/// Switches for tests of the checks themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelOptions {
    /// Plant a bug on purpose: ignore receiving-end (ingress) MTUs when
    /// computing `path_mtu` and `bottleneck`, so a test can show the
    /// model-vs-kernel comparison catches it. Never set outside such tests.
    pub planted_bug: bool,
}

/// Everything the model predicts for one topology.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    pub topology: String,
    pub link_mismatches: Vec<LinkMismatch>,
    /// Ordered host pairs and families with a path: hosts in name order, IPv4 first.
    pub paths: Vec<PathPrediction>,
    /// Ordered host pairs and families without one (not a violation).
    pub no_path: Vec<NoPath>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoPath {
    pub from: String,
    pub to: String,
    pub family: Family,
}

/// Predict every ordered host pair and family of `topology` (whose plan is `plan`).
pub fn predict(topology: &Topology, plan: &Plan) -> Model {
    predict_with(topology, plan, &ModelOptions::default())
}

/// [`predict`] with test switches.
pub fn predict_with(topology: &Topology, plan: &Plan, options: &ModelOptions) -> Model {
    let mut paths = Vec::new();
    let mut no_path = Vec::new();
    for family in [Family::V4, Family::V6] {
        let ctx = Ctx {
            topology,
            plan,
            options,
            family,
        };
        for from in plan.hosts() {
            for to in plan.hosts() {
                if from == to {
                    continue;
                }
                match ctx.predict_path(from, to) {
                    Some(p) => paths.push(p),
                    None => no_path.push(NoPath {
                        from: from.to_owned(),
                        to: to.to_owned(),
                        family,
                    }),
                }
            }
        }
    }
    Model {
        topology: topology.name.clone(),
        link_mismatches: link_mismatches(topology),
        paths,
        no_path,
    }
}

impl Model {
    pub fn path(&self, from: &str, to: &str, family: Family) -> Option<&PathPrediction> {
        self.paths
            .iter()
            .find(|p| p.from == from && p.to == to && p.family == family)
    }
}

/// Bytes of IP + TCP header the MSS leaves out (v4, v6).
const MSS_OVERHEAD: [u32; 2] = [40, 60];
const ICMP_NAME: [&str; 2] = [
    "ICMP type 3 code 4 (frag-needed)",
    "ICMPv6 type 2 (packet-too-big)",
];
const ICMP_SHORT: [&str; 2] = ["frag-needed", "packet-too-big"];

fn family_index(family: Family) -> usize {
    match family {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

struct Ctx<'a> {
    topology: &'a Topology,
    plan: &'a Plan,
    options: &'a ModelOptions,
    family: Family,
}

impl Ctx<'_> {
    pub(super) fn fi(&self) -> usize {
        family_index(self.family)
    }
}

#[cfg(test)]
mod tests;
