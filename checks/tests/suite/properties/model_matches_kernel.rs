//! `property::model_matches_kernel` and its two planted bugs (in the
//! model, in the comparator), which must make it fail.

use super::*;

/// Default live cases for the model property (PROPTEST_CASES overrides).
pub(crate) const MODEL_CASES: u32 = 24;

/// `property::model_matches_kernel`: for every generated topology, each
/// host path's predicted path MTU, learned PMTU, DF pings at and one byte
/// over the path MTU and transfer verdict equal what the kernel does
/// (comparisons the model calls `Unknown` skipped and counted).
pub(crate) fn model_matches_kernel() -> Result<(), Failed> {
    let n = cases(MODEL_CASES);
    let tally = Tally::default();
    let setup = Setup::default();
    let started = Instant::now();
    let threads = threads();
    let r = run_parallel(
        n,
        threads,
        regressions!("model_matches_kernel"),
        || tree_topology("prop-model"),
        |t| model_case(t, &setup, false, &tally),
    );
    println!("model_matches_kernel: {}", tally.line());
    if let Err(TestError::Fail(why, t)) = &r {
        return Err(format!(
            "model_matches_kernel failed after {:.1} s (shrunk): {}",
            started.elapsed().as_secs_f64(),
            explain(t, &setup, why.message())
        )
        .into());
    }
    outcome(
        &format!("model_matches_kernel ({threads} threads)"),
        started,
        n,
        r,
    )
}

/// `property::planted_bug_is_caught`: the same comparison against a model
/// with a planted bug (receiving-end MTUs ignored in the path MTU) fails on
/// the kernel and shrinks to a small topology with a per-end mismatch.
pub(crate) fn planted_bug_is_caught() -> Result<(), Failed> {
    // Enough cases to meet a mismatch reliably; the failure ends the run early.
    let n = cases(32).max(32);
    let tally = Tally::default();
    let bugged = Setup {
        model: ModelOptions { planted_bug: true },
        ..Setup::default()
    };
    let started = Instant::now();
    let r = run_parallel(
        n,
        threads(),
        regressions!("planted_bug_is_caught"),
        || tree_topology("prop-planted"),
        |t| model_case(t, &bugged, false, &tally),
    );
    let secs = started.elapsed().as_secs_f64();
    match r {
        Ok(()) => Err(format!(
            "the planted bug survived {n} cases in {secs:.1} s ({}): the machinery missed it",
            tally.line()
        )
        .into()),
        Err(TestError::Abort(why)) => Err(format!("aborted: {why}").into()),
        Err(TestError::Fail(why, t)) => {
            let why = why.message().to_string();
            println!(
                "planted_bug_is_caught: caught and shrunk in {secs:.1} s ({}):\n{}",
                tally.line(),
                explain(&t, &bugged, &why)
            );
            if t.links.len() + t.segments.len() > 2 {
                return Err(format!(
                    "shrunk case is not small ({} links, {} segments)",
                    t.links.len(),
                    t.segments.len()
                )
                .into());
            }
            // Sanity: the shrunk case really has a smaller receiving end, and
            // the difference is the one the bug makes.
            let segment_odd = t
                .segments
                .iter()
                .any(|s| s.mtu.iter().any(|&m| m != s.mtu[0]));
            if !t.links.iter().any(|l| l.mtu[0] != l.mtu[1]) && !segment_odd {
                return Err("shrunk case has no per-end mismatch".into());
            }
            if !why.contains(": path MTU: model") {
                return Err(format!("caught, but not by the path MTU: {why}").into());
            }
            Ok(())
        }
    }
}

/// `property::comparator_bug_is_caught`: the property judges through the
/// shipped comparator (`mtulab_core::compare`), so planting a bug in that
/// comparator (each DF ping compared with the other size's prediction)
/// makes `model_matches_kernel`'s comparison fail, on the first case.
pub(crate) fn comparator_bug_is_caught() -> Result<(), Failed> {
    let n = cases(8).max(8);
    let tally = Tally::default();
    let bugged = Setup {
        comparator: Comparator { planted_bug: true },
        ..Setup::default()
    };
    let started = Instant::now();
    let r = run_parallel(
        n,
        threads(),
        regressions!("comparator_bug_is_caught"),
        || tree_topology("prop-cmpbug"),
        |t| model_case(t, &bugged, false, &tally),
    );
    let secs = started.elapsed().as_secs_f64();
    match r {
        Ok(()) => Err(format!(
            "the comparator's planted bug survived {n} cases in {secs:.1} s ({}): the property does not judge through it",
            tally.line()
        )
        .into()),
        Err(TestError::Abort(why)) => Err(format!("aborted: {why}").into()),
        Err(TestError::Fail(why, _)) => {
            let why = why.message().to_string();
            println!("comparator_bug_is_caught: caught in {secs:.1} s: {why}");
            if !why.contains(": DF ping") {
                return Err(format!("caught, but not by a DF ping: {why}").into());
            }
            Ok(())
        }
    }
}
