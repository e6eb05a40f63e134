//! `[[links]]`: two known, distinct nodes, MTUs per end, interface names
//! (default `PEER`, `PEER-2`; unique per node).

use super::*;

impl Validator<'_> {
    /// The links, and which link claimed each (node, interface) name.
    pub(super) fn links(
        &self,
        raw: &[Spanned<RawLink>],
        nodes: &BTreeMap<String, Node>,
    ) -> Result<(Vec<Link>, Ifaces), TopologyError> {
        let known = |name: &Spanned<String>, what: &str| self.known(nodes, name, what);
        if raw.len() > MAX_LINKS {
            return self.err(
                raw[MAX_LINKS].span(),
                format!(
                    "too many links: {} (at most {MAX_LINKS}, one /24 of 198.18.0.0/15 each)",
                    raw.len()
                ),
            );
        }
        let mut betweens = Vec::new();
        let mut mtus = Vec::new();
        let mut explicit_names = Vec::new();
        for (i, raw_link) in raw.iter().enumerate() {
            let what = format!("link {}", i + 1);
            let link = raw_link.get_ref();
            let ends = link.between.get_ref();
            if ends.len() != 2 {
                return self.err(
                    link.between.span(),
                    format!(
                        "{what}: between must name exactly two nodes, found {}",
                        ends.len()
                    ),
                );
            }
            known(&ends[0], &what)?;
            known(&ends[1], &what)?;
            if ends[0].get_ref() == ends[1].get_ref() {
                return self.err(
                    link.between.span(),
                    format!("{what} connects {:?} to itself", ends[0].get_ref()),
                );
            }
            betweens.push([ends[0].get_ref().clone(), ends[1].get_ref().clone()]);

            let mtu_values = match link.mtu.get_ref() {
                RawMtu::One(v) => vec![*v, *v],
                RawMtu::List(v) if v.len() == 2 => v.clone(),
                RawMtu::List(v) => {
                    return self.err(
                        link.mtu.span(),
                        format!(
                            "{what}: mtu list has {} values; expected 2 (one per end, in `between` order)",
                            v.len()
                        ),
                    );
                }
            };
            let mut mtu = [0u32; 2];
            for (slot, v) in mtu.iter_mut().zip(&mtu_values) {
                match u32::try_from(*v) {
                    Ok(m) if MTU_RANGE.contains(&m) => *slot = m,
                    _ => {
                        return self.err(
                            link.mtu.span(),
                            format!("{what}: mtu {v} is outside 68..=65535"),
                        );
                    }
                }
            }
            mtus.push(mtu);

            if let Some(names) = &link.names {
                let list = names.get_ref();
                if list.len() != 2 {
                    return self.err(
                        names.span(),
                        format!(
                            "{what}: names must list exactly two interface names, found {}",
                            list.len()
                        ),
                    );
                }
                explicit_names.push(Some([list[0].clone(), list[1].clone()]));
            } else {
                explicit_names.push(None);
            }
        }
        let defaults = default_iface_names(&betweens);
        let mut links = Vec::new();
        // (node, iface) → link index (0-based) that claimed it.
        let mut ifaces: Ifaces = HashMap::new();
        for (i, ((between, mtu), (explicit, default))) in betweens
            .into_iter()
            .zip(mtus)
            .zip(explicit_names.into_iter().zip(defaults))
            .enumerate()
        {
            let what = format!("link {}", i + 1);
            let link_span = raw[i].get_ref().between.span();
            let mut names = default;
            for end in 0..2 {
                let span = match &explicit {
                    Some(e) => {
                        names[end] = e[end].get_ref().clone();
                        e[end].span()
                    }
                    None => link_span.clone(),
                };
                let node = &between[end];
                let iface = &names[end];
                if let Some(problem) = iface_name_problem(iface) {
                    let hint = if explicit.is_some() {
                        ""
                    } else {
                        "; set names = [...] on the link"
                    };
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
                        format!(
                            "{what}: interface name {iface:?} on node {node:?} is already used by {by}"
                        ),
                    );
                }
            }
            links.push(Link {
                between,
                mtu,
                names,
                addresses: None,
                addresses6: None,
            });
        }

        Ok((links, ifaces))
    }
}
