//! Shared by the CLI test targets: live-trial gating and running `mtulab`.
#![allow(dead_code)] // each target uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use libtest_mimic::Failed;

pub fn topologies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies")
}

/// The `.toml` files directly in `dir`, sorted (panics if `dir` cannot be
/// read: the bundled directories must be there).
pub fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
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
        .filter(|n| harness::netns::made_by(n, pid))
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

/// A scratch directory, `mtulab-test-TAG-PID` under the temp dir: created
/// empty, removed on drop (also on panic). Tags differ per trial, so trials
/// running at once in one process never share one.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("mtulab-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("scratch dir");
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `trials` as they are where `tool` runs (`tool --version` succeeds);
/// where it does not, each is ignored with the reason, or failed instead
/// with MTULAB_REQUIRE_ROOT=1 (CI must have it: ci/install-deps).
pub fn needs_tool(tool: &str, trials: Vec<libtest_mimic::Trial>) -> Vec<libtest_mimic::Trial> {
    use libtest_mimic::Trial;
    let have = Command::new(tool)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if have {
        return trials;
    }
    let why = format!("{tool} missing: ci/install-deps");
    let required = std::env::var("MTULAB_REQUIRE_ROOT").is_ok_and(|v| v == "1");
    trials
        .into_iter()
        .map(|t| {
            if required {
                let why = why.clone();
                Trial::test(t.name().to_string(), move || Err(why.into()))
            } else {
                t.with_ignored_flag(true).with_kind(why.clone())
            }
        })
        .collect()
}
