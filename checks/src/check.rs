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

use std::time::Instant;

use harness::Lab;
use mtulab_core::plan::path_mtu;
use mtulab_core::{model, CheckId, Loaded, Topology};

use crate::report::{CheckLine, PathReport, Report};
use model_mismatch::Tally;
use path::PathCtx;

mod anycast;
mod expect;
mod icmp_passes;
mod links;
mod model_mismatch;
mod options;
mod path;
mod pmtud;
mod tcp_transfer;
mod words;

pub use expect::compare_expect;
pub use options::{CheckError, CheckOptions};

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
    let model = model::predict(topology, lab.plan());
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
    if opts.checks.contains(&CheckId::LinkMtuMatch) {
        links::check(&lab, &model, &mut report);
    }
    let want_paths = opts
        .checks
        .iter()
        .any(|c| [CheckId::IcmpPasses, CheckId::Pmtud, CheckId::TcpTransfer].contains(c));
    let mut tally = Tally::default();
    if want_paths {
        let hosts: Vec<String> = lab.plan().hosts().into_iter().map(String::from).collect();
        for family in &opts.families {
            for from in &hosts {
                for to in &hosts {
                    if from == to {
                        continue;
                    }
                    let Some(hops) = lab.plan().path(from, to, *family) else {
                        report.no_path.push(format!("{from} -> {to} {family}"));
                        continue;
                    };
                    let ctx = PathCtx {
                        lab: &lab,
                        opts,
                        from,
                        to,
                        family: *family,
                        hops: &hops,
                        pred: model.path(from, to, *family),
                        expected: path_mtu(&hops).unwrap_or(0),
                        subject: format!("{from} -> {to} {family}"),
                    };
                    let seen = check_path(&ctx, &mut report).map_err(probe_err(topology))?;
                    if let Some(pred) = ctx.pred {
                        model_mismatch::compare(pred, &seen, &mut tally, &mut report.violations);
                    }
                    report.paths.push(seen);
                }
            }
        }
        report.checks.push(CheckLine {
            check: CheckId::ModelMismatch,
            subject: "model vs kernel".into(),
            holds: tally.differ == 0,
            detail: format!(
                "{} predictions compared, {} differ, {} the model cannot know",
                tally.compared, tally.differ, tally.unknown
            ),
        });
    }
    if opts.checks.contains(&CheckId::TcpTransfer) {
        anycast::check(&lab, topology, opts, &mut report).map_err(probe_err(topology))?;
    }
    report.ok = report.violations.is_empty();
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Every per-path check `ctx.opts` asks for, on one path. The `*_hosts`
/// probes flush every node's PMTU exceptions themselves before probing; a
/// check flushes once more when it ends, for the crafted-ICMP probe that
/// follows (which only flushes afterwards).
fn check_path(
    ctx: &PathCtx<'_>,
    report: &mut Report,
) -> Result<PathReport, harness::probe::error::ProbeError> {
    let mut path = PathReport::new(ctx.from, ctx.to, ctx.family, ctx.expected);
    if ctx.opts.checks.contains(&CheckId::Pmtud) {
        pmtud::check(ctx, &mut path, report)?;
    }
    if ctx.opts.checks.contains(&CheckId::TcpTransfer) {
        tcp_transfer::check(ctx, &mut path, report)?;
    }
    if ctx.opts.checks.contains(&CheckId::IcmpPasses) {
        icmp_passes::check(ctx, &mut path, report)?;
    }
    Ok(path)
}
