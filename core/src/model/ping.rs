//! DF pings: what a ping of a given size from one host to another gets.
//! Facts: docs/kernel-behaviour.md#veth-receive-slack, #ingress-only-through-a-router.

use super::*;

/// The outcome of one DF ping of `size` bytes (whole IP packet) from host
/// `from` to host `to`'s address; None when the family has no path.
pub fn predict_ping(
    topology: &Topology,
    plan: &Plan,
    from: &str,
    to: &str,
    family: Family,
    size: u32,
) -> Option<Knowable<Ping>> {
    let options = ModelOptions::default();
    let ctx = Ctx {
        topology,
        plan,
        options: &options,
        family,
    };
    let p = ctx.predict_path(from, to)?;
    let hops = plan.path(from, to, family)?;
    let back = plan.path_to(to, p.src, family);
    Some(ctx.ping(&hops, back.as_deref(), &p.icmp, &p.flow_nodes(), size))
}

impl Ctx<'_> {
    /// One DF ping of `size` bytes along `hops`, its reply along `back`.
    /// Fact: docs/kernel-behaviour.md#ingress-only-through-a-router (IPv6 replies).
    pub(super) fn ping(
        &self,
        hops: &[Hop],
        back: Option<&[Hop]>,
        icmp: &[IcmpPrediction],
        flow: &[String],
        size: u32,
    ) -> Knowable<Ping> {
        let hops = &self.tunnel_rx_unchecked(hops)[..];
        let back = back.map(|b| self.tunnel_rx_unchecked(b));
        let back = back.as_deref();
        if let Some(Culprit::Ruleset { node, tool, path }) = self.ruleset_among(flow) {
            return Knowable::Unknown(format!(
                "{tool} ruleset {path} on {node} may filter these packets; the live probes decide"
            ));
        }
        match walk(hops, size, DF) {
            Fate::LocalTooBig { mtu } => Knowable::Known(Ping::LocalTooBig { mtu }),
            Fate::Dropped { .. } => Knowable::Known(Ping::Silence),
            Fate::TooBig { hop, mtu } => {
                match icmp
                    .iter()
                    .find(|i| i.hop == hop)
                    .map(IcmpPrediction::acted)
                {
                    Some(Knowable::Known(true)) => Knowable::Known(Ping::TooBig {
                        mtu,
                        from_node: hops[hop].node.clone(),
                    }),
                    Some(Knowable::Unknown(r)) => Knowable::Unknown(r),
                    _ => Knowable::Known(Ping::Silence),
                }
            }
            Fate::Delivered => {
                // The echo reply has no DF: the replier fragments it, IPv4
                // routers too; an IPv6 router sends packet-too-big to the
                // replier instead and this reply is lost. The probe
                // (`harness::probe::ping::df_ping`) resends its request
                // every quarter of its deadline, so once the replier has
                // learned the MTU it fragments the next reply itself and
                // the ping gets its answer — if that packet-too-big
                // reaches the replier (measured on 6.18: h1 1511 -> 1280
                // r0 4000 -> 9000 h2, 1281-byte ping: a single echo gets
                // no reply and h2 caches `mtu 1280`; the probe's second
                // echo gets a reply). Each narrowing on the way back costs
                // one echo; the probe sends at least four.
                let Some(back) = back else {
                    return Knowable::Known(Ping::Silence);
                };
                let frag = Frag {
                    source: true,
                    routers: self.family == Family::V4,
                };
                let replier = hops.last().map(|h| h.next.as_str());
                let replier_addr = replier.and_then(|r| self.plan.address_of(r, self.family));
                let mut cur = size;
                loop {
                    match walk(back, cur, frag) {
                        Fate::Delivered => return Knowable::Known(Ping::Reply),
                        Fate::TooBig { hop, mtu } if mtu < cur => {
                            let Some(addr) = replier_addr else {
                                return Knowable::Known(Ping::Silence);
                            };
                            let ptb = self.icmp_from(&back[hop].node, hop, mtu, addr, cur);
                            match ptb.acted() {
                                Knowable::Known(true) => cur = mtu,
                                Knowable::Known(false) => return Knowable::Known(Ping::Silence),
                                Knowable::Unknown(r) => return Knowable::Unknown(r),
                            }
                        }
                        _ => return Knowable::Known(Ping::Silence),
                    }
                }
            }
        }
    }
}
