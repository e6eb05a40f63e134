//! The `mtulab` binary on bad and good input, and a kept lab's lifecycle:
//! every bad file exits 2 naming file and line and creates nothing, and its
//! twin valid file is accepted; `up`, `exec`, `down` work on a v1 file.

mod common;

use std::path::Path;

use common::*;
use libtest_mimic::{Arguments, Failed, Trial};

fn bad_input_rejected(file: &Path) -> Result<(), Failed> {
    let f = file.to_str().ok_or("path")?;
    let child = mtulab()
        .args(["up", f])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let child = child.wait_with_output()?;
    let stderr = text(&child.stderr);
    if child.status.code() != Some(2) {
        return Err(format!(
            "exit {:?}, expected 2; stderr: {stderr}",
            child.status.code()
        )
        .into());
    }
    // "FILE:LINE: message", LINE > 0.
    let after = stderr
        .split(f)
        .nth(1)
        .ok_or_else(|| format!("stderr does not name {f}: {stderr}"))?;
    let line: usize = after
        .strip_prefix(':')
        .and_then(|r| r.split(':').next())
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("stderr does not name a line: {stderr}"))?;
    if line == 0 {
        return Err(format!("line 0 in: {stderr}").into());
    }
    // Anything the child made would carry its pid in its name.
    let made = namespaces_of_pid(pid);
    if !made.is_empty() {
        return Err(format!("bad input created {made:?}").into());
    }
    Ok(())
}

fn twin_accepted(file: &Path) -> Result<(), Failed> {
    let f = file.to_str().ok_or("path")?;
    let up = run(&["up", f])?;
    if !up.status.success() {
        return Err(format!("valid twin rejected: {}", text(&up.stderr)).into());
    }
    let id = lab_id(&text(&up.stdout)).ok_or("no lab id printed")?;
    let down = run(&["down", "--lab", &id])?;
    if !down.status.success() {
        return Err(format!("down failed: {}", text(&down.stderr)).into());
    }
    let left = harness::netns::list_named(&format!("mtulab-{id}-"));
    if !left.is_empty() {
        return Err(format!("left behind: {left:?}").into());
    }
    Ok(())
}

/// `up` prints each node's namespace (usable with `ip netns exec`), `exec`
/// runs in the node, `down` removes everything.
fn up_exec_down() -> Result<(), Failed> {
    let f = topologies_dir().join("hidden_smaller.toml");
    let up = run(&["up", f.to_str().unwrap()])?;
    if !up.status.success() {
        return Err(text(&up.stderr).into());
    }
    let out = text(&up.stdout);
    let id = lab_id(&out).ok_or("no lab id")?;
    let result = (|| -> Result<(), Failed> {
        let client_ns = out
            .lines()
            .find_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some("client"))
                    .then(|| w.next().map(String::from))
                    .flatten()
            })
            .ok_or("no namespace printed for client")?;
        if !client_ns.starts_with("mtulab-") || !client_ns.ends_with("-client") {
            return Err(format!("namespace name {client_ns} breaks the contract").into());
        }
        // ip netns exec sees it: the client has an interface named router-a.
        let ipx = std::process::Command::new("ip")
            .args([
                "netns", "exec", &client_ns, "ip", "-j", "link", "show", "router-a",
            ])
            .output()?;
        let v: serde_json::Value = serde_json::from_slice(&ipx.stdout)?;
        if v[0]["mtu"] != 1500 {
            return Err(format!("ip netns exec: unexpected {v}").into());
        }
        let ex = run(&[
            "exec", "--lab", &id, "server", "--", "ip", "-j", "link", "show", "router-b",
        ])?;
        let v: serde_json::Value = serde_json::from_slice(&ex.stdout)?;
        if !ex.status.success() || v[0]["mtu"] != 9000 {
            return Err(format!("mtulab exec: {v} / {}", text(&ex.stderr)).into());
        }
        let code = run(&["exec", "--lab", &id, "server", "--", "false"])?;
        if code.status.code() != Some(1) {
            return Err("exec does not pass the command's exit code on".into());
        }
        let bad = run(&["exec", "--lab", &id, "nosuch", "--", "true"])?;
        if bad.status.code() != Some(2) || !text(&bad.stderr).contains("nosuch") {
            return Err("exec on an unknown node must exit 2 naming it".into());
        }
        Ok(())
    })();
    let down = run(&["down", "--lab", &id])?;
    result?;
    if !down.status.success() {
        return Err(text(&down.stderr).into());
    }
    let left = harness::netns::list_named(&format!("mtulab-{id}-"));
    if !left.is_empty() {
        return Err(format!("down left {left:?}").into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let dir = topologies_dir();
    for (sub, invalid) in [("invalid", true), ("valid", false)] {
        let mut files: Vec<_> = std::fs::read_dir(dir.join(sub))
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        for file in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        {
            let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
            if invalid {
                // Rejection must not depend on root: plain trial.
                trials.push(Trial::test(format!("cli::bad_input::{stem}"), move || {
                    bad_input_rejected(&file)
                }));
            } else {
                trials.push(live(format!("cli::valid_twin::{stem}"), move || {
                    twin_accepted(&file)
                }));
            }
        }
    }
    trials.push(live("cli::up_exec_down", up_exec_down));
    libtest_mimic::run(&args, trials).exit();
}
