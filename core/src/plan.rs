//! Automatic addressing and routing: turns a validated [`Topology`] into the
//! concrete plan the lab builds (interfaces, addresses, routes per node) and
//! the forwarding paths the model reasons about. Pure code.
//!
//! Addressing: link `i` (file order) gets 198.18.0.0/15 split in /24s
//! (`198.18.0.0 + i*256`, end 0 `.1`, end 1 `.2`) and, when both ends' MTU is
//! at least 1280, `2001:db8:0:i::/64` (end 0 `::1`, end 1 `::2`).
//!
//! Routing, per family: every node gets a route to every link subnet it is
//! not attached to and can reach, via the first hop of a shortest (hop count)
//! path to the addresses on it, on which only routers forward; among
//! equal-cost first hops the one on the lowest link index wins. The cost is
//! to each *address* (its owner node), not to the subnet: otherwise a router
//! next to a host could reach the host's address through the far end of the
//! host's link, a hop longer and over a different MTU. When a subnet's two
//! addresses have different first hops, the node gets one host route (/32,
//! /128) per address instead of the subnet route.
//!
//! Given addresses (`addresses` / `addresses6` on a link) replace that
//! link's automatic ones, and automatic subnets step around them and
//! around anycast addresses ([`addressing::link_subnets`]). Given routes (`routes` on
//! a node) replace all of that node's automatic routes of their family.
//! Anycast addresses (`[[anycast]]`) go on each member's `lo`; every other
//! node routes them to its nearest members, with one multipath route
//! ([`MultipathPlan`]) where its shortest paths split.

use std::net::IpAddr;

use crate::topology::{Cidr, Family, Topology};

pub mod addressing;
mod paths;
mod routing;
pub mod tunnel;

use addressing::{contains, family_of, host_len};
pub use addressing::{
    link_end_addresses, link_subnets, segment_member_addresses, subnets, v4_network, v6_network,
};
pub use paths::{path_mtu, Hop};
use routing::Routing;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfAddr {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IfacePlan {
    pub name: String,
    /// Index into `Plan::links`.
    pub link: usize,
    /// Which end of the link this is (0 or 1; on a segment, the member's index).
    pub end: usize,
    pub mtu: u32,
    /// The node at the link's other end (on a segment: empty, the peers
    /// are every other member of `Plan::links[link]`).
    pub peer_node: String,
    /// The peer's interface (on a segment: empty).
    pub peer_iface: String,
    pub ipv4: Option<IfAddr>,
    /// Only where both ends of the link are >= 1280.
    pub ipv6: Option<IfAddr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutePlan {
    /// Destination network (address with host bits zero) and prefix length.
    pub dst: IfAddr,
    pub via: IpAddr,
    pub dev: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodePlan {
    pub name: String,
    pub router: bool,
    pub sysctl: Vec<(String, String)>,
    pub interfaces: Vec<IfacePlan>,
    /// Non-connected routes only (connected ones come with the addresses).
    pub routes: Vec<RoutePlan>,
    /// Routes with several equal-cost next hops (`RTA_MULTIPATH`): towards
    /// anycast addresses whose nearest members lie behind different neighbours.
    pub multipath: Vec<MultipathPlan>,
    /// Addresses on `lo` (/32, /128): the anycast addresses this node serves.
    pub loopback: Vec<IfAddr>,
}

/// A route with several next hops, each (gateway, device).
#[derive(Debug, Clone, PartialEq)]
pub struct MultipathPlan {
    pub dst: IfAddr,
    pub nexthops: Vec<(IpAddr, String)>,
}

/// One link (or segment, or tunnel) with its subnets.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkPlan {
    /// The nodes on it: a link's two ends in `between` order, a segment's members.
    pub between: Vec<String>,
    /// Interface names per end.
    pub names: Vec<String>,
    pub mtu: Vec<u32>,
    /// The link's IPv4 network (host bits zero), /24.
    pub ipv4: IfAddr,
    /// The link's IPv6 network, /64; None when an end's MTU is below 1280.
    pub ipv6: Option<IfAddr>,
    /// Each end's IPv4 address (given, or `.1`, `.2`, … of `ipv4`).
    pub ends4: Vec<IfAddr>,
    /// Each end's IPv6 address, where the link has IPv6.
    pub ends6: Option<Vec<IfAddr>>,
    /// Some for a `[[tunnels]]` entry (a tunnel link, numbered after the links and segments).
    pub tunnel: Option<tunnel::TunnelPlan>,
    /// Some(name) for a `[[segments]]` entry (numbered after the links).
    pub segment: Option<String>,
}

impl LinkPlan {
    /// Whether the link carries `family` at all: every physical link
    /// carries IPv4, a tunnel what its kind carries (IPIP: IPv4 only, SIT:
    /// IPv6 only).
    pub fn carries(&self, family: Family) -> bool {
        self.tunnel.as_ref().is_none_or(|t| t.kind.carries(family))
    }
    /// The link's subnet in `family`, if the link carries that family
    /// (a SIT tunnel keeps its /24 in `ipv4` but carries no IPv4).
    pub fn subnet(&self, family: Family) -> Option<&IfAddr> {
        match family {
            Family::V4 => self.carries(family).then_some(&self.ipv4),
            Family::V6 => self.ipv6.as_ref(),
        }
    }
    /// The address of `end` in `family`, if the link has that family.
    pub fn end_addr(&self, family: Family, end: usize) -> Option<&IfAddr> {
        match family {
            Family::V4 => self.carries(family).then(|| self.ends4.get(end)).flatten(),
            Family::V6 => self.ends6.as_ref().and_then(|e| e.get(end)),
        }
    }

    /// The end that has address `addr`, if any.
    pub fn end_with(&self, family: Family, addr: IpAddr) -> Option<usize> {
        (0..self.between.len()).find(|&e| self.end_addr(family, e).is_some_and(|a| a.addr == addr))
    }
}

impl IfacePlan {
    pub fn addr(&self, family: Family) -> Option<&IfAddr> {
        match family {
            Family::V4 => self.ipv4.as_ref(),
            Family::V6 => self.ipv6.as_ref(),
        }
    }
}

impl NodePlan {
    /// This node's interface on link `link`, if it is attached to it.
    pub fn iface_on(&self, link: usize) -> Option<&IfacePlan> {
        self.interfaces.iter().find(|i| i.link == link)
    }
    pub fn iface(&self, name: &str) -> Option<&IfacePlan> {
        self.interfaces.iter().find(|i| i.name == name)
    }
    /// The routes of one family.
    pub fn routes_in(&self, family: Family) -> impl Iterator<Item = &RoutePlan> {
        self.routes
            .iter()
            .filter(move |r| family_of(r.dst.addr) == family)
    }
}

/// Smallest MTU both ends of a link need for IPv6 to be configured on it.
pub const IPV6_MIN_MTU: u32 = 1280;

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub name: String,
    /// Sorted by node name.
    pub nodes: Vec<NodePlan>,
    /// In topology (file) order; `IfacePlan::link` indexes this.
    pub links: Vec<LinkPlan>,
}

/// Why a topology cannot be planned (validation reports both with the
/// file's line; a loaded topology always plans).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// No free /24 of 198.18.0.0/15 is left for link `link` (0-based).
    NoSubnet { link: usize },
    /// Tunnel `tunnel` (0-based) has no underlay, or an MTU that does not fit it.
    Tunnel {
        tunnel: usize,
        error: tunnel::UnderlayError,
    },
}

