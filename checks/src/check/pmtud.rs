//! `pmtud`: the sender learns exactly the smallest MTU on its path
//! (receiving ends included) and a DF packet of that size is delivered.

use harness::probe::error::ProbeError;
use harness::probe::{exceptions, ping, tracepath};
use mtulab_core::observe::PingOutcome;
use mtulab_core::CheckId;

use super::path::{ping_report, PathCtx, PING_DEADLINE};
use super::words::{explain, icmp_name, ignores, rulesets_on};
use crate::report::{CheckLine, PathReport, Report};

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
        hops,
        pred,
        expected,
        ..
    } = *ctx;
    let subject = &ctx.subject;
    let violation = |check, words| ctx.violation(check, words);
    let trace = tracepath::tracepath_hosts(lab, from, to, family, &Default::default())?;
    let dst = trace.dst;
    let sender = lab.node(from).expect("planned node");
    let lookup = exceptions::route_get(sender, dst)?;
    let own = lab.mtu(from, &hops[0].out_iface).unwrap_or(hops[0].out_mtu);
    let learned = lookup.mtu.unwrap_or(own);
    path.observed_pmtu = Some(learned);
    let at = ping::df_ping_hosts(lab, from, to, family, expected, PING_DEADLINE)?;
    let at = ping_report(lab, &at);
    let over = ping::df_ping_hosts(lab, from, to, family, expected + 1, PING_DEADLINE)?;
    let over = ping_report(lab, &over);
    let delivered = at.outcome == PingOutcome::Reply;
    let holds = learned == expected && delivered;
    if !holds {
        let mut what = Vec::new();
        if learned != expected {
            what.push(format!(
                    "{from} learned a path MTU of {learned} towards {to}, but the path's smallest MTU is {expected}"
                ));
        }
        if !delivered {
            what.push(format!(
                "a DF packet of exactly {expected} bytes got {} instead of a reply",
                at.outcome
            ));
        }
        what.push(format!("DF {over}"));
        let narrow = hops
            .iter()
            .find(|h| h.in_mtu < h.out_mtu && h.in_mtu == expected);
        let fix = match narrow {
                Some(h) => format!(
                    "equalise MTU on {} ({}:{} {} <-> {}:{} {}): a receiving end that is smaller drops silently",
                    mtulab_core::plan::link_name(h.link, ctx.lab.topology()),
                    h.node,
                    h.out_iface,
                    h.out_mtu,
                    h.next,
                    h.in_iface,
                    h.in_mtu
                ),
                // A host that ignores PMTU ICMP has it already.
                None if ignores(lab, from) => format!(
                    "set {from}'s own interface MTU to {expected} ({from} ignores {})",
                    icmp_name(family)
                ),
                None => format!(
                    "let {} out of every router on the path and into {from}{}",
                    icmp_name(family),
                    rulesets_on(pred)
                ),
            };
        report.violations.push(violation(
            CheckId::Pmtud,
            explain(
                pred.and_then(|p| p.finding(CheckId::Pmtud)),
                what.join("; "),
                |m| (m, fix),
            ),
        ));
    }
    report.checks.push(CheckLine {
        check: CheckId::Pmtud,
        subject: subject.clone(),
        holds,
        detail: format!("learned {learned} (expected {expected}); DF {at}; DF {over}"),
    });
    path.ping_at_pmtu = Some(at);
    path.ping_over_pmtu = Some(over);
    exceptions::flush(lab)?;
    Ok(())
}
