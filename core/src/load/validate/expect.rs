//! `[expect]`: check ids, per-family tables and per-path expectations.

use super::*;

impl Validator<'_> {
    pub(super) fn expect(
        &self,
        raw: RawExpect,
        nodes: &BTreeMap<String, Node>,
    ) -> Result<Expect, TopologyError> {
        let violations = match raw.violations {
            None => None,
            Some(ids) => {
                let mut out = Vec::new();
                for id in ids {
                    let Ok(check) = id.get_ref().parse::<CheckId>() else {
                        return self.err(
                            id.span(),
                            format!(
                                "expect: unknown check id {:?} (expected one of {})",
                                id.get_ref(),
                                id_list(&CheckId::ALL)
                            ),
                        );
                    };
                    if out.contains(&check) {
                        return self.err(
                            id.span(),
                            format!("expect: check id {:?} listed twice", id.get_ref()),
                        );
                    }
                    out.push(check);
                }
                Some(out)
            }
        };
        let ipv4 = match raw.ipv4 {
            None => None,
            Some(f) => Some(self.expect_family(Family::V4, f.into_inner())?),
        };
        let ipv6 = match raw.ipv6 {
            None => None,
            Some(f) => Some(self.expect_family(Family::V6, f.into_inner())?),
        };
        let hosts: Vec<&str> = nodes
            .iter()
            .filter(|(_, n)| !n.router)
            .map(|(k, _)| k.as_str())
            .collect();
        let mut paths = Vec::new();
        for (i, p) in raw.paths.into_iter().enumerate() {
            let what = format!("expect path {}", i + 1);
            let p = p.into_inner();
            for end in [&p.from, &p.to] {
                match nodes.get(end.get_ref()) {
                    None => {
                        return self.err(
                            end.span(),
                            format!(
                                "{what}: unknown node {:?} (hosts: {})",
                                end.get_ref(),
                                hosts.join(", ")
                            ),
                        );
                    }
                    Some(n) if n.router => {
                        return self.err(
                            end.span(),
                            format!(
                                "{what}: {:?} is a router; from and to must be hosts (hosts: {})",
                                end.get_ref(),
                                hosts.join(", ")
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
            if p.from.get_ref() == p.to.get_ref() {
                return self.err(
                    p.to.span(),
                    format!("{what}: from and to are both {:?}", p.to.get_ref()),
                );
            }
            let family = match &p.family {
                None => None,
                Some(f) => Some(match f.get_ref().as_str() {
                    "ipv4" => Family::V4,
                    "ipv6" => Family::V6,
                    other => {
                        return self.err(
                            f.span(),
                            format!("{what}: unknown family {other:?} (expected ipv4 or ipv6)"),
                        );
                    }
                }),
            };
            let pmtu = match &p.pmtu {
                None => None,
                Some(m) => match u32::try_from(*m.get_ref()) {
                    Ok(v) if MTU_RANGE.contains(&v) => Some(v),
                    _ => {
                        return self.err(
                            m.span(),
                            format!("{what}: pmtu {} is outside 68..=65535", m.get_ref()),
                        );
                    }
                },
            };
            let transfer = match &p.transfer {
                None => None,
                Some(t) => Some(match t.get_ref().as_str() {
                    "ok" => Verdict::Ok,
                    "blackhole" => Verdict::Blackhole,
                    "recovered" => Verdict::Recovered,
                    other => {
                        return self.err(
                            t.span(),
                            format!(
                                "{what}: unknown transfer {other:?} (expected ok, blackhole or recovered)"
                            ),
                        );
                    }
                }),
            };
            paths.push(ExpectPath {
                from: p.from.into_inner(),
                to: p.to.into_inner(),
                family,
                pmtu,
                transfer,
            });
        }
        Ok(Expect {
            violations,
            paths,
            ipv4,
            ipv6,
        })
    }

    /// `[expect.ipv4]` / `[expect.ipv6]`: known per-path check ids, each once.
    pub(super) fn expect_family(
        &self,
        family: Family,
        raw: RawExpectFamily,
    ) -> Result<ExpectFamily, TopologyError> {
        let what = format!("expect.{}", family.as_str());
        let mut out = Vec::new();
        for id in raw.violations {
            let name = id.get_ref().as_str();
            let check = match name.parse::<CheckId>() {
                Ok(c) if c.per_family() => c,
                Ok(_) => {
                    return self.err(
                        id.span(),
                        format!(
                            "{what}: {name:?} has no family; list it in [expect] violations (a family table takes {})",
                            id_list(&CheckId::PER_FAMILY)
                        ),
                    );
                }
                Err(_) => {
                    return self.err(
                        id.span(),
                        format!(
                            "{what}: unknown check id {name:?} (expected one of {})",
                            id_list(&CheckId::PER_FAMILY)
                        ),
                    );
                }
            };
            if out.contains(&check) {
                return self.err(id.span(), format!("{what}: check id {name:?} listed twice"));
            }
            out.push(check);
        }
        Ok(ExpectFamily { violations: out })
    }
}

/// `a, b, c` for an error message.
fn id_list(ids: &[CheckId]) -> String {
    ids.iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
