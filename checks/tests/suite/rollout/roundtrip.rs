//! `roundtrip::NAME` trials: a bundled scenario built, snapshotted, imported and checked gives the original's verdicts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use super::kit::*;
use crate::common::*;
use harness::probe::transfer::TransferVerdict;
use libtest_mimic::Failed;
use mtulab::diff::Subject;
use mtulab::report::Report;
use mtulab_core::{CheckId, Family};

/// Scenarios whose features import cannot express yet, and why.
pub(crate) const GAPS: [(&str, &str); 0] = [];

/// Violations per (check, subject); per path (from, to, family) its
/// expected PMTU, observed PMTU and transfer verdict.
pub(crate) type Outcome = (
    BTreeSet<(CheckId, Subject)>,
    BTreeMap<(String, String, Family), (u32, Option<u32>, Option<TransferVerdict>)>,
);

/// Per check and path; and per path its verdicts (timings ignored).
pub(crate) fn outcome(r: &Report) -> Outcome {
    let v = r
        .violations
        .iter()
        .map(|v| (v.check, Subject::of(v)))
        .collect();
    let p = r
        .paths
        .iter()
        .map(|p| {
            (
                (p.from.clone(), p.to.clone(), p.family),
                (p.expected_pmtu, p.observed_pmtu, p.transfer),
            )
        })
        .collect();
    (v, p)
}

pub(crate) fn roundtrip(file: &Path) -> Result<(), Failed> {
    let original = harness::load::load_file(file)?;
    let scratch = Scratch::new(&format!("rt-{}", original.topology.name));
    let lab = harness::Lab::build_loaded(&original)?;
    // Every node's snapshot at once (each is its own process), then wait.
    let mut running = Vec::new();
    for (node, ns) in lab.namespaces() {
        let f = scratch.0.join(format!("{node}.json"));
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                env!("CARGO_BIN_EXE_mtulab"),
                "snapshot",
                "-o",
            ])
            .arg(&f)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        running.push((node.to_string(), f, child));
    }
    let mut files = Vec::new();
    for (node, f, child) in running {
        let o = child.wait_with_output()?;
        if !o.status.success() {
            return Err(format!("snapshot of {node} failed: {}", text(&o.stderr)).into());
        }
        files.push(f);
    }
    drop(lab);
    let out = scratch.0.join("imported.toml");
    let o = mtulab()
        .arg("import")
        .args(&files)
        .arg("-o")
        .arg(&out)
        .output()?;
    if !o.status.success() {
        return Err(format!("import failed: {}", text(&o.stderr)).into());
    }
    let warnings = text(&o.stderr);
    let imported = harness::load::load_file(&out)?;
    // The two checks build separate labs: run them side by side.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| run_check(&original));
        let b = run_check(&imported);
        (a.join().expect("check thread"), b)
    });
    let (a, b) = (a?, b?);
    let (oa, ob) = (outcome(&a), outcome(&b));
    if oa != ob {
        return Err(format!(
            "imported file checks differently\noriginal violations: {:?}\nimported violations: {:?}\noriginal paths: {:?}\nimported paths: {:?}\nimport said: {warnings}\n{}",
            oa.0, ob.0, oa.1, ob.1,
            std::fs::read_to_string(&out)?
        )
        .into());
    }
    Ok(())
}