impl Plan {
    /// The plan of a validated topology (see [`Plan::try_new`]).
    ///
    /// # Panics
    /// When `topology` was not validated and cannot be planned.
    pub fn new(topology: &Topology) -> Plan {
        Plan::try_new(topology).expect("a validated topology plans")
    }

    /// The plan of `topology`: interfaces, addresses and routes per node.
    pub fn try_new(topology: &Topology) -> Result<Plan, PlanError> {
        let subnets = subnets(&topology.links, &topology.segments, &topology.anycast)
            .map_err(|link| PlanError::NoSubnet { link })?;
        let mut links: Vec<LinkPlan> = topology
            .links
            .iter()
            .zip(&subnets)
            .map(|(l, sub)| {
                let ends =
                    |f| link_end_addresses(l, sub, f).map(|e| e.iter().map(IfAddr::from).collect());
                LinkPlan {
                    between: l.between.to_vec(),
                    names: l.names.to_vec(),
                    mtu: l.mtu.to_vec(),
                    ipv4: IfAddr::from(&sub.0),
                    ipv6: sub.1.as_ref().map(IfAddr::from),
                    ends4: ends(Family::V4).expect("every link has IPv4"),
                    ends6: ends(Family::V6),
                    tunnel: None,
                    segment: None,
                }
            })
            .collect();
        links.extend(
            topology
                .segments
                .iter()
                .zip(&subnets[topology.links.len()..])
                .map(|(s, sub)| {
                    let ends = |f| {
                        segment_member_addresses(s, sub, f)
                            .map(|e| e.iter().map(IfAddr::from).collect())
                    };
                    LinkPlan {
                        between: s.members.clone(),
                        names: s.names.clone(),
                        mtu: s.mtu.clone(),
                        ipv4: IfAddr::from(&sub.0),
                        ipv6: sub.1.as_ref().map(IfAddr::from),
                        ends4: ends(Family::V4).expect("every segment has IPv4"),
                        ends6: ends(Family::V6),
                        tunnel: None,
                        segment: Some(s.name.clone()),
                    }
                }),
        );
        let phys = if topology.tunnels.is_empty() {
            None
        } else {
            Some(tunnel::physical_plan(topology)?)
        };
        if let Some(phys) = &phys {
            let first = links.len();
            links.extend(
                tunnel::tunnel_links(topology, phys, first)
                    .map_err(|(tunnel, error)| PlanError::Tunnel { tunnel, error })?,
            );
        }
        let mut nodes: Vec<NodePlan> = topology
            .nodes
            .iter()
            .map(|(name, node)| NodePlan {
                name: name.clone(),
                router: node.router,
                sysctl: node.sysctl.clone(),
                interfaces: interfaces_of(name, &links),
                routes: Vec::new(),
                multipath: Vec::new(),
                loopback: Vec::new(),
            })
            .collect();
        for family in [Family::V4, Family::V6] {
            let routing = Routing::new(&nodes, &links, family);
            let routes = routing.routes();
            let anycast = routing.anycast_routes(&topology.anycast);
            for (k, (mut r, (mut single, mut multi))) in routes.into_iter().zip(anycast).enumerate()
            {
                let node = &mut nodes[k];
                let given: Vec<RoutePlan> = topology.nodes[&node.name]
                    .routes
                    .iter()
                    .filter(|g| g.to.family() == family)
                    .map(|g| RoutePlan {
                        dst: IfAddr::from(&g.to),
                        via: g.via,
                        dev: node
                            .interfaces
                            .iter()
                            .find(|i| i.addr(family).is_some_and(|a| contains(a, g.via)))
                            .map(|i| i.name.clone())
                            .expect("validated: the gateway is on a connected subnet"),
                    })
                    .collect();
                if given.is_empty() {
                    node.routes.append(&mut r);
                    node.routes.append(&mut single);
                    node.multipath.append(&mut multi);
                } else {
                    // Given routes replace every automatic one of this family.
                    node.routes.extend(given);
                }
            }
            for a in &topology.anycast {
                let Some(addr) = a.addr(family) else { continue };
                for m in &a.nodes {
                    if let Some(node) = nodes.iter_mut().find(|n| &n.name == m) {
                        node.loopback.push(IfAddr {
                            addr,
                            prefix_len: host_len(family),
                        });
                    }
                }
            }
        }
        let mut plan = Plan {
            name: topology.name.clone(),
            nodes,
            links,
        };
        if let Some(phys) = &phys {
            tunnel::pin_underlay_routes(&mut plan, phys);
        }
        Ok(plan)
    }

