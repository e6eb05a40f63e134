//! Before any namespace exists: what the firewall tools say about a
//! topology's real rulesets. Each tool must be installed, and each ruleset
//! must pass the tool's own dry run (`nft -c -f FILE`, `iptables-restore
//! --test`) inside a scratch namespace (nothing is loaded anywhere). A
//! refusal is bad input with the topology's file and the filter's line, so
//! `mtulab check` / `up` build nothing (none of several files) when any
//! ruleset is bad.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use mtulab_core::topology::FilterKind;
use mtulab_core::{Loaded, TopologyError};

/// The tool that loads `kind`, its package, and the arguments of its dry run.
fn tool_of(kind: &FilterKind) -> Option<(&'static str, &'static str, &'static [&'static str])> {
    match kind {
        FilterKind::DropPmtuIcmp { .. } => None,
        FilterKind::Nft(_) => Some(("nft", "nftables", &["-c", "-f"])),
        FilterKind::Iptables(_) => Some(("iptables-restore", "iptables", &["--test"])),
        FilterKind::Ip6tables(_) => Some(("ip6tables-restore", "iptables", &["--test"])),
    }
}

/// Check every ruleset of `loaded` with its tool; the first problem as a
/// [`TopologyError`] on the filter's line.
pub fn check(loaded: &Loaded) -> Result<(), TopologyError> {
    let file = loaded
        .topology
        .source
        .clone()
        .unwrap_or_else(|| format!("{}.toml", loaded.topology.name).into());
    let lines = std::fs::read_to_string(&file)
        .map(|src| mtulab_core::load::filter_lines(&src))
        .unwrap_or_default();
    for (i, f) in loaded.topology.filters.iter().enumerate() {
        let Some((tool, package, args)) = tool_of(&f.kind) else {
            continue;
        };
        let (FilterKind::Nft(path) | FilterKind::Iptables(path) | FilterKind::Ip6tables(path)) =
            &f.kind
        else {
            continue;
        };
        let err = |message: String| TopologyError {
            file: file.clone(),
            line: lines.get(i).copied().unwrap_or(0),
            message: format!("filter {}: {message}", i + 1),
        };
        if crate::env::missing_tool(&[tool]).is_some() {
            return Err(err(format!(
                "{tool} is not installed, and {} needs it (apt-get install {package})",
                path.display()
            )));
        }
        dry_run(tool, args, path).map_err(err)?;
    }
    Ok(())
}

/// `tool args…` on `path` (nft by path, so its errors say FILE:LINE:COLUMN;
/// iptables-restore with the file on standard input) in a scratch
/// namespace; the tool's own words when it refuses.
fn dry_run(tool: &str, args: &[&str], path: &Path) -> Result<(), String> {
    let shown = path.display().to_string();
    let text = std::fs::read(path).map_err(|e| format!("read {shown}: {e}"))?;
    let out = crate::netns::in_scratch(|| -> std::io::Result<std::process::Output> {
        let mut cmd = Command::new(tool);
        cmd.args(args);
        let by_path = tool == "nft";
        if by_path {
            cmd.arg(&shown);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            if !by_path {
                // A write error shows up as the tool's failure below.
                let _ = stdin.write_all(&text);
            }
        }
        child.wait_with_output()
    })
    .and_then(|r| r)
    .map_err(|e| format!("run {tool} -c on {shown}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{tool} refused the ruleset {shown}: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}
