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
            // The node's links in this family and the peer's address on each.
            let mut found = None;
            let mut connected = Vec::new();
            for (j, l) in links.iter().enumerate() {
                let Some(end) = l.between.iter().position(|n| n == node) else {
                    continue;
                };
                let Some(ends) = crate::plan::link_end_addresses(l, &subnets[j], family) else {
                    continue;
                };
                connected.push(ends[0].network().to_string());
                if ends[0].contains(via) {
                    if ends[end].addr == via {
                        return self.err(
                            r.via.span(),
                            format!(
                                "{what}: via {via} is the node's own address on link {}",
                                j + 1
                            ),
                        );
                    }
                    if ends[1 - end].addr != via {
                        return self.err(
                            r.via.span(),
                            format!(
                                "{what}: via {via} is on link {}'s subnet, but the only other node there, {:?}, has {}",
                                j + 1,
                                l.between[1 - end],
                                ends[1 - end].addr
                            ),
                        );
                    }
                    found = Some(j);
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
