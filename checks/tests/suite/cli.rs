//! The `mtulab` binary on bad and good input, and a kept lab's lifecycle:
//! every bad file exits 2 naming file and line and creates nothing, and its
//! twin valid file is accepted; `up`, `exec`, `down` work on a v1 file.

use crate::common;

use std::path::Path;

use common::*;
use libtest_mimic::{Failed, Trial};

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

/// `mtulab down --lab ID`: it must succeed and leave none of the lab's
/// namespaces.
fn down_leaves_nothing(id: &str) -> Result<(), Failed> {
    let down = run(&["down", "--lab", id])?;
    if !down.status.success() {
        return Err(format!("down failed: {}", text(&down.stderr)).into());
    }
    let left = harness::netns::list_named(&format!("mtulab-{id}-"));
    if !left.is_empty() {
        return Err(format!("down left {left:?}").into());
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
    down_leaves_nothing(&id)
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
    let down = down_leaves_nothing(&id);
    result?;
    down
}

/// A transfer on a kept lab built with `--kernel-defaults` (or without:
/// the control) gives the same verdict, and the sender's RTO shows which
/// timers the lab has: at least 200 ms (the kernel's minimum) with stock
/// timers, under 100 ms with the lab's fast ones. The stock case is the
/// slowest trial here (a recovery takes ~6.5 s of kernel timers); it waits
/// beside the others.
fn timers_on_a_kept_lab(file: &str, verdict: &str, stock: bool) -> Result<(), Failed> {
    let f = topologies_dir().join(file);
    let f = f.to_str().ok_or("path")?;
    let up = if stock {
        run(&["--kernel-defaults", "up", f])?
    } else {
        run(&["up", f])?
    };
    if !up.status.success() {
        return Err(text(&up.stderr).into());
    }
    let out = text(&up.stdout);
    let id = lab_id(&out).ok_or("no lab id")?;
    let result = (|| -> Result<(), Failed> {
        let said = if stock {
            "timers: kernel defaults"
        } else {
            "timers: fast"
        };
        if !out.contains(said) {
            return Err(format!("`up` does not say {said:?}: {out}").into());
        }
        let t = run(&["transfer", "--lab", &id, "--json", "server", "client"])?;
        let v: serde_json::Value = serde_json::from_slice(&t.stdout)
            .map_err(|e| format!("transfer JSON: {e}: {}", text(&t.stderr)))?;
        let rto = v["rto_ms"].as_f64().ok_or("no rto_ms")?;
        let timers_ok = if stock { rto >= 200.0 } else { rto < 100.0 };
        if v["verdict"] != verdict || t.status.code() != Some(1) || !timers_ok {
            return Err(format!(
                "expected {verdict} (exit 1) with {} timers, got exit {:?}: {v}",
                if stock { "stock" } else { "fast" },
                t.status.code()
            )
            .into());
        }
        Ok(())
    })();
    let down = down_leaves_nothing(&id);
    result?;
    down
}

/// `cli::timers::{stock,fast}::{recovered,blackhole}`: listed apart so the
/// suite can start them first (the stock recovery waits ~6.5 s).
pub fn timer_trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for (file, verdict) in [
        ("mtu_probing.toml", "recovered"),
        ("icmp_blackhole.toml", "blackhole"),
    ] {
        for (timers, stock) in [("stock", true), ("fast", false)] {
            trials.push(live(
                format!("cli::timers::{timers}::{verdict}"),
                move || timers_on_a_kept_lab(file, verdict, stock),
            ));
        }
    }
    trials
}

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    let dir = topologies_dir();
    for (sub, invalid) in [("invalid", true), ("valid", false)] {
        for file in toml_files(&dir.join(sub)) {
            let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
            if invalid {
                // Rejection must not depend on root: plain trial.
                trials.push(Trial::test(format!("cli::bad_input::{stem}"), move || {
                    bad_input_rejected(&file)
                }));
            } else {
                // A twin with a tunnel kind this kernel lacks is ignored.
                let kinds: Vec<_> = harness::load::load_file(&file)
                    .map(|l| {
                        l.topology
                            .tunnels
                            .iter()
                            .map(|t| (t.kind, t.underlay))
                            .collect()
                    })
                    .unwrap_or_default();
                trials.push(live_tunnels(
                    format!("cli::valid_twin::{stem}"),
                    kinds,
                    move || twin_accepted(&file),
                ));
            }
        }
    }
    trials.push(live("cli::up_exec_down", up_exec_down));
    trials.push(live("cli::unsupported_kind", unsupported_kind));
    trials.push(Trial::test(
        "cli::ruleset::missing_file",
        ruleset_missing_file,
    ));
    for kind in RulesetKind::ALL {
        trials.push(live(
            format!("cli::ruleset::{}::load_error", kind.key),
            move || ruleset_load_error(kind),
        ));
        trials.push(live(
            format!("cli::ruleset::{}::control", kind.key),
            move || ruleset_control(kind),
        ));
    }
    trials
}

