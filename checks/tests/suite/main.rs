//! `mtulab` end to end, in one test binary: the bundled scenarios, the CLI
//! on bad and good input, reports, captures, drawings, the rollout loop
//! (snapshot → import → check → diff) and the property tests. One module
//! each, named by its trials' first path element (`cargo test --test suite
//! -- cli::`, `-- property::model_matches_kernel`, …). One binary so the
//! trials, which mostly wait on the kernel and on child processes, overlap
//! instead of running one target after another. `tests/reaper.rs` stays
//! apart (it kills runs and counts every namespace); `tests/scenarios.rs`
//! runs this binary's `scenario::` trials alone for the kernel matrix
//! (`cargo test --test scenarios`; plain `cargo test` skips it).
//!
//! Trials run four per core unless `--test-threads` or `RUST_TEST_THREADS`
//! says otherwise.

#[path = "../common/mod.rs"]
mod common;

mod browser;
mod captures;
mod cli;
mod properties;
mod report;
mod rollout;
mod scenarios;
mod ux;

fn main() {
    // Six trials per core (harness::env::live_arguments_per_core says why).
    let args = harness::env::live_arguments_per_core(6);
    // The longest trials (stock-timer recovery, anycast round trips,
    // planted property bugs) first, so that the short ones fill in beside
    // them.
    let mut trials = cli::timer_trials();
    trials.extend(rollout::trials());
    trials.extend(properties::trials());
    trials.extend(browser::trials());
    trials.extend(scenarios::trials());
    trials.extend(cli::trials());
    trials.extend(report::trials());
    trials.extend(captures::trials());
    trials.extend(ux::trials());
    libtest_mimic::run(&args, trials).exit();
}
