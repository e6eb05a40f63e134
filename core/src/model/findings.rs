//! Findings: what a user would notice on each path and link, with the
//! check it breaks and the fix.

use super::*;

impl Model {
    /// What a user would notice and how to fix it: link mismatches first,
    /// then each path's findings.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out: Vec<Finding> = self
            .link_mismatches
            .iter()
            .map(|m| {
                let seen = if m.segment.is_some() {
                    segment_seen(m)
                } else {
                    link_seen(m)
                };
                let fix = if m.segment.is_some() {
                    let (common, odd) = m.odd_members();
                    let odd: Vec<String> = odd
                        .iter()
                        .map(|&i| format!("{}:{}", m.nodes[i], m.ifaces[i]))
                        .collect();
                    format!(
                        "equalise MTU on {}: set {} to {common} like the other members",
                        m.label(),
                        odd.join(", ")
                    )
                } else {
                    format!("equalise MTU on {m}")
                };
                Finding {
                    check: CheckId::LinkMtuMatch,
                    subject: m.label(),
                    seen,
                    fix,
                }
            })
            .collect();
        for p in &self.paths {
            out.extend(p.findings());
        }
        out
    }
}

/// What a user sees of a two-ended mismatch (a link or a tunnel).
fn link_seen(m: &LinkMismatch) -> String {
    let (small, big) = if m.mtu[0] < m.mtu[1] { (0, 1) } else { (1, 0) };
    let limit = m.mtu[small] + VETH_SLACK;
    if m.tunnel {
        // Measured: a tunnel device's receive path has no MTU check
        // (VXLAN here; the other kinds in guest kernels).
        format!(
            "the tunnel's ends differ; {} accepts up to {} bytes from {} (a tunnel device does not enforce its MTU on receive), so senders whose traffic enters at {} learn {}, never {}",
            m.nodes[small],
            m.mtu[big],
            m.nodes[big],
            m.nodes[big],
            m.mtu[big],
            m.mtu[small]
        )
    } else if m.mtu[big] <= limit {
        format!(
            "the ends differ by {} bytes, within veth's {VETH_SLACK}-byte slack: nothing is dropped, but nothing reports {}'s smaller MTU either",
            m.mtu[big] - m.mtu[small],
            m.nodes[small]
        )
    } else {
        format!(
            "packets from {} to {} of up to {limit} bytes cross, {}..={} bytes vanish without ICMP",
            m.nodes[big],
            m.nodes[small],
            limit + 1,
            m.mtu[big]
        )
    }
}

/// What a user sees of a segment whose members differ: per odd member,
/// which frames between it and the others vanish (the bridge forwards
/// any size; a member's veth drops what exceeds its MTU + 4 silently).
fn segment_seen(m: &LinkMismatch) -> String {
    let (common, odd) = m.odd_members();
    let parts: Vec<String> = odd
        .iter()
        .map(|&i| {
            let (node, mtu) = (&m.nodes[i], m.mtu[i]);
            let (big, small, dir) = if mtu > common {
                (mtu, common, format!("from {node} to the members at {common}"))
            } else {
                (common, mtu, format!("from the members at {common} to {node}"))
            };
            if big <= small + VETH_SLACK {
                format!(
                    "{node} is at {mtu}, within veth's {VETH_SLACK}-byte slack of the others' {common}: nothing is dropped, but nothing reports the smaller MTU either"
                )
            } else {
                format!(
                    "{node} is at {mtu}, the others at {common}: frames {dir} of up to {} bytes cross, {}..={big} bytes vanish without ICMP",
                    small + VETH_SLACK,
                    small + VETH_SLACK + 1
                )
            }
        })
        .collect();
    parts.join("; ")
}

impl PathPrediction {
    /// `link N`, `segment NAME` or `tunnel K` for a planned link index.
    pub fn link_name(&self, link: usize) -> String {
        self.link_names
            .get(link)
            .cloned()
            .unwrap_or_else(|| format!("link {}", link + 1))
    }

    pub(super) fn fi(&self) -> usize {
        family_index(self.family)
    }

    /// Every node the flow's packets, replies and ICMP errors cross.
    pub(super) fn flow_nodes(&self) -> Vec<String> {
        let mut nodes: Vec<String> = Vec::new();
        let mut add = |n: &String| {
            if !nodes.contains(n) {
                nodes.push(n.clone());
            }
        };
        for h in self.hops.iter().chain(self.return_hops.iter().flatten()) {
            add(&h.node);
            add(&h.next);
        }
        for i in &self.icmp {
            i.way_back.iter().for_each(&mut add);
        }
        nodes
    }

