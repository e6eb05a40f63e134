//! The live checks (design.md §4): build the lab, probe every ordered host
//! pair in each family, and judge the two rules.
//!
//! - `link-mtu-match`: both ends of every link have the same MTU, as
//!   configured and as read back from the kernel.
//! - `icmp-passes`: a frag-needed / packet-too-big that any router on a
//!   path sends to that path's sender reaches it (crafted, so it is tested
//!   whether or not the path needs one today).
//! - `pmtud`: the sender learns exactly the smallest MTU on its path
//!   (receiving ends included) and a DF packet of that size is delivered.
//! - `tcp-transfer`: a bulk TCP transfer completes promptly (`ok`; a
//!   `recovered` transfer stalled on timeouts first and is a violation).
//!
//! Every probe starts with no cached PMTU exception in any node: one probe's
//! learning must not hide the next one's blackhole (design.md §6).

use std::time::{Duration, Instant};

use harness::probe::{
    exceptions, icmp_delivery, ping, tracepath,
    transfer::{self, TransferOpts, TransferVerdict},
};
use harness::Lab;
use mtulab_core::plan::{path_mtu, Hop};
use mtulab_core::topology::{Expect, Family, FAMILY_CHECK_IDS};
use mtulab_core::{Loaded, Topology};

use crate::report::{CheckLine, IcmpReport, PathReport, PingReport, Report, Violation};
use mtulab_core::compare::{Comparator, Compared};
use mtulab_core::model::{self, Model, PathPrediction};
use mtulab_core::observe::PingOutcome;

/// How long a DF ping waits for an answer before calling it silence.
const PING_DEADLINE: Duration = Duration::from_secs(1);

pub const LINK_MTU_MATCH: &str = "link-mtu-match";
pub const ICMP_PASSES: &str = "icmp-passes";
pub const PMTUD: &str = "pmtud";
pub const TCP_TRANSFER: &str = "tcp-transfer";
pub const MODEL_MISMATCH: &str = "model-mismatch";
pub const CHECKS: [&str; 4] = [LINK_MTU_MATCH, ICMP_PASSES, PMTUD, TCP_TRANSFER];

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub families: Vec<Family>,
    /// Which checks to run (ids from [`CHECKS`]).
    pub checks: Vec<&'static str>,
    pub transfer_bytes: u64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            families: vec![Family::V4, Family::V6],
            checks: CHECKS.to_vec(),
            transfer_bytes: 1 << 20,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Lab(#[from] harness::LabError),
    #[error("topology {topology}: {source}")]
    Probe {
        topology: String,
        source: harness::probe::error::ProbeError,
    },
}

fn family_name(f: Family) -> &'static str {
    f.as_str()
}

fn icmp_name(f: Family) -> &'static str {
    match f {
        Family::V4 => "ICMP frag-needed (type 3 code 4)",
        Family::V6 => "ICMPv6 packet-too-big (type 2)",
    }
}

fn probe_err(topology: &Topology) -> impl Fn(harness::probe::error::ProbeError) -> CheckError + '_ {
    move |source| CheckError::Probe {
        topology: topology.name.clone(),
        source,
    }
}

