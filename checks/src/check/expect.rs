//! `--expect`: how a report differs from the topology's `[expect]`.

use mtulab_core::topology::{Expect, Family};
use mtulab_core::{CheckId, Topology};

use super::options::CheckOptions;
use crate::report::Report;

/// How `report` differs from the topology's `[expect]`, considering only
/// the checks and families that were run. Empty: as expected. A topology
/// without `[expect]` expects every check to hold. With an
/// `[expect.ipv4]` / `[expect.ipv6]` table the violations are compared per
/// family (`compare_per_family`); without, as one set over the families run.
pub fn compare_expect(topology: &Topology, report: &Report, opts: &CheckOptions) -> Vec<String> {
    let mut out = Vec::new();
    let expect = topology.expect.clone().unwrap_or_default();
    let ran = |c: CheckId| opts.checks.contains(&c) || c == CheckId::ModelMismatch;
    if expect.per_family() {
        compare_per_family(&expect, report, opts, &mut out);
        compare_expect_paths(&expect, report, &mut out);
        return out;
    }
    let mut want: Vec<CheckId> = expect
        .violations
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| ran(*c))
        .collect();
    want.sort();
    want.dedup();
    let got: Vec<CheckId> = report
        .violated_checks()
        .into_iter()
        .filter(|c| ran(*c))
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
    let ran = |c: CheckId| opts.checks.contains(&c) || c == CheckId::ModelMismatch;
    let got_in = |family: Option<Family>| -> Vec<CheckId> {
        let mut ids: Vec<CheckId> = report
            .violations
            .iter()
            .filter(|v| v.family == family && ran(v.check))
            .map(|v| v.check)
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let mut differ = |prefix: &str, source: &str, want: Vec<CheckId>, got: Vec<CheckId>| {
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
            .filter(|c| !c.per_family() && ran(**c))
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
            || report.anycast.iter().any(|a| a.family == *family);
        if !probed {
            continue;
        }
        let want = list
            .iter()
            .filter(|c| c.per_family() && ran(**c))
            .cloned()
            .collect();
        differ(&format!("{fam}: "), &source, want, got_in(Some(*family)));
    }
}

#[cfg(test)]
mod tests;
