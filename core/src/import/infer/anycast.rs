//! Which loopback service addresses become anycast entries (shared by two or more hosts).

use super::*;

pub(super) fn anycast(
    machines: &[Machine],
    lo_addrs: &[(usize, Cidr)],
    notes: &mut Notes,
    warnings: &mut Vec<String>,
) -> Vec<crate::topology::Anycast> {
    // Anycast: a service address on the loopback of several hosts.
    let mut by_addr: BTreeMap<IpAddr, Vec<usize>> = BTreeMap::new();
    for (mi, a) in lo_addrs {
        if a.addr.is_loopback() {
            continue;
        }
        by_addr.entry(a.addr).or_default().push(*mi);
    }
    let mut groups_by_members: BTreeMap<Vec<String>, (Vec<Ipv4Addr>, Vec<Ipv6Addr>)> =
        BTreeMap::new();
    for (addr, members) in &by_addr {
        let names: Vec<String> = members.iter().map(|&i| machines[i].name.clone()).collect();
        let routers: Vec<&str> = members
            .iter()
            .filter(|&&i| machines[i].router)
            .map(|&i| machines[i].name.as_str())
            .collect();
        if members.len() < 2 || !routers.is_empty() {
            let why = if members.len() < 2 {
                "no other snapshot serves it (anycast needs two or more hosts)".to_string()
            } else {
                format!(
                    "anycast members must be hosts, {} forwards",
                    routers.join(", ")
                )
            };
            for &i in members {
                warnings.push(format!(
                    "{}: address {addr} on lo left out: {why}",
                    machines[i].label
                ));
            }
            continue;
        }
        let entry = groups_by_members.entry(names).or_default();
        match addr {
            IpAddr::V4(a) => entry.0.push(*a),
            IpAddr::V6(a) => entry.1.push(*a),
        }
    }
    let mut anycast_entries = Vec::new();
    for (members, (v4, v6)) in &groups_by_members {
        for k in 0..v4.len().max(v6.len()) {
            anycast_entries.push(crate::topology::Anycast {
                address: v4.get(k).copied(),
                address6: v6.get(k).copied(),
                nodes: members.clone(),
            });
            notes.anycast.push(vec![format!(
                "on lo of {} (their snapshots), served by each",
                members.join(", ")
            )]);
        }
    }
    anycast_entries
}
