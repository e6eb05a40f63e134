//! ICMP errors on their way back: which hooks (a router's OUTPUT, the
//! FORWARD of routers on its routed way back, the sender's INPUT) drop a
//! frag-needed / packet-too-big, and which rulesets make it unknowable.
//! Facts: docs/kernel-behaviour.md#where-icmp-is-dropped.

use super::*;

impl Culprit {
    /// How this stops the ICMP error `router` generated, in words.
    pub fn words(&self, router: &str, family: Family) -> String {
        culprit_words(self, router, family)
    }

    /// The fix, in words.
    pub fn fix(&self, family: Family) -> String {
        culprit_fix(self, family)
    }
}

/// How `culprit` stops the ICMP `router` generated.
pub(super) fn culprit_words(culprit: &Culprit, router: &str, family: Family) -> String {
    let what = ICMP_SHORT[family_index(family)];
    match culprit {
        Culprit::Filter { node, hook } => match hook {
            Hook::Output if node == router => format!("{node} drops its own {what} on output"),
            Hook::Output => format!("{node} drops {what} on output"),
            Hook::Forward => format!("{node} drops {router}'s {what} in forward"),
            Hook::Input => format!("{node} drops {router}'s {what} on input"),
        },
        Culprit::Ruleset { node, tool, path } => {
            format!("{tool} ruleset {path} on {node} decides whether {router}'s {what} passes")
        }
        Culprit::NoRoute { router, dst } => format!("{router} has no route back to {dst}"),
        Culprit::Ignored { node, .. } => format!(
            "{router}'s {what} reaches {node}, whose stack ignores it (pmtu_icmp = \"ignore\")"
        ),
        Culprit::IngressMtu {
            name,
            node,
            iface,
            mtu,
            size,
            ..
        } => format!(
            "{router}'s {size}-byte {what} is dropped entering {node}:{iface} ({mtu}, {name})"
        ),
    }
}

pub(super) fn culprit_fix(culprit: &Culprit, family: Family) -> String {
    let what = ICMP_NAME[family_index(family)];
    match culprit {
        Culprit::Filter { node, hook } => {
            let dir = match hook {
                Hook::Output => "out of",
                Hook::Forward => "through",
                Hook::Input => "into",
            };
            format!("let {what} {dir} {node}")
        }
        Culprit::Ruleset { node, path, .. } => format!("let {what} pass {path} on {node}"),
        Culprit::NoRoute { router, dst } => format!("give {router} a route back to {dst}"),
        // What makes its PMTUD right; clamping and PLPMTUD only keep TCP going.
        Culprit::Ignored { node, mtu } => format!(
            "set {node}'s own interface MTU to {mtu} (MSS clamping in front of it or PLPMTUD on it keep its TCP going, but its stack still learns no path MTU)"
        ),
        Culprit::IngressMtu { name, .. } => format!("equalise MTU on {name}"),
    }
}

/// The fixes that fit a host whose stack ignores PMTU ICMP, for its
/// stalled TCP: its own interface MTU, MSS clamping on the router in front
/// of it (`clamp`: the words, router and value), PLPMTUD unless it already
/// probes. Never "let ICMP in": it is in.
pub(super) fn ignored_fix(node: &str, mtu: u32, clamp: &str, probing: bool) -> String {
    let plpmtud = if probing {
        String::new()
    } else {
        format!(", or enable PLPMTUD on {node} (net.ipv4.tcp_mtu_probing=1)")
    };
    format!("set {node}'s own interface MTU to {mtu}, or {clamp}{plpmtud}")
}

