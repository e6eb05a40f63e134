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

fn in_lab(c: &Cidr) -> bool {
    LAB_RANGES
        .iter()
        .any(|r| r.addr.is_ipv4() == c.addr.is_ipv4() && r.contains(c.addr))
}

fn family_of(a: IpAddr) -> Family {
    if a.is_ipv4() {
        Family::V4
    } else {
        Family::V6
    }
}

fn family_of_str(f: &str) -> Family {
    if f == "ipv6" {
        Family::V6
    } else {
        Family::V4
    }
}

fn is_link_local(a: IpAddr) -> bool {
    match a {
        IpAddr::V6(v) => (v.segments()[0] & 0xffc0) == 0xfe80,
        IpAddr::V4(v) => v.is_link_local(),
    }
}

/// Union-find over interface indexes.
fn find(parent: &mut [usize], i: usize) -> usize {
    let mut r = i;
    while parent[r] != r {
        r = parent[r];
    }
    parent[i] = r;
    r
}

/// A free host address on `net` (network address with prefix), not in
/// `taken`: the first usable one.
fn free_address(net: &Cidr, taken: &BTreeSet<IpAddr>) -> Option<Cidr> {
    let bits = if net.addr.is_ipv4() { 32 } else { 128 };
    let host_bits = bits - u32::from(net.prefix_len);
    if host_bits == 0 {
        return None;
    }
    let base: u128 = match net.addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    };
    let size: u128 = if host_bits >= 127 {
        u128::MAX
    } else {
        1u128 << host_bits
    };
    // /31 and /127 use both addresses; IPv4 otherwise skips network and
    // broadcast, IPv6 the subnet-router anycast address (::0).
    let (first, last) = if host_bits == 1 {
        (0, 1)
    } else if net.addr.is_ipv4() {
        (1, size - 2)
    } else {
        (1, size.saturating_sub(1).min(1 << 16))
    };
    (first..=last).find_map(|off| {
        let v = base + off;
        let addr = match net.addr {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(v as u32)),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(v)),
        };
        (!taken.contains(&addr)).then_some(Cidr {
            addr,
            prefix_len: net.prefix_len,
        })
    })
}

/// Each end of a tunnel: (machine index, interface name).
type TunnelEnds = [(usize, String); 2];

/// A route worth importing, before gateways are checked.
struct Candidate {
    node: usize,
    to: Cidr,
    via: IpAddr,
    dev: Option<String>,
}

