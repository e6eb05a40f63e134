//! `icmp-passes`: a frag-needed / packet-too-big that any router on a
//! path sends to that path's sender reaches it (crafted, so it is tested
//! whether or not the path needs one today).

use harness::probe::error::ProbeError;
use harness::probe::icmp_delivery;
use mtulab_core::CheckId;

use super::path::PathCtx;
use super::words::{explain, icmp_name};
use crate::report::{CheckLine, IcmpReport, PathReport, Report};

/// Probe `ctx`'s path for this check; its measurements go into `path`,
/// its check line and violations into `report`.
pub(super) fn check(
    ctx: &PathCtx<'_>,
    path: &mut PathReport,
    report: &mut Report,
) -> Result<(), ProbeError> {
    let PathCtx {
        lab,
        from,
        to,
        family,
        pred,
        ..
    } = *ctx;
    let subject = &ctx.subject;
    let violation = |check, words| ctx.violation(check, words);
    // With no router on the path there is no ICMP to deliver: no line,
    // rather than one that cannot fail.
    let routers = ctx.routers();
    if routers.is_empty() {
        return Ok(());
    }
    let mut lost = Vec::new();
    let mut ignored = false;
    for router in &routers {
        let d = icmp_delivery::icmp_delivery(lab, router, from, to, family)?;
        ignored |= d.ignored;
        path.icmp.push(IcmpReport {
            router: router.clone(),
            arrived: d.arrived,
        });
        if d.arrived {
            continue;
        }
        lost.push(router.clone());
        let measured = format!(
            "a crafted {} from {router} to {from} did not arrive",
            icmp_name(family)
        );
        let explained = explain(pred.and_then(|p| p.icmp_finding(router)), measured, |m| {
            // The model cannot know (a ruleset decides) or expected
            // it to arrive (a model-mismatch says so).
            let culprit = pred
                .and_then(|p| p.icmp.iter().find(|i| &i.router == router))
                .and_then(|i| i.culprit.as_ref())
                .map(|c| format!(": {}", c.words(router, family)))
                .unwrap_or_default();
            (
                    format!(
                        "{m}{culprit}; traffic from {from} to {to} blackholes whenever {router} must report a smaller next hop"
                    ),
                    format!(
                        "let {} out of {router}, through the routers towards {from}, and into {from}",
                        icmp_name(family)
                    ),
                )
        });
        report
            .violations
            .push(violation(CheckId::IcmpPasses, explained));
    }
    report.checks.push(CheckLine {
        check: CheckId::IcmpPasses,
        subject: subject.clone(),
        holds: lost.is_empty(),
        detail: if lost.is_empty() && ignored {
            // The network delivers it; the host's own stack discards it.
            format!(
                "arrives from {} at {from}'s interface; {from}'s stack ignores it (pmtu_icmp = \"ignore\")",
                routers.join(", ")
            )
        } else if lost.is_empty() {
            format!("arrives from {}", routers.join(", "))
        } else {
            format!("lost from {}", lost.join(", "))
        },
    });
    Ok(())
}
