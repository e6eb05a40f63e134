//! The forwarding path: its MTU and bottleneck (the first smallest
//! interface, an egress before the receiving end of the same hop), what a
//! packet of a given size meets on it, and the prediction of one path.
//! Facts: docs/kernel-behaviour.md#veth-receive-slack, #vxlan-tunnels.

use super::*;

/// What happens to one packet (and its fragments) along a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Fate {
    Delivered,
    /// Bigger than the sender's own interface and it may not fragment.
    LocalTooBig {
        mtu: u32,
    },
    /// The router of `hops[hop]` may not fragment it into `mtu`.
    TooBig {
        hop: usize,
        mtu: u32,
    },
    /// Dropped silently entering `hops[hop].next` (`size` > MTU + slack).
    Dropped {
        hop: usize,
        size: u32,
    },
}

/// Who may fragment: the sender (no DF, or IPv6 source fragmentation) and
/// routers (IPv4 without DF).
#[derive(Debug, Clone, Copy)]
pub(super) struct Frag {
    pub(super) source: bool,
    pub(super) routers: bool,
}

pub(super) const DF: Frag = Frag {
    source: false,
    routers: false,
};

/// Fact: docs/kernel-behaviour.md#veth-receive-slack, #ingress-only-through-a-router.
pub(super) fn walk(hops: &[Hop], size: u32, frag: Frag) -> Fate {
    let mut cur = size;
    for (i, h) in hops.iter().enumerate() {
        if cur > h.out_mtu {
            let may = if i == 0 { frag.source } else { frag.routers };
            if !may {
                return if i == 0 {
                    Fate::LocalTooBig { mtu: h.out_mtu }
                } else {
                    Fate::TooBig {
                        hop: i,
                        mtu: h.out_mtu,
                    }
                };
            }
            cur = h.out_mtu;
        }
        if cur > h.in_mtu + VETH_SLACK {
            return Fate::Dropped { hop: i, size: cur };
        }
    }
    Fate::Delivered
}

/// Result of the sender's PMTUD iterations (DF packets, shrinking on each ICMP that arrives).
pub(super) struct Run {
    pub(super) learned: Learned,
    /// Hop indices of the routers whose ICMP the sender used.
    pub(super) hit: Vec<usize>,
    pub(super) stop: Option<Stall>,
}

