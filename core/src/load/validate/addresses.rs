//! `addresses` / `addresses6` on links: given subnets in the lab ranges.

use super::*;

impl Validator<'_> {
    /// `addresses` / `addresses6` of every link: two addresses on one
    /// subnet inside the lab ranges, distinct, subnets not overlapping.
    pub(super) fn given_addresses(
        &self,
        raw_links: &[Spanned<RawLink>],
        links: &mut [Link],
    ) -> Result<Vec<(Cidr, String)>, TopologyError> {
        // (subnet, link) of every given subnet so far.
        let mut seen: Vec<(Cidr, String)> = Vec::new();
        for (i, (raw, link)) in raw_links.iter().zip(links.iter_mut()).enumerate() {
            let what = format!("link {}", i + 1);
            let raw = raw.get_ref();
            for (key, family, given) in [
                ("addresses", Family::V4, &raw.addresses),
                ("addresses6", Family::V6, &raw.addresses6),
            ] {
                let Some(list) = given else { continue };
                let items = list.get_ref();
                if items.len() != 2 {
                    return self.err(
                        list.span(),
                        format!(
                            "{what}: {key} must list exactly two addresses (one per end, in `between` order), found {}",
                            items.len()
                        ),
                    );
                }
                let mut ends = [Cidr {
                    addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    prefix_len: 0,
                }; 2];
                for (slot, item) in ends.iter_mut().zip(items) {
                    *slot = self.given_cidr(&what, item, family, "the peer", "a link")?;
                }
                if ends[0].network() != ends[1].network() {
                    return self.err(
                        list.span(),
                        format!(
                            "{what}: addresses {} and {} are not on the same subnet (the link's two ends share one)",
                            ends[0], ends[1]
                        ),
                    );
                }
                if ends[0].addr == ends[1].addr {
                    return self.err(
                        list.span(),
                        format!("{what}: both ends have address {}", ends[0].addr),
                    );
                }
                if family == Family::V6 && link.mtu.iter().any(|&m| m < 1280) {
                    return self.err(
                        list.span(),
                        format!(
                            "{what}: addresses6 given, but IPv6 needs an MTU of at least 1280 on both ends (mtu {} / {})",
                            link.mtu[0], link.mtu[1]
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
                    Family::V4 => link.addresses = Some(ends),
                    Family::V6 => link.addresses6 = Some(ends),
                }
            }
        }
        Ok(seen)
    }

    /// One given interface address of `family` (`item`): parsed, inside
    /// the lab range, with room for `others` on its subnet, not the
    /// subnet's network or broadcast address.
    pub(super) fn given_cidr(
        &self,
        what: &str,
        item: &Spanned<String>,
        family: Family,
        others: &str,
        on: &str,
    ) -> Result<Cidr, TopologyError> {
        let slot = parse_cidr(item.get_ref(), family)
            .or_else(|m| self.err(item.span(), format!("{what}: {m}")))?;
        let range = lab_range(family);
        let net = slot.network();
        if slot.prefix_len < range.prefix_len || !range.contains(slot.addr) {
            return self.err(
                item.span(),
                format!(
                    "{what}: address {slot} is outside the lab range {range} (lab addresses only)"
                ),
            );
        }
        let host_len = if family == Family::V4 { 32 } else { 128 };
        if family == Family::V4 && slot.prefix_len > 31 || slot.prefix_len == host_len {
            return self.err(
                item.span(),
                format!(
                    "{what}: address {slot} leaves no room for {others} (at most /{} on {on})",
                    host_len - 1
                ),
            );
        }
        if family == Family::V4 && slot.prefix_len < 31 {
            let bcast = u32::from(match net.addr {
                IpAddr::V4(a) => a,
                IpAddr::V6(_) => unreachable!("family checked"),
            }) | (u32::MAX >> slot.prefix_len);
            if slot.addr == net.addr || slot.addr == IpAddr::V4(bcast.into()) {
                return self.err(
                    item.span(),
                    format!(
                        "{what}: address {slot} is the subnet's {} address",
                        if slot.addr == net.addr {
                            "network"
                        } else {
                            "broadcast"
                        }
                    ),
                );
            }
        }
        Ok(slot)
    }
}
