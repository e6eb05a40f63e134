//! The harness's live tests in one binary: the lab itself, the probes,
//! addresses/routes/anycast, VXLAN tunnels, tunnel kinds, segments and the
//! kernel suite (one module each, named by its trials' first path element:
//! `cargo test --test live -- probes::`). One binary so the trials, which
//! mostly wait on kernel timers, overlap instead of running one target
//! after another. `tests/kernel.rs` runs the kernel suite's trials alone
//! (`cargo test --test kernel`, as the kernel matrix does; plain
//! `cargo test` skips that target).
//!
//! Root only: without root every trial is reported *ignored* (never
//! passed), and with MTULAB_REQUIRE_ROOT=1 failed. After the trials, any
//! namespace this process created and did not remove fails the run.

#[path = "../common/mod.rs"]
mod common;

mod anycast;
#[path = "../kernel/mod.rs"]
mod kernel;
mod lab;
mod probes;
mod segments;
mod tunnel_kinds;
mod tunnels;

fn main() {
    let args = common::args();
    // The slower groups first (the lab's 301-namespace star, the kernel
    // suite's expiry waits), so that the short trials fill in beside them.
    let mut trials = lab::trials();
    trials.extend(probes::trials());
    trials.extend(kernel::trials());
    trials.extend(anycast::trials());
    trials.extend(tunnels::trials());
    trials.extend(tunnel_kinds::trials());
    trials.extend(segments::trials());
    common::run(&args, trials)
}