/// Import snapshots into one topology.
pub fn import(inputs: &[SnapshotInput], opts: &ImportOptions) -> Result<Imported, ImportError> {
    let mut warnings: Vec<String> = Vec::new();
    let mut notes = Notes::default();
    if inputs.is_empty() {
        return err("import", "no snapshots given");
    }

    // Machines.
    let mut machines: Vec<Machine> = Vec::new();
    for inp in inputs {
        let name = inp
            .snapshot
            .node
            .clone()
            .unwrap_or_else(|| inp.stem.clone());
        if !valid_node_name(&name) {
            return err(
                &inp.label,
                format!(
                    "node name {name:?} (from {}) is not a valid node name ([a-z][a-z0-9-]{{0,14}}); \
                     rename the file or take the snapshot with --node NAME",
                    if inp.snapshot.node.is_some() { "its \"node\" key" } else { "the file name" }
                ),
            );
        }
        if let Some(other) = machines.iter().find(|m| m.name == name) {
            return err(
                &inp.label,
                format!("node name {name:?} is also the name of {}", other.label),
            );
        }
        let forwarding = |k: &str| inp.snapshot.sysctl.get(k).map(String::as_str);
        let router = match forwarding("net.ipv4.ip_forward") {
            Some("1") => true,
            Some(_) => false,
            None => {
                warnings.push(format!(
                    "{}: net.ipv4.ip_forward was not read: {name} imported as a host",
                    inp.label
                ));
                false
            }
        };
        let v6fwd = forwarding("net.ipv6.conf.all.forwarding") == Some("1");
        if v6fwd != router && forwarding("net.ipv6.conf.all.forwarding").is_some() {
            warnings.push(format!(
                "{}: IPv4 forwarding {} but IPv6 forwarding {}: the format's router = {router} applies to both families",
                inp.label,
                if router { "on" } else { "off" },
                if v6fwd { "on" } else { "off" }
            ));
        }
        for u in &inp.snapshot.unread {
            warnings.push(format!(
                "{}: the snapshot could not read {} ({}): the lab may differ there",
                inp.label, u.what, u.reason
            ));
        }
        machines.push(Machine {
            name,
            label: &inp.label,
            snap: &inp.snapshot,
            router,
        });
    }
    // Edge hosts must not take a snapshotted machine's name.
    let used_names: BTreeSet<String> = machines.iter().map(|m| m.name.clone()).collect();

    // Interfaces.
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut vxlans: Vec<(usize, String)> = Vec::new();
    let mut left_out: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut lo_addrs: Vec<(usize, Cidr)> = Vec::new();
    for (mi, m) in machines.iter().enumerate() {
        for l in &m.snap.links {
            let globals: Vec<Cidr> = m
                .snap
                .addresses
                .iter()
                .filter(|a| a.link == l.name && a.scope == "universe")
                .map(|a| Cidr {
                    addr: a.address,
                    prefix_len: a.prefix_len,
                })
                .collect();
            if l.name == "lo" {
                // Service addresses: anycast when several snapshots share one.
                lo_addrs.extend(globals.iter().map(|a| (mi, *a)));
                left_out.insert((mi, l.name.clone()));
                continue;
            }
            if opts.ignore.contains(&l.name) {
                left_out.insert((mi, l.name.clone()));
                continue;
            }
            if !l.up {
                warnings.push(format!(
                    "{}: interface {} is down: left out",
                    m.label, l.name
                ));
                left_out.insert((mi, l.name.clone()));
                continue;
            }
            if let Some(master) = &l.master {
                warnings.push(format!(
                    "{}: interface {} is a port of {master}: left out (the {master} carries its traffic)",
                    m.label, l.name
                ));
                left_out.insert((mi, l.name.clone()));
                continue;
            }
            match l.kind.as_deref() {
                None | Some("veth") => {}
                Some("vxlan") => {
                    vxlans.push((mi, l.name.clone()));
                    continue;
                }
                Some(kind) => {
                    if globals.is_empty() {
                        warnings.push(format!(
                            "{}: interface {} ({kind}) has no address: left out",
                            m.label, l.name
                        ));
                        left_out.insert((mi, l.name.clone()));
                        continue;
                    }
                    // HOOK(segments): a bridge with members is a segment.
                    let why = if kind == "bridge" {
                        "a bridge is a multi-access LAN, which needs [[segments]] (not written by this version)"
                    } else {
                        "the topology format has no interfaces of this kind"
                    };
                    return err(
                        m.label,
                        format!(
                            "interface {} is a {kind} with address {}: {why}; leave it out with --ignore {}",
                            l.name, globals[0], l.name
                        ),
                    );
                }
            }
            let mut iface = Iface {
                node: mi,
                name: l.name.clone(),
                mtu: l.mtu,
                v4: None,
                v6: None,
            };
            for a in &globals {
                if !in_lab(a) {
                    return err(
                        m.label,
                        format!(
                            "address {a} on {} is outside the lab ranges (198.18.0.0/15, 2001:db8::/32): \
                             the topology format takes only those; renumber, or leave the interface out with --ignore {}",
                            l.name, l.name
                        ),
                    );
                }
                let slot = if a.addr.is_ipv4() {
                    &mut iface.v4
                } else {
                    &mut iface.v6
                };
                match slot {
                    None => *slot = Some(*a),
                    Some(first) => warnings.push(format!(
                        "{}: {} has a second address {a} besides {first}: only the first is imported",
                        m.label, l.name
                    )),
                }
            }
            if iface.v4.is_none() && iface.v6.is_none() {
                warnings.push(format!(
                    "{}: interface {} has no global address: left out (nothing says what it connects to)",
                    m.label, l.name
                ));
                left_out.insert((mi, l.name.clone()));
                continue;
            }
            ifaces.push(iface);
        }
    }

    // Routes worth importing (main table, unicast, not the kernel's own),
    // collected first: their gateways name the edge hosts' addresses.
    let mut candidates: Vec<Candidate> = Vec::new();
    // (node, family) whose routes stay automatic, with the snapshot and why.
    let mut auto_routed: BTreeMap<(String, Family), (String, String)> = BTreeMap::new();
    for (mi, m) in machines.iter().enumerate() {
        let mut other_tables: BTreeMap<u32, usize> = BTreeMap::new();
        let mut routes: Vec<&crate::snapshot::Route> = m.snap.routes.iter().collect();
        routes.sort_by_key(|r| r.metric.unwrap_or(0));
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for r in routes {
            if r.table == 255 {
                continue; // local/broadcast routes: the kernel's, from the addresses
            }
            if r.table != 254 {
                *other_tables.entry(r.table).or_default() += 1;
                continue;
            }
            if r.protocol == "kernel" && r.nexthops.is_empty() && r.via.is_none() {
                continue; // connected routes: they come with the addresses
            }
            if r.kind == "multicast" {
                continue;
            }
            let what = format!("route to {} ({})", r.to, r.family);
            if r.kind != "unicast" {
                warnings.push(format!(
                    "{}: {what} of type {} left out: the format has only unicast routes",
                    m.label, r.kind
                ));
                continue;
            }
            if !r.nexthops.is_empty() {
                // HOOK(multipath): given routes have no multipath form yet.
                let hops: Vec<String> = r
                    .nexthops
                    .iter()
                    .map(|h| {
                        format!(
                            "{} dev {}",
                            h.via.map_or("-".to_string(), |v| v.to_string()),
                            h.dev.as_deref().unwrap_or("-")
                        )
                    })
                    .collect();
                auto_routed
                    .entry((m.name.clone(), family_of_str(&r.family)))
                    .or_insert_with(|| {
                        (
                            m.label.to_string(),
                            format!(
                                "it has a multipath {what} via {} and given routes have no multipath form yet",
                                hops.join(", ")
                            ),
                        )
                    });
                continue;
            }
            let Some(via) = r.via else {
                warnings.push(format!(
                    "{}: {what} dev {} has no gateway: left out (given routes need a gateway)",
                    m.label,
                    r.dev.as_deref().unwrap_or("-")
                ));
                continue;
            };
            if is_link_local(via) {
                warnings.push(format!(
                    "{}: {what} via link-local {via} left out: given routes need the peer's global address",
                    m.label
                ));
                continue;
            }
            if let Some(dev) = &r.dev {
                if left_out.contains(&(mi, dev.clone())) {
                    warnings.push(format!(
                        "{}: {what} via {via} dev {dev} left out with its interface",
                        m.label
                    ));
                    continue;
                }
            }
            if let Some(mtu) = r.mtu {
                warnings.push(format!(
                    "{}: {what} has mtu {mtu}: route MTUs are not expressible; the route is imported without it",
                    m.label
                ));
            }
            let Some(to) = parse_cidr(&r.to) else {
                return err(m.label, format!("{what}: {:?} is not a network", r.to));
            };
            if !seen.insert(r.to.clone()) {
                warnings.push(format!(
                    "{}: a second {what} via {via} (metric {}) left out: one route per destination",
                    m.label,
                    r.metric.unwrap_or(0)
                ));
                continue;
            }
            candidates.push(Candidate {
                node: mi,
                to,
                via,
                dev: r.dev.clone(),
            });
        }
        for (table, n) in other_tables {
            if table == 253 && n == 0 {
                continue;
            }
            warnings.push(format!(
                "{}: {n} routes of table {table} left out: policy routing tables (and ip rules) are not expressible",
                m.label
            ));
        }
    }

    // Join interfaces that share a subnet.
    let mut parent: Vec<usize> = (0..ifaces.len()).collect();
    let mut by_net: BTreeMap<Cidr, usize> = BTreeMap::new();
    for (i, iface) in ifaces.iter().enumerate() {
        for net in [iface.v4, iface.v6].into_iter().flatten() {
            match by_net.get(&net.network()) {
                Some(&j) => {
                    let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    by_net.insert(net.network(), i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..ifaces.len() {
        let r = find(&mut parent, i);
        groups.entry(r).or_default().push(i);
    }
    let describe = |i: &Iface| format!("{}:{}", machines[i.node].name, i.name);
    // Nodes with at least one interface shared with another snapshot.
    let mut joined_nodes: BTreeSet<usize> = BTreeSet::new();
    for members in groups.values() {
        if members.len() >= 2 {
            for &i in members {
                joined_nodes.insert(ifaces[i].node);
            }
        }
    }

    struct PendingLink {
        key: Cidr,
        link: Link,
        note: Vec<String>,
    }
    let mut pending: Vec<PendingLink> = Vec::new();
    let mut pending_segments: Vec<(Cidr, Segment, Vec<String>)> = Vec::new();
    let mut edge_no = 0;
    let mut edges: Vec<String> = Vec::new();
    for members in groups.values() {
        let first = &ifaces[members[0]];
        let key = first
            .v4
            .or(first.v6)
            .expect("an interface has an address")
            .network();
        match members.len() {
            1 => {
                let i = first;
                let m = &machines[i.node];
                if !m.router && joined_nodes.contains(&i.node) {
                    warnings.push(format!(
                        "{}: {} ({}) has no other snapshotted machine on its subnet and {} does not forward: left out (an edge host there would reach nothing)",
                        m.label, i.name, key, m.name
                    ));
                    continue;
                }
                // The edge takes the gateway the node's routes use there.
                let mut link_addrs: [Option<[Cidr; 2]>; 2] = [None, None];
                for (slot, fam) in [(0, Family::V4), (1, Family::V6)] {
                    let Some(own) = i.addr(fam) else { continue };
                    let gws: BTreeSet<IpAddr> = candidates
                        .iter()
                        .filter(|c| c.node == i.node && own.network().contains(c.via))
                        .map(|c| c.via)
                        .collect();
                    if gws.len() > 1 {
                        // HOOK(segments): several machines behind one interface.
                        let list: Vec<String> = gws.iter().map(|g| g.to_string()).collect();
                        return err(
                            m.label,
                            format!(
                                "{}: routes use {} gateways on {} ({}): several machines on one subnet need [[segments]] (not written by this version)",
                                i.name,
                                gws.len(),
                                own.network(),
                                list.join(", ")
                            ),
                        );
                    }
                    let edge_addr = match gws.iter().next() {
                        Some(g) => Cidr {
                            addr: *g,
                            prefix_len: own.prefix_len,
                        },
                        None => {
                            let taken: BTreeSet<IpAddr> = [own.addr].into();
                            match free_address(&own.network(), &taken) {
                                Some(a) => a,
                                None => {
                                    return err(
                                        m.label,
                                        format!(
                                            "{}: subnet {} has no room for an edge host's address",
                                            i.name,
                                            own.network()
                                        ),
                                    )
                                }
                            }
                        }
                    };
                    link_addrs[slot] = Some([own, edge_addr]);
                }
                let edge = loop {
                    edge_no += 1;
                    let n = format!("edge{edge_no}");
                    if !used_names.contains(&n) {
                        break n;
                    }
                };
                edges.push(edge.clone());
                let nets: Vec<String> = [i.v4, i.v6]
                    .into_iter()
                    .flatten()
                    .map(|c| c.network().to_string())
                    .collect();
                pending.push(PendingLink {
                    key,
                    link: Link {
                        between: [m.name.clone(), edge.clone()],
                        mtu: [i.mtu, i.mtu],
                        names: [i.name.clone(), m.name.clone()],
                        addresses: link_addrs[0],
                        addresses6: link_addrs[1],
                    },
                    note: vec![format!(
                        "{}:{} ({}) to synthetic edge host {edge} on {}: no other snapshot has this subnet",
                        m.name,
                        i.name,
                        m.label,
                        nets.join(", ")
                    )],
                });
            }
            2 => {
                let (a, b) = (&ifaces[members[0]], &ifaces[members[1]]);
                if a.node == b.node {
                    return err(
                        machines[a.node].label,
                        format!(
                            "{} and {} are on the same subnet {key}: a link from a node to itself is not expressible",
                            a.name, b.name
                        ),
                    );
                }
                let mut addrs: [Option<[Cidr; 2]>; 2] = [None, None];
                for (slot, fam) in [(0, Family::V4), (1, Family::V6)] {
                    match (a.addr(fam), b.addr(fam)) {
                        (Some(x), Some(y)) => {
                            if x.network() != y.network() {
                                return err(
                                    machines[a.node].label,
                                    format!(
                                        "{} ({x}) and {}'s {} ({y}) share one subnet but not the other family's: not expressible",
                                        describe(a),
                                        machines[b.node].name,
                                        b.name
                                    ),
                                );
                            }
                            addrs[slot] = Some([x, y]);
                        }
                        (None, None) => {}
                        (Some(x), None) | (None, Some(x)) => {
                            let (has, lacks) = if a.addr(fam).is_some() {
                                (a, b)
                            } else {
                                (b, a)
                            };
                            warnings.push(format!(
                                "{}: {} has {x} but {} ({}) has no {} address there: {} left out on this link",
                                machines[has.node].label,
                                describe(has),
                                describe(lacks),
                                machines[lacks.node].label,
                                fam.as_str(),
                                fam.as_str()
                            ));
                        }
                    }
                }
                let nets: Vec<String> = addrs
                    .iter()
                    .flatten()
                    .map(|p| p[0].network().to_string())
                    .collect();
                pending.push(PendingLink {
                    key,
                    link: Link {
                        between: [machines[a.node].name.clone(), machines[b.node].name.clone()],
                        mtu: [a.mtu, b.mtu],
                        names: [a.name.clone(), b.name.clone()],
                        addresses: addrs[0],
                        addresses6: addrs[1],
                    },
                    note: vec![format!(
                        "{} ({}) <-> {} ({}): {}",
                        describe(a),
                        machines[a.node].label,
                        describe(b),
                        machines[b.node].label,
                        nets.join(", ")
                    )],
                });
            }
            n => {
                // Three or more machines on one subnet: a LAN segment.
                let mut seen_nodes = BTreeSet::new();
                for &i in members.iter() {
                    if !seen_nodes.insert(ifaces[i].node) {
                        let m = &machines[ifaces[i].node];
                        return err(
                            m.label,
                            format!(
                                "{} has two interfaces on subnet {key}: a node on a segment twice is not expressible",
                                m.name
                            ),
                        );
                    }
                }
                let of = |i: usize| &ifaces[members[i]];
                let mut addrs: [Option<Vec<Cidr>>; 2] = [None, None];
                for (slot, fam) in [(0, Family::V4), (1, Family::V6)] {
                    let found: Vec<Option<Cidr>> = (0..n).map(|i| of(i).addr(fam)).collect();
                    if found.iter().all(Option::is_none) {
                        continue;
                    }
                    let nets: BTreeSet<Cidr> = found.iter().flatten().map(Cidr::network).collect();
                    if nets.len() > 1 {
                        return err(
                            machines[first.node].label,
                            format!(
                                "the members of the LAN on {key} share one subnet but not the other family's ({}): not expressible",
                                nets.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                            ),
                        );
                    }
                    if let Some(k) = found.iter().position(Option::is_none) {
                        warnings.push(format!(
                            "{}: {} has no {} address on the LAN {key}: {} left out on this segment",
                            machines[of(k).node].label,
                            describe(of(k)),
                            fam.as_str(),
                            fam.as_str()
                        ));
                        continue;
                    }
                    addrs[slot] = Some(found.into_iter().flatten().collect());
                }
                let segment = Segment {
                    name: format!("lan{}", pending_segments.len() + 1),
                    members: (0..n).map(|i| machines[of(i).node].name.clone()).collect(),
                    mtu: (0..n).map(|i| of(i).mtu).collect(),
                    names: (0..n).map(|i| of(i).name.clone()).collect(),
                    addresses: addrs[0].clone(),
                    addresses6: addrs[1].clone(),
                };
                let list: Vec<String> = (0..n)
                    .map(|i| format!("{} ({})", describe(of(i)), machines[of(i).node].label))
                    .collect();
                let nets: Vec<String> = addrs
                    .iter()
                    .flatten()
                    .map(|p| p[0].network().to_string())
                    .collect();
                pending_segments.push((
                    key,
                    segment,
                    vec![format!(
                        "a LAN of {n} snapshotted interfaces on {}: {}",
                        nets.join(", "),
                        list.join(", ")
                    )],
                ));
            }
        }
    }
    // File order by subnet: a lab mtulab built numbers its links in
    // subnet order, so its links come back in their own order.
    pending.sort_by_key(|p| p.key);
    pending_segments.sort_by_key(|p| p.0);
    // A LAN is named after its members' interface when they all share one
    // that makes a segment name (mtulab's own labs name a segment's member
    // interfaces after it), else `lanK` in subnet order.
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (k, (_, seg, _)) in pending_segments.iter_mut().enumerate() {
        let shared = seg.names.first().filter(|n| {
            seg.names.iter().all(|m| m == *n) && valid_node_name(n) && !used.contains(*n)
        });
        seg.name = match shared {
            Some(n) => n.clone(),
            None => format!("lan{}", k + 1),
        };
        used.insert(seg.name.clone());
    }

    // Tunnels: a VXLAN device whose remote is another snapshot's local.
    let mut tunnels: Vec<(Tunnel, Vec<String>, TunnelEnds)> = Vec::new();
    let mut paired: BTreeSet<(usize, String)> = BTreeSet::new();
    for (mi, name) in &vxlans {
        if paired.contains(&(*mi, name.clone())) {
            continue;
        }
        let m = &machines[*mi];
        let link = m.snap.link(name).expect("listed");
        let vx = link.vxlan.as_ref();
        let (Some(local), Some(remote)) = (vx.and_then(|v| v.local), vx.and_then(|v| v.remote))
        else {
            return err(
                m.label,
                format!("vxlan {name} has no local and remote address (multicast or learning VXLAN): only point-to-point tunnels are expressible"),
            );
        };
        let vni = vx.map_or(0, |v| v.vni);
        let other = vxlans.iter().find(|(oj, oname)| {
            let ol = machines[*oj]
                .snap
                .link(oname)
                .and_then(|l| l.vxlan.as_ref());
            (*oj != *mi)
                && ol.is_some_and(|o| {
                    o.vni == vni && o.local == Some(remote) && o.remote == Some(local)
                })
        });
        let Some((oj, oname)) = other else {
            return err(
                m.label,
                format!(
                    "vxlan {name} (vni {vni}, local {local}, remote {remote}): no snapshot has its other end; import both ends or leave it out with --ignore {name}"
                ),
            );
        };
        paired.insert((*mi, name.clone()));
        paired.insert((*oj, oname.clone()));
        let om = &machines[*oj];
        let omtu = om.snap.link(oname).map_or(0, |l| l.mtu);
        tunnels.push((
            Tunnel {
                between: [m.name.clone(), om.name.clone()],
                underlay: family_of(local),
                mtu: Some([link.mtu, omtu]),
                names: [name.clone(), oname.clone()],
                kind: TunnelKind::Vxlan,
            },
            vec![format!(
                "vxlan vni {vni}: {}:{name} ({}) <-> {}:{oname} ({}), underlay {local} <-> {remote}",
                m.name, m.label, om.name, om.label
            )],
            [(*mi, name.clone()), (*oj, oname.clone())],
        ));
    }

    // Anycast: a service address on the loopback of several hosts.
    let mut by_addr: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
    for (mi, a) in &lo_addrs {
        if a.addr.is_loopback() {
            continue;
        }
        by_addr.entry(a.addr).or_default().push(*mi);
    }
    let mut groups_by_members: BTreeMap<Vec<String>, (Vec<Ipv4Addr>, Vec<Ipv6Addr>)> =
        BTreeMap::new();
    for (addr, members) in &by_addr {
        let names: Vec<String> = members.iter().map(|&i| machines[i].name.clone()).collect();
        let routers: Vec<&str> = members
            .iter()
            .filter(|&&i| machines[i].router)
            .map(|&i| machines[i].name.as_str())
            .collect();
        if members.len() < 2 || !routers.is_empty() {
            let why = if members.len() < 2 {
                "no other snapshot serves it (anycast needs two or more hosts)".to_string()
            } else {
                format!(
                    "anycast members must be hosts, {} forwards",
                    routers.join(", ")
                )
            };
            for &i in members {
                warnings.push(format!(
                    "{}: address {addr} on lo left out: {why}",
                    machines[i].label
                ));
            }
            continue;
        }
        let entry = groups_by_members.entry(names).or_default();
        match addr {
            IpAddr::V4(a) => entry.0.push(*a),
            IpAddr::V6(a) => entry.1.push(*a),
        }
    }
    let mut anycast_entries = Vec::new();
    for (members, (v4, v6)) in &groups_by_members {
        for k in 0..v4.len().max(v6.len()) {
            anycast_entries.push(crate::topology::Anycast {
                address: v4.get(k).copied(),
                address6: v6.get(k).copied(),
                nodes: members.clone(),
            });
            notes.anycast.push(vec![format!(
                "on lo of {} (their snapshots), served by each",
                members.join(", ")
            )]);
        }
    }

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
    let mut renumber: BTreeMap<IpAddr, IpAddr> = BTreeMap::new();
    let mut renumber_net: BTreeMap<Cidr, Cidr> = BTreeMap::new();
    for (t, _, ends) in &tunnels {
        for (mi, name) in ends {
            let m = &machines[*mi];
            let planned = plan.node(&m.name).and_then(|n| n.iface(name));
            for a in m
                .snap
                .addresses
                .iter()
                .filter(|a| &a.link == name && a.scope == "universe")
            {
                let found = Cidr {
                    addr: a.address,
                    prefix_len: a.prefix_len,
                };
                let fam = family_of(a.address);
                let Some(p) = planned.and_then(|p| p.addr(fam)) else {
                    warnings.push(format!(
                        "{}: {fam_s} address {found} on tunnel {name} left out: the lab configures no {fam_s} on a tunnel below 1280",
                        m.label,
                        fam_s = fam.as_str()
                    ));
                    continue;
                };
                let planned = Cidr {
                    addr: p.addr,
                    prefix_len: p.prefix_len,
                };
                if planned != found {
                    warnings.push(format!(
                        "{}: tunnel {} {}:{name} has {found}; tunnels take automatic addresses, so it becomes {planned} (routes via it follow)",
                        m.label,
                        t.between.join("-"),
                        m.name
                    ));
                    renumber.insert(found.addr, planned.addr);
                    renumber_net.insert(found.network(), planned.network());
                }
            }
        }
    }

    // Routes: gateways must be a joined peer or an edge host; a node that
    // routes a family through a tunnel keeps that family automatic.
    for c in candidates {
        let m = &machines[c.node];
        let via = renumber.get(&c.via).copied().unwrap_or(c.via);
        let to = renumber_net.get(&c.to).copied().unwrap_or(c.to);
        let link_peer = probe.links.iter().any(|l| {
            let Some(end) = l.between.iter().position(|n| *n == m.name) else {
                return false;
            };
            [l.addresses, l.addresses6]
                .into_iter()
                .flatten()
                .any(|pair| pair[1 - end].addr == via)
        });
        let tunnel_peer = plan.node(&m.name).and_then(|n| {
            n.interfaces.iter().find_map(|i| {
                let l = &plan.links[i.link];
                (l.tunnel.is_some()
                    && [Family::V4, Family::V6]
                        .into_iter()
                        .any(|f| l.end_addr(f, 1 - i.end).is_some_and(|a| a.addr == via)))
                .then(|| i.name.clone())
            })
        });
        if let Some(tun) = tunnel_peer {
            // HOOK(tunnel routes): given routes take gateways on [[links]]
            // only; this node's routes of this family stay automatic.
            auto_routed
                .entry((m.name.clone(), family_of(via)))
                .or_insert_with(|| {
                    (
                        m.label.to_string(),
                        format!(
                            "it routes through tunnel {tun} and given routes cannot use a tunnel's gateway yet"
                        ),
                    )
                });
            continue;
        }
        let segment_peer = probe.segments.iter().any(|s| {
            s.members.contains(&m.name)
                && [&s.addresses, &s.addresses6]
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|a| a.addr == via)
        });
        if !link_peer && !segment_peer {
            let on_link = probe.links.iter().find(|l| {
                l.between.contains(&m.name)
                    && [l.addresses, l.addresses6]
                        .into_iter()
                        .flatten()
                        .any(|p| p[0].network().contains(via))
            });
            return match on_link {
                // HOOK(segments): a third, unsnapshotted machine on a link's subnet.
                Some(l) => err(
                    m.label,
                    format!(
                        "route to {} via {via}{}: {via} is on the subnet of {} and {} but is neither; a third machine on that subnet needs [[segments]] (not written by this version)",
                        c.to,
                        c.dev.as_deref().map(|d| format!(" dev {d}")).unwrap_or_default(),
                        l.between[0],
                        l.between[1]
                    ),
                ),
                None => err(
                    m.label,
                    format!(
                        "route to {} via {via}: {via} is on none of the imported interfaces' subnets",
                        c.to
                    ),
                ),
            };
        }
        topology
            .nodes
            .get_mut(&m.name)
            .expect("machine node")
            .routes
            .push(Route { to, via });
    }

    for ((node, fam), (label, why)) in &auto_routed {
        let n = topology.nodes.get_mut(node).expect("machine node");
        let dropped: Vec<String> = n
            .routes
            .iter()
            .filter(|r| r.to.family() == *fam)
            .map(|r| format!("{} via {}", r.to, r.via))
            .collect();
        n.routes.retain(|r| r.to.family() != *fam);
        warnings.push(format!(
            "{label}: {node}'s {} routes are left automatic (shortest paths): {why}{}",
            fam.as_str(),
            if dropped.is_empty() {
                String::new()
            } else {
                format!("; not given: {}", dropped.join(", "))
            }
        ));
    }

    // Rulesets, as found.
    let mut rulesets = Vec::new();
    for m in &machines {
        let mut add = |kind: &str, text: &str, note: String| {
            let file = format!("{}{}.{kind}", opts.ruleset_prefix, m.name);
            let path = PathBuf::from(&file);
            topology.filters.push(Filter {
                node: m.name.clone(),
                kind: match kind {
                    "nft" => FilterKind::Nft(path),
                    "iptables" => FilterKind::Iptables(path),
                    _ => FilterKind::Ip6tables(path),
                },
            });
            notes.filters.push(vec![note]);
            rulesets.push((file, text.to_string()));
        };
        let nf_backend = m.snap.iptables_backend.as_deref() == Some("nf_tables");
        // A host that ignores PMTU ICMP, as mtulab builds it: its own table
        // becomes `pmtu_icmp = "ignore"`, the rest stays a ruleset.
        let mut nft_text = m.snap.nft.clone();
        if !m.router {
            if let Some((rest, table)) = nft_text.as_deref().and_then(split_host_table) {
                topology
                    .nodes
                    .get_mut(&m.name)
                    .expect("machine node")
                    .pmtu_icmp = PmtuIcmp::Ignore;
                if let Some(note) = notes.nodes.get_mut(&m.name) {
                    note.push(format!(
                        "pmtu_icmp = \"ignore\": {}'s nft ruleset has table {table} (PMTU ICMP counted and discarded at its entry)",
                        m.label
                    ));
                }
                nft_text = Some(rest);
            }
        }
        if let Some(nft) = nft_text.as_deref().filter(|t| t.contains("table ")) {
            let mut note = format!(
                "{}'s nft ruleset (nft list ruleset), as found in {}",
                m.name, m.label
            );
            if nf_backend && has_rules(m.snap.iptables.as_deref()) {
                note.push_str("; it holds the iptables-nft rules too");
            }
            add("nft", nft, note);
        }
        if !nf_backend {
            for (kind, text) in [
                ("iptables", &m.snap.iptables),
                ("ip6tables", &m.snap.ip6tables),
            ] {
                if let Some(t) = text.as_deref().filter(|t| has_rules(Some(t))) {
                    add(
                        kind,
                        t,
                        format!("{}'s {kind}-save output, as found in {}", m.name, m.label),
                    );
                }
            }
        }
    }

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

/// `text` (an `nft list ruleset`) without the table a host that ignores
/// PMTU ICMP gets from mtulab (`table inet mtulab_host { … }`), and the
/// table's name; None when it has no such table.
fn split_host_table(text: &str) -> Option<(String, &'static str)> {
    const TABLE: &str = "inet mtulab_host";
    let head = format!("table {TABLE} {{");
    let start = text.lines().position(|l| l.trim_end() == head)?;
    let lines: Vec<&str> = text.lines().collect();
    let end = start + lines[start..].iter().position(|l| l.trim_end() == "}")?;
    let rest: Vec<&str> = lines[..start]
        .iter()
        .chain(&lines[end + 1..])
        .copied()
        .collect();
    Some((rest.join("\n"), TABLE))
}

/// An iptables-save text with a rule or a policy that is not ACCEPT.
fn has_rules(text: Option<&str>) -> bool {
    text.is_some_and(|t| {
        t.lines().any(|l| {
            l.starts_with("-A ")
                || (l.starts_with(':') && !l.contains(" ACCEPT ") && !l.contains(" - "))
        })
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
