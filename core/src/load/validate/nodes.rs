//! `[nodes.NAME]`: names, sysctls, MSS clamps (and their interfaces).

use super::*;

impl Validator<'_> {
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
        ifaces: &HashMap<(String, String), String>,
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