/// Build `topology`, run the checks, tear down; the lab never outlives this.
pub fn run(loaded: &Loaded, opts: &CheckOptions) -> Result<Report, CheckError> {
    let started = Instant::now();
    let topology = &loaded.topology;
    let lab = Lab::build_loaded(loaded)?;
    let model = model::predict(topology, &lab.plan);
    let mut report = Report {
        topology: topology.name.clone(),
        file: topology.source.clone(),
        ok: true,
        violations: Vec::new(),
        paths: Vec::new(),
        checks: Vec::new(),
        no_path: Vec::new(),
        expect_mismatches: None,
        seconds: 0.0,
        anycast: Vec::new(),
    };
    if opts.checks.contains(&LINK_MTU_MATCH) {
        check_links(&lab, &model, &mut report);
    }
    let want_paths = opts
        .checks
        .iter()
        .any(|c| [ICMP_PASSES, PMTUD, TCP_TRANSFER].contains(c));
    let mut tally = Tally::default();
    if want_paths {
        let hosts: Vec<String> = lab.plan.hosts().into_iter().map(String::from).collect();
        for family in &opts.families {
            for from in &hosts {
                for to in &hosts {
                    if from == to {
                        continue;
                    }
                    let Some(hops) = lab.plan.path(from, to, *family) else {
                        report
                            .no_path
                            .push(format!("{from} -> {to} {}", family_name(*family)));
                        continue;
                    };
                    let pred = model.path(from, to, *family);
                    let seen = check_path(&lab, opts, from, to, *family, &hops, pred, &mut report)
                        .map_err(probe_err(topology))?;
                    if let Some(pred) = pred {
                        compare_model(pred, &seen, &mut tally, &mut report.violations);
                    }
                    report.paths.push(seen);
                }
            }
        }
        report.checks.push(CheckLine {
            check: MODEL_MISMATCH.into(),
            subject: "model vs kernel".into(),
            holds: tally.differ == 0,
            detail: format!(
                "{} predictions compared, {} differ, {} the model cannot know",
                tally.compared, tally.differ, tally.unknown
            ),
        });
    }
    if opts.checks.contains(&TCP_TRANSFER) {
        crate::anycast::check(&lab, topology, opts, &mut report).map_err(probe_err(topology))?;
    }
    report.ok = report.violations.is_empty();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// How many model predictions were compared with the kernel.
#[derive(Debug, Default)]
struct Tally {
    compared: usize,
    differ: usize,
    unknown: usize,
}

/// A DF ping result as the report shows it: the answering address mapped
/// back to the lab node that owns it.
fn ping_report(lab: &Lab, r: &ping::PingResult) -> PingReport {
    PingReport {
        size: r.size,
        outcome: r.outcome,
        mtu: r.mtu,
        from: r.from.map(|a| {
            lab.plan
                .owner_of(a)
                .map(String::from)
                .unwrap_or_else(|| a.to_string())
        }),
    }
}

/// Every difference between the model's prediction and what the kernel
/// did is a `model-mismatch` with both values: a model bug or a kernel
/// behaviour to document, never hidden. What the model cannot know is
/// counted, not compared.
fn compare_model(
    pred: &PathPrediction,
    seen: &PathReport,
    tally: &mut Tally,
    out: &mut Vec<Violation>,
) {
    let mut diffs = Vec::new();
    for c in Comparator::default().path(pred, seen) {
        match c {
            Compared::Unknown => tally.unknown += 1,
            Compared::Same => tally.compared += 1,
            Compared::Differ(d) => {
                tally.compared += 1;
                tally.differ += 1;
                diffs.push(d);
            }
        }
    }
    for d in diffs {
        out.push(Violation {
            check: MODEL_MISMATCH.into(),
            message: format!("{} -> {} {}: {d}", seen.from, seen.to, seen.family),
            fix: None,
            from: Some(seen.from.clone()),
            to: Some(seen.to.clone()),
            family: Some(seen.family.as_str().into()),
            link: None,
        });
    }
}

fn check_links(lab: &Lab, model: &Model, report: &mut Report) {
    let mut bad = 0;
    let findings = model.findings();
    for (i, link) in lab.plan.links.iter().enumerate() {
        let ends = 0..link.between.len();
        let read: Vec<Option<u32>> = ends
            .clone()
            .map(|e| {
                lab.mtus
                    .get(&(link.between[e].clone(), link.names[e].clone()))
                    .copied()
            })
            .collect();
        let configured_ok = link.mtu.iter().all(|&m| m == link.mtu[0]);
        let kernel_ok = read[0].is_some() && read.iter().all(|r| *r == read[0]);
        if configured_ok && kernel_ok {
            continue;
        }
        bad += 1;
        let side = |end: usize| {
            format!(
                "{}:{} {}",
                link.between[end],
                link.names[end],
                read[end]
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "missing".into())
            )
        };
        // A segment names its odd members (as read back) first.
        let (odd, rest): (Vec<usize>, Vec<usize>) = if link.segment.is_some() {
            let (_, odd) =
                model::odd_members(&read.iter().map(|r| r.unwrap_or(0)).collect::<Vec<_>>());
            ends.clone().partition(|e| odd.contains(e))
        } else {
            (vec![0], vec![1])
        };
        let join = |set: &[usize]| set.iter().map(|&e| side(e)).collect::<Vec<_>>().join(", ");
        let shown = format!("{} vs {}", join(&odd), join(&rest));
        let subject = link.label(i);
        let as_configured = read
            .iter()
            .zip(&link.mtu)
            .all(|(r, m)| r.is_none_or(|r| r == *m));
        let (message, fix) = match findings
            .iter()
            .find(|f| f.check == LINK_MTU_MATCH && f.subject == subject)
        {
            Some(f) if kernel_ok || as_configured => (
                format!("{subject} ({shown}, read back from the kernel): {}", f.seen),
                f.fix.clone(),
            ),
            _ => {
                let configured: Vec<String> = link.mtu.iter().map(u32::to_string).collect();
                let odd_nodes: Vec<&str> = odd.iter().map(|&e| link.between[e].as_str()).collect();
                let (what, at) = if link.segment.is_some() {
                    (
                        "the members differ",
                        format!("odd: {}", odd_nodes.join(", ")),
                    )
                } else {
                    (
                        "the ends differ",
                        format!("{} <-> {}", link.between[0], link.between[1]),
                    )
                };
                (
                    format!(
                        "{subject} ({shown}, read back from the kernel; configured {}): {what}",
                        configured.join(" vs ")
                    ),
                    format!("equalise MTU on {subject} ({at})"),
                )
            }
        };
        report.violations.push(Violation {
            check: LINK_MTU_MATCH.into(),
            message,
            fix: Some(fix),
            from: None,
            to: None,
            family: None,
            link: Some(i),
        });
    }
    let n = lab.plan.links.len();
    let what = if lab.topology.segments.is_empty() {
        if n == 1 {
            "link"
        } else {
            "links"
        }
    } else {
        "links and segments"
    };
    report.checks.push(CheckLine {
        check: LINK_MTU_MATCH.into(),
        subject: "links".into(),
        holds: bad == 0,
        detail: if bad == 0 {
            let all = if lab.topology.segments.is_empty() {
                "both"
            } else {
                "all"
            };
            format!("{n} {what}, {all} ends equal (configured and read back)")
        } else {
            format!("{bad} of {n} {what} have unequal ends")
        },
    });
}

