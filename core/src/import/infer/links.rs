//! Which interfaces are joined (shared subnets) into links and LAN segments, and the synthetic edge hosts on subnets no other snapshot has.

use super::*;

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

/// A link before file order is known.
pub(super) struct PendingLink {
    pub(super) key: Cidr,
    pub(super) link: Link,
    pub(super) note: Vec<String>,
}

/// Links, segments and edge hosts, in file order.
pub(super) struct Joined {
    pub(super) pending: Vec<PendingLink>,
    pub(super) pending_segments: Vec<(Cidr, Segment, Vec<String>)>,
    pub(super) edges: Vec<String>,
}

pub(super) fn join(
    machines: &[Machine],
    ifaces: &[Iface],
    candidates: &[Candidate],
    used_names: &BTreeSet<String>,
    warnings: &mut Vec<String>,
) -> Result<Joined, ImportError> {
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
    Ok(Joined {
        pending,
        pending_segments,
        edges,
    })
}
