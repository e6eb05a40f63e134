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

use harness::plan::Hop;
use harness::probe::{
    exceptions, icmp_delivery, ping, tracepath,
    transfer::{self, TransferOpts, TransferVerdict},
};
use harness::topology::{Family, FilterKind, Hook};
use harness::{Lab, Topology};

use crate::report::{CheckLine, PathReport, Report, Violation};

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

/// The smallest MTU of any interface the packets leave or enter.
pub fn path_mtu(hops: &[Hop]) -> u32 {
    hops.iter()
        .map(|h| h.out_mtu.min(h.in_mtu))
        .min()
        .unwrap_or(0)
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

/// Filters on the way of an ICMP error from `router` back to `sender`
/// (the router's OUTPUT, FORWARD on the routers in between, the sender's
/// INPUT), described for a violation message.
fn suspects(topology: &Topology, router: &str, between: &[String], sender: &str) -> Vec<String> {
    let mut out = Vec::new();
    for f in &topology.filters {
        let on_way = f.node == router || f.node == sender || between.contains(&f.node);
        if !on_way {
            continue;
        }
        match &f.kind {
            FilterKind::DropPmtuIcmp { hook } => {
                let relevant = match hook {
                    Hook::Output => f.node == router,
                    Hook::Forward => between.contains(&f.node),
                    Hook::Input => f.node == sender,
                };
                if relevant {
                    out.push(format!("{} drops pmtu-icmp on {}", f.node, hook.as_str()));
                }
            }
            FilterKind::Nft(p) | FilterKind::Iptables(p) | FilterKind::Ip6tables(p) => {
                out.push(format!("the ruleset {} on {}", p.display(), f.node))
            }
        }
    }
    out
}

fn probe_err(topology: &Topology) -> impl Fn(harness::probe::error::ProbeError) -> CheckError + '_ {
    move |source| CheckError::Probe {
        topology: topology.name.clone(),
        source,
    }
}

/// Build `topology`, run the checks, tear down; the lab never outlives this.
pub fn run(topology: &Topology, opts: &CheckOptions) -> Result<Report, CheckError> {
    let started = Instant::now();
    let lab = Lab::build(topology)?;
    let model = crate::model::predict(topology, &lab.plan);
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
        check_links(&lab, &mut report);
    }
    let want_paths = opts
        .checks
        .iter()
        .any(|c| [ICMP_PASSES, PMTUD, TCP_TRANSFER].contains(c));
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
                    check_path(&lab, topology, opts, from, to, *family, &hops, &mut report)
                        .map_err(probe_err(topology))?;
                    let pred = model
                        .paths
                        .iter()
                        .find(|p| p.from == *from && p.to == *to && p.family == *family);
                    if let (Some(pred), Some(seen)) = (pred, report.paths.last()) {
                        compare_model(pred, seen, &mut report.violations);
                    }
                }
            }
        }
    }
    if opts.checks.contains(&TCP_TRANSFER) {
        crate::anycast::check(&lab, topology, opts, &mut report).map_err(probe_err(topology))?;
    }
    report.ok = report.violations.is_empty();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Every difference between the model's prediction and what the kernel
/// did is a `model-mismatch`: a model bug or a kernel behaviour to
/// document, never hidden. Values the model cannot know are skipped.
fn compare_model(pred: &crate::model::PathPrediction, seen: &PathReport, out: &mut Vec<Violation>) {
    let mut diffs = Vec::new();
    if pred.path_mtu != seen.expected_pmtu {
        diffs.push(format!(
            "path MTU: model {}, routes in the lab {}",
            pred.path_mtu, seen.expected_pmtu
        ));
    }
    if let (Some(l), Some(o)) = (pred.learned_pmtu.known(), seen.observed_pmtu) {
        if l.mtu != o {
            diffs.push(format!("learned PMTU: model {}, kernel {o}", l.mtu));
        }
    }
    if let (Some(v), Some(t)) = (pred.transfer.known(), &seen.transfer) {
        if v.as_str() != t {
            diffs.push(format!("transfer: model {}, kernel {t}", v.as_str()));
        }
    }
    for d in diffs {
        out.push(Violation {
            check: MODEL_MISMATCH.into(),
            message: format!("{} -> {} {}: {d}", seen.from, seen.to, seen.family),
            fix: None,
            from: Some(seen.from.clone()),
            to: Some(seen.to.clone()),
            family: Some(seen.family.clone()),
            link: None,
        });
    }
}

