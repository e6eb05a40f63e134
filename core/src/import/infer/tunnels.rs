//! Which VXLAN devices pair into tunnels, and how their found addresses map to the automatic ones.

use super::*;

/// Each end of a tunnel: (machine index, interface name).
pub(super) type TunnelEnds = [(usize, String); 2];

/// A tunnel, its note, its ends.
pub(super) type FoundTunnel = (Tunnel, Vec<String>, TunnelEnds);

/// Found tunnel addresses and subnets → planned ones.
pub(super) struct Renumber {
    pub(super) addr: BTreeMap<IpAddr, IpAddr>,
    pub(super) net: BTreeMap<Cidr, Cidr>,
}

pub(super) fn pair(
    machines: &[Machine],
    vxlans: &[(usize, String)],
) -> Result<Vec<FoundTunnel>, ImportError> {
    // Tunnels: a VXLAN device whose remote is another snapshot's local.
    let mut tunnels: Vec<(Tunnel, Vec<String>, TunnelEnds)> = Vec::new();
    let mut paired: BTreeSet<(usize, String)> = BTreeSet::new();
    for (mi, name) in vxlans {
        if paired.contains(&(*mi, name.clone())) {
            continue;
        }
        let m = &machines[*mi];
        let link = m.snap.link(name).expect("listed");
        let vx = link.vxlan.as_ref();
        let (Some(local), Some(remote)) = (vx.and_then(|v| v.local), vx.and_then(|v| v.remote))
        else {
            return err(
                m.label,
                format!("vxlan {name} has no local and remote address (multicast or learning VXLAN): only point-to-point tunnels are expressible"),
            );
        };
        let vni = vx.map_or(0, |v| v.vni);
        let other = vxlans.iter().find(|(oj, oname)| {
            let ol = machines[*oj]
                .snap
                .link(oname)
                .and_then(|l| l.vxlan.as_ref());
            (*oj != *mi)
                && ol.is_some_and(|o| {
                    o.vni == vni && o.local == Some(remote) && o.remote == Some(local)
                })
        });
        let Some((oj, oname)) = other else {
            return err(
                m.label,
                format!(
                    "vxlan {name} (vni {vni}, local {local}, remote {remote}): no snapshot has its other end; import both ends or leave it out with --ignore {name}"
                ),
            );
        };
        paired.insert((*mi, name.clone()));
        paired.insert((*oj, oname.clone()));
        let om = &machines[*oj];
        let omtu = om.snap.link(oname).map_or(0, |l| l.mtu);
        tunnels.push((
            Tunnel {
                between: [m.name.clone(), om.name.clone()],
                underlay: family_of(local),
                mtu: Some([link.mtu, omtu]),
                names: [name.clone(), oname.clone()],
                kind: TunnelKind::Vxlan,
            },
            vec![format!(
                "vxlan vni {vni}: {}:{name} ({}) <-> {}:{oname} ({}), underlay {local} <-> {remote}",
                m.name, m.label, om.name, om.label
            )],
            [(*mi, name.clone()), (*oj, oname.clone())],
        ));
    }
    Ok(tunnels)
}

/// The tunnels' addresses as the plan gives them (the format gives tunnels automatic ones).
pub(super) fn renumber(
    machines: &[Machine],
    tunnels: &[FoundTunnel],
    plan: &crate::Plan,
    warnings: &mut Vec<String>,
) -> Renumber {
    let mut renumber: BTreeMap<IpAddr, IpAddr> = BTreeMap::new();
    let mut renumber_net: BTreeMap<Cidr, Cidr> = BTreeMap::new();
    for (t, _, ends) in tunnels {
        for (mi, name) in ends {
            let m = &machines[*mi];
            let planned = plan.node(&m.name).and_then(|n| n.iface(name));
            for a in m
                .snap
                .addresses
                .iter()
                .filter(|a| &a.link == name && a.scope == "universe")
            {
                let found = Cidr {
                    addr: a.address,
                    prefix_len: a.prefix_len,
                };
                let fam = family_of(a.address);
                let Some(p) = planned.and_then(|p| p.addr(fam)) else {
                    warnings.push(format!(
                        "{}: {fam_s} address {found} on tunnel {name} left out: the lab configures no {fam_s} on a tunnel below 1280",
                        m.label,
                        fam_s = fam.as_str()
                    ));
                    continue;
                };
                let planned = Cidr {
                    addr: p.addr,
                    prefix_len: p.prefix_len,
                };
                if planned != found {
                    warnings.push(format!(
                        "{}: tunnel {} {}:{name} has {found}; tunnels take automatic addresses, so it becomes {planned} (routes via it follow)",
                        m.label,
                        t.between.join("-"),
                        m.name
                    ));
                    renumber.insert(found.addr, planned.addr);
                    renumber_net.insert(found.network(), planned.network());
                }
            }
        }
    }
    Renumber {
        addr: renumber,
        net: renumber_net,
    }
}
