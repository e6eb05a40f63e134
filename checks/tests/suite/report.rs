//! `mtulab check` end to end on real labs: the JSON report carries the
//! §5 contract with what the kernel did, JUnit parses as XML with a failure
//! per failing check, and `--expect` fails when a file's expectation is
//! wrong (its control: the bundled file passes). Nothing is left behind.

use crate::common;

use std::process::{Output, Stdio};

use common::*;
use libtest_mimic::{Failed, Trial};

/// Run `mtulab ARGS`, then make sure the run left no namespace.
fn check(args: &[&str]) -> Result<Output, Failed> {
    let child = mtulab()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let out = child.wait_with_output()?;
    let left = namespaces_of_pid(pid);
    if !left.is_empty() {
        return Err(format!("left behind: {left:?}").into());
    }
    Ok(out)
}

fn scenario(name: &str) -> String {
    topologies_dir()
        .join(format!("{name}.toml"))
        .to_string_lossy()
        .into_owned()
}

/// icmp_blackhole in JSON: exit 1, the broken checks, and per path what
/// the sender learned and the transfer verdict.
fn json_contract() -> Result<(), Failed> {
    let out = check(&["check", "--format", "json", &scenario("icmp_blackhole")])?;
    if out.status.code() != Some(1) {
        return Err(format!("exit {:?}: {}", out.status.code(), text(&out.stderr)).into());
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    if v["topology"] != "icmp_blackhole" || v["ok"] != false {
        return Err(format!("topology/ok: {v}").into());
    }
    let violations = v["violations"].as_array().ok_or("violations")?;
    let mut ids: Vec<&str> = violations
        .iter()
        .filter_map(|x| x["check"].as_str())
        .collect();
    ids.sort();
    ids.dedup();
    if ids != ["icmp-passes", "pmtud", "tcp-transfer"] {
        return Err(format!("violated checks {ids:?}").into());
    }
    for x in violations {
        let m = x["message"].as_str().unwrap_or("");
        if !m.contains("router-b") {
            return Err(format!("a violation that does not name router-b: {m}").into());
        }
    }
    let path = |from: &str, to: &str| {
        v["paths"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["from"] == from && p["to"] == to && p["family"] == "ipv4")
            .cloned()
            .ok_or(format!("no path {from} -> {to}"))
    };
    let down = path("server", "client")?;
    let up = path("client", "server")?;
    let want = [
        (&down, "expected_pmtu", serde_json::json!(1200)),
        (&down, "observed_pmtu", serde_json::json!(9000)),
        (&down, "transfer", serde_json::json!("blackhole")),
        (&up, "observed_pmtu", serde_json::json!(1200)),
        (&up, "transfer", serde_json::json!("ok")),
    ];
    for (p, field, value) in want {
        if p[field] != value {
            return Err(format!("{field}: {} in {p}", p[field]).into());
        }
    }
    if down["ping_over_pmtu"]["outcome"] != "silence"
        || up["ping_over_pmtu"]["outcome"] != "too-big"
        || up["ping_over_pmtu"]["from"] != "router-a"
    {
        return Err(format!("DF pings over the path MTU: {down} / {up}").into());
    }
    Ok(())
}

/// JUnit: well-formed, a testsuite per topology, failures counted per
/// failing check line (none for the control).
fn junit_parses() -> Result<(), Failed> {
    let out = check(&[
        "check",
        "--format",
        "junit",
        &scenario("icmp_blackhole"),
        &scenario("direct_1500"),
    ])?;
    if out.status.code() != Some(1) {
        return Err(format!("exit {:?}: {}", out.status.code(), text(&out.stderr)).into());
    }
    let xml = text(&out.stdout);
    let doc = roxmltree::Document::parse(&xml)?;
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .map(|n| {
            let failing = n
                .descendants()
                .filter(|c| c.has_tag_name("failure"))
                .count();
            (
                n.attribute("name").unwrap_or("").to_string(),
                n.attribute("failures").unwrap_or("").to_string(),
                failing,
            )
        })
        .collect();
    // icmp_blackhole fails icmp-passes twice, pmtud and tcp-transfer once.
    let want = vec![
        ("icmp_blackhole".to_string(), "4".to_string(), 4),
        ("direct_1500".to_string(), "0".to_string(), 0),
    ];
    if suites != want {
        return Err(format!("suites {suites:?}").into());
    }
    Ok(())
}

/// `--expect` is not a rubber stamp: the same lab with an `[expect]` that
/// claims everything holds exits 1 and says what differs; the bundled file
/// (the control) exits 0.
fn expect_can_fail() -> Result<(), Failed> {
    let good = scenario("icmp_blackhole");
    let ok = check(&["check", "--expect", &good])?;
    if ok.status.code() != Some(0) {
        return Err(format!("bundled file not as expected: {}", text(&ok.stdout)).into());
    }
    let src = std::fs::read_to_string(&good)?;
    let cut = src
        .find("[expect]")
        .ok_or("no [expect] in the bundled file")?;
    let wrong = format!("{}[expect]\nviolations = []\n", &src[..cut]);
    let dir = std::env::temp_dir().join(format!("mtulab-report-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let file = dir.join("icmp_blackhole.toml");
    std::fs::write(&file, wrong)?;
    let bad = check(&["check", "--expect", file.to_str().unwrap()]);
    let _ = std::fs::remove_dir_all(&dir);
    let bad = bad?;
    let stdout = text(&bad.stdout);
    if bad.status.code() != Some(1)
        || !stdout.contains("NOT as expected")
        || !stdout.contains("tcp-transfer is violated, but [expect] does not list it")
    {
        return Err(format!("exit {:?}: {stdout}", bad.status.code()).into());
    }
    Ok(())
}

/// `--progress` says up front how many paths a topology will probe (2
/// hosts, 2 families, but no IPv6 across the 1200 link: 2) and reports
/// each; without it (stderr not a terminal here) neither line appears.
fn progress_counts_paths() -> Result<(), Failed> {
    let file = scenario("hidden_smaller");
    let with = check(&["check", "--progress", &file])?;
    let err = text(&with.stderr);
    if !err.contains("hidden_smaller: 2 paths to probe (2 hosts, 2 families)")
        || !err.contains("hidden_smaller: path 2/2 ")
    {
        return Err(format!("--progress said:\n{err}").into());
    }
    let without = check(&["check", &file])?;
    let err = text(&without.stderr);
    if err.contains("paths to probe") {
        return Err(format!("progress without --progress on a pipe:\n{err}").into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        live("report::json_contract", json_contract),
        live("report::junit_parses", junit_parses),
        live("report::expect_can_fail", expect_can_fail),
        live("report::progress_counts_paths", progress_counts_paths),
    ]
}