fn check_links(lab: &Lab, report: &mut Report) {
    let mut bad = 0;
    for (i, link) in lab.plan.links.iter().enumerate() {
        let read = |end: usize| {
            lab.mtus
                .get(&(link.between[end].clone(), link.names[end].clone()))
                .copied()
        };
        let (a, b) = (read(0), read(1));
        let configured_ok = link.mtu[0] == link.mtu[1];
        let kernel_ok = a.is_some() && a == b;
        if configured_ok && kernel_ok {
            continue;
        }
        bad += 1;
        let side = |end: usize, v: Option<u32>| {
            format!(
                "{}:{} {}",
                link.between[end],
                link.names[end],
                v.map(|m| m.to_string()).unwrap_or_else(|| "missing".into())
            )
        };
        let (small, big) = if link.mtu[0] <= link.mtu[1] {
            (0, 1)
        } else {
            (1, 0)
        };
        report.violations.push(Violation {
            check: LINK_MTU_MATCH.into(),
            message: format!(
                "link {} ({} vs {}): the ends differ; {} silently drops what {} sends above {} bytes, and no ICMP tells the sender",
                i + 1,
                side(0, a),
                side(1, b),
                link.between[small],
                link.between[big],
                link.mtu[small]
            ),
            fix: Some(format!(
                "equalise MTU on link {} ({} <-> {})",
                i + 1,
                link.between[0],
                link.between[1]
            )),
            from: None,
            to: None,
            family: None,
            link: Some(i),
        });
    }
    report.checks.push(CheckLine {
        check: LINK_MTU_MATCH.into(),
        subject: "links".into(),
        holds: bad == 0,
        detail: if bad == 0 {
            format!(
                "{} links, both ends equal (configured and read back)",
                lab.plan.links.len()
            )
        } else {
            format!("{bad} of {} links have unequal ends", lab.plan.links.len())
        },
    });
}

