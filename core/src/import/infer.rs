//! From snapshots to a topology: what is joined to what, and what cannot be
//! said in the topology format.
//!
//! - A node per snapshot, named after its `node` field or the file name;
//!   `router = true` when it forwards IPv4 (`net.ipv4.ip_forward = 1`).
//! - Interfaces (veths or devices with a global address; loopback and
//!   `--ignore` ones left out) that share a subnet are joined: two ends make
//!   a `[[links]]` entry with each end's MTU and name as found and the given
//!   addresses. Three or more make a `[[segments]]` entry (a LAN: each
//!   member's MTU and interface name as found, the addresses given).
//!   Several gateways behind one interface whose subnet holds no other
//!   snapshot still need a segment with synthetic hosts: an error, see
//!   `HOOK(segments)`.
//! - An interface whose subnet holds no other snapshotted interface gets a
//!   synthetic edge host on that subnet (the gateway the node's routes use
//!   there, or the first free address) with the interface's MTU.
//! - VXLAN devices whose two ends are both snapshotted become `[[tunnels]]`.
//! - Main-table static routes with a gateway become `routes`; PMTU sysctls
//!   that differ from a fresh namespace's defaults are kept; the nft ruleset
//!   and (legacy) iptables rules are written beside the file as found.
//! - Everything else is an [`ImportError`] (state that changes what the
//!   checks see and cannot be expressed) or a listed warning.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use crate::snapshot::Snapshot;
use crate::topology::{
    Cidr, Family, Filter, FilterKind, Link, Node, PmtuIcmp, Route, Segment, Topology, Tunnel,
    TunnelKind, LAB_RANGES,
};

use super::emit::{self, Notes};
use crate::load::validate::valid_node_name;

mod anycast;
mod filters;
mod links;
mod machines;
mod routes;
mod tunnels;

#[cfg(test)]
use filters::split_host_table;
use links::Joined;
use machines::Interfaces;
use routes::Candidate;
use tunnels::Renumber;

/// One snapshot file, read.
pub struct SnapshotInput {
    /// How to name it in messages (its path).
    pub label: String,
    /// The file name without extension: the node's name unless the
    /// snapshot carries one.
    pub stem: String,
    pub snapshot: Snapshot,
}

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Interface names left out on every node (`--ignore IFACE`).
    pub ignore: Vec<String>,
    /// The topology's name.
    pub name: String,
    /// Ruleset files are named `{ruleset_prefix}{node}.nft` (`.iptables`,
    /// `.ip6tables`), relative to the topology file.
    pub ruleset_prefix: String,
}

/// The result: the file, the ruleset files to write beside it, warnings.
#[derive(Debug, Clone)]
pub struct Imported {
    pub topology: Topology,
    pub toml: String,
    /// (file name relative to the topology file, contents).
    pub rulesets: Vec<(String, String)>,
    /// Also written at the top of the file.
    pub warnings: Vec<String>,
}

/// State that cannot be mapped: the snapshot it is in and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{snapshot}: {message}")]
pub struct ImportError {
    pub snapshot: String,
    pub message: String,
}

fn err<T>(snapshot: &str, message: impl Into<String>) -> Result<T, ImportError> {
    Err(ImportError {
        snapshot: snapshot.to_string(),
        message: message.into(),
    })
}

/// The values a fresh namespace has: PMTU sysctls equal to these are not
/// written (they would change nothing).
pub const PMTU_DEFAULTS: [(&str, &str); 9] = [
    ("net.ipv6.flowlabel_reflect", "0"),
    ("net.ipv4.tcp_mtu_probing", "0"),
    ("net.ipv4.tcp_base_mss", "1024"),
    ("net.ipv4.ip_no_pmtu_disc", "0"),
    ("net.ipv4.route.min_pmtu", "552"),
    ("net.ipv4.route.mtu_expires", "600"),
    ("net.ipv6.route.mtu_expires", "600"),
    ("net.ipv4.fib_multipath_hash_policy", "0"),
    ("net.ipv6.fib_multipath_hash_policy", "0"),
];

/// An interface taken into the topology.
#[derive(Debug, Clone)]
struct Iface {
    node: usize,
    name: String,
    mtu: u32,
    v4: Option<Cidr>,
    v6: Option<Cidr>,
}

impl Iface {
    fn addr(&self, f: Family) -> Option<Cidr> {
        match f {
            Family::V4 => self.v4,
            Family::V6 => self.v6,
        }
    }
}

struct Machine<'a> {
    name: String,
    label: &'a str,
    snap: &'a Snapshot,
    router: bool,
}

fn family_of(a: IpAddr) -> Family {
    if a.is_ipv4() {
        Family::V4
    } else {
        Family::V6
    }
}