    /// The `icmp-passes` finding for `router`'s frag-needed / packet-too-big
    /// to this path's sender: Some only when the model knows it is dropped.
    pub fn icmp_finding(&self, router: &str) -> Option<Finding> {
        let i = self.icmp.iter().find(|i| i.router == router)?;
        let (Knowable::Known(false), Some(c)) = (&i.reaches, &i.culprit) else {
            return None;
        };
        let when = if i.needed {
            format!("{} needs it ({} sends into {})", self.from, i.router, i.mtu)
        } else {
            format!(
                "latent: nothing needs it today, {} would blackhole once {} has to send into a smaller MTU",
                self.from, i.router
            )
        };
        Some(Finding {
            check: CheckId::IcmpPasses,
            subject: format!("{} -> {} ({})", self.from, self.to, self.family),
            seen: format!(
                "{} from {} to {}: {}; {when}",
                ICMP_SHORT[self.fi()],
                i.router,
                self.from,
                culprit_words(c, &i.router, self.family)
            ),
            fix: culprit_fix(c, self.family),
        })
    }

    /// The first finding of `check` on this path (None: the model predicts it holds or cannot know).
    pub fn finding(&self, check: CheckId) -> Option<Finding> {
        self.findings().into_iter().find(|f| f.check == check)
    }

