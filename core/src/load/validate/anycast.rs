//! `[[anycast]]`: service addresses and their member hosts.

use super::*;

impl Validator<'_> {
    /// `[[anycast]]` entries: an address per family (at least one) in the
    /// lab ranges, outside every given subnet, not shared by two entries;
    /// two or more distinct member hosts.
    pub(super) fn anycast(
        &self,
        raw: &[Spanned<RawAnycast>],
        nodes: &BTreeMap<String, Node>,
        links: &[Link],
        segments: &[Segment],
    ) -> Result<Vec<Anycast>, TopologyError> {
        let mut out: Vec<Anycast> = Vec::new();
        for (i, entry) in raw.iter().enumerate() {
            let what = format!("anycast {}", i + 1);
            let a = entry.get_ref();
            let mut group = Anycast {
                address: None,
                address6: None,
                nodes: Vec::new(),
            };
            for (key, family, value) in [
                ("address", Family::V4, &a.address),
                ("address6", Family::V6, &a.address6),
            ] {
                let Some(value) = value else { continue };
                let text = value.get_ref();
                let addr: IpAddr = match (text.parse::<IpAddr>(), family) {
                    (Ok(ip @ IpAddr::V4(_)), Family::V4) | (Ok(ip @ IpAddr::V6(_)), Family::V6) => {
                        ip
                    }
                    _ => {
                        return self.err(
                            value.span(),
                            format!(
                                "{what}: {key} {text:?} is not an {} address without a prefix length, like {:?}",
                                if family == Family::V4 { "IPv4" } else { "IPv6" },
                                if family == Family::V4 { "198.18.250.1" } else { "2001:db8:fa::1" }
                            ),
                        );
                    }
                };
                let range = lab_range(family);
                if !range.contains(addr) {
                    return self.err(
                        value.span(),
                        format!("{what}: {key} {addr} is outside the lab range {range} (lab addresses only)"),
                    );
                }
                for (j, l) in links.iter().enumerate() {
                    let given = match family {
                        Family::V4 => &l.addresses,
                        Family::V6 => &l.addresses6,
                    };
                    if let Some(ends) = given {
                        if ends[0].contains(addr) {
                            return self.err(
                                value.span(),
                                format!(
                                    "{what}: {key} {addr} lies in link {}'s subnet {}",
                                    j + 1,
                                    ends[0].network()
                                ),
                            );
                        }
                    }
                }
                for seg in segments {
                    let given = match family {
                        Family::V4 => &seg.addresses,
                        Family::V6 => &seg.addresses6,
                    };
                    if let Some(net) = given.as_ref().and_then(|e| e.first()) {
                        if net.contains(addr) {
                            return self.err(
                                value.span(),
                                format!(
                                    "{what}: {key} {addr} lies in segment {}'s subnet {}",
                                    seg.name,
                                    net.network()
                                ),
                            );
                        }
                    }
                }
                if let Some(k) = out.iter().position(|o| o.addr(family) == Some(addr)) {
                    return self.err(
                        value.span(),
                        format!("{what}: {key} {addr} is already anycast {}", k + 1),
                    );
                }
                match addr {
                    IpAddr::V4(v4) => group.address = Some(v4),
                    IpAddr::V6(v6) => group.address6 = Some(v6),
                }
            }
            if group.address.is_none() && group.address6.is_none() {
                return self.err(
                    entry.span(),
                    format!("{what}: needs address (IPv4), address6 (IPv6) or both"),
                );
            }
            let hosts = || {
                nodes
                    .iter()
                    .filter(|(_, n)| !n.router)
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            for member in a.nodes.get_ref() {
                let name = member.get_ref();
                match nodes.get(name) {
                    None => {
                        return self.err(
                            member.span(),
                            format!("{what}: unknown node {name:?} (hosts: {})", hosts()),
                        );
                    }
                    Some(n) if n.router => {
                        return self.err(
                            member.span(),
                            format!(
                                "{what}: {name:?} is a router; anycast members must be hosts (hosts: {})",
                                hosts()
                            ),
                        );
                    }
                    Some(_) => {}
                }
                if group.nodes.contains(name) {
                    return self.err(member.span(), format!("{what}: node {name:?} listed twice"));
                }
                group.nodes.push(name.clone());
            }
            if group.nodes.len() < 2 {
                return self.err(
                    a.nodes.span(),
                    format!(
                        "{what}: needs at least two member nodes, found {}",
                        group.nodes.len()
                    ),
                );
            }
            out.push(group);
        }
        Ok(out)
    }
}