    pub fn node(&self, name: &str) -> Option<&NodePlan> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// Hosts (non-routers), sorted.
    pub fn hosts(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|n| !n.router)
            .map(|n| n.name.as_str())
            .collect()
    }
}

impl From<&Cidr> for IfAddr {
    fn from(c: &Cidr) -> IfAddr {
        IfAddr {
            addr: c.addr,
            prefix_len: c.prefix_len,
        }
    }
}

/// `node`'s interfaces, in link order.
fn interfaces_of(node: &str, links: &[LinkPlan]) -> Vec<IfacePlan> {
    let mut out = Vec::new();
    for (i, l) in links.iter().enumerate() {
        for end in 0..l.between.len() {
            if l.between[end] != node {
                continue;
            }
            let (peer_node, peer_iface) = if l.segment.is_some() {
                (String::new(), String::new())
            } else {
                let peer = 1 - end;
                (l.between[peer].clone(), l.names[peer].clone())
            };
            out.push(IfacePlan {
                name: l.names[end].clone(),
                link: i,
                end,
                mtu: l.mtu[end],
                peer_node,
                peer_iface,
                ipv4: l.end_addr(Family::V4, end).cloned(),
                ipv6: l.ends6.as_ref().map(|e| e[end].clone()),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;

/// The one name of a planned link, in messages, reports and docs: the
/// `[[links]]` entries are `link 1`..`link N` in file order, the
/// `[[segments]]` entries `segment NAME` (planned after the links), the
/// `[[tunnels]]` entries `tunnel 1`..`tunnel K` (planned after the links
/// and segments).
pub fn link_name(index: usize, topology: &Topology) -> String {
    let links = topology.links.len();
    let segments = topology.segments.len();
    if index < links {
        format!("link {}", index + 1)
    } else if index < links + segments {
        format!("segment {}", topology.segments[index - links].name)
    } else {
        format!("tunnel {}", index - links - segments + 1)
    }
}

/// [`link_name`] of every planned link, in plan order.
pub fn link_names(topology: &Topology) -> Vec<String> {
    let n = topology.links.len() + topology.segments.len() + topology.tunnels.len();
    (0..n).map(|i| link_name(i, topology)).collect()
}