/// Words and fix for a violated check on a path: the model's `finding`,
/// when it predicted the violation (it names the link, router, hook or
/// ruleset responsible), with what was measured appended; otherwise
/// `fallback(measured)`: the probes' words and the live fix.
fn explain(
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
fn rulesets_on(pred: Option<&PathPrediction>) -> String {
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

#[allow(clippy::too_many_arguments)]
fn check_path(
    lab: &Lab,
    opts: &CheckOptions,
    from: &str,
    to: &str,
    family: Family,
    hops: &[Hop],
    pred: Option<&PathPrediction>,
    report: &mut Report,
) -> Result<PathReport, harness::probe::error::ProbeError> {
    let fam = family_name(family);
    let subject = format!("{from} -> {to} {fam}");
    let expected = path_mtu(hops).unwrap_or(0);
    let routers: Vec<String> = hops.iter().skip(1).map(|h| h.node.clone()).collect();
    let violation = |check: &str, (message, fix): (String, Option<String>)| Violation {
        check: check.into(),
        message,
        fix,
        from: Some(from.into()),
        to: Some(to.into()),
        family: Some(fam.into()),
        link: None,
    };
    let mut path = PathReport::new(from, to, family, expected);

    // The `*_hosts` probes flush every node's PMTU exceptions themselves
    // before probing; a check flushes once more when it ends, for the
    // crafted-ICMP probe that follows (which only flushes afterwards).
    if opts.checks.contains(&PMTUD) {
        let trace = tracepath::tracepath_hosts(lab, from, to, family, &Default::default())?;
        let dst = trace.dst;
        let sender = lab.node(from).expect("planned node");
        let lookup = exceptions::route_get(sender, dst)?;
        let own = lab
            .mtus
            .get(&(from.to_string(), hops[0].out_iface.clone()))
            .copied()
            .unwrap_or(hops[0].out_mtu);
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
                    "equalise MTU on link {} ({}:{} {} <-> {}:{} {}): a receiving end that is smaller drops silently",
                    h.link + 1,
                    h.node,
                    h.out_iface,
                    h.out_mtu,
                    h.next,
                    h.in_iface,
                    h.in_mtu
                ),
                None => format!(
                    "let {} out of every router on the path and into {from}{}",
                    icmp_name(family),
                    rulesets_on(pred)
                ),
            };
            report.violations.push(violation(
                PMTUD,
                explain(pred.and_then(|p| p.finding(PMTUD)), what.join("; "), |m| {
                    (m, fix)
                }),
            ));
        }
        report.checks.push(CheckLine {
            check: PMTUD.into(),
            subject: subject.clone(),
            holds,
            detail: format!("learned {learned} (expected {expected}); DF {at}; DF {over}"),
        });
        path.ping_at_pmtu = Some(at);
        path.ping_over_pmtu = Some(over);
        exceptions::flush(lab)?;
    }

    if opts.checks.contains(&TCP_TRANSFER) {
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
            let fix = format!(
                "let {} reach {from} from the router in front of the {expected}-byte hop, or clamp the TCP MSS there{}",
                icmp_name(family),
                rulesets_on(pred)
            );
            report.violations.push(violation(
                TCP_TRANSFER,
                explain(
                    pred.and_then(|p| p.finding(TCP_TRANSFER)),
                    format!("bulk data from {from} to {to}: {measured}"),
                    |m| (m, fix),
                ),
            ));
        }
        report.checks.push(CheckLine {
            check: TCP_TRANSFER.into(),
            subject: subject.clone(),
            holds,
            detail: format!(
                "{verdict}: {} bytes in {:.2} s, pmtu {} mss {}",
                t.bytes, t.seconds, t.pmtu, t.snd_mss
            ),
        });
        exceptions::flush(lab)?;
    }

    // With no router on the path there is no ICMP to deliver: no line,
    // rather than one that cannot fail.
    if opts.checks.contains(&ICMP_PASSES) && !routers.is_empty() {
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
            report.violations.push(violation(ICMP_PASSES, explained));
        }
        report.checks.push(CheckLine {
            check: ICMP_PASSES.into(),
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
    }
    Ok(path)
}

