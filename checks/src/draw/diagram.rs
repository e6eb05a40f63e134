//! What a drawing shows, independent of where it goes: nodes with their
//! role and marks, edges with an MTU at every end (two ends for a link or
//! a tunnel, N for a segment), and the failing paths of a report.

use mtulab_core::topology::{ClampTo, FilterKind};
use mtulab_core::{CheckId, Family, Plan, Topology};

use crate::report::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Host,
    Router,
}

/// Why a node is marked: something on it that drops, ignores or rewrites
/// PMTU traffic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mark {
    /// `drop = "pmtu-icmp"` at a hook.
    DropsIcmp(String),
    /// A real ruleset (it may drop: the report says what it did).
    Ruleset(String),
    /// MSS clamping: a fix, shown so a reader sees where it sits.
    Clamp(String),
}

impl Mark {
    /// The words inside the node box (short: they set the box's width).
    pub fn text(&self) -> String {
        match self {
            Mark::DropsIcmp(hook) => format!("drops ICMP @{hook}"),
            Mark::Ruleset(file) => format!("rules {}", shorten(file, 16)),
            Mark::Clamp(to) => format!("clamps MSS {to}"),
        }
    }

    /// A CSS class: `drop` (red), `ruleset` (amber), `clamp` (green).
    pub fn class(&self) -> &'static str {
        match self {
            Mark::DropsIcmp(_) => "drop",
            Mark::Ruleset(_) => "ruleset",
            Mark::Clamp(_) => "clamp",
        }
    }
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(n - 1).collect();
        out.push('…');
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DNode {
    pub name: String,
    pub role: Role,
    pub marks: Vec<Mark>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    Link,
    /// A tunnel (drawn dashed): it rides on the links.
    Tunnel,
    /// A multi-access segment (drawn as a box with a spoke per member).
    Segment,
}

/// One end of an edge: a node's interface and its MTU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct End {
    /// Index into [`Diagram::nodes`].
    pub node: usize,
    pub iface: String,
    pub mtu: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub kind: EdgeKind,
    /// "link 2", "tunnel 1", or the segment's name.
    pub name: String,
    /// Two for a link or tunnel, N for a segment.
    pub ends: Vec<End>,
}

impl Edge {
    /// Whether the ends' MTUs differ (rule 1 broken).
    pub fn mismatched(&self) -> bool {
        self.ends.windows(2).any(|w| w[0].mtu != w[1].mtu)
    }

    /// Whether `end`'s MTU differs from the largest MTU on the edge: the
    /// end that drops what the others send.
    pub fn odd_end(&self, end: usize) -> bool {
        let max = self.ends.iter().map(|e| e.mtu).max().unwrap_or(0);
        self.mismatched() && self.ends[end].mtu < max
    }
}

/// A host pair and family whose checks failed, with the edges its packets
/// cross (in order) and the ids of the checks that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailingPath {
    pub from: String,
    pub to: String,
    pub family: Family,
    pub edges: Vec<usize>,
    /// Nodes along the path, sender first.
    pub nodes: Vec<String>,
    pub checks: Vec<CheckId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Diagram {
    pub title: String,
    pub nodes: Vec<DNode>,
    pub edges: Vec<Edge>,
    pub failing: Vec<FailingPath>,
}

impl Diagram {
    /// The drawing of a topology as planned: every link and tunnel with
    /// the MTU of each end and the interface names the lab gives them.
    pub fn new(topology: &Topology, plan: &Plan) -> Diagram {
        let nodes: Vec<DNode> = plan
            .nodes
            .iter()
            .map(|n| {
                let mut marks = Vec::new();
                for f in topology.filters.iter().filter(|f| f.node == n.name) {
                    marks.push(match &f.kind {
                        FilterKind::DropPmtuIcmp { hook } => Mark::DropsIcmp(hook.as_str().into()),
                        FilterKind::Nft(p) | FilterKind::Iptables(p) | FilterKind::Ip6tables(p) => {
                            Mark::Ruleset(
                                p.file_name()
                                    .map(|f| f.to_string_lossy().into_owned())
                                    .unwrap_or_default(),
                            )
                        }
                    });
                }
                if let Some(c) = topology
                    .nodes
                    .get(&n.name)
                    .and_then(|t| t.mss_clamp.as_ref())
                {
                    marks.push(Mark::Clamp(match c.to {
                        ClampTo::Pmtu => "pmtu".into(),
                        ClampTo::Mss(v) => v.to_string(),
                    }));
                }
                DNode {
                    name: n.name.clone(),
                    role: if n.router { Role::Router } else { Role::Host },
                    marks,
                }
            })
            .collect();
        let index = |name: &str| {
            nodes
                .iter()
                .position(|n| n.name == name)
                .expect("planned node")
        };
        let mut tunnels = 0;
        let edges = plan
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let (kind, name) = if l.tunnel.is_some() {
                    tunnels += 1;
                    (EdgeKind::Tunnel, format!("tunnel {tunnels}"))
                } else {
                    (EdgeKind::Link, format!("link {}", i + 1))
                };
                Edge {
                    kind,
                    name,
                    ends: (0..2)
                        .map(|e| End {
                            node: index(&l.between[e]),
                            iface: l.names[e].clone(),
                            mtu: l.mtu[e],
                        })
                        .collect(),
                }
            })
            .collect();
        Diagram {
            title: topology.name.clone(),
            nodes,
            edges,
            failing: Vec::new(),
        }
    }

    /// Mark the paths `report` found failing (any violation naming a
    /// path), in the report's order; edges follow the plan's routes.
    pub fn with_failing(mut self, plan: &Plan, report: &Report) -> Diagram {
        for v in &report.violations {
            let (Some(from), Some(to), Some(family)) = (&v.from, &v.to, v.family) else {
                continue;
            };
            if let Some(p) = self
                .failing
                .iter_mut()
                .find(|p| &p.from == from && &p.to == to && p.family == family)
            {
                if !p.checks.contains(&v.check) {
                    p.checks.push(v.check);
                }
                continue;
            }
            let hops = plan.path(from, to, family).unwrap_or_default();
            let mut nodes = vec![from.clone()];
            nodes.extend(hops.iter().map(|h| h.next.clone()));
            if hops.is_empty() {
                // Not a host (an anycast address): name it, draw nothing.
                nodes.push(to.clone());
            }
            self.failing.push(FailingPath {
                from: from.clone(),
                to: to.clone(),
                family,
                edges: hops.iter().map(|h| h.link).collect(),
                nodes,
                checks: vec![v.check],
            });
        }
        self
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}
