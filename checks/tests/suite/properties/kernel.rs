//! What the kernel did, read for the model property: the path MTU as
//! routed, per-family exception flushes, DF pings in the report's terms.

use super::*;

/// The node owning `addr` in the plan, or the address itself.
pub(crate) fn node_of(plan: &Plan, addr: IpAddr) -> String {
    plan.owner_of(addr)
        .map(String::from)
        .unwrap_or_else(|| addr.to_string())
}

/// The kernel's DF ping as the report shows it (the answering address
/// mapped back to its node), for the comparator.
pub(crate) fn kernel_ping(plan: &Plan, r: &PingResult) -> PingReport {
    PingReport {
        size: r.size,
        outcome: r.outcome,
        mtu: r.mtu,
        from: r.from.map(|a| node_of(plan, a)),
    }
}

/// The path MTU as the kernel routes it: from `from`, each node's route
/// lookup towards `dst` gives the interface the packets leave by; the
/// smallest MTU (read back from the kernel) of every interface they leave
/// or enter until `to`. Also the way, for messages.
pub(crate) fn kernel_path_mtu(
    lab: &Lab,
    from: &str,
    to: &str,
    dst: IpAddr,
) -> Result<(u32, String), String> {
    let mut node = from.to_string();
    let mut min = u32::MAX;
    let mut way = Vec::new();
    for _ in 0..lab.plan().nodes.len() {
        let n = lab.node(&node).ok_or("node")?;
        let r = exceptions::route_get(n, dst).map_err(|e| e.to_string())?;
        let oif = r
            .oif
            .ok_or(format!("{node}: no output interface towards {dst}"))?;
        let iface = lab
            .plan()
            .node(&node)
            .and_then(|p| {
                p.interfaces
                    .iter()
                    .find(|i| lab.ifindex(&node, &i.name) == Some(oif))
            })
            .ok_or(format!("{node}: ifindex {oif} is no lab interface"))?;
        let mtu_of =
            |n: &str, i: &str| lab.mtu(n, i).ok_or(format!("no MTU read back for {n}:{i}"));
        // The next node: the link's other end, or on a segment the member
        // that has the route's gateway (or `dst` itself, connected).
        let (peer, peer_iface) = if lab.plan().links[iface.link].segment.is_some() {
            let next = r.gateway.unwrap_or(dst);
            let owner = lab
                .plan()
                .owner_of(next)
                .ok_or(format!("{node}: next hop {next} is no lab address"))?;
            let pi = lab
                .plan()
                .node(owner)
                .and_then(|p| p.iface_on(iface.link))
                .ok_or(format!("{owner} is not on {node}'s segment"))?;
            (owner.to_string(), pi.name.clone())
        } else {
            (iface.peer_node.clone(), iface.peer_iface.clone())
        };
        let out = mtu_of(&node, &iface.name)?;
        let inn = mtu_of(&peer, &peer_iface)?;
        min = min.min(out).min(inn);
        way.push(format!(
            "{node}:{} {out} -> {peer}:{peer_iface} {inn}",
            iface.name
        ));
        if peer == to {
            return Ok((min, way.join(", ")));
        }
        node = peer;
    }
    Err(format!(
        "no route from {from} reaches {to} ({})",
        way.join(", ")
    ))
}

/// `exceptions::flush_node` for one family: IPv4 bumps the namespace's
/// IPv4 route generation (`net.ipv4.route.flush`, every IPv4 exception
/// stale, IPv6 untouched), IPv6 deletes each cloned IPv6 route (IPv4
/// untouched); then no exception of that family may carry an MTU.
pub(crate) fn flush_family(node: &LabNode, family: Family) -> Result<(), String> {
    let name = node.name();
    let of_family = |e: &netlink::RouteLookup| e.dst.is_ipv4() == (family == Family::V4);
    let list = || exceptions::list(node).map_err(|e| e.to_string());
    match family {
        Family::V4 => node
            .ns()
            .run(|| sysctl::write("net.ipv4.route.flush", "1"))
            .map_err(|e| format!("{name}: {e}"))?
            .map_err(|e| format!("{name}: set {}={}: {}", e.key, e.value, e.source))?,
        Family::V6 => {
            let dels: Vec<netlink::Request> = list()?
                .iter()
                .filter(|e| of_family(e))
                .map(|e| {
                    netlink::Request::plain(
                        format!("delete IPv6 exception to {}", e.dst),
                        netlink::del_exception(e),
                    )
                })
                .collect();
            match node.rtnl().execute(dels) {
                Ok(()) => {}
                // Expired or removed meanwhile: gone is what we want.
                Err(netlink::NetlinkError::Request { source, .. })
                    if source.raw_os_error() == Some(libc::ESRCH)
                        || source.raw_os_error() == Some(libc::ENOENT) => {}
                Err(e) => return Err(format!("{name}: {e}")),
            }
        }
    }
    let left: Vec<String> = list()?
        .into_iter()
        .filter(|e| of_family(e) && e.mtu.is_some())
        .map(|e| format!("{} mtu {}", e.dst, e.mtu.unwrap_or(0)))
        .collect();
    if left.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{name}: exceptions left after the flush: {}",
            left.join(", ")
        ))
    }
}
