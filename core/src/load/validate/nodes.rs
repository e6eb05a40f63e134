//! `[nodes.NAME]`: names, sysctls, MSS clamps (and their interfaces).

use super::*;

/// The validated nodes and what later parts of validation need of the file.
pub(super) struct Nodes {
    pub(super) nodes: BTreeMap<String, Node>,
    /// Where each node is declared.
    pub(super) lines: BTreeMap<String, std::ops::Range<usize>>,
    /// Where each node's mss_clamp_oif (else mss_clamp) is, for checks after the links.
    pub(super) clamp_spans: BTreeMap<String, std::ops::Range<usize>>,
    /// Each node's raw `routes`, checked once addressing is known.
    pub(super) routes: Vec<(String, Vec<Spanned<RawRoute>>)>,
}

impl Validator<'_> {
    /// `[nodes.NAME]`: names, sysctls (values, and names through the
    /// [`SysctlNames`] seam), MSS clamps.
    pub(super) fn nodes(&self, raw: Ordered<RawNode>) -> Result<Nodes, TopologyError> {
        let mut nodes = BTreeMap::new();
        let mut node_lines: BTreeMap<String, std::ops::Range<usize>> = BTreeMap::new();
        // Where each node's mss_clamp_oif (else mss_clamp) is, for checks after the links.
        let mut clamp_spans: BTreeMap<String, std::ops::Range<usize>> = BTreeMap::new();
        let mut raw_routes = Vec::new();
        for (name, raw_node) in raw.0 {
            let span = name.span();
            let name = name.into_inner();
            if !valid_node_name(&name) {
                return self.err(
                    span,
                    format!("node name {name:?} must match [a-z][a-z0-9-]{{0,14}}"),
                );
            }
            let raw_node = raw_node.into_inner();
            let mss_clamp = self.mss_clamp(&name, &raw_node)?;
            let pmtu_icmp = self.pmtu_icmp(&name, &raw_node)?;
            if let Some(c) = &raw_node.mss_clamp {
                clamp_spans.insert(name.clone(), c.span());
            }
            if let Some(o) = &raw_node.mss_clamp_oif {
                clamp_spans.insert(name.clone(), o.span());
            }
            let mut sysctl = Vec::new();
            for (key, value) in raw_node.sysctl.0 {
                if !valid_sysctl_key(key.get_ref()) {
                    return self.err(
                        key.span(),
                        format!(
                            "node {name:?}: sysctl {:?} must be a net.* key like \"net.ipv4.tcp_mtu_probing\"",
                            key.get_ref()
                        ),
                    );
                }
                let value_span = value.span();
                let value = value.into_inner().0;
                if value.contains('\n') || value.contains('\0') {
                    return self.err(
                        value_span,
                        format!(
                            "node {name:?}: sysctl {:?} value {value:?} must be one line",
                            key.get_ref()
                        ),
                    );
                }
                if let Some(problem) = key_problem(key.get_ref(), &value, self.sysctls) {
                    let at = if problem.about_value {
                        value_span
                    } else {
                        key.span()
                    };
                    return self.err(at, format!("node {name:?}: {}", problem.message));
                }
                sysctl.push((key.into_inner(), value));
            }
            node_lines.insert(name.clone(), span);
            raw_routes.push((name.clone(), raw_node.routes));
            nodes.insert(
                name,
                Node {
                    router: raw_node.router,
                    sysctl,
                    mss_clamp,
                    routes: Vec::new(),
                    pmtu_icmp,
                },
            );
        }
        Ok(Nodes {
            nodes,
            lines: node_lines,
            clamp_spans,
            routes: raw_routes,
        })
    }

    /// `name` is a node of `nodes`, else an error for `what` listing them.
    pub(super) fn known(
        &self,
        nodes: &BTreeMap<String, Node>,
        name: &Spanned<String>,
        what: &str,
    ) -> Result<(), TopologyError> {
        if nodes.contains_key(name.get_ref()) {
            Ok(())
        } else {
            let list = nodes.keys().cloned().collect::<Vec<_>>().join(", ");
            self.err(
                name.span(),
                format!("{what}: unknown node {:?} (nodes: {list})", name.get_ref()),
            )
        }
    }

    /// `mss_clamp` / `mss_clamp_oif` of one node (the oif is checked
    /// against the node's interfaces later, in [`Self::check_clamp_oifs`]).
    pub(super) fn mss_clamp(
        &self,
        node: &str,
        raw: &RawNode,
    ) -> Result<Option<MssClamp>, TopologyError> {
        let Some(value) = &raw.mss_clamp else {
            if let Some(oif) = &raw.mss_clamp_oif {
                return self.err(
                    oif.span(),
                    format!("node {node:?}: mss_clamp_oif needs mss_clamp (\"pmtu\" or an MSS)"),
                );
            }
            return Ok(None);
        };
        if !raw.router {
            return self.err(
                value.span(),
                format!(
                    "node {node:?}: mss_clamp needs router = true (it rewrites forwarded SYNs; a host forwards nothing)"
                ),
            );
        }
        let text = &value.get_ref().0;
        let to = if text == "pmtu" {
            ClampTo::Pmtu
        } else {
            match text.parse::<u32>() {
                Ok(v) if MSS_CLAMP_RANGE.contains(&v) => ClampTo::Mss(v as u16),
                _ => {
                    return self.err(
                        value.span(),
                        format!(
                            "node {node:?}: mss_clamp {text:?} must be \"pmtu\" or an MSS in {}..={}",
                            MSS_CLAMP_RANGE.start(),
                            MSS_CLAMP_RANGE.end()
                        ),
                    );
                }
            }
        };
        Ok(Some(MssClamp {
            to,
            oif: raw.mss_clamp_oif.as_ref().map(|o| o.get_ref().clone()),
        }))
    }

    /// Every `mss_clamp_oif` names an interface of its node: a link's, a
    /// segment's or a tunnel's (`ifaces`: every (node, interface) claimed).
    pub(super) fn check_clamp_oifs(
        &self,
        nodes: &BTreeMap<String, Node>,
        ifaces: &Ifaces,
        spans: &BTreeMap<String, std::ops::Range<usize>>,
    ) -> Result<(), TopologyError> {
        for (name, node) in nodes {
            let Some(oif) = node.mss_clamp.as_ref().and_then(|c| c.oif.as_ref()) else {
                continue;
            };
            if !ifaces.contains_key(&(name.clone(), oif.clone())) {
                let mut own: Vec<&str> = ifaces
                    .keys()
                    .filter(|(n, _)| n == name)
                    .map(|(_, i)| i.as_str())
                    .collect();
                own.sort_unstable();
                return self.err(
                    spans[name].clone(),
                    format!(
                        "node {name:?}: mss_clamp_oif {oif:?} is not an interface of this node (interfaces: {})",
                        own.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }

    /// `pmtu_icmp = "obey" | "ignore"` (hosts only: a router discarding
    /// PMTU ICMP at its entry would discard the ICMP it forwards too).
    pub(super) fn pmtu_icmp(&self, node: &str, raw: &RawNode) -> Result<PmtuIcmp, TopologyError> {
        let Some(value) = &raw.pmtu_icmp else {
            return Ok(PmtuIcmp::Obey);
        };
        let v = match value.get_ref().as_str() {
            "obey" => PmtuIcmp::Obey,
            "ignore" => PmtuIcmp::Ignore,
            other => {
                return self.err(
                    value.span(),
                    format!("node {node:?}: unknown pmtu_icmp {other:?} (expected \"obey\" or \"ignore\")"),
                );
            }
        };
        if raw.router && v == PmtuIcmp::Ignore {
            return self.err(
                value.span(),
                format!(
                    "node {node:?}: pmtu_icmp = \"ignore\" applies to hosts only (a router would discard the ICMP it forwards too; to drop it in a router use [[filters]])"
                ),
            );
        }
        Ok(v)
    }
}
