//! Shared by the harness's live test targets (`mod common;`): the bundled
//! topologies and fixtures, the live-trial gate, `ip -j` in a node, and the
//! run that fails when a lab is left behind.
#![allow(dead_code)] // each target uses a different subset

use std::path::{Path, PathBuf};

use harness::Lab;
use libtest_mimic::{Arguments, Failed, Trial};
use mtulab_core::Topology;
use serde_json::Value;

pub fn topologies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies")
}

/// A bundled scenario, `topologies/NAME.toml`.
pub fn load(name: &str) -> Topology {
    let path = topologies_dir().join(format!("{name}.toml"));
    Topology::from_file(&path).unwrap_or_else(|e| panic!("bundled topology: {e}"))
}

/// `file` (below topologies/) as text, cut before its `[expect]` if it has
/// one (a scenario's `pmtu = …` lines must not meet a test's
/// `.replace("mtu = …", …)`), and its path.
pub fn source(file: &str) -> (String, PathBuf) {
    let path = topologies_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let topology = match text.split_once("\n[expect]") {
        Some((before, _)) => before.to_owned() + "\n",
        None => text,
    };
    (topology, path)
}

/// `file` (below topologies/) with `from` replaced by `to`; `from` must be there.
pub fn varied(file: &str, from: &str, to: &str) -> Topology {
    let (src, path) = source(file);
    assert!(src.contains(from), "{file} has no {from:?}");
    Topology::from_str(&src.replace(from, to), &path)
        .unwrap_or_else(|e| panic!("varied {file}: {e}"))
}

pub use harness::env::live;

/// Run a command in a node and parse its JSON output (`ip -j ARGS`).
pub fn ip_json(lab: &Lab, node: &str, args: &[&str]) -> Result<Value, Failed> {
    let out = lab
        .command(node, "ip")
        .ok_or("no such node")?
        .arg("-j")
        .args(args)
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "ip {args:?} in {node}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// The command line, after reaping the labs of earlier killed runs (never
/// a live run's) where labs can be built.
pub fn args() -> Arguments {
    let args = harness::env::live_arguments();
    if harness::env::live_unavailable().is_none() {
        harness::state::reap();
    }
    args
}

/// Run the trials; then every lab this run built must be gone: a namespace
/// left behind is a cleanup bug and fails the run (exit 101).
pub fn run(args: &Arguments, trials: Vec<Trial>) -> ! {
    let conclusion = libtest_mimic::run(args, trials);
    let left: Vec<String> = harness::netns::list_named("mtulab-")
        .into_iter()
        .filter(|n| harness::netns::made_by(n, std::process::id()))
        .collect();
    if !left.is_empty() {
        eprintln!("namespaces left behind by this run: {left:?}");
        std::process::exit(101);
    }
    conclusion.exit()
}
