//! PMTU exceptions: the per-destination MTUs the kernel caches (~600 s) when
//! a frag-needed / packet-too-big arrives. One probe's exception changes
//! what the next probe sees (design.md §6), so probes start from a flushed
//! lab: [`flush`] removes every exception in every node, both families, and
//! checks that they are gone.
//!
//! Measured on this kernel (6.18), what removes a live exception:
//!
//! - **IPv6**: `net.ipv6.route.flush=1` does *not*; deleting the cloned
//!   route (`RTM_DELROUTE` with `RTM_F_CLONED`, what `ip -6 route flush
//!   cache` sends for each) does. [`flush_node`] deletes each one.
//! - **IPv4**: `RTM_DELROUTE` of a cloned route is refused (`ESRCH`: IPv4
//!   looks for a FIB route of that exact prefix, never an exception), so it
//!   is not used. Writing `net.ipv4.route.flush=1` (what `ip route flush
//!   cache` does) bumps the namespace's route generation id: every
//!   exception becomes stale at once — the dump stops listing it and the
//!   next lookup discards its MTU (a lookup may leave an MTU-less entry
//!   behind, listed with no MTU, which changes nothing). [`flush_node`]
//!   writes the sysctl from a thread inside the node.
//!
//! Verification re-lists both families and fails if any entry still
//! carries an MTU.

use std::net::IpAddr;

use super::error::ProbeError;
use crate::lab::{Lab, LabNode};
use crate::netlink::{self, Request, RouteLookup};
use crate::sysctl;

fn netlink_err(node: &LabNode) -> impl Fn(netlink::NetlinkError) -> ProbeError + '_ {
    move |source| ProbeError::Netlink {
        node: node.name().to_string(),
        source,
    }
}

/// The kernel's route lookup from `node` to `dst` (`ip route get`): the MTU
/// is a cached exception's when one exists.
pub fn route_get(node: &LabNode, dst: IpAddr) -> Result<RouteLookup, ProbeError> {
    node.rtnl().route_get(dst).map_err(netlink_err(node))
}

/// [`route_get`] leaving through interface index `oif` (`ip route get DST
/// oif DEV`): one next hop of a multipath route and its exception.
pub fn route_get_oif(node: &LabNode, dst: IpAddr, oif: u32) -> Result<RouteLookup, ProbeError> {
    node.rtnl()
        .route_get_oif(dst, Some(oif))
        .map_err(netlink_err(node))
}

/// Every cached exception in `node`, IPv4 then IPv6 (`ip route show cache
/// table all`, `ip -6 route show cache`), each once.
pub fn list(node: &LabNode) -> Result<Vec<RouteLookup>, ProbeError> {
    let mut rtnl = node.rtnl();
    let mut out = rtnl.exceptions(false).map_err(netlink_err(node))?;
    out.extend(rtnl.exceptions(true).map_err(netlink_err(node))?);
    // IPv4 keeps exceptions per next hop and dumps them under every route
    // sharing that next hop: one exception can be listed several times.
    let mut seen = std::collections::HashSet::new();
    out.retain(|e| seen.insert((e.dst, e.oif, e.gateway)));
    Ok(out)
}

/// Exceptions that still change anything: those carrying an MTU.
fn live(list: Vec<RouteLookup>) -> Vec<RouteLookup> {
    list.into_iter().filter(|e| e.mtu.is_some()).collect()
}

/// Remove every exception in `node`, both families, and verify. Returns how
/// many carried an MTU before.
pub fn flush_node(node: &LabNode) -> Result<usize, ProbeError> {
    let before = list(node)?;
    let had = before.iter().filter(|e| e.mtu.is_some()).count();
    // IPv4: bump the generation id (see the module doc).
    node.ns()
        .run(|| sysctl::write("net.ipv4.route.flush", "1"))?
        .map_err(|e| ProbeError::io(node.name(), format!("set {}={}", e.key, e.value), e.source))?;
    // IPv6: delete each cloned route.
    let dels: Vec<Request> = before
        .iter()
        .filter(|e| e.dst.is_ipv6())
        .map(|e| {
            Request::plain(
                format!("delete IPv6 exception to {}", e.dst),
                netlink::del_exception(e),
            )
        })
        .collect();
    if !dels.is_empty() {
        match node.rtnl().execute(dels) {
            Ok(()) => {}
            // Expired or removed meanwhile: gone is what we want.
            Err(netlink::NetlinkError::Request { source, .. })
                if source.raw_os_error() == Some(libc::ESRCH)
                    || source.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(netlink_err(node)(e)),
        }
    }
    let left = live(list(node)?);
    if !left.is_empty() {
        return Err(ProbeError::FlushIncomplete {
            node: node.name().to_string(),
            left: left.len(),
            detail: left
                .iter()
                .map(|e| format!("{} mtu {}", e.dst, e.mtu.unwrap_or(0)))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(had)
}

/// [`flush_node`] in every node of the lab; returns how many exceptions
/// carried an MTU before. Keeps going past a failing node and returns the
/// first error.
pub fn flush(lab: &Lab) -> Result<usize, ProbeError> {
    let mut total = 0;
    let mut first_err = None;
    for node in lab.nodes() {
        match flush_node(node) {
            Ok(n) => total += n,
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(total),
    }
}

/// Every exception carrying an MTU, per node: what a probe left behind.
pub fn live_in(lab: &Lab) -> Result<Vec<(String, RouteLookup)>, ProbeError> {
    let mut out = Vec::new();
    for node in lab.nodes() {
        for e in live(list(node)?) {
            out.push((node.name().to_string(), e));
        }
    }
    Ok(out)
}