impl Ctx<'_> {
    /// Whether host `node`'s stack ignores PMTU ICMP (`pmtu_icmp = "ignore"`).
    pub(super) fn ignores(&self, node: &str) -> bool {
        self.topology
            .nodes
            .get(node)
            .is_some_and(|n| n.pmtu_icmp == PmtuIcmp::Ignore)
    }

    /// Declarative drop of PMTU ICMP at `hook` on `node`.
    pub(super) fn drops(&self, node: &str, hook: Hook) -> bool {
        self.topology.filters.iter().any(|f| {
            f.node == node && matches!(f.kind, FilterKind::DropPmtuIcmp { hook: h } if h == hook)
        })
    }

    /// A real ruleset on `node` that can see this family's packets.
    pub(super) fn ruleset_on(&self, node: &str) -> Option<Culprit> {
        self.topology.filters.iter().find_map(|f| {
            if f.node != node {
                return None;
            }
            let (tool, path) = match (&f.kind, self.family) {
                (FilterKind::Nft(p), _) => ("nft", p),
                (FilterKind::Iptables(p), Family::V4) => ("iptables", p),
                (FilterKind::Ip6tables(p), Family::V6) => ("ip6tables", p),
                _ => return None,
            };
            Some(Culprit::Ruleset {
                node: node.to_owned(),
                tool: tool.to_owned(),
                path: path.display().to_string(),
            })
        })
    }

    pub(super) fn ruleset_among(&self, nodes: &[String]) -> Option<Culprit> {
        nodes.iter().find_map(|n| self.ruleset_on(n))
    }

    /// The frag-needed / packet-too-big `router` (sending on `hops[hop]`
    /// into `mtu`) would send to `src` about a `orig`-byte packet.
    /// Fact: docs/kernel-behaviour.md#where-icmp-is-dropped.
    pub(super) fn icmp_from(
        &self,
        router: &str,
        hop: usize,
        mtu: u32,
        src: IpAddr,
        orig: u32,
    ) -> IcmpPrediction {
        let mut out = IcmpPrediction {
            router: router.to_owned(),
            hop,
            mtu,
            needed: false,
            way_back: vec![router.to_owned()],
            reaches: Knowable::Known(false),
            ignored: false,
            culprit: None,
        };
        let Some(way) = self
            .plan
            .path_to(router, src, self.family)
            .map(|w| self.tunnel_rx_unchecked(&w))
        else {
            out.culprit = Some(Culprit::NoRoute {
                router: router.to_owned(),
                dst: src,
            });
            return out;
        };
        out.way_back.extend(way.iter().map(|h| h.next.clone()));
        // Position of each event along the way: node k's hooks at (k, 1),
        // the ingress into node k at (k, 0).
        let last = out.way_back.len() - 1;
        let filter = out.way_back.iter().enumerate().find_map(|(k, node)| {
            let hook = if k == 0 {
                Hook::Output
            } else if k == last {
                Hook::Input
            } else {
                Hook::Forward
            };
            self.drops(node, hook).then(|| {
                (
                    (k, 1),
                    Culprit::Filter {
                        node: node.clone(),
                        hook,
                    },
                )
            })
        });
        let size = match self.family {
            Family::V4 => ICMPV4_ERROR_MAX.min(ICMP_ERROR_HEADER[0] + orig),
            Family::V6 => IPV6_MIN_MTU.min(ICMP_ERROR_HEADER[1] + orig),
        };
        // ICMP errors go without DF: IPv4 routers fragment them, an IPv6 source does.
        let frag = Frag {
            source: true,
            routers: self.family == Family::V4,
        };
        let ingress = match walk(&way, size, frag) {
            Fate::Dropped { hop: j, size } => {
                let h = &way[j];
                Some((
                    (j + 1, 0),
                    Culprit::IngressMtu {
                        link: h.link,
                        name: crate::plan::link_name(h.link, self.topology),
                        segment: self.segment_of(h.link),
                        node: h.next.clone(),
                        iface: h.in_iface.clone(),
                        mtu: h.in_mtu,
                        size,
                    },
                ))
            }
            // Cannot happen on IPv6 links (all >= 1280), and IPv4 fragments.
            Fate::TooBig { hop: j, mtu } => Some((
                (j, 1),
                Culprit::IngressMtu {
                    link: way[j].link,
                    name: crate::plan::link_name(way[j].link, self.topology),
                    segment: self.segment_of(way[j].link),
                    node: way[j].node.clone(),
                    iface: way[j].out_iface.clone(),
                    mtu,
                    size,
                },
            )),
            Fate::Delivered | Fate::LocalTooBig { .. } => None,
        };
        let first = [filter, ingress]
            .into_iter()
            .flatten()
            .min_by_key(|(p, _)| *p);
        if let Some((_, c)) = first {
            out.culprit = Some(c);
        } else if let Some(r) = self.ruleset_among(&out.way_back) {
            out.reaches = Knowable::Unknown(format!(
                "{}; the live probes decide",
                culprit_words(&r, router, self.family)
            ));
            out.culprit = Some(r);
        } else {
            out.reaches = Knowable::Known(true);
        }
        // Delivered (or up to a ruleset) to a host that ignores it.
        if out.reaches != Knowable::Known(false) {
            if let Some(node) = self.plan.owner_of(src).filter(|n| self.ignores(n)) {
                out.ignored = true;
                out.culprit = Some(Culprit::Ignored {
                    node: node.to_owned(),
                    mtu,
                });
            }
        }
        out
    }
}
