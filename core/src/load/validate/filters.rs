//! `[[filters]]`: a declarative `drop = "pmtu-icmp"` at a hook, or one
//! real ruleset (nft, iptables, ip6tables) that exists next to the file.

use super::*;

impl Validator<'_> {
    pub(super) fn filters(
        &self,
        raw: &[Spanned<RawFilter>],
        nodes: &BTreeMap<String, Node>,
    ) -> Result<Vec<Filter>, TopologyError> {
        let known = |name: &Spanned<String>, what: &str| self.known(nodes, name, what);
        let base = base_dir(self.path);
        let mut filters = Vec::new();
        for (i, raw_filter) in raw.iter().enumerate() {
            let what = format!("filter {}", i + 1);
            let f = raw_filter.get_ref();
            known(&f.node, &what)?;
            let rulesets: Vec<(&str, &Spanned<String>)> = [
                ("nft", &f.nft),
                ("iptables", &f.iptables),
                ("ip6tables", &f.ip6tables),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
            .collect();
            let kind = match (&f.drop, rulesets.as_slice()) {
                (Some(drop), []) => {
                    if drop.get_ref() != "pmtu-icmp" {
                        return self.err(
                            drop.span(),
                            format!(
                                "{what}: unknown drop {:?} (expected \"pmtu-icmp\")",
                                drop.get_ref()
                            ),
                        );
                    }
                    let Some(hook) = &f.hook else {
                        return self.err(
                            raw_filter.span(),
                            format!("{what}: drop needs a hook (output, forward or input)"),
                        );
                    };
                    let hook = match hook.get_ref().as_str() {
                        "output" => Hook::Output,
                        "forward" => Hook::Forward,
                        "input" => Hook::Input,
                        other => {
                            return self.err(
                                hook.span(),
                                format!(
                                    "{what}: unknown hook {other:?} (expected output, forward or input)"
                                ),
                            );
                        }
                    };
                    FilterKind::DropPmtuIcmp { hook }
                }
                (Some(drop), [(key, _), ..]) => {
                    return self.err(
                        drop.span(),
                        format!("{what}: use either drop or {key}, not both"),
                    );
                }
                (None, []) => {
                    return self.err(
                        raw_filter.span(),
                        format!(
                            "{what}: needs drop = \"pmtu-icmp\" with a hook, or one of nft, iptables, ip6tables"
                        ),
                    );
                }
                (None, [(a, _), (b, _), ..]) => {
                    return self.err(
                        raw_filter.span(),
                        format!("{what}: use only one ruleset, not both {a} and {b}"),
                    );
                }
                (None, [(key, file)]) => {
                    if let Some(hook) = &f.hook {
                        return self.err(
                            hook.span(),
                            format!("{what}: hook only applies to drop, not to {key}"),
                        );
                    }
                    let resolved = base.join(file.get_ref());
                    if !resolved.is_file() {
                        return self.err(
                            file.span(),
                            format!(
                                "{what}: {key} ruleset {} does not exist",
                                resolved.display()
                            ),
                        );
                    }
                    match *key {
                        "nft" => FilterKind::Nft(resolved),
                        "iptables" => FilterKind::Iptables(resolved),
                        _ => FilterKind::Ip6tables(resolved),
                    }
                }
            };
            filters.push(Filter {
                node: f.node.get_ref().clone(),
                kind,
            });
        }

        Ok(filters)
    }
}
