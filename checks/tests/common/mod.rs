//! Shared by the CLI test targets: live-trial gating and running `mtulab`.
#![allow(dead_code)] // each target uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use libtest_mimic::Failed;

pub fn topologies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies")
}

pub use harness::env::live;

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
