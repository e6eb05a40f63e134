//! Tunnels (`[[tunnels]]`): a link carried over VXLAN between two nodes
//! that reach each other over the physical links (the underlay). Pure code:
//! how a tunnel is addressed, which MTU it gets, and the routes that keep
//! its encapsulated packets on the physical links. The interfaces
//! themselves are made by [`crate::lab`] with [`crate::netlink::new_vxlan`].
//!
//! A tunnel is planned as one more link, numbered after the topology's
//! links (tunnel `k` is link `links.len() + k`): its own /24 and, when both
//! ends are at least 1280, its own /64; overlay routing may use it like any
//! link (one hop; on equal cost the lower link index, so a physical link
//! wins a tie).
//!
//! Underlay: end 0 sends from its address on the first physical link of its
//! shortest path to end 1, to end 1's address on the link that path enters
//! it by (and back). Every node whose route to either underlay address would
//! otherwise go through a tunnel gets a host route (/32, /128) along the
//! physical-only routing, so encapsulated packets never enter a tunnel.
//!
//! MTU: unless given, the smallest underlay path MTU of the two directions
//! minus the encapsulation overhead (outer IP + UDP 8 + VXLAN 8 + inner
//! Ethernet 14: 50 bytes over IPv4, 70 over IPv6), the same on both ends. A
//! given MTU larger than that is rejected.
//!
//! Kernel behaviour this relies on (measured on 6.18, VXLAN over veth, see
//! `checks::model` for the numbers): the outer header is sent without DF
//! (`df unset`, the kernel default), so an underlay narrower than the tunnel
//! fragments the outer packet instead of dropping it; a VXLAN device does
//! not check its MTU on receive.

use std::fmt;
use std::net::IpAddr;

use crate::plan::{Hop, IfAddr, Plan, RoutePlan};
use crate::topology::{Family, Tunnel};

/// Outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14.
pub const VXLAN_OVERHEAD_V4: u32 = 50;
/// Outer IPv6 40 + UDP 8 + VXLAN 8 + inner Ethernet 14.
pub const VXLAN_OVERHEAD_V6: u32 = 70;
/// IANA VXLAN port.
pub const VXLAN_PORT: u16 = 4789;

/// Encapsulation overhead over an underlay of `family`.
pub fn overhead(family: Family) -> u32 {
    match family {
        Family::V4 => VXLAN_OVERHEAD_V4,
        Family::V6 => VXLAN_OVERHEAD_V6,
    }
}

/// How a planned tunnel is carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelPlan {
    /// VXLAN network identifier: tunnel index + 1.
    pub vni: u32,
    pub underlay: Family,
    /// Each end's underlay (source) address; the other end's is its remote.
    pub local: [IpAddr; 2],
    /// Underlay path MTU from end `e` to the other end.
    pub underlay_mtu: [u32; 2],
    /// Whether the file gave the MTU (else it is the default).
    pub mtu_given: bool,
}

/// A tunnel's underlay, as routed over the physical links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Underlay {
    pub family: Family,
    pub local: [IpAddr; 2],
    /// Path MTU from end `e` to the other end: the smallest MTU of any
    /// interface the outer packets leave or enter.
    pub path_mtu: [u32; 2],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnderlayError {
    /// No path over the physical links (only routers forwarding).
    NoPath {
        from: String,
        to: String,
        family: Family,
    },
    /// A given MTU does not fit the underlay after encapsulation.
    MtuTooBig {
        node: String,
        mtu: u32,
        underlay_mtu: u32,
        overhead: u32,
    },
    /// The underlay leaves less than the IPv4 minimum MTU (68).
    UnderlayTooSmall { underlay_mtu: u32, overhead: u32 },
}

impl fmt::Display for UnderlayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnderlayError::NoPath { from, to, family } => write!(
                f,
                "no {family} underlay path from {from:?} to {to:?} over the links (only routers forward; a tunnel never carries another)"
            ),
            UnderlayError::MtuTooBig {
                node,
                mtu,
                underlay_mtu,
                overhead,
            } => write!(
                f,
                "mtu {mtu} on {node:?} does not fit the underlay: path MTU {underlay_mtu} minus the {overhead}-byte VXLAN overhead is {}",
                underlay_mtu.saturating_sub(*overhead)
            ),
            UnderlayError::UnderlayTooSmall {
                underlay_mtu,
                overhead,
            } => write!(
                f,
                "underlay path MTU {underlay_mtu} minus the {overhead}-byte VXLAN overhead is below 68"
            ),
        }
    }
}

/// Default interface names for tunnels in file order: on X the tunnel to Y
/// is `vx-Y`, a second one `vx-Y-2`, … (truncated to 15 characters).
pub fn default_names<'a>(betweens: impl IntoIterator<Item = &'a [String; 2]>) -> Vec<[String; 2]> {
    let mut seen: std::collections::HashMap<(String, String), usize> = Default::default();
    betweens
        .into_iter()
        .map(|[a, b]| {
            let key = if a <= b {
                (a.clone(), b.clone())
            } else {
                (b.clone(), a.clone())
            };
            let n = seen.entry(key).or_insert(0);
            *n += 1;
            [name_for(b, *n), name_for(a, *n)]
        })
        .collect()
}

fn name_for(peer: &str, n: usize) -> String {
    let suffix = if n == 1 {
        String::new()
    } else {
        format!("-{n}")
    };
    let base: String = format!("vx-{peer}")
        .chars()
        .take(15 - suffix.len())
        .collect();
    base + &suffix
}

/// Smallest MTU of any interface a path's packets leave or enter.
pub fn path_mtu(hops: &[Hop]) -> u32 {
    hops.iter()
        .map(|h| h.out_mtu.min(h.in_mtu))
        .min()
        .unwrap_or(u32::MAX)
}

