//! The words the per-path checks share: ICMP names, the model's finding
//! joined with the measurement, the rulesets that decide.

use mtulab_core::model::{self, PathPrediction};
use mtulab_core::Family;

pub(super) fn icmp_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "ICMP frag-needed (type 3 code 4)",
        Family::V6 => "ICMPv6 packet-too-big (type 2)",
    }
}

/// Words and fix for a violated check on a path: the model's `finding`,
/// when it predicted the violation (it names the link, router, hook or
/// ruleset responsible), with what was measured appended; otherwise
/// `fallback(measured)`: the probes' words and the live fix.
pub(super) fn explain(
    finding: Option<model::Finding>,
    measured: String,
    fallback: impl FnOnce(String) -> (String, String),
) -> (String, Option<String>) {
    let (message, fix) = match finding {
        Some(f) => (format!("{} (measured: {measured})", f.seen), f.fix),
        None => fallback(measured),
    };
    (message, Some(fix))
}

/// The real rulesets that decide whether the path's ICMP errors pass,
/// for a message where the model cannot know what they do.
pub(super) fn rulesets_on(pred: Option<&PathPrediction>) -> String {
    let mut out = Vec::new();
    for p in pred.into_iter() {
        for i in &p.icmp {
            if let Some(c @ model::Culprit::Ruleset { .. }) = &i.culprit {
                let w = c.words(&i.router, p.family);
                if !out.contains(&w) {
                    out.push(w);
                }
            }
        }
    }
    if out.is_empty() {
        String::new()
    } else {
        format!(" ({})", out.join("; "))
    }
}

/// Whether host `node` ignores PMTU ICMP (`pmtu_icmp = "ignore"`): the
/// fallback fixes then fit a host, never "let ICMP in".
pub(super) fn ignores(lab: &harness::Lab, node: &str) -> bool {
    lab.topology()
        .nodes
        .get(node)
        .is_some_and(|n| n.pmtu_icmp == mtulab_core::topology::PmtuIcmp::Ignore)
}
