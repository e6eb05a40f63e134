//! `routes` on nodes: destinations and gateways on connected subnets.

use super::*;

impl Validator<'_> {
    /// One node's `routes`: a destination network (host bits zero) and a
    /// gateway of the same family that is the peer's address on one of the
    /// node's links; one route per destination.
    pub(super) fn routes(
        &self,
        node: &str,
        raw: Vec<Spanned<RawRoute>>,
        links: &[Link],
        segments: &[Segment],
        subnets: &[(Cidr, Option<Cidr>)],
    ) -> Result<Vec<Route>, TopologyError> {
        let mut out: Vec<Route> = Vec::new();
        for (i, r) in raw.into_iter().enumerate() {
            let what = format!("node {node:?}: route {}", i + 1);
            let r = r.into_inner();
            let to = match r.to.get_ref().parse::<Cidr>() {
                Ok(c) => c,
                Err(()) => {
                    return self.err(
                        r.to.span(),
                        format!(
                            "{what}: to {:?} is not a network with a prefix length, like \"198.18.9.0/24\" or \"0.0.0.0/0\"",
                            r.to.get_ref()
                        ),
                    );
                }
            };
            if to.network() != to {
                return self.err(
                    r.to.span(),
                    format!(
                        "{what}: to {to} has host bits set (did you mean {}?)",
                        to.network()
                    ),
                );
            }
            let via: IpAddr = match r.via.get_ref().parse() {
                Ok(v) => v,
                Err(_) => {
                    return self.err(
                        r.via.span(),
                        format!(
                            "{what}: via {:?} is not an address without a prefix length",
                            r.via.get_ref()
                        ),
                    );
                }
            };
            if via.is_ipv4() != to.addr.is_ipv4() {
                return self.err(
                    r.via.span(),
                    format!("{what}: via {via} is not of the same family as {to}"),
                );
            }
            let family = to.family();
            // The node's links and segments in this family and the other
            // nodes' addresses on each.
            let mut found = None;
            let mut connected = Vec::new();
            let attached = links
                .iter()
                .zip(subnets)
                .enumerate()
                .map(|(j, (l, sub))| {
                    (
                        format!("link {}", j + 1),
                        l.between.to_vec(),
                        crate::plan::link_end_addresses(l, sub, family).map(|e| e.to_vec()),
                    )
                })
                .chain(
                    segments
                        .iter()
                        .zip(&subnets[links.len()..])
                        .map(|(seg, sub)| {
                            (
                                format!("segment {}", seg.name),
                                seg.members.clone(),
                                crate::plan::segment_member_addresses(seg, sub, family),
                            )
                        }),
                );
            for (label, members, ends) in attached {
                let Some(end) = members.iter().position(|n| n == node) else {
                    continue;
                };
                let Some(ends) = ends else {
                    continue;
                };
                connected.push(ends[0].network().to_string());
                if ends[0].contains(via) {
                    if ends[end].addr == via {
                        return self.err(
                            r.via.span(),
                            format!("{what}: via {via} is the node's own address on {label}"),
                        );
                    }
                    if !ends.iter().any(|e| e.addr == via) {
                        let others: Vec<(&String, IpAddr)> = members
                            .iter()
                            .zip(&ends)
                            .filter(|(m, _)| *m != node)
                            .map(|(m, e)| (m, e.addr))
                            .collect();
                        let who = if let [(m, a)] = others[..] {
                            format!("the only other node there, {m:?}, has {a}")
                        } else {
                            let others: Vec<String> = others
                                .iter()
                                .map(|(m, a)| format!("{m:?} has {a}"))
                                .collect();
                            format!("no node there has it ({})", others.join(", "))
                        };
                        return self.err(
                            r.via.span(),
                            format!("{what}: via {via} is on {label}'s subnet, but {who}"),
                        );
                    }
                    found = Some(label);
                }
            }
            if found.is_none() {
                return self.err(
                    r.via.span(),
                    format!(
                        "{what}: via {via} is not on a subnet connected to {node:?} (its {} subnets: {})",
                        family,
                        if connected.is_empty() { "none".to_owned() } else { connected.join(", ") }
                    ),
                );
            }
            if let Some(k) = out.iter().position(|o| o.to == to) {
                return self.err(
                    r.to.span(),
                    format!("{what}: a route to {to} is already route {}", k + 1),
                );
            }
            out.push(Route { to, via });
        }
        Ok(out)
    }
}
