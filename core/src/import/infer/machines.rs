//! Which snapshots become nodes (name, router or host) and which of their interfaces are taken in.

use super::*;

fn in_lab(c: &Cidr) -> bool {
    LAB_RANGES
        .iter()
        .any(|r| r.addr.is_ipv4() == c.addr.is_ipv4() && r.contains(c.addr))
}

/// The interfaces taken in, and what else each machine has.
pub(super) struct Interfaces {
    pub(super) ifaces: Vec<Iface>,
    pub(super) vxlans: Vec<(usize, String)>,
    pub(super) left_out: BTreeSet<(usize, String)>,
    pub(super) lo_addrs: Vec<(usize, Cidr)>,
}

/// A node per snapshot: its name, and whether it forwards.
pub(super) fn read<'a>(
    inputs: &'a [SnapshotInput],
    warnings: &mut Vec<String>,
) -> Result<Vec<Machine<'a>>, ImportError> {
    // Machines.
    let mut machines: Vec<Machine> = Vec::new();
    for inp in inputs {
        let name = inp
            .snapshot
            .node
            .clone()
            .unwrap_or_else(|| inp.stem.clone());
        if !valid_node_name(&name) {
            return err(
                &inp.label,
                format!(
                    "node name {name:?} (from {}) is not a valid node name ([a-z][a-z0-9-]{{0,14}}); \
                     rename the file or take the snapshot with --node NAME",
                    if inp.snapshot.node.is_some() { "its \"node\" key" } else { "the file name" }
                ),
            );
        }
        if let Some(other) = machines.iter().find(|m| m.name == name) {
            return err(
                &inp.label,
                format!("node name {name:?} is also the name of {}", other.label),
            );
        }
        let forwarding = |k: &str| inp.snapshot.sysctl.get(k).map(String::as_str);
        let router = match forwarding("net.ipv4.ip_forward") {
            Some("1") => true,
            Some(_) => false,
            None => {
                warnings.push(format!(
                    "{}: net.ipv4.ip_forward was not read: {name} imported as a host",
                    inp.label
                ));
                false
            }
        };
        let v6fwd = forwarding("net.ipv6.conf.all.forwarding") == Some("1");
        if v6fwd != router && forwarding("net.ipv6.conf.all.forwarding").is_some() {
            warnings.push(format!(
                "{}: IPv4 forwarding {} but IPv6 forwarding {}: the format's router = {router} applies to both families",
                inp.label,
                if router { "on" } else { "off" },
                if v6fwd { "on" } else { "off" }
            ));
        }
        for u in &inp.snapshot.unread {
            warnings.push(format!(
                "{}: the snapshot could not read {} ({}): the lab may differ there",
                inp.label, u.what, u.reason
            ));
        }
        machines.push(Machine {
            name,
            label: &inp.label,
            snap: &inp.snapshot,
            router,
        });
    }
    Ok(machines)
}

/// Interfaces with a global address, VXLAN devices, loopback addresses; what is left out.
pub(super) fn interfaces(
    machines: &[Machine],
    opts: &ImportOptions,
    warnings: &mut Vec<String>,
) -> Result<Interfaces, ImportError> {
    // Interfaces.
    let mut ifaces: Vec<Iface> = Vec::new();
    let mut vxlans: Vec<(usize, String)> = Vec::new();
    let mut left_out: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut lo_addrs: Vec<(usize, Cidr)> = Vec::new();
    for (mi, m) in machines.iter().enumerate() {
        for l in &m.snap.links {
            let globals: Vec<Cidr> = m
                .snap
                .addresses
                .iter()
                .filter(|a| a.link == l.name && a.scope == "universe")
                .map(|a| Cidr {
                    addr: a.address,
                    prefix_len: a.prefix_len,
                })
                .collect();
            if l.name == "lo" {
                // Service addresses: anycast when several snapshots share one.
                lo_addrs.extend(globals.iter().map(|a| (mi, *a)));
                left_out.insert((mi, l.name.clone()));
                continue;
            }
            if opts.ignore.contains(&l.name) {
                left_out.insert((mi, l.name.clone()));
                continue;
            }
            if !l.up {
                warnings.push(format!(
                    "{}: interface {} is down: left out",
                    m.label, l.name
                ));
                left_out.insert((mi, l.name.clone()));
                continue;
            }
            if let Some(master) = &l.master {
                warnings.push(format!(
                    "{}: interface {} is a port of {master}: left out (the {master} carries its traffic)",
                    m.label, l.name
                ));
                left_out.insert((mi, l.name.clone()));
                continue;
            }
            match l.kind.as_deref() {
                None | Some("veth") => {}
                Some("vxlan") => {
                    vxlans.push((mi, l.name.clone()));
                    continue;
                }
                Some(kind) => {
                    if globals.is_empty() {
                        warnings.push(format!(
                            "{}: interface {} ({kind}) has no address: left out",
                            m.label, l.name
                        ));
                        left_out.insert((mi, l.name.clone()));
                        continue;
                    }
                    // HOOK(segments): a bridge with members is a segment.
                    let why = if kind == "bridge" {
                        "a bridge is a multi-access LAN, which needs [[segments]] (not written by this version)"
                    } else {
                        "the topology format has no interfaces of this kind"
                    };
                    return err(
                        m.label,
                        format!(
                            "interface {} is a {kind} with address {}: {why}; leave it out with --ignore {}",
                            l.name, globals[0], l.name
                        ),
                    );
                }
            }
            let mut iface = Iface {
                node: mi,
                name: l.name.clone(),
                mtu: l.mtu,
                v4: None,
                v6: None,
            };
            for a in &globals {
                if !in_lab(a) {
                    return err(
                        m.label,
                        format!(
                            "address {a} on {} is outside the lab ranges (198.18.0.0/15, 2001:db8::/32): \
                             the topology format takes only those; renumber, or leave the interface out with --ignore {}",
                            l.name, l.name
                        ),
                    );
                }
                let slot = if a.addr.is_ipv4() {
                    &mut iface.v4
                } else {
                    &mut iface.v6
                };
                match slot {
                    None => *slot = Some(*a),
                    Some(first) => warnings.push(format!(
                        "{}: {} has a second address {a} besides {first}: only the first is imported",
                        m.label, l.name
                    )),
                }
            }
            if iface.v4.is_none() && iface.v6.is_none() {
                warnings.push(format!(
                    "{}: interface {} has no global address: left out (nothing says what it connects to)",
                    m.label, l.name
                ));
                left_out.insert((mi, l.name.clone()));
                continue;
            }
            ifaces.push(iface);
        }
    }
    Ok(Interfaces {
        ifaces,
        vxlans,
        left_out,
        lo_addrs,
    })
}
