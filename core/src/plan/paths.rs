//! Forwarding paths through a plan: hop by hop as the planned routes
//! forward, and the smallest MTU on a path (receiving ends included).

use std::net::IpAddr;

use super::addressing::contains;
use super::{IfacePlan, NodePlan, Plan};
use crate::topology::Family;

/// One step of a forwarding path: `node` sends out of `out_iface` to `next`, arriving on `in_iface`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hop {
    pub node: String,
    pub out_iface: String,
    pub out_mtu: u32,
    pub next: String,
    pub in_iface: String,
    pub in_mtu: u32,
    pub link: usize,
}

/// The smallest MTU of any interface a path's packets leave or enter (a
/// receiving end's smaller MTU counts); None for an empty path.
pub fn path_mtu(hops: &[Hop]) -> Option<u32> {
    hops.iter().map(|h| h.out_mtu.min(h.in_mtu)).min()
}

impl Plan {
    /// The address probes use to reach host `name` in `family`: the address
    /// of its first interface (link order) that has one.
    pub fn address_of(&self, name: &str, family: Family) -> Option<IpAddr> {
        self.node(name)?
            .interfaces
            .iter()
            .find_map(|i| i.addr(family))
            .map(|a| a.addr)
    }

    /// The forwarding path from host `from` to host `to`'s `address_of`, as the
    /// routes in this plan send it; None when the family has no path.
    pub fn path(&self, from: &str, to: &str, family: Family) -> Option<Vec<Hop>> {
        let dst = self.address_of(to, family)?;
        let mut cur = self.node(from)?;
        let mut hops = Vec::new();
        // A loop-free path visits each link at most once.
        for _ in 0..=self.links.len() {
            if cur
                .interfaces
                .iter()
                .any(|i| i.addr(family).is_some_and(|a| a.addr == dst))
            {
                return Some(hops);
            }
            if !hops.is_empty() && !cur.router {
                return None; // a host does not forward
            }
            let (out, next_addr) = self.out_iface(cur, dst, family)?;
            let peer = self.next_node(out, next_addr, family)?;
            let peer_iface = peer.iface_on(out.link)?;
            hops.push(Hop {
                node: cur.name.clone(),
                out_iface: out.name.clone(),
                out_mtu: out.mtu,
                next: peer.name.clone(),
                in_iface: peer_iface.name.clone(),
                in_mtu: peer_iface.mtu,
                link: out.link,
            });
            cur = peer;
        }
        None
    }

    /// The interface `node` sends a packet for `dst` out of and the
    /// address it goes to on that link: a connected subnet first (`dst`
    /// itself), else the longest matching route (its gateway).
    fn out_iface<'a>(
        &self,
        node: &'a NodePlan,
        dst: IpAddr,
        family: Family,
    ) -> Option<(&'a IfacePlan, IpAddr)> {
        if let Some(i) = node
            .interfaces
            .iter()
            .find(|i| i.addr(family).is_some_and(|a| contains(a, dst)))
        {
            return Some((i, dst));
        }
        let route = node
            .routes_in(family)
            .filter(|r| contains(&r.dst, dst))
            .max_by_key(|r| r.dst.prefix_len)?;
        Some((node.iface(&route.dev)?, route.via))
    }

    /// The node a packet sent out of `out` towards `next_addr` arrives at:
    /// the link's other end, or on a segment the member that has `next_addr`.
    fn next_node(&self, out: &IfacePlan, next_addr: IpAddr, family: Family) -> Option<&NodePlan> {
        let link = self.links.get(out.link)?;
        if link.segment.is_none() {
            return self.node(&out.peer_node);
        }
        let end = link.end_with(family, next_addr)?;
        self.node(&link.between[end])
    }

    /// The forwarding path from any node `from` (a router too) to address
    /// `dst`, as the routes in this plan send it: what an ICMP error a
    /// router generates towards a host's address follows. Ends at the node
    /// that owns `dst`; None when some node on the way has no route or the
    /// walk would need a host to forward. `path(a, b, f)` equals
    /// `path_to(a, address_of(b, f), f)`.
    pub fn path_to(&self, from: &str, dst: IpAddr, family: Family) -> Option<Vec<Hop>> {
        let mut cur = self.node(from)?;
        let mut hops = Vec::new();
        for _ in 0..=self.links.len() {
            if cur
                .interfaces
                .iter()
                .any(|i| i.addr(family).is_some_and(|a| a.addr == dst))
            {
                return Some(hops);
            }
            if !hops.is_empty() && !cur.router {
                return None;
            }
            let (out, next_addr) = self.out_iface(cur, dst, family)?;
            let peer = self.next_node(out, next_addr, family)?;
            let peer_iface = peer.iface_on(out.link)?;
            hops.push(Hop {
                node: cur.name.clone(),
                out_iface: out.name.clone(),
                out_mtu: out.mtu,
                next: peer.name.clone(),
                in_iface: peer_iface.name.clone(),
                in_mtu: peer_iface.mtu,
                link: out.link,
            });
            cur = peer;
        }
        None
    }

    /// The node that has `addr` on one of its interfaces: who sent an ICMP
    /// error, given its source address. None for an address not in the plan.
    pub fn owner_of(&self, addr: IpAddr) -> Option<&str> {
        self.nodes
            .iter()
            .find(|n| {
                n.interfaces.iter().any(|i| {
                    [i.ipv4.as_ref(), i.ipv6.as_ref()]
                        .into_iter()
                        .flatten()
                        .any(|a| a.addr == addr)
                })
            })
            .map(|n| n.name.as_str())
    }
}