#[allow(clippy::too_many_arguments)]
fn check_path(
    lab: &Lab,
    topology: &Topology,
    opts: &CheckOptions,
    from: &str,
    to: &str,
    family: Family,
    hops: &[Hop],
    report: &mut Report,
) -> Result<(), harness::probe::error::ProbeError> {
    let fam = family_name(family);
    let subject = format!("{from} -> {to} {fam}");
    let expected = path_mtu(hops);
    let routers: Vec<String> = hops.iter().skip(1).map(|h| h.node.clone()).collect();
    let violation = |check: &str, message: String, fix: Option<String>| Violation {
        check: check.into(),
        message,
        fix,
        from: Some(from.into()),
        to: Some(to.into()),
        family: Some(fam.into()),
        link: None,
    };
    let mut path = PathReport {
        from: from.into(),
        to: to.into(),
        family: fam.into(),
        expected_pmtu: expected,
        observed_pmtu: None,
        transfer: None,
        transfer_seconds: None,
    };

    if opts.checks.contains(&PMTUD) {
        exceptions::flush(lab)?;
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
        exceptions::flush(lab)?;
        let at = ping::df_ping_hosts(lab, from, to, family, expected, Duration::from_secs(1))?;
        let delivered = at.outcome == ping::PingOutcome::Reply;
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
                    "a DF packet of exactly {expected} bytes got {:?} instead of a reply",
                    at.outcome
                ));
            }
            let narrow = hops
                .iter()
                .find(|h| h.in_mtu < h.out_mtu && h.in_mtu == expected);
            let fix = match narrow {
                Some(h) => Some(format!(
                    "equalise MTU on the link {}:{} ({}) <-> {}:{} ({}): a receiving end that is smaller drops silently",
                    h.node, h.out_iface, h.out_mtu, h.next, h.in_iface, h.in_mtu
                )),
                None => Some(format!(
                    "let {} out of every router on the path and into {from}",
                    icmp_name(family)
                )),
            };
            report
                .violations
                .push(violation(PMTUD, what.join("; "), fix));
        }
        report.checks.push(CheckLine {
            check: PMTUD.into(),
            subject: subject.clone(),
            holds,
            detail: format!(
                "learned {learned} (expected {expected}); DF {expected}: {:?}",
                at.outcome
            ),
        });
        exceptions::flush(lab)?;
    }

    if opts.checks.contains(&TCP_TRANSFER) {
        exceptions::flush(lab)?;
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
        let verdict = match t.verdict {
            TransferVerdict::Ok => "ok",
            TransferVerdict::Recovered => "recovered",
            TransferVerdict::Blackhole => "blackhole",
        };
        path.transfer = Some(verdict.into());
        path.transfer_seconds = Some(t.seconds);
        let holds = t.verdict == TransferVerdict::Ok;
        if !holds {
            let what = match t.verdict {
                TransferVerdict::Blackhole => format!(
                    "bulk data from {from} to {to} stalls: {} of {} bytes arrived, then no progress while {}-byte segments were retransmitted ({} timeouts)",
                    t.bytes, t.requested, t.snd_mss, t.rtos
                ),
                _ => format!(
                    "bulk data from {from} to {to} completed only after {} retransmission timeouts ({:.1} s; tcp_mtu_probing={} on {from})",
                    t.rtos, t.seconds, t.mtu_probing
                ),
            };
            let fix = format!(
                "let {} reach {from} from the router in front of the {expected}-byte hop, or clamp the TCP MSS there",
                icmp_name(family)
            );
            report
                .violations
                .push(violation(TCP_TRANSFER, what, Some(fix)));
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
        for (i, router) in routers.iter().enumerate() {
            let d = icmp_delivery::icmp_delivery(lab, router, from, to, family)?;
            if !d.arrived {
                let between: Vec<String> = routers[..i].to_vec();
                let sus = suspects(topology, router, &between, from);
                let culprit = if sus.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", sus.join("; "))
                };
                report.violations.push(violation(
                    ICMP_PASSES,
                    format!(
                        "{} that {router} sends to {from} does not arrive{culprit}: traffic from {from} to {to} blackholes whenever {router} must report a smaller next hop",
                        icmp_name(family)
                    ),
                    Some(format!(
                        "let {} out of {router}, through the routers towards {from}, and into {from}",
                        icmp_name(family)
                    )),
                ));
                lost.push(router.clone());
            }
        }
        report.checks.push(CheckLine {
            check: ICMP_PASSES.into(),
            subject: subject.clone(),
            holds: lost.is_empty(),
            detail: if lost.is_empty() {
                format!("arrives from {}", routers.join(", "))
            } else {
                format!("lost from {}", lost.join(", "))
            },
        });
    }
    report.paths.push(path);
    Ok(())
}

/// How `report` differs from the topology's `[expect]`, considering only
/// the checks and families that were run. Empty: as expected. A topology
/// without `[expect]` expects every check to hold.
pub fn compare_expect(topology: &Topology, report: &Report, opts: &CheckOptions) -> Vec<String> {
    let mut out = Vec::new();
    let expect = topology.expect.clone().unwrap_or_default();
    let ran = |c: &str| opts.checks.contains(&c) || c == MODEL_MISMATCH;
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
    for e in &expect.paths {
        for p in &report.paths {
            let fam_ok = e.family.is_none_or(|f| f.as_str() == p.family);
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
            if let (Some(v), Some(got)) = (e.transfer, &p.transfer) {
                if v.as_str() != got {
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
    out
}
