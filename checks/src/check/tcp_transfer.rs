//! `tcp-transfer`: a bulk TCP transfer completes promptly (`ok`; a
//! `recovered` transfer stalled on timeouts first and is a violation).

use harness::probe::error::ProbeError;
use harness::probe::exceptions;
use harness::probe::transfer::{self, TransferOpts, TransferVerdict};
use mtulab_core::CheckId;

use super::path::PathCtx;
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
        opts,
        from,
        to,
        family,
        pred,
        expected,
        ..
    } = *ctx;
    let subject = &ctx.subject;
    let violation = |check, words| ctx.violation(check, words);
    let t = transfer::transfer_hosts(
        lab,
        from,
        to,
        family,
        &TransferOpts {
            bytes: opts.transfer_bytes,
            ..Default::default()
        },
    )?;
    let verdict = t.verdict;
    path.transfer = Some(verdict);
    path.transfer_seconds = Some(t.seconds);
    let holds = t.verdict == TransferVerdict::Ok;
    if !holds {
        let measured = match t.verdict {
                TransferVerdict::Blackhole => format!(
                    "{} of {} bytes arrived, then nothing moved while {}-byte segments (pmtu {}) were retransmitted, {} timeouts",
                    t.bytes,
                    t.requested,
                    t.snd_mss,
                    t.pmtu,
                    t.rtos
                ),
                _ => format!(
                    "completed only after {} retransmission timeouts ({:.1} s; tcp_mtu_probing={} on {from})",
                    t.rtos, t.seconds, t.mtu_probing
                ),
            };
        let fix = if ignores(lab, from) {
            // A host that ignores PMTU ICMP has it already: fixes that fit a host.
            format!(
                "set {from}'s own interface MTU to {expected}, or clamp the TCP MSS on the router in front of {from}, or enable PLPMTUD on {from} (net.ipv4.tcp_mtu_probing=1)"
            )
        } else {
            format!(
                "let {} reach {from} from the router in front of the {expected}-byte hop, or clamp the TCP MSS there{}",
                icmp_name(family),
                rulesets_on(pred)
            )
        };
        report.violations.push(violation(
            CheckId::TcpTransfer,
            explain(
                pred.and_then(|p| p.finding(CheckId::TcpTransfer)),
                format!("bulk data from {from} to {to}: {measured}"),
                |m| (m, fix),
            ),
        ));
    }
    report.checks.push(CheckLine {
        check: CheckId::TcpTransfer,
        subject: subject.clone(),
        holds,
        detail: format!(
            "{verdict}: {} bytes in {:.2} s, pmtu {} mss {}",
            t.bytes, t.seconds, t.pmtu, t.snd_mss
        ),
    });
    exceptions::flush(lab)?;
    Ok(())
}