    /// What a user would see on this path and the fix, one finding per broken check.
    pub fn findings(&self) -> Vec<Finding> {
        let subject = format!("{} -> {} ({})", self.from, self.to, self.family);
        let finding = |check, seen: String, fix: String| Finding {
            check,
            subject: subject.clone(),
            seen,
            fix,
        };
        let mut out = Vec::new();
        // tcp-transfer
        if let Some(stall) = &self.stall {
            let probing = format!("set net.ipv4.tcp_mtu_probing=1 on {}", self.from);
            match (stall, self.transfer.known()) {
                (
                    Stall::IcmpDropped {
                        router,
                        next,
                        link,
                        segment: _,
                        mtu,
                        size,
                        culprit,
                    },
                    Some(v),
                ) => {
                    let mss = mtu - MSS_OVERHEAD[self.fi()];
                    let cause = format!(
                        "{size}-byte packets do not fit {router}'s {mtu} towards {next} ({}) and {}",
                        self.link_name(*link),
                        culprit_words(culprit, router, self.family)
                    );
                    // The MSS that limits this flow's segments is the one
                    // `to` announces: a clamp must sit on a router its SYN
                    // crosses, which is not the stalling router when the
                    // way back differs from the way out.
                    let syn_routers: Vec<&str> = self
                        .return_hops
                        .iter()
                        .flatten()
                        .skip(1)
                        .map(|h| h.node.as_str())
                        .collect();
                    let at = if syn_routers.is_empty() || syn_routers.contains(&router.as_str()) {
                        router.as_str()
                    } else {
                        syn_routers[0]
                    };
                    let clamp = format!("clamp MSS to {mss} on {at}");
                    let (seen, fix) = if let Culprit::Ignored { node, mtu } = culprit {
                        // The host's own words and the fixes that fit a host.
                        let how = if *v == Verdict::Recovered {
                            "stall for seconds, then recover by TCP MTU probing"
                        } else {
                            "stall (small exchanges work)"
                        };
                        (
                            format!(
                                "bulk transfers from {} to {} {how}: {node} ignores {}: {cause}",
                                self.from,
                                self.to,
                                ICMP_SHORT[self.fi()]
                            ),
                            ignored_fix(node, *mtu, &clamp, *v == Verdict::Recovered),
                        )
                    } else if *v == Verdict::Recovered {
                        (
                            format!(
                                "bulk transfers from {} to {} stall for seconds, then recover by TCP MTU probing: {cause}",
                                self.from, self.to
                            ),
                            format!("{}, or {clamp}", culprit_fix(culprit, self.family)),
                        )
                    } else {
                        (
                            format!(
                                "bulk transfers from {} to {} stall (small exchanges work): {cause}",
                                self.from, self.to
                            ),
                            format!(
                                "{}, or {clamp}, or {probing}",
                                culprit_fix(culprit, self.family)
                            ),
                        )
                    };
                    out.push(finding(CheckId::TcpTransfer, seen, fix));
                }
                (
                    Stall::IngressDrop {
                        link,
                        segment: _,
                        node,
                        iface,
                        mtu,
                        size,
                        gso,
                    },
                    verdict,
                ) => {
                    let how = if *gso {
                        "may stall (veth lets GSO bursts through but drops single full-size segments)"
                    } else if verdict == Some(&Verdict::Recovered) {
                        "stall for seconds, then recover by TCP MTU probing"
                    } else {
                        "stall"
                    };
                    out.push(finding(
                        CheckId::TcpTransfer,
                        format!(
                            "bulk transfers from {} to {} {how}: {size}-byte packets are dropped silently entering {node}:{iface} ({mtu}, {}), no ICMP",
                            self.from,
                            self.to,
                            self.link_name(*link)
                        ),
                        format!("equalise MTU on {}, or {probing}", self.link_name(*link)),
                    ));
                }
                (
                    Stall::BelowMinMss {
                        link,
                        node,
                        iface,
                        mtu,
                        size,
                    },
                    _,
                ) => {
                    out.push(finding(
                        CheckId::TcpTransfer,
                        format!(
                            "bulk transfers from {} to {} stall (now and then a GSO burst passes): TCP never sends a packet smaller than {size} bytes (the kernel's minimum MSS of {TCP_MIN_SND_MSS} plus {} bytes of headers), and {node}:{iface} on {} has an MTU of {mtu}; no ICMP, MSS clamp or MTU probing can help",
                            self.from,
                            self.to,
                            size - TCP_MIN_SND_MSS,
                            self.link_name(*link)
                        ),
                        format!("raise {}'s MTU to at least {size}", self.link_name(*link)),
                    ));
                }
                (Stall::IcmpDropped { .. }, None) => {}
            }
        }
        // icmp-passes: every router, needed today or latent.
        out.extend(
            self.icmp
                .iter()
                .filter_map(|i| self.icmp_finding(&i.router)),
        );
        // pmtud: the learned PMTU and a DF ping at the path MTU.
        if let Knowable::Known(l) = &self.learned_pmtu {
            if l.mtu != self.path_mtu {
                let b = &self.bottleneck;
                let (why, fix) = if l.locked {
                    (
                        format!(
                            "a frag-needed below net.ipv4.route.min_pmtu is cached as a locked {}",
                            l.mtu
                        ),
                        format!(
                            "raise {}'s MTU to at least {IPV4_MIN_PMTU}, or lower net.ipv4.route.min_pmtu on {}",
                            self.link_name(b.link),
                            self.from
                        ),
                    )
                } else {
                    match &self.pmtud_stall {
                        Some(Stall::IngressDrop {
                            link,
                            segment: _,
                            node,
                            iface,
                            mtu,
                            size,
                            ..
                        }) => (
                            format!(
                                "{size}-byte packets are dropped silently entering {node}:{iface} ({mtu}, {})",
                                self.link_name(*link)
                            ),
                            format!("equalise MTU on {}", self.link_name(*link)),
                        ),
                        Some(Stall::IcmpDropped {
                            router, culprit, ..
                        }) => {
                            let words = culprit_words(culprit, router, self.family);
                            let words = match culprit {
                                Culprit::Ignored { node, .. } => {
                                    format!("{node} ignores {}: {words}", ICMP_SHORT[self.fi()])
                                }
                                _ => words,
                            };
                            (words, culprit_fix(culprit, self.family))
                        }
                        // Only a TCP transfer stalls on it, never PMTUD.
                        Some(Stall::BelowMinMss { .. }) => (String::new(), String::new()),
                        // Delivered although bigger than a receiving end:
                        // a tunnel end does not check its MTU, a veth end
                        // has 4 bytes of slack; either way nothing reports it.
                        None => {
                            let why = if self.tunnel_links.contains(&b.link) {
                                format!(
                                    "a tunnel end does not enforce its MTU on receive, so {}-byte packets cross and nothing reports it",
                                    l.mtu
                                )
                            } else {
                                format!(
                                    "veth's {VETH_SLACK}-byte slack lets {}-byte packets in, so nothing reports it",
                                    l.mtu
                                )
                            };
                            (
                                format!(
                                    "{}:{} receives at {} ({}) but {why}",
                                    b.node,
                                    b.iface,
                                    b.mtu,
                                    self.link_name(b.link)
                                ),
                                format!("equalise MTU on {}", self.link_name(b.link)),
                            )
                        }
                    }
                };
                out.push(finding(
                    CheckId::Pmtud,
                    format!(
                        "{} learns PMTU {} towards {}, the path MTU is {}: {why}",
                        self.from, l.mtu, self.to, self.path_mtu
                    ),
                    fix,
                ));
            }
        }
        if let Knowable::Known(Ping::Silence) = &self.ping_at_pmtu {
            let back = self
                .return_hops
                .as_ref()
                .and_then(|h| h.iter().map(|h| h.out_mtu.min(h.in_mtu)).min());
            out.push(finding(
                CheckId::Pmtud,
                format!(
                    "a DF ping of {} bytes from {} to {} gets no reply: the echo reply does not fit the way back{}",
                    self.path_mtu,
                    self.from,
                    self.to,
                    back.map(|m| format!(" (MTU {m})")).unwrap_or_default()
                ),
                match self.family {
                    // IPv4 routers fragment the echo reply (no DF): only a
                    // silent drop on the way back loses it.
                    Family::V4 => "make both directions take links of the same MTU".to_owned(),
                    // IPv6: the replier fragments once a router's
                    // packet-too-big tells it, so a lost reply means that
                    // report did not reach it either.
                    Family::V6 => format!(
                        "let ICMPv6 type 2 (packet-too-big) from the routers on the way back reach {}, or make both directions take links of the same MTU",
                        self.to
                    ),
                },
            ));
        }
        out
    }
}