impl Ctx<'_> {
    pub(super) fn predict_path(&self, from: &str, to: &str) -> Option<PathPrediction> {
        let family = self.family;
        let hops = self.plan.path(from, to, family)?;
        let first = hops.first()?;
        let dst = self.plan.address_of(to, family)?;
        let src = self
            .plan
            .node(from)?
            .iface(&first.out_iface)?
            .addr(family)?
            .addr;
        let back = self.plan.path_to(to, src, family);

        let bottleneck = self.bottleneck(&hops);
        let from_mtu = first.out_mtu;
        let to_mtu = back.as_ref().and_then(|b| b.first()).map(|h| h.out_mtu);
        let overhead = MSS_OVERHEAD[self.fi()];
        let mss = match to_mtu {
            Some(t) => Knowable::Known(Mss {
                from: from_mtu - overhead,
                to: t - overhead,
            }),
            None => Knowable::Unknown(format!("{to} has no route back to {src}")),
        };
        // The MSS `to` advertises reaches `from` along `back`; a clamp on
        // a router there lowers it.
        let mss_clamp = back
            .as_deref()
            .and_then(|b| self.clamp_on_way(to, b, from_mtu.min(to_mtu.unwrap_or(from_mtu))));
        let tcp_packet = match to_mtu {
            Some(t) => Knowable::Known(
                mss_clamp
                    .as_ref()
                    .map_or(from_mtu.min(t), |c| from_mtu.min(t).min(c.mss + overhead)),
            ),
            None => Knowable::Unknown(format!("{to} has no route back to {src}")),
        };
        let knobs = self.knobs(from);

        let mut icmp: Vec<IcmpPrediction> = hops
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, h)| self.icmp_from(&h.node, i, h.out_mtu, src, from_mtu))
            .collect();
        // Which routers today's traffic needs, assuming every ICMP arrives.
        let mut needed: Vec<usize> = self.run(&hops, from_mtu, &icmp, true).hit;
        if let Knowable::Known(p) = tcp_packet {
            needed.extend(self.run(&hops, p, &icmp, true).hit);
        }
        for i in &mut icmp {
            i.needed = needed.contains(&i.hop);
        }

        let mtu_probing = self
            .topology
            .nodes
            .get(from)
            .into_iter()
            .flat_map(|n| &n.sysctl)
            .any(|(k, v)| {
                k == "net.ipv4.tcp_mtu_probing" && v.trim().parse::<u32>().is_ok_and(|v| v >= 1)
            });

        let mut p = PathPrediction {
            from: from.to_owned(),
            to: to.to_owned(),
            family,
            dst,
            src,
            hops: hops.to_vec(),
            return_hops: back.as_ref().map(|b| b.to_vec()),
            path_mtu: bottleneck.mtu,
            bottleneck,
            mss,
            tcp_packet,
            icmp,
            ping_at_pmtu: Knowable::Unknown(String::new()),
            ping_over_pmtu: Knowable::Unknown(String::new()),
            learned_pmtu: Knowable::Unknown(String::new()),
            transfer: Knowable::Unknown(String::new()),
            stall: None,
            pmtud_stall: None,
            mtu_probing,
            tunnel_links: hops
                .iter()
                .map(|h| h.link)
                .filter(|&l| self.plan.links.get(l).is_some_and(|l| l.tunnel.is_some()))
                .collect(),
            knobs,
            mss_clamp,
            link_names: crate::plan::link_names(self.topology),
        };
        let flow = p.flow_nodes();
        let ruleset = self.ruleset_among(&flow);
        let unknown = |r: &Culprit| {
            let Culprit::Ruleset { node, tool, path } = r else {
                unreachable!("ruleset_among returns rulesets")
            };
            format!("{tool} ruleset {path} on {node} may filter or clamp this flow; the live probes decide")
        };

        p.ping_at_pmtu = self.ping(&hops, back.as_deref(), &p.icmp, &flow, p.path_mtu);
        p.ping_over_pmtu = self.ping(&hops, back.as_deref(), &p.icmp, &flow, p.path_mtu + 1);

        let pmtud = self.run(&hops, from_mtu, &p.icmp, false);
        p.pmtud_stall = pmtud.stop.clone();
        p.learned_pmtu = match (&ruleset, &pmtud.stop) {
            (Some(r), _) => Knowable::Unknown(unknown(r)),
            (
                None,
                Some(Stall::IcmpDropped {
                    router,
                    culprit: c @ Culprit::Ruleset { .. },
                    ..
                }),
            ) => Knowable::Unknown(culprit_words(c, router, family)),
            _ => Knowable::Known(pmtud.learned),
        };

        let (transfer, stall) = match p.tcp_packet.clone() {
            Knowable::Unknown(r) => (Knowable::Unknown(r), None),
            Knowable::Known(size) => {
                let run = self.run(&hops, size, &p.icmp, false);
                let mitigated = if mtu_probing {
                    Verdict::Recovered
                } else {
                    Verdict::Blackhole
                };
                let mut run = self.mitigate(&hops, size, &knobs, run);
                // Unless a locked PMTU lets routers fragment, TCP's smallest
                // segment must fit the narrowest interface.
                let min_packet = TCP_MIN_SND_MSS + MSS_OVERHEAD[self.fi()];
                if run.stop.is_none() && !run.learned.locked && p.bottleneck.mtu < min_packet {
                    let b = &p.bottleneck;
                    run.stop = Some(Stall::BelowMinMss {
                        link: b.link,
                        node: b.node.clone(),
                        iface: b.iface.clone(),
                        mtu: b.mtu,
                        size: min_packet,
                    });
                }
                let (verdict, stall) = match run.stop {
                    None => (Knowable::Known(Verdict::Ok), None),
                    // Whether the ICMP passes is the ruleset's call: no stall to report.
                    Some(Stall::IcmpDropped {
                        router,
                        culprit: c @ Culprit::Ruleset { .. },
                        ..
                    }) => (Knowable::Unknown(culprit_words(&c, &router, family)), None),
                    Some(s @ Stall::IcmpDropped { .. }) => (Knowable::Known(mitigated), Some(s)),
                    Some(s @ Stall::IngressDrop { gso: true, .. }) => (
                        Knowable::Unknown(format!(
                            "{size}-byte TCP segments exceed a receiving end's MTU: veth passes GSO bursts and drops single segments, so the transfer {} depending on loss",
                            if mtu_probing { "completes or recovers" } else { "completes or stalls" }
                        )),
                        Some(s),
                    ),
                    Some(s @ Stall::IngressDrop { gso: false, .. }) => {
                        (Knowable::Known(mitigated), Some(s))
                    }
                    // Mostly a blackhole; now and then a GSO burst gets
                    // through whole (measured: 2 of 16 transfers at 68).
                    Some(s @ Stall::BelowMinMss { mtu, .. }) => (
                        Knowable::Unknown(format!(
                            "TCP's smallest packet ({min_packet} bytes) exceeds the path's {mtu}: transfers stall, except when the kernel happens to send GSO bursts that veth passes whole"
                        )),
                        Some(s),
                    ),
                };
                match &ruleset {
                    Some(r) => (Knowable::Unknown(unknown(r)), stall),
                    None => (verdict, stall),
                }
            }
        };
        p.transfer = transfer;
        p.stall = stall;
        self.apply_knobs_to_pmtud(&mut p, &hops, from_mtu);
        Some(p)
    }

    /// The first interface along the path with the smallest MTU: each hop's
    /// egress, then (unless the planted bug is on) its receiving end.
    pub(super) fn bottleneck(&self, hops: &[Hop]) -> Bottleneck {
        let mut best: Option<Bottleneck> = None;
        for (i, h) in hops.iter().enumerate() {
            let egress = Bottleneck {
                hop: i,
                link: h.link,
                segment: self.segment_of(h.link),
                node: h.node.clone(),
                iface: h.out_iface.clone(),
                mtu: h.out_mtu,
                kind: BottleneckKind::Egress,
            };
            let ingress = Bottleneck {
                hop: i,
                link: h.link,
                segment: self.segment_of(h.link),
                node: h.next.clone(),
                iface: h.in_iface.clone(),
                mtu: h.in_mtu,
                kind: BottleneckKind::IngressOnly,
            };
            let candidates = if self.options.planted_bug {
                vec![egress]
            } else {
                vec![egress, ingress]
            };
            for c in candidates {
                if best.as_ref().is_none_or(|b| c.mtu < b.mtu) {
                    best = Some(c);
                }
            }
        }
        best.expect("a path has at least one hop")
    }

    /// The segment's name if plan link `link` is a segment.
    pub(super) fn segment_of(&self, link: usize) -> Option<String> {
        self.plan.links.get(link).and_then(|l| l.segment.clone())
    }

    /// `hops` as the kernel treats them: a VXLAN device does not check its
    /// MTU on receive (measured: 1450-byte DF pings crossed a tunnel whose
    /// receiving end was 1300), so a tunnel hop's receiving end never drops.
    /// Fact: docs/kernel-behaviour.md#vxlan-tunnels.
    pub(super) fn tunnel_rx_unchecked(&self, hops: &[Hop]) -> Vec<Hop> {
        hops.iter()
            .map(|h| {
                let mut h = h.clone();
                if self
                    .plan
                    .links
                    .get(h.link)
                    .is_some_and(|l| l.tunnel.is_some())
                {
                    h.in_mtu = u32::MAX - VETH_SLACK;
                }
                h
            })
            .collect()
    }
}

