//! Shared by the CLI test targets: live-trial gating and running `mtulab`.
#![allow(dead_code)] // each target uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use libtest_mimic::Failed;

pub fn topologies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies")
}

/// [`harness::env::live`] (a function, not a re-export: a target that
/// does not use it gets no unused-import warning).
pub fn live(
    name: impl Into<String>,
    f: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> libtest_mimic::Trial {
    harness::env::live(name, f)
}

pub fn mtulab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mtulab"))
}

pub fn run(args: &[&str]) -> Result<Output, Failed> {
    Ok(mtulab().args(args).output()?)
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Namespaces created by process `pid` (their names carry it).
pub fn namespaces_of_pid(pid: u32) -> Vec<String> {
    harness::netns::list_named("mtulab-")
        .into_iter()
        .filter(|n| n.contains(&format!("-{pid}-")))
        .collect()
}

/// The lab id `mtulab up` printed ("lab ID is up; …").
pub fn lab_id(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|l| {
        l.strip_prefix("lab ")?
            .split_whitespace()
            .next()
            .map(String::from)
    })
}

/// [`harness::env::live_tunnels`]: ignored with the reason where the
/// kernel lacks one of the topology's tunnel kinds.
pub fn live_tunnels(
    name: impl Into<String>,
    tunnels: impl IntoIterator<Item = (mtulab_core::topology::TunnelKind, mtulab_core::Family)>,
    f: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> libtest_mimic::Trial {
    harness::env::live_tunnels(name, tunnels, f)
}

/// The command line, with the live targets' default of trials at once
/// (`harness::env::live_test_threads`: four per core) unless
/// `--test-threads` or `RUST_TEST_THREADS` says otherwise. The trials
/// mostly wait on the kernel and on child processes, not on a CPU.
#[allow(dead_code)]
pub fn arguments() -> libtest_mimic::Arguments {
    let mut args = libtest_mimic::Arguments::from_args();
    args.test_threads = args
        .test_threads
        .or(Some(harness::env::live_test_threads()));
    args
}