// ----- Real rulesets that cannot be loaded (issue 4): bad input, exit 2,
// the tool's own message and the file, nothing left behind.

/// A ruleset format, a ruleset it accepts (accept everything) and one it
/// refuses, with a fragment of the tool's own error message.
#[derive(Clone, Copy)]
struct RulesetKind {
    key: &'static str,
    file: &'static str,
    good: &'static str,
    bad: &'static str,
    tool_says: &'static str,
}

impl RulesetKind {
    const ALL: [RulesetKind; 3] = [
        RulesetKind {
            key: "nft",
            file: "r.nft",
            good: "table inet t {\n  chain c {\n    type filter hook input priority 0; policy accept;\n  }\n}\n",
            bad: "table inet t {\n  chain c {\n    type filter hook input priority 0; policy accept;\n    icmp type bogus drop\n  }\n}\n",
            // nft names the file, line and column itself.
            tool_says: "r.nft:4:15-19: Error: Could not parse ICMP type",
        },
        RulesetKind {
            key: "iptables",
            file: "r.rules",
            good: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT\nCOMMIT\n",
            bad: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p icmp -m icmp --icmp-type bogus -j DROP\nCOMMIT\n",
            tool_says: "Unknown ICMP type `bogus'",
        },
        RulesetKind {
            key: "ip6tables",
            file: "r6.rules",
            good: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT\nCOMMIT\n",
            // An IPv4 match in an IPv6 ruleset: a classic copy-paste slip.
            bad: "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -p ipv6-icmp --icmp-type 8 -j ACCEPT\nCOMMIT\n",
            tool_says: "Error occurred at line: 3",
        },
    ];
}

/// client --1500-- router --1500-- server, `kind`'s ruleset (`text`) on the router.
fn ruleset_topology(kind: RulesetKind, tag: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "mtulab-cli-ruleset-{}-{}-{tag}",
        std::process::id(),
        kind.key
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join(kind.file), text).expect("ruleset");
    let toml = format!(
        "# client - router - server, a {key} ruleset on the router\nname = \"rs-{key}\"\n[nodes.client]\n[nodes.router]\nrouter = true\n[nodes.server]\n[[links]]\nbetween = [\"client\", \"router\"]\nmtu = 1500\n[[links]]\nbetween = [\"router\", \"server\"]\nmtu = 1500\n[[filters]]\nnode = \"router\"\n{key} = \"{file}\"\n",
        key = kind.key,
        file = kind.file
    );
    let path = dir.join("topology.toml");
    std::fs::write(&path, toml).expect("topology");
    path
}

/// Run `mtulab check FILE` and return (exit code, stderr, namespaces its pid left).
fn check_file(file: &Path) -> Result<(Option<i32>, String, Vec<String>), Failed> {
    let child = mtulab()
        .args(["check", file.to_str().ok_or("path")?])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let out = child.wait_with_output()?;
    Ok((out.status.code(), text(&out.stderr), namespaces_of_pid(pid)))
}