/// Links whose two ends have different MTUs, in file order, then
/// segments whose members do, then tunnels given unequal MTUs (plan link
/// indexes: segment `s` is `links.len() + s`, tunnel `k` is
/// `links.len() + segments.len() + k`; a default tunnel MTU is the same on
/// both ends).
pub fn link_mismatches(topology: &Topology) -> Vec<LinkMismatch> {
    let first_tunnel = topology.links.len() + topology.segments.len();
    let tunnels = topology
        .tunnels
        .iter()
        .enumerate()
        .filter_map(|(k, t)| Some((first_tunnel + k, t, t.mtu?)))
        .filter(|(_, _, mtu)| mtu[0] != mtu[1])
        .map(|(i, t, mtu)| LinkMismatch {
            link: i,
            nodes: t.between.to_vec(),
            ifaces: t.names.to_vec(),
            mtu: mtu.to_vec(),
            tunnel: true,
            name: crate::plan::link_name(i, topology),
            segment: None,
        });
    let segments = topology
        .segments
        .iter()
        .enumerate()
        .filter(|(_, s)| s.mtu.iter().any(|&m| m != s.mtu[0]))
        .map(|(k, s)| LinkMismatch {
            link: topology.links.len() + k,
            nodes: s.members.clone(),
            ifaces: s.names.clone(),
            mtu: s.mtu.clone(),
            tunnel: false,
            name: crate::plan::link_name(topology.links.len() + k, topology),
            segment: Some(s.name.clone()),
        });
    topology
        .links
        .iter()
        .enumerate()
        .filter(|(_, l)| l.mtu[0] != l.mtu[1])
        .map(|(i, l)| LinkMismatch {
            link: i,
            nodes: l.between.to_vec(),
            ifaces: l.names.to_vec(),
            mtu: l.mtu.to_vec(),
            tunnel: false,
            name: crate::plan::link_name(i, topology),
            segment: None,
        })
        .chain(segments)
        .chain(tunnels)
        .collect()
}
