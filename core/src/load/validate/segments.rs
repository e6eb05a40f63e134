//! `[[segments]]`: multi-access LANs — name, members, per-member MTU,
//! interface names and given addresses.

use super::*;
use crate::plan::addressing::MAX_SEGMENT_MEMBERS;

impl Validator<'_> {
    /// `[[segments]]`: a unique name, two or more distinct known members,
    /// an MTU per member, interface names unique on each member together
    /// with the links' names in `ifaces`. Addresses come later
    /// ([`Self::segment_addresses`]).
    pub(super) fn segments(
        &self,
        raw: &[Spanned<RawSegment>],
        nodes: &BTreeMap<String, Node>,
        ifaces: &mut Ifaces,
        link_count: usize,
    ) -> Result<Vec<Segment>, TopologyError> {
        if link_count + raw.len() > MAX_LINKS {
            return self.err(
                raw[MAX_LINKS.saturating_sub(link_count).min(raw.len() - 1)].span(),
                format!(
                    "too many links and segments: {} (at most {MAX_LINKS}, one /24 of 198.18.0.0/15 each)",
                    link_count + raw.len()
                ),
            );
        }
        let mut out: Vec<Segment> = Vec::new();
        for (k, rs) in raw.iter().enumerate() {
            let s = rs.get_ref();
            let name = s.name.get_ref().clone();
            if !valid_node_name(&name) {
                return self.err(
                    s.name.span(),
                    format!(
                        "segment {}: name {name:?} must match [a-z][a-z0-9-]{{0,14}}",
                        k + 1
                    ),
                );
            }
            if out.iter().any(|o| o.name == name) {
                return self.err(
                    s.name.span(),
                    format!("segment {name}: the name is already used by another segment"),
                );
            }
            let what = format!("segment {name}");

            let list = s.members.get_ref();
            let mut members: Vec<String> = Vec::new();
            for m in list {
                if !nodes.contains_key(m.get_ref()) {
                    return self.err(
                        m.span(),
                        format!(
                            "{what}: unknown node {:?} (nodes: {})",
                            m.get_ref(),
                            nodes.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
                if members.contains(m.get_ref()) {
                    return self.err(
                        m.span(),
                        format!("{what}: node {:?} is listed twice", m.get_ref()),
                    );
                }
                members.push(m.get_ref().clone());
            }
            if members.len() < 2 || members.len() > MAX_SEGMENT_MEMBERS {
                return self.err(
                    s.members.span(),
                    format!(
                        "{what}: members must name 2 to {MAX_SEGMENT_MEMBERS} nodes, found {}",
                        members.len()
                    ),
                );
            }

            let in_range = |v: i64, span: std::ops::Range<usize>| match u32::try_from(v) {
                Ok(m) if MTU_RANGE.contains(&m) => Ok(m),
                _ => self.err(span, format!("{what}: mtu {v} is outside 68..=65535")),
            };
            let mtu: Vec<u32> = match s.mtu.get_ref() {
                RawSegmentMtu::One(v) => {
                    let m = in_range(*v, s.mtu.span())?;
                    vec![m; members.len()]
                }
                RawSegmentMtu::PerMember(entries) => {
                    for (key, _) in entries {
                        if !members.contains(key.get_ref()) {
                            return self.err(
                                key.span(),
                                format!(
                                    "{what}: mtu names {:?}, which is not a member (members: {})",
                                    key.get_ref(),
                                    members.join(", ")
                                ),
                            );
                        }
                    }
                    let mut mtu = Vec::new();
                    for m in &members {
                        let Some((_, v)) = entries.iter().find(|(key, _)| key.get_ref() == m)
                        else {
                            return self.err(
                                s.mtu.span(),
                                format!(
                                    "{what}: mtu has no value for member {m:?} (give every member one, or one mtu for all)"
                                ),
                            );
                        };
                        mtu.push(in_range(*v.get_ref(), v.span())?);
                    }
                    mtu
                }
            };

            let explicit = match &s.names {
                Some(n) if n.get_ref().len() != members.len() => {
                    return self.err(
                        n.span(),
                        format!(
                            "{what}: names must list one interface name per member ({}, in `members` order), found {}",
                            members.len(),
                            n.get_ref().len()
                        ),
                    );
                }
                Some(n) => Some(n.get_ref()),
                None => None,
            };
            let mut names = vec![name.clone(); members.len()];
            for (e, member) in members.iter().enumerate() {
                let span = match explicit {
                    Some(list) => {
                        names[e] = list[e].get_ref().clone();
                        list[e].span()
                    }
                    None => s.name.span(),
                };
                let iface = &names[e];
                let hint = if explicit.is_some() {
                    ""
                } else {
                    "; set names = [...] on the segment"
                };
                if let Some(problem) = iface_name_problem(iface) {
                    return self.err(
                        span,
                        format!(
                            "{what}: interface name {iface:?} on node {member:?} {problem}{hint}"
                        ),
                    );
                }
                if let Some(by) = ifaces.insert((member.clone(), iface.clone()), what.clone()) {
                    return self.err(
                        span,
                        format!(
                            "{what}: interface name {iface:?} on node {member:?} is already used by {by}{hint}"
                        ),
                    );
                }
            }
            out.push(Segment {
                name,
                members,
                mtu,
                names,
                addresses: None,
                addresses6: None,
            });
        }
        Ok(out)
    }

    /// `addresses` / `addresses6` of every segment: one address per member
    /// on one subnet inside the lab ranges, distinct, subnets overlapping
    /// neither another segment's nor a link's (`seen`).
    pub(super) fn segment_addresses(
        &self,
        raw: &[Spanned<RawSegment>],
        segments: &mut [Segment],
        mut seen: Vec<(Cidr, String)>,
    ) -> Result<(), TopologyError> {
        for (rs, seg) in raw.iter().zip(segments.iter_mut()) {
            let what = format!("segment {}", seg.name);
            let r = rs.get_ref();
            for (key, family, given) in [
                ("addresses", Family::V4, &r.addresses),
                ("addresses6", Family::V6, &r.addresses6),
            ] {
                let Some(list) = given else { continue };
                let items = list.get_ref();
                if items.len() != seg.members.len() {
                    return self.err(
                        list.span(),
                        format!(
                            "{what}: {key} must list one address per member ({}, in `members` order), found {}",
                            seg.members.len(),
                            items.len()
                        ),
                    );
                }
                let mut ends = Vec::new();
                for item in items {
                    let c =
                        self.given_cidr(&what, item, family, "the other members", "a segment")?;
                    if let Some(first) = ends.first() {
                        if c.network() != Cidr::network(first) {
                            return self.err(
                                item.span(),
                                format!(
                                    "{what}: address {c} is not on the subnet of {first} (a segment's members share one subnet)"
                                ),
                            );
                        }
                    }
                    if let Some(k) = ends.iter().position(|e: &Cidr| e.addr == c.addr) {
                        return self.err(
                            item.span(),
                            format!(
                                "{what}: address {} is already member {:?}'s",
                                c.addr, seg.members[k]
                            ),
                        );
                    }
                    ends.push(c);
                }
                if family == Family::V6 && seg.mtu.iter().any(|&m| m < 1280) {
                    return self.err(
                        list.span(),
                        format!(
                            "{what}: addresses6 given, but IPv6 needs an MTU of at least 1280 on every member"
                        ),
                    );
                }
                let net = ends[0].network();
                if let Some((other, by)) = seen.iter().find(|(s, _)| s.overlaps(&net)) {
                    return self.err(
                        list.span(),
                        format!("{what}: subnet {net} overlaps {by}'s subnet {other}"),
                    );
                }
                seen.push((net, what.clone()));
                match family {
                    Family::V4 => seg.addresses = Some(ends),
                    Family::V6 => seg.addresses6 = Some(ends),
                }
            }
        }
        Ok(())
    }
}