/// How `report` differs from the topology's `[expect]`, considering only
/// the checks and families that were run. Empty: as expected. A topology
/// without `[expect]` expects every check to hold. With an
/// `[expect.ipv4]` / `[expect.ipv6]` table the violations are compared per
/// family ([`compare_per_family`]); without, as one set over the families run.
pub fn compare_expect(topology: &Topology, report: &Report, opts: &CheckOptions) -> Vec<String> {
    let mut out = Vec::new();
    let expect = topology.expect.clone().unwrap_or_default();
    let ran = |c: &str| opts.checks.contains(&c) || c == MODEL_MISMATCH;
    if expect.per_family() {
        compare_per_family(&expect, report, opts, &mut out);
        compare_expect_paths(&expect, report, &mut out);
        return out;
    }
    let mut want: Vec<String> = expect
        .violations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| ran(c))
        .collect();
    want.sort();
    want.dedup();
    let got: Vec<String> = report
        .violated_checks()
        .into_iter()
        .filter(|c| ran(c))
        .collect();
    if expect.violations.is_some() || topology.expect.is_none() {
        for c in &want {
            if !got.contains(c) {
                out.push(format!("expected {c} to be violated, but it holds"));
            }
        }
        for c in &got {
            if !want.contains(c) {
                out.push(format!("{c} is violated, but [expect] does not list it"));
            }
        }
    }
    compare_expect_paths(&expect, report, &mut out);
    out
}

