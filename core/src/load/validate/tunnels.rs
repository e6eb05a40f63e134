//! `[[tunnels]]`: endpoints, kind, underlay family, MTU and interface names.

use super::*;

impl Validator<'_> {
    /// `[[tunnels]]`: nodes, underlay family, MTU, interface names (unique on
    /// each node together with the links' names in `ifaces`).
    pub(super) fn tunnels(
        &self,
        raw: &[Spanned<RawTunnel>],
        nodes: &BTreeMap<String, Node>,
        ifaces: &mut Ifaces,
        link_count: usize,
    ) -> Result<Vec<Tunnel>, TopologyError> {
        if link_count + raw.len() > MAX_LINKS {
            return self.err(
                raw[MAX_LINKS.saturating_sub(link_count).min(raw.len() - 1)].span(),
                format!(
                    "too many links, segments and tunnels: {} (at most {MAX_LINKS}, one /24 of 198.18.0.0/15 each)",
                    link_count + raw.len()
                ),
            );
        }
        let mut betweens = Vec::new();
        for (k, rt) in raw.iter().enumerate() {
            let what = format!("tunnel {}", k + 1);
            let t = rt.get_ref();
            let ends = t.between.get_ref();
            if ends.len() != 2 {
                return self.err(
                    t.between.span(),
                    format!(
                        "{what}: between must name exactly two nodes, found {}",
                        ends.len()
                    ),
                );
            }
            for end in ends {
                if !nodes.contains_key(end.get_ref()) {
                    return self.err(
                        end.span(),
                        format!(
                            "{what}: unknown node {:?} (nodes: {})",
                            end.get_ref(),
                            nodes.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
            if ends[0].get_ref() == ends[1].get_ref() {
                return self.err(
                    t.between.span(),
                    format!("{what} connects {:?} to itself", ends[0].get_ref()),
                );
            }
            let kind = match &t.kind {
                None => TunnelKind::default(),
                Some(k) => match TunnelKind::parse(k.get_ref()) {
                    Some(kind) => kind,
                    None => {
                        let known: Vec<&str> = TunnelKind::ALL.iter().map(|k| k.as_str()).collect();
                        return self.err(
                            k.span(),
                            format!(
                                "{what}: unknown kind {:?} (expected one of {})",
                                k.get_ref(),
                                known.join(", ")
                            ),
                        );
                    }
                },
            };
            betweens.push(([ends[0].get_ref().clone(), ends[1].get_ref().clone()], kind));
        }
        let defaults = default_tunnel_names(betweens.iter().map(|(b, k)| (b, *k)));
        let mut out = Vec::new();
        for (k, ((rt, (between, kind)), default)) in
            raw.iter().zip(betweens).zip(defaults).enumerate()
        {
            let what = format!("tunnel {}", k + 1);
            let t = rt.get_ref();
            let underlay = match &t.underlay {
                None => kind.default_underlay(),
                Some(u) => {
                    let family = match u.get_ref().as_str() {
                        "ipv4" => Family::V4,
                        "ipv6" => Family::V6,
                        other => {
                            return self.err(
                                u.span(),
                                format!(
                                    "{what}: unknown underlay {other:?} (expected ipv4 or ipv6)"
                                ),
                            );
                        }
                    };
                    if !kind.underlays().contains(&family) {
                        let (needs, why) = match kind {
                            TunnelKind::Ip6tnl => ("ipv6", "it is IP in IPv6"),
                            TunnelKind::Sit => ("ipv4", "it is IPv6 in IPv4"),
                            _ => ("ipv4", "it is IPv4 in IPv4"),
                        };
                        return self.err(
                            u.span(),
                            format!(
                                "{what}: kind {kind} cannot run over an {family} underlay ({why}; use underlay = \"{needs}\", or another kind)"
                            ),
                        );
                    }
                    family
                }
            };
            let mtu = match &t.mtu {
                None => None,
                Some(m) => {
                    let values = match m.get_ref() {
                        RawMtu::One(v) => vec![*v, *v],
                        RawMtu::List(v) if v.len() == 2 => v.clone(),
                        RawMtu::List(v) => {
                            return self.err(
                                m.span(),
                                format!(
                                    "{what}: mtu list has {} values; expected 2 (one per end, in `between` order)",
                                    v.len()
                                ),
                            );
                        }
                    };
                    let mut mtu = [0u32; 2];
                    for (slot, v) in mtu.iter_mut().zip(&values) {
                        match u32::try_from(*v) {
                            Ok(x) if MTU_RANGE.contains(&x) => *slot = x,
                            _ => {
                                return self.err(
                                    m.span(),
                                    format!("{what}: mtu {v} is outside 68..=65535"),
                                );
                            }
                        }
                    }
                    Some(mtu)
                }
            };
            let mut names = default;
            let explicit = match &t.names {
                Some(n) if n.get_ref().len() != 2 => {
                    return self.err(
                        n.span(),
                        format!(
                            "{what}: names must list exactly two interface names, found {}",
                            n.get_ref().len()
                        ),
                    );
                }
                Some(n) => Some(n.get_ref()),
                None => None,
            };
            for end in 0..2 {
                let span = match explicit {
                    Some(e) => {
                        names[end] = e[end].get_ref().clone();
                        e[end].span()
                    }
                    None => t.between.span(),
                };
                let node = &between[end];
                let iface = &names[end];
                let hint = if explicit.is_some() {
                    ""
                } else {
                    "; set names = [...] on the tunnel"
                };
                if let Some(problem) = iface_name_problem(iface) {
                    return self.err(
                        span,
                        format!(
                            "{what}: interface name {iface:?} on node {node:?} {problem}{hint}"
                        ),
                    );
                }
                if let Some(by) = ifaces.insert((node.clone(), iface.clone()), what.clone()) {
                    return self.err(
                        span,
                        format!("{what}: interface name {iface:?} on node {node:?} is already used by {by}{hint}"),
                    );
                }
            }
            out.push(Tunnel {
                between,
                kind,
                underlay,
                mtu,
                names,
            });
        }
        Ok(out)
    }
}
