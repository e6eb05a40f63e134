//! Automatic routing, per family: shortest (hop count) paths on which only
//! routers forward, lowest link index on a tie; host routes where a
//! subnet's two addresses have different first hops; multipath routes to
//! anycast addresses where shortest paths split.

use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

use super::addressing::host_len;
use super::{IfAddr, LinkPlan, MultipathPlan, NodePlan, RoutePlan};
use crate::topology::{Anycast, Family};

/// Shortest-path routing of one family over the links that carry it.
pub(super) struct Routing<'a> {
    nodes: &'a [NodePlan],
    links: &'a [LinkPlan],
    family: Family,
    /// Node index per link end (a segment: per member).
    ends: Vec<Vec<usize>>,
    /// Per node: (link, neighbour) over links of this family, by link index.
    adj: Vec<Vec<(usize, usize)>>,
    /// `dist[a][b]`: hops from a to b where only routers (and a itself) forward.
    dist: Vec<Vec<Option<usize>>>,
}

impl<'a> Routing<'a> {
    pub(super) fn new(nodes: &'a [NodePlan], links: &'a [LinkPlan], family: Family) -> Self {
        let index: BTreeMap<&str, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.as_str(), i))
            .collect();
        let ends: Vec<Vec<usize>> = links
            .iter()
            .map(|l| l.between.iter().map(|n| index[n.as_str()]).collect())
            .collect();
        // A segment is an N-ended edge: every member is one hop from every other.
        let mut adj = vec![Vec::new(); nodes.len()];
        for (i, l) in links.iter().enumerate() {
            if l.subnet(family).is_some() {
                for &a in &ends[i] {
                    for &b in &ends[i] {
                        if a != b {
                            adj[a].push((i, b));
                        }
                    }
                }
            }
        }
        let dist = (0..nodes.len())
            .map(|src| {
                let mut d = vec![None; nodes.len()];
                d[src] = Some(0);
                let mut queue = VecDeque::from([src]);
                while let Some(cur) = queue.pop_front() {
                    if cur != src && !nodes[cur].router {
                        continue;
                    }
                    let here = d[cur].unwrap_or(0);
                    for &(_, next) in &adj[cur] {
                        if d[next].is_none() {
                            d[next] = Some(here + 1);
                            queue.push_back(next);
                        }
                    }
                }
                d
            })
            .collect();
        Routing {
            nodes,
            links,
            family,
            ends,
            adj,
            dist,
        }
    }

    /// Routes per node (in node order).
    pub(super) fn routes(&self) -> Vec<Vec<RoutePlan>> {
        (0..self.nodes.len()).map(|n| self.routes_of(n)).collect()
    }

    pub(super) fn routes_of(&self, src: usize) -> Vec<RoutePlan> {
        let mut out = Vec::new();
        for (j, link) in self.links.iter().enumerate() {
            let Some(net) = link.subnet(self.family) else {
                continue;
            };
            if self.ends[j].contains(&src) {
                continue; // connected
            }
            // First hop (link index, neighbour) towards each end's address.
            let hops: Vec<(usize, (usize, usize))> = (0..self.ends[j].len())
                .filter_map(|end| self.first_hop(src, j, end).map(|h| (end, h)))
                .collect();
            let Some(&(_, first)) = hops.first() else {
                continue; // unreachable
            };
            let route = |dst: IfAddr, hop: (usize, usize)| {
                let (via, dev) = self.gateway(src, hop);
                RoutePlan { dst, via, dev }
            };
            if hops.iter().all(|&(_, h)| h == first) {
                out.push(route(net.clone(), first));
            } else {
                let host_len = match self.family {
                    Family::V4 => 32,
                    Family::V6 => 128,
                };
                for (end, hop) in hops {
                    let dst = IfAddr {
                        addr: link.end_addr(self.family, end).expect("family link").addr,
                        prefix_len: host_len,
                    };
                    out.push(route(dst, hop));
                }
            }
        }
        out
    }

    /// Gateway address and device of `src` for a first hop (link, neighbour):
    /// the neighbour's address on the link, out of `src`'s interface on it.
    pub(super) fn gateway(&self, src: usize, (l, n): (usize, usize)) -> (IpAddr, String) {
        let end_of = |node: usize| {
            self.ends[l]
                .iter()
                .position(|&e| e == node)
                .expect("both are on the link")
        };
        let via = self.links[l]
            .end_addr(self.family, end_of(n))
            .expect("family link")
            .addr;
        (via, self.links[l].names[end_of(src)].clone())
    }

    /// Per node (in node order): single-next-hop and multipath routes to
    /// every anycast address of this family. A non-member node's next hops
    /// are all neighbours on a shortest path to its nearest members (only
    /// routers forward; the members count as ends); one makes a plain route,
    /// several (distinct links) a multipath route.
    pub(super) fn anycast_routes(
        &self,
        anycast: &[Anycast],
    ) -> Vec<(Vec<RoutePlan>, Vec<MultipathPlan>)> {
        let mut out: Vec<(Vec<RoutePlan>, Vec<MultipathPlan>)> =
            vec![(Vec::new(), Vec::new()); self.nodes.len()];
        for a in anycast {
            let Some(addr) = a.addr(self.family) else {
                continue;
            };
            let members: Vec<usize> = self
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| a.nodes.contains(&n.name))
                .map(|(k, _)| k)
                .collect();
            let dist = |n: usize| members.iter().filter_map(|&m| self.dist[n][m]).min();
            let dst = IfAddr {
                addr,
                prefix_len: host_len(self.family),
            };
            for (src, slot) in out.iter_mut().enumerate() {
                if members.contains(&src) {
                    continue;
                }
                let Some(d) = dist(src) else { continue };
                let hops: Vec<(usize, usize)> = self.adj[src]
                    .iter()
                    .copied()
                    .filter(|&(_, n)| {
                        (self.nodes[n].router || members.contains(&n)) && dist(n) == Some(d - 1)
                    })
                    .collect();
                match hops.as_slice() {
                    [] => {}
                    [one] => {
                        let (via, dev) = self.gateway(src, *one);
                        slot.0.push(RoutePlan {
                            dst: dst.clone(),
                            via,
                            dev,
                        });
                    }
                    many => slot.1.push(MultipathPlan {
                        dst: dst.clone(),
                        nexthops: many.iter().map(|h| self.gateway(src, *h)).collect(),
                    }),
                }
            }
        }
        out
    }

    /// The first hop (link, neighbour) from `src` towards the address of
    /// `end` on link `j`: on a shortest path to its owner where only routers
    /// forward, lowest link index on ties.
    pub(super) fn first_hop(&self, src: usize, j: usize, end: usize) -> Option<(usize, usize)> {
        let owner = self.ends[j][end];
        let d = self.dist[src][owner]?;
        self.adj[src].iter().copied().find(|&(_, n)| {
            (self.nodes[n].router || n == owner) && self.dist[n][owner] == Some(d - 1)
        })
    }
}