/// `[[expect.paths]]`: each listed path's MTU and transfer verdict, in the
/// families it names (both when it names none) that were probed.
fn compare_expect_paths(expect: &Expect, report: &Report, out: &mut Vec<String>) {
    for e in &expect.paths {
        for p in &report.paths {
            let fam_ok = e.family.is_none_or(|f| f == p.family);
            if p.from != e.from || p.to != e.to || !fam_ok {
                continue;
            }
            if let Some(pmtu) = e.pmtu {
                if p.expected_pmtu != pmtu {
                    out.push(format!(
                        "{} -> {} {}: path MTU is {}, [expect] says {pmtu}",
                        p.from, p.to, p.family, p.expected_pmtu
                    ));
                }
            }
            if let (Some(v), Some(got)) = (e.transfer, p.transfer) {
                if v != got {
                    out.push(format!(
                        "{} -> {} {}: transfer was {got}, [expect] says {}",
                        p.from,
                        p.to,
                        p.family,
                        v.as_str()
                    ));
                }
            }
        }
    }
}

/// The comparison of violations when `[expect]` has a family table:
/// - `link-mtu-match` (no family) against `[expect] violations`;
/// - for each family that ran — in `opts` and with at least one probed
///   path or anycast download in `report` — the violations naming that
///   family against its table, or against `[expect] violations` without
///   the family-less ids when it has no table;
/// - an absent list asserts nothing; `model-mismatch` counts whenever
///   any check ran, so it must not happen unless listed.
fn compare_per_family(
    expect: &Expect,
    report: &Report,
    opts: &CheckOptions,
    out: &mut Vec<String>,
) {
    let ran = |c: &str| opts.checks.contains(&c) || c == MODEL_MISMATCH;
    let per_path = |c: &str| FAMILY_CHECK_IDS.contains(&c);
    let got_in = |family: Option<&str>| -> Vec<String> {
        let mut ids: Vec<String> = report
            .violations
            .iter()
            .filter(|v| v.family.as_deref() == family && ran(&v.check))
            .map(|v| v.check.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let mut differ = |prefix: &str, source: &str, want: Vec<String>, got: Vec<String>| {
        for c in &want {
            if !got.contains(c) {
                out.push(format!("{prefix}expected {c} to be violated, but it holds"));
            }
        }
        for c in &got {
            if !want.contains(c) {
                out.push(format!(
                    "{prefix}{c} is violated, but {source} does not list it"
                ));
            }
        }
    };
    if let Some(v) = &expect.violations {
        let want = v
            .iter()
            .filter(|c| !per_path(c) && ran(c))
            .cloned()
            .collect();
        differ("", "[expect]", want, got_in(None));
    }
    for family in &opts.families {
        let fam = family.as_str();
        let (list, source) = match (expect.family(*family), &expect.violations) {
            (Some(table), _) => (&table.violations, format!("[expect.{fam}]")),
            (None, Some(v)) => (v, "[expect]".to_string()),
            (None, None) => continue,
        };
        let probed = report.paths.iter().any(|p| p.family == *family)
            || report.anycast.iter().any(|a| a.family == fam);
        if !probed {
            continue;
        }
        let want = list
            .iter()
            .filter(|c| per_path(c) && ran(c))
            .cloned()
            .collect();
        differ(&format!("{fam}: "), &source, want, got_in(Some(fam)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtulab_core::plan::Plan;
    use mtulab_core::topology::Verdict;
    use std::path::Path;

    /// The bundled icmp_blackhole scenario.
    fn blackhole() -> Topology {
        let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies/icmp_blackhole.toml");
        Topology::from_file(&f).unwrap()
    }

    fn ping(size: u32, outcome: PingOutcome, mtu: Option<u32>, from: Option<&str>) -> PingReport {
        PingReport {
            size,
            outcome,
            mtu,
            from: from.map(String::from),
        }
    }

    /// What the kernel did on icmp_blackhole, server -> client (measured).
    fn seen_download() -> PathReport {
        PathReport {
            from: "server".into(),
            to: "client".into(),
            family: Family::V4,
            expected_pmtu: 1200,
            observed_pmtu: Some(9000),
            transfer: Some(Verdict::Blackhole),
            transfer_seconds: Some(0.65),
            ping_at_pmtu: Some(ping(1200, PingOutcome::Reply, None, Some("client"))),
            ping_over_pmtu: Some(ping(1201, PingOutcome::Silence, None, None)),
            icmp: vec![
                IcmpReport {
                    router: "router-b".into(),
                    arrived: false,
                },
                IcmpReport {
                    router: "router-a".into(),
                    arrived: true,
                },
            ],
        }
    }

    fn compare(seen: &PathReport) -> (Tally, Vec<Violation>) {
        let t = blackhole();
        let model = model::predict(&t, &Plan::new(&t));
        let pred = model.path("server", "client", Family::V4).unwrap();
        let mut tally = Tally::default();
        let mut out = Vec::new();
        compare_model(pred, seen, &mut tally, &mut out);
        (tally, out)
    }

    /// The model agrees with what the kernel did: every value compared, none differ.
    #[test]
    fn agreeing_kernel_gives_no_mismatch() {
        let (tally, out) = compare(&seen_download());
        assert!(out.is_empty(), "{out:?}");
        assert_eq!(tally.differ, 0);
        // path MTU, learned, 2 pings, transfer, 2 routers' ICMP.
        assert_eq!(tally.compared, 7);
    }

    /// Each disagreement is a model-mismatch carrying both values.
    #[test]
    fn each_disagreement_is_reported_with_both_values() {
        let mut seen = seen_download();
        seen.ping_over_pmtu = Some(ping(
            1201,
            PingOutcome::TooBig,
            Some(1200),
            Some("router-b"),
        ));
        seen.transfer = Some(Verdict::Ok);
        seen.icmp[0].arrived = true;
        let (tally, out) = compare(&seen);
        assert_eq!(tally.differ, 3);
        let msgs: Vec<&str> = out.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "server -> client ipv4: DF ping one byte over (1201 bytes): model 1201: silence, kernel 1201: too-big 1200 from router-b",
                "server -> client ipv4: transfer: model blackhole, kernel ok",
                "server -> client ipv4: frag-needed from router-b: model dropped, kernel arrives",
            ]
        );
        assert!(out.iter().all(|v| v.check == MODEL_MISMATCH));
    }

    /// A violated check takes the model's words (naming the router and
    /// hook) and the measurement; without a model finding, the measurement.
    #[test]
    fn explain_prefers_the_models_words() {
        let t = blackhole();
        let model = model::predict(&t, &Plan::new(&t));
        let pred = model.path("server", "client", Family::V4);
        let (msg, fix) = explain(
            pred.and_then(|p| p.finding(TCP_TRANSFER)),
            "0 of 1 bytes".into(),
            |m| (m, "x".into()),
        );
        assert!(
            msg.contains("router-b drops its own frag-needed on output")
                && msg.ends_with("(measured: 0 of 1 bytes)"),
            "{msg}"
        );
        assert!(fix.unwrap().contains("out of router-b"));
        let up = model.path("client", "server", Family::V4);
        let (msg, fix) = explain(
            up.and_then(|p| p.finding(TCP_TRANSFER)),
            "measured".into(),
            |m| (m, "fallback".into()),
        );
        assert_eq!(
            (msg.as_str(), fix.as_deref()),
            ("measured", Some("fallback"))
        );
    }

    /// The bundled anycast_flowlabel scenario with its `[expect]` replaced
    /// by `expect` (TOML text from `[expect]` on; empty: none).
    fn with_expect(expect: &str) -> Topology {
        let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies/anycast_flowlabel.toml");
        let text = std::fs::read_to_string(&f).unwrap();
        let body = &text[..text
            .find("\n[expect]")
            .expect("[expect] in anycast_flowlabel")];
        Topology::from_str(&format!("{body}\n{expect}"), &f).unwrap()
    }

    /// A report with one probed path per family in `probed` (client -> s1,
    /// nothing else filled in) and one violation per (check, family).
    fn report_of(probed: &[&str], violated: &[(&str, Option<&str>)]) -> Report {
        Report {
            topology: "anycast_flowlabel".into(),
            file: None,
            ok: violated.is_empty(),
            violations: violated
                .iter()
                .map(|(check, family)| Violation {
                    check: check.to_string(),
                    message: "m".into(),
                    fix: None,
                    from: None,
                    to: None,
                    family: family.map(String::from),
                    link: None,
                })
                .collect(),
            paths: probed
                .iter()
                .map(|f| PathReport::new("client", "s1", f.parse().unwrap(), 1300))
                .collect(),
            checks: Vec::new(),
            no_path: Vec::new(),
            expect_mismatches: None,
            seconds: 0.0,
            anycast: Vec::new(),
        }
    }

    const BOTH: &[&str] = &["ipv4", "ipv6"];

    /// The scenario's own `[expect]`: tcp-transfer violated in IPv6 only.
    const FLOWLABEL: &str =
        "[expect]\nviolations = []\n[expect.ipv6]\nviolations = [\"tcp-transfer\"]\n";

    /// Without family tables nothing changed: the checks violated in any
    /// family run form one set, compared with `violations`.
    #[test]
    fn expect_without_family_tables_is_one_set() {
        let t = with_expect("[expect]\nviolations = [\"tcp-transfer\"]\n");
        let opts = CheckOptions::default();
        let r = report_of(BOTH, &[(TCP_TRANSFER, Some("ipv6"))]);
        assert_eq!(compare_expect(&t, &r, &opts), Vec::<String>::new());
        assert_eq!(
            compare_expect(&t, &report_of(BOTH, &[]), &opts),
            ["expected tcp-transfer to be violated, but it holds"]
        );
    }

    /// A family table replaces `violations` for its family; the other
    /// family follows `violations`; each side can fail on its own.
    #[test]
    fn family_table_overrides_violations_for_its_family() {
        let t = with_expect(FLOWLABEL);
        let opts = CheckOptions::default();
        // (the violations seen, what compare_expect says)
        type Case<'a> = (&'a [(&'a str, Option<&'a str>)], &'a [&'a str]);
        let cases: [Case; 6] = [
            (&[(TCP_TRANSFER, Some("ipv6"))], &[]),
            (
                &[],
                &["ipv6: expected tcp-transfer to be violated, but it holds"],
            ),
            (
                &[(TCP_TRANSFER, Some("ipv6")), (TCP_TRANSFER, Some("ipv4"))],
                &["ipv4: tcp-transfer is violated, but [expect] does not list it"],
            ),
            (
                &[(TCP_TRANSFER, Some("ipv6")), (PMTUD, Some("ipv6"))],
                &["ipv6: pmtud is violated, but [expect.ipv6] does not list it"],
            ),
            (
                &[(TCP_TRANSFER, Some("ipv6")), (MODEL_MISMATCH, Some("ipv6"))],
                &["ipv6: model-mismatch is violated, but [expect.ipv6] does not list it"],
            ),
            (
                &[(TCP_TRANSFER, Some("ipv6")), (LINK_MTU_MATCH, None)],
                &["link-mtu-match is violated, but [expect] does not list it"],
            ),
        ];
        for (violated, want) in cases {
            let got = compare_expect(&t, &report_of(BOTH, violated), &opts);
            assert_eq!(got, want, "{violated:?}");
        }
        // With the same outcome, a file without the table is not as expected.
        let plain = with_expect("[expect]\nviolations = []\n");
        let r = report_of(BOTH, &[(TCP_TRANSFER, Some("ipv6"))]);
        assert_eq!(
            compare_expect(&plain, &r, &opts),
            ["tcp-transfer is violated, but [expect] does not list it"]
        );
    }

    /// Family-less checks (link-mtu-match) follow the top-level list, also
    /// when it names per-path checks for the families without a table.
    #[test]
    fn family_less_checks_follow_the_top_level_list() {
        let t = with_expect(
            "[expect]\nviolations = [\"link-mtu-match\", \"pmtud\"]\n[expect.ipv6]\nviolations = []\n",
        );
        let opts = CheckOptions::default();
        let ok = [(LINK_MTU_MATCH, None), (PMTUD, Some("ipv4"))];
        assert_eq!(
            compare_expect(&t, &report_of(BOTH, &ok), &opts),
            Vec::<String>::new()
        );
        assert_eq!(
            compare_expect(&t, &report_of(BOTH, &ok[1..]), &opts),
            ["expected link-mtu-match to be violated, but it holds"]
        );
        assert_eq!(
            compare_expect(&t, &report_of(BOTH, &ok[..1]), &opts),
            ["ipv4: expected pmtud to be violated, but it holds"]
        );
        let v6 = [ok[0], ok[1], (PMTUD, Some("ipv6"))];
        assert_eq!(
            compare_expect(&t, &report_of(BOTH, &v6), &opts),
            ["ipv6: pmtud is violated, but [expect.ipv6] does not list it"]
        );
    }

    /// Families and checks that were not run, and families with no probed
    /// path or anycast download, are not compared; each with its control.
    #[test]
    fn families_and_checks_not_run_are_not_compared() {
        let t = with_expect(FLOWLABEL);
        let holds = ["ipv6: expected tcp-transfer to be violated, but it holds"];
        let only = |families: Vec<Family>, checks: Vec<&'static str>| CheckOptions {
            families,
            checks,
            ..CheckOptions::default()
        };
        let none = Vec::<String>::new();
        // IPv4 only (a scenario trial): the IPv6 table is not compared.
        let v4 = only(vec![Family::V4], CHECKS.to_vec());
        assert_eq!(compare_expect(&t, &report_of(&["ipv4"], &[]), &v4), none);
        let v6 = only(vec![Family::V6], CHECKS.to_vec());
        assert_eq!(compare_expect(&t, &report_of(&["ipv6"], &[]), &v6), holds);
        // Both families run, but IPv6 has no probed path.
        let all = CheckOptions::default();
        assert_eq!(compare_expect(&t, &report_of(&["ipv4"], &[]), &all), none);
        // An anycast download counts as probed.
        let mut r = report_of(&["ipv4"], &[]);
        r.anycast.push(crate::anycast::AnycastReport {
            address: "2001:db8:fa::1".into(),
            family: "ipv6".into(),
            client: "client".into(),
            members: vec!["s1".into(), "s2".into()],
            ecmp: Vec::new(),
            stalled: 0,
            predicted: serde_json::Value::Null,
            flows: Vec::new(),
        });
        assert_eq!(compare_expect(&t, &r, &all), holds);
        // tcp-transfer not run: its expectation is not compared.
        let pmtud = only(vec![Family::V6], vec![PMTUD]);
        assert_eq!(compare_expect(&t, &report_of(&["ipv6"], &[]), &pmtud), none);
        // link-mtu-match not run: not compared even when violated (a stale report).
        let lm = report_of(
            BOTH,
            &[(TCP_TRANSFER, Some("ipv6")), (LINK_MTU_MATCH, None)],
        );
        assert_eq!(
            compare_expect(&t, &lm, &only(vec![Family::V6], vec![TCP_TRANSFER])),
            none
        );
    }

    /// An absent list asserts nothing: a table alone asserts its family only.
    #[test]
    fn absent_lists_assert_nothing() {
        let t = with_expect("[expect]\n[expect.ipv4]\nviolations = []\n");
        let opts = CheckOptions::default();
        let elsewhere = [(TCP_TRANSFER, Some("ipv6")), (LINK_MTU_MATCH, None)];
        assert_eq!(
            compare_expect(&t, &report_of(BOTH, &elsewhere), &opts),
            Vec::<String>::new()
        );
        assert_eq!(
            compare_expect(&t, &report_of(BOTH, &[(PMTUD, Some("ipv4"))]), &opts),
            ["ipv4: pmtud is violated, but [expect.ipv4] does not list it"]
        );
    }
}
