//! The bundled scenarios alone: `cargo test --test scenarios`, and what the
//! kernel matrix (ci/kernel-matrix) runs in every guest. Plain `cargo test`
//! does not run this target (`test = false`): the same trials run inside
//! `suite`, beside the others.

#[path = "common/mod.rs"]
mod common;
#[path = "suite/scenarios.rs"]
mod scenarios;

fn main() {
    let args = harness::env::live_arguments();
    libtest_mimic::run(&args, scenarios::trials()).exit();
}