/// A ruleset the tool refuses: `mtulab check` exits 2, prints the tool's
/// own message and the ruleset file, and leaves no namespace behind.
fn ruleset_load_error(kind: RulesetKind) -> Result<(), Failed> {
    let file = ruleset_topology(kind, "bad", kind.bad);
    let ruleset = file.with_file_name(kind.file);
    let result = check_file(&file);
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
    let (code, stderr, left) = result?;
    if code != Some(2) {
        return Err(format!("exit {code:?}, expected 2; stderr: {stderr}").into());
    }
    if !stderr.contains(kind.tool_says) {
        return Err(format!(
            "stderr lacks the tool's message {:?}: {stderr}",
            kind.tool_says
        )
        .into());
    }
    if !stderr.contains(&ruleset.display().to_string()) {
        return Err(format!("stderr does not name {}: {stderr}", ruleset.display()).into());
    }
    if !left.is_empty() {
        return Err(format!("a refused ruleset left {left:?} behind").into());
    }
    Ok(())
}

/// Control for [`ruleset_load_error`]: the same topology with a ruleset the
/// tool accepts is checked (exit 0) and leaves nothing behind.
fn ruleset_control(kind: RulesetKind) -> Result<(), Failed> {
    let file = ruleset_topology(kind, "good", kind.good);
    let result = check_file(&file);
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
    let (code, stderr, left) = result?;
    if code != Some(0) {
        return Err(format!("exit {code:?}, expected 0; stderr: {stderr}").into());
    }
    if !left.is_empty() {
        return Err(format!("left {left:?} behind").into());
    }
    Ok(())
}

/// A ruleset file that does not exist is bad input before anything is
/// built (no root needed): exit 2, FILE:LINE naming the missing ruleset.
fn ruleset_missing_file() -> Result<(), Failed> {
    let file = topologies_dir().join("invalid/missing_ruleset.toml");
    let (code, stderr, left) = check_file(&file)?;
    if code != Some(2) {
        return Err(format!("exit {code:?}, expected 2; stderr: {stderr}").into());
    }
    let want = format!("{}:28: filter 1: nft ruleset ", file.display());
    if !stderr.contains(&want) || !stderr.contains("rulesets/absent.nft does not exist") {
        return Err(format!("stderr lacks {want:?}…absent.nft does not exist: {stderr}").into());
    }
    if !left.is_empty() {
        return Err(format!("created {left:?}").into());
    }
    Ok(())
}

/// A topology whose tunnel kind the kernel lacks (GRE here) is reported
/// unsupported, never passed: alone, exit 2 and a SKIP line with the
/// reason (JSON: `"unsupported"`, no violation); next to a topology that
/// runs, the exit code is that one's (0 with `--expect`). On a kernel with
/// GRE the same command checks it: exit 0 with `--expect`, no SKIP.
fn unsupported_kind() -> Result<(), Failed> {
    let dir = topologies_dir();
    let gre = dir.join("gre_mismatch.toml");
    let vxlan = dir.join("vxlan_1450.toml");
    let (gre, vxlan) = (gre.to_str().ok_or("path")?, vxlan.to_str().ok_or("path")?);
    let supported = harness::tunnels::support(
        mtulab_core::topology::TunnelKind::Gre,
        mtulab_core::Family::V4,
    );
    let alone = run(&["check", "--expect", gre])?;
    let out = text(&alone.stdout);
    let both = run(&["check", "--expect", gre, vxlan])?;
    match supported {
        Err(why) => {
            if alone.status.code() != Some(2) || !out.contains(&format!("SKIP {why}")) {
                return Err(format!(
                    "gre_mismatch alone without GRE: exit {:?}, expected 2 and a SKIP line: {out}",
                    alone.status.code()
                )
                .into());
            }
            if both.status.code() != Some(0)
                || !text(&both.stdout).contains("1 unsupported on this kernel (not checked)")
            {
                return Err(format!(
                    "with vxlan_1450: exit {:?}, expected 0 and the count: {}",
                    both.status.code(),
                    text(&both.stdout)
                )
                .into());
            }
            let json = run(&["check", "--format", "json", gre])?;
            let v: serde_json::Value = serde_json::from_slice(&json.stdout)?;
            if v["unsupported"] != why.as_str()
                || v["ok"] != false
                || v["violations"].as_array().is_none_or(|a| !a.is_empty())
            {
                return Err(format!("json: {v}").into());
            }
        }
        Ok(()) => {
            if alone.status.code() != Some(0) || out.contains("SKIP") {
                return Err(format!(
                    "gre_mismatch with GRE: exit {:?}, expected 0 as expected: {out}",
                    alone.status.code()
                )
                .into());
            }
        }
    }
    Ok(())
}
