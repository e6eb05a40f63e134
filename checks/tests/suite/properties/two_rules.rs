//! `property::two_rules` and `two_rules_parallel`: chains with matching
//! link ends and no filters satisfy pmtud and tcp-transfer.

use super::*;

/// Host-to-host paths (per family) the live two-rules cases have checked.
pub(crate) static PATHS_CHECKED: AtomicUsize = AtomicUsize::new(0);

/// The two rules on one topology: pmtud and tcp-transfer hold on every path.
pub(crate) fn two_rules_case(t: &Topology) -> Result<(), TestCaseError> {
    let opts = CheckOptions {
        families: vec![Family::V4, Family::V6],
        checks: vec![CheckId::Pmtud, CheckId::TcpTransfer],
        transfer_bytes: 64 << 10,
        progress: false,
        ..CheckOptions::default()
    };
    let report = check::run(&Loaded::from_topology(t.clone()), &opts)
        .map_err(|e| TestCaseError::fail(format!("lab: {e}")))?;
    let human = || mtulab::report::human(&report, false);
    prop_assert!(report.ok, "violations:\n{}", human());
    prop_assert!(!report.paths.is_empty(), "no path checked");
    PATHS_CHECKED.fetch_add(report.paths.len(), Ordering::Relaxed);
    for p in &report.paths {
        prop_assert_eq!(
            p.observed_pmtu,
            Some(p.expected_pmtu),
            "{} -> {} {}:\n{}",
            &p.from,
            &p.to,
            &p.family,
            human()
        );
        prop_assert_eq!(
            p.transfer,
            Some(Verdict::Ok),
            "{} -> {} {}:\n{}",
            &p.from,
            &p.to,
            &p.family,
            human()
        );
    }
    Ok(())
}

pub(crate) const MATCHING: Allow = Allow {
    mismatches: false,
    filters: false,
};

pub(crate) fn two_rules() -> Result<(), Failed> {
    let n = cases(16);
    let before = PATHS_CHECKED.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n, regressions!("two_rules")));
    let r = runner.run(&live_topology("prop-two-rules", MATCHING), |t| {
        two_rules_case(&t)
    });
    outcome("two_rules", started, n, r)?;
    println!(
        "two_rules: {} paths checked (pmtud + tcp-transfer, both families where configured)",
        PATHS_CHECKED.load(Ordering::Relaxed) - before
    );
    Ok(())
}

/// The same property on 2 threads: cases are generated up front from one
/// runner (so PROPTEST_CASES and persistence seeds apply), then split.
pub(crate) fn two_rules_parallel() -> Result<(), Failed> {
    let n = cases(16);
    let mut runner = TestRunner::new(config(n, regressions!("two_rules_parallel")));
    let strategy = live_topology("prop-par", MATCHING);
    let mut topologies = Vec::new();
    for _ in 0..n {
        topologies.push(strategy.new_tree(&mut runner)?.current());
    }
    let started = Instant::now();
    let halves: Vec<Vec<Topology>> = vec![
        topologies.iter().step_by(2).cloned().collect(),
        topologies.iter().skip(1).step_by(2).cloned().collect(),
    ];
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = halves
            .iter()
            .map(|half| {
                s.spawn(move || {
                    for t in half {
                        if let Err(e) = two_rules_case(t) {
                            return Err(format!("{e}\n{}", as_file(t)));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect()
    });
    let secs = started.elapsed().as_secs_f64();
    for r in results {
        r?;
    }
    println!(
        "two_rules_parallel: {n} cases on 2 threads in {secs:.1} s ({:.2} cases/s)",
        f64::from(n) / secs
    );
    Ok(())
}
