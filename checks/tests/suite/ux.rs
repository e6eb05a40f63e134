//! What a new user hit (issue 14), each reproduced and each with its
//! control: a closed or full stdout, probe commands' exit codes, one path
//! at a time, bad input caught before any namespace exists (a mix of
//! files builds nothing; a missing iptables-restore), `down` removing
//! only the caller's labs.

use crate::common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::*;
use libtest_mimic::{Failed, Trial};

/// The child's output with stdout a pipe whose reader is already gone:
/// every write gets EPIPE.
fn with_closed_stdout(cmd: &mut Command) -> Result<Output, Failed> {
    let (reader, writer) = std::io::pipe()?;
    drop(reader);
    Ok(cmd
        .stdout(writer)
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .output()?)
}

/// The child's output with stdout on /dev/full: every write gets ENOSPC.
fn with_full_stdout(cmd: &mut Command) -> Result<Output, Failed> {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full")?;
    Ok(cmd
        .stdout(full)
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .output()?)
}

fn no_panic(out: &Output) -> Result<(), Failed> {
    let e = text(&out.stderr);
    if e.contains("panicked") || out.status.code() == Some(101) {
        return Err(format!("panicked (exit {:?}): {e}", out.status.code()).into());
    }
    Ok(())
}

fn expect_code(out: &Output, code: i32, what: &str) -> Result<(), Failed> {
    if out.status.code() != Some(code) {
        return Err(format!(
            "{what}: exit {:?}, expected {code}; stdout: {} stderr: {}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        )
        .into());
    }
    Ok(())
}

fn topo(name: &str) -> String {
    topologies_dir()
        .join(format!("{name}.toml"))
        .display()
        .to_string()
}

// ----- stdout closed or full -----

/// `mtulab draw FILE > /dev/full`: exit 2 naming the error, no panic;
/// control: the same to a pipe that is read prints the SVG.
fn draw_full_stdout() -> Result<(), Failed> {
    let f = topo("hidden_smaller");
    let out = with_full_stdout(mtulab().args(["draw", &f]))?;
    no_panic(&out)?;
    expect_code(&out, 2, "draw > /dev/full")?;
    if !text(&out.stderr).contains("write standard output: No space left on device") {
        return Err(format!("stderr: {}", text(&out.stderr)).into());
    }
    let ok = run(&["draw", &f])?;
    expect_code(&ok, 0, "draw | reader")?;
    if !text(&ok.stdout).contains("<svg") {
        return Err("control printed no SVG".into());
    }
    Ok(())
}

/// `mtulab draw FILE | true`: the reader is gone; exit 0, quietly.
fn draw_closed_stdout() -> Result<(), Failed> {
    let out = with_closed_stdout(mtulab().args(["draw", &topo("hidden_smaller")]))?;
    no_panic(&out)?;
    expect_code(&out, 0, "draw | true")?;
    if !out.stderr.is_empty() {
        return Err(format!("a closed pipe is not an error: {}", text(&out.stderr)).into());
    }
    Ok(())
}

/// `mtulab check a.toml b.toml | true`: the verdict's exit code (0), no
/// panic, both labs torn down.
fn check_closed_stdout() -> Result<(), Failed> {
    let f = topo("direct_1500");
    let child = mtulab()
        .args(["check", "-4", &f, &f])
        .stdout({
            let (r, w) = std::io::pipe()?;
            drop(r);
            w
        })
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let out = child.wait_with_output()?;
    no_panic(&out)?;
    expect_code(&out, 0, "check | true")?;
    let left = namespaces_of_pid(pid);
    if !left.is_empty() {
        return Err(format!("left {left:?}").into());
    }
    Ok(())
}

/// `mtulab check a.toml > /dev/full`: exit 2 naming the error, no panic.
fn check_full_stdout() -> Result<(), Failed> {
    let out = with_full_stdout(mtulab().args(["check", "-4", &topo("direct_1500")]))?;
    no_panic(&out)?;
    expect_code(&out, 2, "check > /dev/full")?;
    if !text(&out.stderr).contains("No space left on device") {
        return Err(format!("stderr: {}", text(&out.stderr)).into());
    }
    Ok(())
}

/// `mtulab up FILE | true` keeps the lab it built, recorded (so `list`
/// shows it and `down` removes it); it never vanishes or leaks.
fn up_closed_stdout_keeps_lab() -> Result<(), Failed> {
    let mut cmd = mtulab();
    cmd.args(["up", &topo("hidden_smaller")]);
    let child = cmd
        .stdout({
            let (r, w) = std::io::pipe()?;
            drop(r);
            w
        })
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let out = child.wait_with_output()?;
    let kept: Vec<_> = harness::state::all_labs()
        .into_iter()
        .filter(|l| l.pid == pid)
        .collect();
    for l in &kept {
        let _ = run(&["down", "--lab", &l.id]);
    }
    no_panic(&out)?;
    expect_code(&out, 0, "up | true")?;
    match kept.as_slice() {
        [l] if l.kept && l.namespaces.len() == 4 => Ok(()),
        other => Err(format!("expected one kept lab of 4 nodes, found {other:?}").into()),
    }
}

// ----- help -----

/// Every subcommand, argument and option in `-h` has a description
/// (`up FILE`, `exec NODE`, `--lab`, `-6`, …); the check itself is shown
/// to catch an undescribed entry (control: a line with a name only).
fn help_describes_everything() -> Result<(), Failed> {
    fn bare(help: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut inside = false;
        for line in help.lines() {
            if matches!(line, "Arguments:" | "Options:" | "Commands:") {
                inside = true;
                continue;
            }
            if line.trim().is_empty() {
                inside = false;
                continue;
            }
            // "  NAME  description": two or more spaces after the name.
            if inside && line.starts_with("  ") && line.trim().split("  ").count() < 2 {
                out.push(line.to_string());
            }
        }
        out
    }
    if bare("Options:\n      --lab <LAB>\n  -h, --help  Print help\n") != ["      --lab <LAB>"] {
        return Err("the checker misses an undescribed option".into());
    }
    let mut missing = Vec::new();
    for cmd in [
        "",
        "check",
        "draw",
        "ping",
        "tracepath",
        "transfer",
        "up",
        "down",
        "list",
        "exec",
    ] {
        let mut args: Vec<&str> = cmd.split_whitespace().collect();
        args.push("-h");
        let out = run(&args)?;
        expect_code(&out, 0, &format!("{cmd} -h"))?;
        for b in bare(&text(&out.stdout)) {
            missing.push(format!("mtulab {cmd}: {}", b.trim()));
        }
    }
    if !missing.is_empty() {
        return Err(format!("undescribed in --help: {missing:?}").into());
    }
    Ok(())
}

// ----- bad input -----

/// `--jobs 0` is refused (exit 2, naming --jobs); control: `--jobs 1`
/// gets past argument parsing (to the --path check, which fails on its own).
fn jobs_zero() -> Result<(), Failed> {
    let f = topo("direct_1500");
    let out = run(&["check", "--jobs", "0", &f])?;
    expect_code(&out, 2, "--jobs 0")?;
    if !text(&out.stderr).contains("--jobs") {
        return Err(format!("stderr: {}", text(&out.stderr)).into());
    }
    let ok = run(&["check", "--jobs", "1", "--path", "nobody", "server", &f])?;
    if text(&ok.stderr).contains("--jobs") {
        return Err(format!("--jobs 1 refused: {}", text(&ok.stderr)).into());
    }
    Ok(())
}

/// `--path` with an unknown node or a router: exit 2 with the hosts it
/// knows, before anything is built.
fn path_unknown_node() -> Result<(), Failed> {
    let f = topo("hidden_smaller");
    for (node, says) in [("nobody", "is not a node"), ("router-a", "is a router")] {
        let out = run(&["check", &f, "--path", "client", node])?;
        expect_code(&out, 2, "--path unknown")?;
        let e = text(&out.stderr);
        if !e.contains(says) || !e.contains("(hosts: client, server)") {
            return Err(format!("stderr: {e}").into());
        }
    }
    Ok(())
}

/// `ping --size` outside what an IP packet can be: exit 2 with the range
/// (not reported as local-too-big), before any lab is looked at.
fn ping_size_refused() -> Result<(), Failed> {
    for (size, six) in [("100000", false), ("27", false), ("47", true), ("0", false)] {
        let mut args = vec!["ping", "a", "b", "--size", size];
        if six {
            args.push("-6");
        }
        let out = run(&args)?;
        expect_code(&out, 2, "--size")?;
        let e = text(&out.stderr);
        if !e.contains(&format!("--size {size}:")) || !e.contains("..=65535") {
            return Err(format!("--size {size}: {e}").into());
        }
    }
    Ok(())
}

/// A topology file that cannot be read: `FILE: …`, never `FILE:0:`.
fn unreadable_file_has_no_line_zero() -> Result<(), Failed> {
    let out = run(&["draw", "/nonexistent/x.toml"])?;
    expect_code(&out, 2, "unreadable")?;
    let e = text(&out.stderr);
    if e.contains(":0:") || !e.contains("/nonexistent/x.toml: cannot read topology file") {
        return Err(format!("stderr: {e}").into());
    }
    Ok(())
}

/// A client - router - server topology in a temp dir with `filter` on the
/// router; returns (dir, topology file).
fn temp_topology(tag: &str, filter: &str, files: &[(&str, &str)]) -> (TempDir, PathBuf) {
    let dir = std::env::temp_dir().join(format!("mlh-ux-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.join(name), text).expect("file");
    }
    let toml = format!(
        "# client - router - server\nname = \"ux-{tag}\"\n[nodes.client]\n[nodes.router]\nrouter = true\n[nodes.server]\n[[links]]\nbetween = [\"client\", \"router\"]\nmtu = 1500\n[[links]]\nbetween = [\"router\", \"server\"]\nmtu = 1500\n\n[[filters]]\nnode = \"router\"\n{filter}\n"
    );
    let path = dir.join("topology.toml");
    std::fs::write(&path, toml).expect("topology");
    (TempDir(dir), path)
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Run `cmd`, watching for namespaces carrying its pid while it runs.
fn run_watched(cmd: &mut Command) -> Result<(Output, Vec<String>), Failed> {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    let pid = child.id();
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait()?.is_none() {
        for n in namespaces_of_pid(pid) {
            if !seen.contains(&n) {
                seen.push(n);
            }
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok((child.wait_with_output()?, seen))
}

const BAD_NFT: &str = "table inet t {\n  chain c {\n    type filter hook input priority 0; policy accept;\n    icmp type bogus drop\n  }\n}\n";
const GOOD_NFT: &str =
    "table inet t {\n  chain c {\n    type filter hook input priority 0; policy accept;\n  }\n}\n";

/// `mtulab check good.toml bad.toml`, bad's nft ruleset refused by nft:
/// exit 2 with the topology's file and the filter's line and nft's own
/// words, and no namespace ever created (the good file is not built
/// either); control: with a ruleset nft accepts, both are built and pass.
fn mix_builds_nothing() -> Result<(), Failed> {
    let good = topo("direct_1500");
    let (_d, bad) = temp_topology("mix-bad", "nft = \"r.nft\"", &[("r.nft", BAD_NFT)]);
    let (out, seen) = run_watched(mtulab().args(["check", "-4", &good, bad.to_str().unwrap()]))?;
    expect_code(&out, 2, "a bad ruleset in the mix")?;
    let e = text(&out.stderr);
    let want = format!("{}:16: filter 1: nft refused the ruleset ", bad.display());
    if !e.contains(&want) || !e.contains("Could not parse ICMP type") {
        return Err(format!("stderr lacks {want:?}…nft's words: {e}").into());
    }
    if !seen.is_empty() {
        return Err(format!("namespaces were created: {seen:?}").into());
    }
    let (_d2, fine) = temp_topology("mix-good", "nft = \"r.nft\"", &[("r.nft", GOOD_NFT)]);
    let (out, seen) = run_watched(mtulab().args(["check", "-4", &good, fine.to_str().unwrap()]))?;
    expect_code(&out, 0, "control: an accepted ruleset")?;
    if seen.is_empty() {
        return Err("control: no namespace seen (the watcher is blind)".into());
    }
    Ok(())
}

/// With iptables-restore missing from PATH, a topology with an
/// `iptables` ruleset is refused up front on the filter's line (exit 2,
/// nothing built); control: with it on PATH the same file is checked.
fn iptables_restore_missing() -> Result<(), Failed> {
    let rules = "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n";
    let (d, f) = temp_topology("ipt", "iptables = \"r.rules\"", &[("r.rules", rules)]);
    let bin = d.0.join("bin");
    std::fs::create_dir_all(&bin)?;
    let nft = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|p| p.join("nft"))
        .find(|p| p.is_file())
        .ok_or("nft not on PATH")?;
    std::os::unix::fs::symlink(&nft, bin.join("nft"))?;
    let (out, seen) = run_watched(
        mtulab()
            .args(["check", "-4", f.to_str().unwrap()])
            .env("PATH", &bin),
    )?;
    expect_code(&out, 2, "iptables-restore missing")?;
    let e = text(&out.stderr);
    let want = format!(
        "{}:16: filter 1: iptables-restore is not installed",
        f.display()
    );
    if !e.contains(&want) {
        return Err(format!("stderr lacks {want:?}: {e}").into());
    }
    if !seen.is_empty() {
        return Err(format!("namespaces were created: {seen:?}").into());
    }
    let out = run(&["check", "-4", f.to_str().unwrap()])?;
    expect_code(&out, 0, "control: iptables-restore on PATH")?;
    Ok(())
}

// ----- probe commands -----

/// On a kept icmp_blackhole: ping/tracepath/transfer exit 0 on success
/// and 1 on a failed probe; a family with no path and a size no packet has
/// are exit 2 in words.
fn probe_exit_codes() -> Result<(), Failed> {
    let up = run(&["up", &topo("icmp_blackhole")])?;
    expect_code(&up, 0, "up")?;
    let id = lab_id(&text(&up.stdout)).ok_or("no lab id")?;
    let result = (|| -> Result<(), Failed> {
        let probe = |args: &[&str], code: i32, says: &str| -> Result<(), Failed> {
            let mut all = vec![args[0], "--lab", &id];
            all.extend(&args[1..]);
            let out = run(&all)?;
            expect_code(&out, code, &all.join(" "))?;
            let both = format!("{}{}", text(&out.stdout), text(&out.stderr));
            if !both.contains(says) {
                return Err(format!("{}: lacks {says:?}: {both}", all.join(" ")).into());
            }
            Ok(())
        };
        probe(&["ping", "server", "client", "--size", "1200"], 0, "reply")?;
        probe(
            &["ping", "server", "client", "--size", "1201"],
            1,
            "silence",
        )?;
        probe(
            &["ping", "client", "server", "--size", "1201"],
            1,
            "too-big",
        )?;
        probe(
            &["ping", "client", "server", "--size", "9001"],
            1,
            "local-too-big",
        )?;
        probe(
            &["ping", "server", "client", "-6", "--size", "1280"],
            2,
            "has no ipv6 path from server to client",
        )?;
        probe(
            &["ping", "server", "client", "--size", "100000"],
            2,
            "--size 100000:",
        )?;
        probe(&["transfer", "client", "server"], 0, ": ok (")?;
        probe(&["transfer", "server", "client"], 1, ": blackhole (")?;
        probe(&["tracepath", "client", "server"], 0, "reached")?;
        Ok(())
    })();
    let _ = run(&["down", "--lab", &id]);
    result
}

/// `check FILE --path FROM TO -4` probes just that path: one path in the
/// JSON report, no link check; its exit code is that path's verdict.
fn check_one_path() -> Result<(), Failed> {
    for (name, from, to, code) in [
        ("icmp_blackhole", "server", "client", 1),
        ("hidden_smaller", "client", "server", 0),
    ] {
        let out = run(&[
            "check",
            &topo(name),
            "--path",
            from,
            to,
            "-4",
            "--format",
            "json",
        ])?;
        expect_code(&out, code, name)?;
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
        let paths = v["paths"].as_array().ok_or("no paths")?;
        if paths.len() != 1 || paths[0]["from"] != from || paths[0]["to"] != to {
            return Err(format!("{name}: paths {paths:?}").into());
        }
        let checks = v["checks"].as_array().ok_or("no checks")?;
        if checks.iter().any(|c| c["check"] == "link-mtu-match") {
            return Err(format!("{name}: link-mtu-match ran").into());
        }
    }
    Ok(())
}

// ----- numbering -----

/// Links and tunnels are numbered one way in messages and JSON: the 3rd
/// `[[links]]` entry is `link 3` and `"link": 3`, the 1st `[[tunnels]]`
/// entry `tunnel 1` and `"tunnel": 1` (not `link 5`, not 0-based).
fn links_and_tunnels_numbered_one_way() -> Result<(), Failed> {
    let dir = std::env::temp_dir().join(format!("mlh-ux-{}-numbers", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let _d = TempDir(dir.clone());
    let f = dir.join("numbers.toml");
    std::fs::write(
        &f,
        "# a - gw1 - r - gw2 - b, a tunnel gw1 = gw2; link 3 and tunnel 1 have unequal ends\nname = \"numbers\"\n[nodes.a]\n[nodes.gw1]\nrouter = true\n[nodes.r]\nrouter = true\n[nodes.gw2]\nrouter = true\n[nodes.b]\n[[links]]\nbetween = [\"a\", \"gw1\"]\nmtu = 1500\n[[links]]\nbetween = [\"gw1\", \"r\"]\nmtu = 1500\n[[links]]\nbetween = [\"r\", \"gw2\"]\nmtu = [1500, 1400]\n[[links]]\nbetween = [\"gw2\", \"b\"]\nmtu = 1500\n[[tunnels]]\nbetween = [\"gw1\", \"gw2\"]\nmtu = [1340, 1300]\n",
    )?;
    let out = run(&["check", "-4", "--format", "json", f.to_str().unwrap()])?;
    expect_code(&out, 1, "numbers")?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let lmm: Vec<&serde_json::Value> = v["violations"]
        .as_array()
        .ok_or("violations")?
        .iter()
        .filter(|x| x["check"] == "link-mtu-match")
        .collect();
    let find = |key: &str, n: u64, words: &str| -> Result<(), Failed> {
        lmm.iter()
            .find(|x| x[key] == n && x["message"].as_str().is_some_and(|m| m.starts_with(words)))
            .map(|_| ())
            .ok_or_else(|| format!("no violation with {key} {n} saying {words:?}: {lmm:?}").into())
    };
    find("link", 3, "link 3 (")?;
    find("tunnel", 1, "tunnel 1 (")?;
    if lmm.len() != 2 {
        return Err(format!("expected 2 link-mtu-match violations: {lmm:?}").into());
    }
    Ok(())
}

// ----- down -----

/// `down` without --lab removes the caller's labs only (the user is
/// SUDO_UID under sudo: two made-up users here); the other user's lab
/// stays until named with --lab. `exec` without --lab picks the caller's
/// only lab.
fn down_removes_only_callers_labs() -> Result<(), Failed> {
    // Users no real account has, unique to this run.
    let u1 = (3_000_000_000u32 + std::process::id()).to_string();
    let u2 = (3_500_000_000u32 + std::process::id()).to_string();
    let up_as = |uid: &str| -> Result<String, Failed> {
        let out = mtulab()
            .args(["up", &topo("direct_1500")])
            .env("SUDO_UID", uid)
            .output()?;
        expect_code(&out, 0, "up")?;
        lab_id(&text(&out.stdout)).ok_or_else(|| "no lab id".into())
    };
    let a = up_as(&u1)?;
    let b = match up_as(&u2) {
        Ok(b) => b,
        Err(e) => {
            let _ = run(&["down", "--lab", &a]);
            return Err(e);
        }
    };
    let result = (|| -> Result<(), Failed> {
        // Without --lab, exec picks the caller's only lab, not "ambiguous"
        // because another user keeps one too.
        let ex = mtulab()
            .args(["exec", "client", "--", "true"])
            .env("SUDO_UID", &u1)
            .output()?;
        expect_code(&ex, 0, "exec without --lab as the owner of one lab")?;
        let out = mtulab().arg("down").env("SUDO_UID", &u1).output()?;
        expect_code(&out, 0, "down")?;
        let kept: Vec<String> = harness::state::all_labs()
            .into_iter()
            .filter(|l| l.kept)
            .map(|l| l.id)
            .collect();
        if kept.contains(&a) {
            return Err(format!("down left the caller's lab {a}").into());
        }
        if !kept.contains(&b) {
            return Err(format!("down removed another user's lab {b}").into());
        }
        let again = mtulab().arg("down").env("SUDO_UID", &u1).output()?;
        expect_code(&again, 0, "down with nothing of yours")?;
        if !text(&again.stderr).contains("no kept labs of yours") {
            return Err(format!("stderr: {}", text(&again.stderr)).into());
        }
        Ok(())
    })();
    let _ = run(&["down", "--lab", &a]);
    let _ = run(&["down", "--lab", &b]);
    result
}

/// A named trial function.
type Named = (&'static str, fn() -> Result<(), Failed>);

pub fn trials() -> Vec<Trial> {
    let plain: Vec<Named> = vec![
        ("ux::stdout::full::draw", draw_full_stdout),
        ("ux::stdout::closed::draw", draw_closed_stdout),
        ("ux::help::describes_everything", help_describes_everything),
        ("ux::bad_input::jobs_zero", jobs_zero),
        ("ux::bad_input::path_unknown_node", path_unknown_node),
        ("ux::bad_input::ping_size", ping_size_refused),
        (
            "ux::bad_input::unreadable_file",
            unreadable_file_has_no_line_zero,
        ),
    ];
    let live_trials: Vec<Named> = vec![
        ("ux::stdout::closed::check", check_closed_stdout),
        ("ux::stdout::full::check", check_full_stdout),
        (
            "ux::stdout::closed::up_keeps_lab",
            up_closed_stdout_keeps_lab,
        ),
        ("ux::bad_input::mix_builds_nothing", mix_builds_nothing),
        (
            "ux::bad_input::iptables_restore_missing",
            iptables_restore_missing,
        ),
        ("ux::probe::exit_codes", probe_exit_codes),
        ("ux::check::one_path", check_one_path),
        (
            "ux::down::only_callers_labs",
            down_removes_only_callers_labs,
        ),
        (
            "ux::report::links_and_tunnels_numbered",
            links_and_tunnels_numbered_one_way,
        ),
    ];
    let mut trials: Vec<Trial> = plain.into_iter().map(|(n, f)| Trial::test(n, f)).collect();
    trials.extend(live_trials.into_iter().map(|(n, f)| live(n, f)));
    trials
}
