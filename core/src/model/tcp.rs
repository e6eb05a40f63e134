//! TCP: the sender's PMTU knobs, MSS clamps on the way, the bulk
//! transfer's run and what mitigates a stall.
//! Facts: docs/kernel-behaviour.md#mitigations, #tcp-through-an-ingress-only-restriction.

use super::*;

impl Ctx<'_> {
    /// `node`'s PMTU sysctls (kernel defaults where unset or unparsable).
    pub(super) fn knobs(&self, node: &str) -> SenderKnobs {
        let mut k = SenderKnobs::default();
        let Some(n) = self.topology.nodes.get(node) else {
            return k;
        };
        for (key, value) in &n.sysctl {
            let Ok(v) = value.trim().parse::<u32>() else {
                continue;
            };
            match key.as_str() {
                "net.ipv4.tcp_mtu_probing" => k.mtu_probing = v,
                "net.ipv4.tcp_base_mss" => k.base_mss = v,
                "net.ipv4.ip_no_pmtu_disc" => k.no_pmtu_disc = v,
                "net.ipv4.route.min_pmtu" => k.min_pmtu = v,
                _ => {}
            }
        }
        k
    }

    /// The smallest MSS any `mss_clamp` on the routers of `back` (the way
    /// `to`'s SYN / SYN-ACK takes to the sender) leaves in `to`'s MSS option,
    /// if one lowers it below `packet - overhead`. `rt mtu` is the smaller
    /// route MTU of the router's routes towards the SYN's destination
    /// (this hop's egress) and back to its source (`to`'s address).
    /// Fact: docs/kernel-behaviour.md#mitigations (`mss_clamp`).
    pub(super) fn clamp_on_way(
        &self,
        to: &str,
        back: &[Hop],
        packet: u32,
    ) -> Option<ClampPrediction> {
        let overhead = MSS_OVERHEAD[self.fi()];
        let to_src = back
            .first()
            .and_then(|h| self.plan.node(to)?.iface(&h.out_iface)?.addr(self.family))
            .map(|a| a.addr)?;
        let mut best: Option<ClampPrediction> = None;
        for h in back.iter().skip(1) {
            let Some(clamp) = self
                .topology
                .nodes
                .get(&h.node)
                .and_then(|n| n.mss_clamp.as_ref())
            else {
                continue;
            };
            if clamp.oif.as_ref().is_some_and(|o| *o != h.out_iface) {
                continue;
            }
            let mss = match clamp.to {
                ClampTo::Mss(v) => u32::from(v),
                ClampTo::Pmtu => {
                    let towards_src = self
                        .plan
                        .path_to(&h.node, to_src, self.family)
                        .and_then(|p| p.first().map(|f| f.out_mtu))
                        .unwrap_or(h.out_mtu);
                    h.out_mtu.min(towards_src).saturating_sub(overhead)
                }
            };
            if mss + overhead < packet && best.as_ref().is_none_or(|b| mss < b.mss) {
                best = Some(ClampPrediction {
                    router: h.node.clone(),
                    mss,
                });
            }
        }
        best
    }

    /// The transfer's stall after the sender's own mitigations that send
    /// the segments differently (measured on 6.18, icmp_blackhole at 1280):
    /// - `ip_no_pmtu_disc` >= 1 (IPv4): TCP sockets send without DF
    ///   (IP_PMTUDISC_DONT), so routers fragment: modes 1, 2 and 3 all
    ///   moved 1 MiB at once through the blackhole; IPv6 still stalled.
    /// - `tcp_mtu_probing=2`: probing from `tcp_base_mss` on from the start
    ///   moved 1 MiB at once (0.01 s) in both families, when the packets of
    ///   `base_mss` fit; larger `base_mss` was not measured.
    ///
    /// Fact: docs/kernel-behaviour.md#tcp_mtu_probing-recovers-a-blackhole, #mitigations.
    pub(super) fn mitigate(&self, hops: &[Hop], size: u32, knobs: &SenderKnobs, run: Run) -> Run {
        let Some(stop) = &run.stop else {
            return run;
        };
        let nodf = Frag {
            source: true,
            routers: true,
        };
        let icmp_stall = matches!(stop, Stall::IcmpDropped { culprit, .. } if !matches!(culprit, Culprit::Ruleset { .. }));
        if self.family == Family::V4
            && knobs.no_pmtu_disc >= 1
            && icmp_stall
            && matches!(walk(hops, size, nodf), Fate::Delivered)
        {
            return Run { stop: None, ..run };
        }
        if knobs.mtu_probing == 2 && icmp_stall {
            if let Stall::IcmpDropped { mtu, .. } = stop {
                if knobs.base_mss + MSS_OVERHEAD[self.fi()] <= *mtu {
                    return Run { stop: None, ..run };
                }
            }
        }
        run
    }

    /// What `ip_no_pmtu_disc` does to the PMTU the sender learns (IPv4;
    /// measured with `ping -M want` then `ip route get`, hidden 1280 link):
    /// mode 1 cached a locked `min_pmtu` (552) on the first frag-needed,
    /// whatever MTU it carried; modes 2 and 3 ignored ICMP-borne reports
    /// (the learned PMTU stayed the interface's). DF pings over the path
    /// MTU were not measured under these modes: unknown.
    /// Fact: docs/kernel-behaviour.md#mitigations (`ip_no_pmtu_disc`, `min_pmtu`).
    pub(super) fn apply_knobs_to_pmtud(&self, p: &mut PathPrediction, hops: &[Hop], from_mtu: u32) {
        let mode = p.knobs.no_pmtu_disc;
        if self.family != Family::V4 || mode == 0 {
            return;
        }
        let why = format!(
            "net.ipv4.ip_no_pmtu_disc={mode} on {}: not measured",
            p.from
        );
        if matches!(p.ping_over_pmtu, Knowable::Known(_)) {
            p.ping_over_pmtu = Knowable::Unknown(why.clone());
        }
        if !matches!(p.learned_pmtu, Knowable::Known(_)) {
            return;
        }
        p.learned_pmtu = match mode {
            1 => {
                let first_arrives = match walk(hops, from_mtu, DF) {
                    Fate::TooBig { hop, .. } => p
                        .icmp
                        .iter()
                        .find(|i| i.hop == hop)
                        .map(IcmpPrediction::acted),
                    _ => Some(Knowable::Known(false)),
                };
                match first_arrives {
                    Some(Knowable::Known(true)) => Knowable::Known(Learned {
                        mtu: from_mtu.min(p.knobs.min_pmtu),
                        locked: true,
                    }),
                    Some(Knowable::Known(false)) => Knowable::Known(Learned {
                        mtu: from_mtu,
                        locked: false,
                    }),
                    _ => Knowable::Unknown(why),
                }
            }
            2 | 3 => Knowable::Known(Learned {
                mtu: from_mtu,
                locked: false,
            }),
            _ => Knowable::Unknown(why),
        };
    }

    /// The sender's PMTUD iterations starting with `start`-byte DF packets.
    /// `optimistic`: every ICMP arrives (to find the routers traffic needs).
    /// Fact: docs/kernel-behaviour.md#below-min_pmtu-a-locked-552.
    pub(super) fn run(
        &self,
        hops: &[Hop],
        start: u32,
        icmp: &[IcmpPrediction],
        optimistic: bool,
    ) -> Run {
        let hops = &self.tunnel_rx_unchecked(hops)[..];
        let mut learned = Learned {
            mtu: hops[0].out_mtu,
            locked: false,
        };
        let mut cur = start;
        let mut hit = Vec::new();
        loop {
            // A locked route sends without DF (TCP, IP_PMTUDISC_WANT): routers fragment.
            let frag = if learned.locked {
                Frag {
                    source: true,
                    routers: true,
                }
            } else {
                DF
            };
            match walk(hops, cur, frag) {
                Fate::Delivered | Fate::LocalTooBig { .. } => {
                    return Run {
                        learned,
                        hit,
                        stop: None,
                    }
                }
                Fate::Dropped { hop, size } => {
                    let h = &hops[hop];
                    return Run {
                        learned,
                        hit,
                        stop: Some(Stall::IngressDrop {
                            link: h.link,
                            segment: self.segment_of(h.link),
                            node: h.next.clone(),
                            iface: h.in_iface.clone(),
                            mtu: h.in_mtu,
                            size,
                            gso: !learned.locked,
                        }),
                    };
                }
                Fate::TooBig { hop, mtu } => {
                    let ic = icmp
                        .iter()
                        .find(|i| i.hop == hop)
                        .expect("an ICMP prediction per router on the path");
                    if !optimistic && ic.acted() != Knowable::Known(true) {
                        let h = &hops[hop];
                        let culprit = ic
                            .culprit
                            .clone()
                            .expect("an ICMP that does not surely arrive has a culprit");
                        return Run {
                            learned,
                            hit,
                            stop: Some(Stall::IcmpDropped {
                                router: h.node.clone(),
                                next: h.next.clone(),
                                link: h.link,
                                segment: self.segment_of(h.link),
                                mtu,
                                size: cur,
                                culprit,
                            }),
                        };
                    }
                    hit.push(hop);
                    let floor = match self.family {
                        Family::V4 => self.knobs(&hops[0].node).min_pmtu,
                        Family::V6 => IPV6_MIN_MTU,
                    };
                    if mtu < floor {
                        // The kernel caches min(old, floor), locked (IPv4);
                        // IPv6 links are never below 1280.
                        cur = cur.min(floor);
                        learned = Learned {
                            mtu: cur,
                            locked: true,
                        };
                    } else {
                        cur = mtu;
                        learned.mtu = mtu;
                    }
                }
            }
        }
    }
}

pub(super) fn sysctl_of<'a>(topology: &'a Topology, node: &str, key: &str) -> Option<&'a str> {
    topology
        .nodes
        .get(node)?
        .sysctl
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}