/// Import snapshots into one topology.
pub fn import(inputs: &[SnapshotInput], opts: &ImportOptions) -> Result<Imported, ImportError> {
    let mut warnings: Vec<String> = Vec::new();
    let mut notes = Notes::default();
    if inputs.is_empty() {
        return err("import", "no snapshots given");
    }

    let machines = machines::read(inputs, &mut warnings)?;
    // Edge hosts must not take a snapshotted machine's name.
    let used_names: BTreeSet<String> = machines.iter().map(|m| m.name.clone()).collect();

    let Interfaces {
        ifaces,
        vxlans,
        left_out,
        lo_addrs,
    } = machines::interfaces(&machines, opts, &mut warnings)?;
    let routes = routes::candidates(&machines, &left_out, &mut warnings)?;
    let Joined {
        pending,
        pending_segments,
        edges,
    } = links::join(
        &machines,
        &ifaces,
        &routes.candidates,
        &used_names,
        &mut warnings,
    )?;
    let tunnels = tunnels::pair(&machines, &vxlans)?;
    let anycast_entries = anycast::anycast(&machines, &lo_addrs, &mut notes, &mut warnings);

    // Nodes: routers, sysctls.
    let mut topology = Topology {
        name: opts.name.clone(),
        description: format!("imported from {} snapshots", machines.len()),
        anycast: anycast_entries,
        ..Topology::default()
    };
    for m in &machines {
        let sysctl: Vec<(String, String)> = PMTU_DEFAULTS
            .iter()
            .filter_map(|(k, default)| {
                let v = m.snap.sysctl.get(*k)?;
                (v != default).then(|| (k.to_string(), v.clone()))
            })
            .collect();
        let mut note = vec![format!(
            "{}: from {}{}{}",
            m.name,
            m.label,
            m.snap
                .hostname
                .as_ref()
                .map(|h| format!(", host {h}"))
                .unwrap_or_default(),
            format_args!(", taken {}", m.snap.taken)
        )];
        note.push(format!(
            "forwarding: ipv4 {}, ipv6 {}; PMTU sysctls other than the ones below at kernel defaults",
            m.snap.sysctl.get("net.ipv4.ip_forward").map_or("unread", String::as_str),
            m.snap
                .sysctl
                .get("net.ipv6.conf.all.forwarding")
                .map_or("unread", String::as_str)
        ));
        notes.nodes.insert(m.name.clone(), note);
        topology.nodes.insert(
            m.name.clone(),
            Node {
                router: m.router,
                sysctl,
                ..Node::default()
            },
        );
    }
    for e in &edges {
        topology.nodes.insert(e.clone(), Node::default());
        notes.nodes.insert(
            e.clone(),
            vec![format!(
                "{e}: synthetic edge host (not snapshotted), routes automatic"
            )],
        );
    }
    for p in &pending {
        topology.links.push(p.link.clone());
        notes.links.push(p.note.clone());
    }
    for (_, seg, note) in &pending_segments {
        topology.segments.push(seg.clone());
        notes.segments.push(note.clone());
    }
    // The format has no way to switch IPv6 off on a link of 1280 or more.
    let no_v6: Vec<String> = topology
        .links
        .iter()
        .filter(|l| l.addresses6.is_none() && l.mtu.iter().all(|m| *m >= 1280))
        .map(|l| {
            format!(
                "{}:{}-{}:{}",
                l.between[0], l.names[0], l.between[1], l.names[1]
            )
        })
        .collect();
    let mut no_v6 = no_v6;
    no_v6.extend(
        topology
            .segments
            .iter()
            .filter(|s| s.addresses6.is_none() && s.mtu.iter().all(|m| *m >= 1280))
            .map(|s| format!("segment {} ({})", s.name, s.members.join(", "))),
    );
    if !no_v6.is_empty() {
        warnings.push(format!(
            "no IPv6 address in the snapshots on {}, but the lab gives every link of 1280 or more automatic IPv6 (the format cannot switch it off): check with -4 to leave out IPv6 the real network does not have",
            no_v6.join(", ")
        ));
    }
    for (t, note, _) in &tunnels {
        topology.tunnels.push(t.clone());
        notes.tunnels.push(note.clone());
    }

    // Validate the shape before routes (and plan the tunnels' addresses:
    // the format gives them automatic ones).
    let probe = validate(&topology, &notes, false)?;
    let plan = crate::Plan::new(&probe);
    let renumber = tunnels::renumber(&machines, &tunnels, &plan, &mut warnings);
    routes::resolve(
        routes,
        &machines,
        &probe,
        &plan,
        &renumber,
        &mut topology,
        &mut warnings,
    )?;
    let rulesets = filters::rulesets(&machines, opts, &mut topology, &mut notes);

    let mut header = vec![format!(
        "Imported by mtulab import from {} snapshot(s):",
        machines.len()
    )];
    for m in &machines {
        header.push(format!("  {}: {}", m.name, m.label));
    }
    if !opts.ignore.is_empty() {
        header.push(format!(
            "Left out with --ignore: {}",
            opts.ignore.join(", ")
        ));
    }
    if warnings.is_empty() {
        header.push("Warnings: none".to_string());
    } else {
        header.push(format!("Warnings ({}):", warnings.len()));
        for w in &warnings {
            header.push(format!("  - {w}"));
        }
    }
    notes.header = header;
    let checked = validate(&topology, &notes, false)?;
    let toml = emit::toml(&topology, &notes, true);
    Ok(Imported {
        topology: checked,
        toml,
        rulesets,
        warnings,
    })
}

fn parse_cidr(s: &str) -> Option<Cidr> {
    let (a, l) = s.split_once('/')?;
    Some(Cidr {
        addr: a.parse().ok()?,
        prefix_len: l.parse().ok()?,
    })
}

/// Parse the file we would write (without `[[filters]]`: their files do
/// not exist yet): what the format rejects is not expressible.
fn validate(t: &Topology, notes: &Notes, filters: bool) -> Result<Topology, ImportError> {
    let text = emit::toml(t, notes, filters);
    Topology::from_str(&text, Path::new("imported topology")).map_err(|e| ImportError {
        snapshot: "the imported topology".into(),
        message: format!(
            "line {}: {} (state the topology format cannot express)",
            e.line, e.message
        ),
    })
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