/// The underlay of `t` in `phys`, a plan of the physical links only.
pub fn underlay(phys: &Plan, t: &Tunnel) -> Result<Underlay, UnderlayError> {
    let family = t.underlay;
    let [a, b] = &t.between;
    let no_path = |from: &str, to: &str| UnderlayError::NoPath {
        from: from.to_owned(),
        to: to.to_owned(),
        family,
    };
    let addr_on = |node: &str, iface: &str| {
        phys.node(node)
            .and_then(|n| n.iface(iface))
            .and_then(|i| i.addr(family))
            .map(|a| a.addr)
    };
    let target = phys.address_of(b, family).ok_or_else(|| no_path(a, b))?;
    let hops = phys
        .path_to(a, target, family)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| no_path(a, b))?;
    let local_a = addr_on(a, &hops[0].out_iface).ok_or_else(|| no_path(a, b))?;
    let last = hops.last().expect("non-empty");
    let local_b = addr_on(b, &last.in_iface).ok_or_else(|| no_path(a, b))?;
    let ab = phys
        .path_to(a, local_b, family)
        .ok_or_else(|| no_path(a, b))?;
    let ba = phys
        .path_to(b, local_a, family)
        .ok_or_else(|| no_path(b, a))?;
    Ok(Underlay {
        family,
        local: [local_a, local_b],
        path_mtu: [path_mtu(&ab), path_mtu(&ba)],
    })
}

/// The MTU per end of `t` over `u`: as given, or the default.
pub fn resolved_mtu(t: &Tunnel, u: &Underlay) -> Result<[u32; 2], UnderlayError> {
    let overhead = overhead(u.family);
    match t.mtu {
        Some(mtu) => {
            for e in 0..2 {
                if mtu[e] + overhead > u.path_mtu[e] {
                    return Err(UnderlayError::MtuTooBig {
                        node: t.between[e].clone(),
                        mtu: mtu[e],
                        underlay_mtu: u.path_mtu[e],
                        overhead,
                    });
                }
            }
            Ok(mtu)
        }
        None => {
            let underlay_mtu = u.path_mtu[0].min(u.path_mtu[1]);
            match underlay_mtu.checked_sub(overhead) {
                Some(m) if m >= 68 => Ok([m, m]),
                _ => Err(UnderlayError::UnderlayTooSmall {
                    underlay_mtu,
                    overhead,
                }),
            }
        }
    }
}

/// The plan of `topology`'s physical links alone.
pub fn physical_plan(topology: &crate::topology::Topology) -> Plan {
    Plan::new(&crate::topology::Topology {
        tunnels: Vec::new(),
        ..topology.clone()
    })
}

/// Validation: every tunnel has an underlay and an MTU that fits it; the
/// first problem as (tunnel index, error).
pub fn check_underlays(
    topology: &crate::topology::Topology,
) -> Result<(), (usize, UnderlayError)> {
    if topology.tunnels.is_empty() {
        return Ok(());
    }
    let phys = physical_plan(topology);
    for (k, t) in topology.tunnels.iter().enumerate() {
        let u = underlay(&phys, t).map_err(|e| (k, e))?;
        resolved_mtu(t, &u).map_err(|e| (k, e))?;
    }
    Ok(())
}

/// A planned tunnel: its MTU per end and how it is carried; None when the
/// tunnel has no underlay (rejected by validation).
pub fn plan_tunnel(phys: &Plan, t: &Tunnel, k: usize) -> Option<([u32; 2], TunnelPlan)> {
    let u = underlay(phys, t).ok()?;
    let mtu = resolved_mtu(t, &u).ok()?;
    Some((
        mtu,
        TunnelPlan {
            vni: u32::try_from(k).expect("tunnel count fits u32") + 1,
            underlay: u.family,
            local: u.local,
            underlay_mtu: u.path_mtu,
            mtu_given: t.mtu.is_some(),
        },
    ))
}

/// Host routes that pin every node's way to each tunnel's underlay
/// addresses to the physical-only routing of `phys`, where the full plan
/// (tunnels included) would choose another first hop.
pub fn pin_underlay_routes(plan: &mut Plan, phys: &Plan) {
    let mut add: Vec<(usize, RoutePlan)> = Vec::new();
    for link in &plan.links {
        let Some(t) = &link.tunnel else { continue };
        let family = t.underlay;
        for &dst in &t.local {
            for (n, node) in plan.nodes.iter().enumerate() {
                let Some(phys_first) = phys
                    .path_to(&node.name, dst, family)
                    .and_then(|h| h.into_iter().next())
                else {
                    continue;
                };
                let full_first = plan
                    .path_to(&node.name, dst, family)
                    .and_then(|h| h.into_iter().next());
                if full_first.as_ref().is_some_and(|h| {
                    h.out_iface == phys_first.out_iface && h.next == phys_first.next
                }) {
                    continue;
                }
                let Some(via) = phys
                    .node(&phys_first.next)
                    .and_then(|p| p.iface(&phys_first.in_iface))
                    .and_then(|i| i.addr(family))
                else {
                    continue;
                };
                let route = RoutePlan {
                    dst: IfAddr {
                        addr: dst,
                        prefix_len: if dst.is_ipv4() { 32 } else { 128 },
                    },
                    via: via.addr,
                    dev: phys_first.out_iface.clone(),
                };
                if !add.iter().any(|(m, r)| *m == n && *r == route) {
                    add.push((n, route));
                }
            }
        }
    }
    for (n, r) in add {
        // Replaces a host route the overlay routing made for the same address.
        plan.nodes[n].routes.retain(|x| x.dst != r.dst);
        plan.nodes[n].routes.push(r);
    }
}
