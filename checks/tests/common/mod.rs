//! Shared by the CLI test targets: live-trial gating and running `mtulab`.
#![allow(dead_code)] // each target uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use harness::env::LiveGate;
use libtest_mimic::{Failed, Trial};

pub fn topologies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies")
}

/// A live trial: ignored (with the reason) where labs cannot be built,
/// failed instead when MTULAB_REQUIRE_ROOT=1. Never passed unrun.
pub fn live(
    name: impl Into<String>,
    f: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    match harness::env::live_gate() {
        LiveGate::Run => Trial::test(name, f),
        LiveGate::Ignore(why) => Trial::test(name, f).with_ignored_flag(true).with_kind(why),
        LiveGate::Fail(msg) => Trial::test(name, move || Err(msg.into())),
    }
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

/// A live trial of a topology with these tunnel kinds: as [`live`], but
/// ignored (never passed, and not failed even with MTULAB_REQUIRE_ROOT=1:
/// it is the kernel, not the machine's setup) when the running kernel
/// lacks one of the kinds; the reason is the trial's kind, e.g.
/// `[unsupported: the running kernel has no GRE support (…)]`.
pub fn live_tunnels(
    name: impl Into<String>,
    kinds: impl IntoIterator<Item = (mtulab_core::topology::TunnelKind, mtulab_core::Family)>,
    f: impl FnOnce() -> Result<(), Failed> + Send + 'static,
) -> Trial {
    if let LiveGate::Run = harness::env::live_gate() {
        if let Some((_, why)) = harness::tunnels::first_unsupported(kinds) {
            return Trial::test(name, f)
                .with_ignored_flag(true)
                .with_kind(format!("unsupported: {why}"));
        }
    }
    live(name, f)
}
