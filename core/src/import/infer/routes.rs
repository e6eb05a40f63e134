//! Which static routes are given (gateway on a joined peer or an edge host) and which nodes keep automatic routes.

use super::*;

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

/// A route worth importing, before gateways are checked.
pub(super) struct Candidate {
    pub(super) node: usize,
    pub(super) to: Cidr,
    pub(super) via: IpAddr,
    pub(super) dev: Option<String>,
}

/// (node, family) whose routes stay automatic, with the snapshot and why.
pub(super) type AutoRouted = BTreeMap<(String, Family), (String, String)>;

/// The routes worth importing, and the (node, family) kept automatic.
pub(super) struct Routes {
    pub(super) candidates: Vec<Candidate>,
    pub(super) auto_routed: AutoRouted,
}

pub(super) fn candidates(
    machines: &[Machine],
    left_out: &BTreeSet<(usize, String)>,
    warnings: &mut Vec<String>,
) -> Result<Routes, ImportError> {
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
    Ok(Routes {
        candidates,
        auto_routed,
    })
}

/// Each candidate's gateway checked against the validated shape; the routes written to `topology`.
pub(super) fn resolve(
    routes: Routes,
    machines: &[Machine],
    probe: &Topology,
    plan: &crate::Plan,
    renumber: &Renumber,
    topology: &mut Topology,
    warnings: &mut Vec<String>,
) -> Result<(), ImportError> {
    let Routes {
        candidates,
        mut auto_routed,
    } = routes;
    let Renumber {
        addr: renumber,
        net: renumber_net,
    } = renumber;
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
    Ok(())
}
