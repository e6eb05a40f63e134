//! `--pcap DIR` on real labs, read back with `tcpdump -r`: on icmp_blackhole
//! the server's big segments leave it and reach router-b, never leave
//! router-b towards router-a, and no frag-needed appears anywhere (router-b
//! drops its own at OUTPUT, before any interface). The control, the same
//! path without the filter (hidden_smaller): router-b's frag-needed
//! (mtu 1200) leaves router-b and reaches the server.

use crate::common;

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use harness::Lab;
use libtest_mimic::{Failed, Trial};
use mtulab::check::CheckOptions;
use mtulab::pcap::{capture_path, FailingPath};
use mtulab_core::{Family, Plan, Topology};

/// `tcpdump -nn -r FILE` (each line one packet); an error if tcpdump
/// cannot read it.
fn tcpdump(file: &Path) -> Result<Vec<String>, Failed> {
    let out = Command::new("tcpdump")
        .arg("-nn")
        .arg("-r")
        .arg(file)
        .output()?;
    if !out.status.success() {
        return Err(format!("tcpdump -r {}: {}", file.display(), text(&out.stderr)).into());
    }
    Ok(text(&out.stdout).lines().map(String::from).collect())
}

/// The one file in `dir` whose name ends with `suffix`.
fn file_ending(dir: &Path, suffix: &str) -> Result<PathBuf, Failed> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(format!("{n} files in {} end with {suffix}", dir.display()).into()),
    }
}

/// TCP segments from `src` carrying more than `payload` bytes.
fn big_segments(lines: &[String], src: IpAddr, payload: u32) -> usize {
    let from = format!("IP {src}.");
    lines
        .iter()
        .filter(|l| l.contains(&from) && l.contains("Flags ["))
        .filter_map(|l| l.rsplit("length ").next()?.trim().parse::<u32>().ok())
        .filter(|&n| n > payload)
        .count()
}

fn frag_needed(lines: &[String]) -> Vec<&String> {
    lines
        .iter()
        .filter(|l| l.contains("need to frag"))
        .collect()
}

fn server_addr(name: &str) -> Result<IpAddr, Failed> {
    let t = Topology::from_file(&topologies_dir().join(format!("{name}.toml")))?;
    Plan::new(&t)
        .address_of("server", Family::V4)
        .ok_or_else(|| "server has no IPv4 address".into())
}

/// The blackhole, through the CLI.
fn blackhole_story() -> Result<(), Failed> {
    let dir = Scratch::new("pcap-blackhole");
    let file = topologies_dir().join("icmp_blackhole.toml");
    let out = mtulab()
        .arg("check")
        .arg(&file)
        .args(["-4", "--format", "json", "--pcap"])
        .arg(&dir.0)
        .output()?;
    if out.status.code() != Some(1) {
        return Err(format!(
            "check exited {:?}: {}",
            out.status.code(),
            text(&out.stderr)
        )
        .into());
    }
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let listed = report["captures"].as_array().map(|a| a.len()).unwrap_or(0);
    let on_disk = std::fs::read_dir(&dir.0)?.count();
    if listed == 0 || listed != on_disk {
        return Err(format!("report lists {listed} captures, {on_disk} files written").into());
    }
    let server = server_addr("icmp_blackhole")?;
    let path = "icmp_blackhole.server-to-client.ipv4";
    let read = |s: &str| -> Result<Vec<String>, Failed> {
        tcpdump(&file_ending(&dir.0, &format!("{path}.{s}.pcapng"))?)
    };
    let sender = read("0-server.router-b")?;
    let rb_in = read("1-router-b.server")?;
    let rb_out = read("1-router-b.router-a")?;
    let client = read("3-client.router-a")?;
    // Over 1160 payload bytes does not fit the 1200 link.
    for (what, lines) in [
        ("leaving the server", &sender),
        ("reaching router-b", &rb_in),
    ] {
        if big_segments(lines, server, 1160) == 0 {
            return Err(format!("no big segments {what}:\n{}", lines.join("\n")).into());
        }
    }
    if big_segments(&rb_out, server, 1160) != 0 {
        return Err(format!(
            "big segments left router-b towards router-a:\n{}",
            rb_out.join("\n")
        )
        .into());
    }
    for (what, lines) in [
        ("server", &sender),
        ("router-b:server", &rb_in),
        ("router-b:router-a", &rb_out),
        ("client", &client),
    ] {
        let f = frag_needed(lines);
        if !f.is_empty() {
            return Err(
                format!("frag-needed seen on {what} (router-b drops its own): {f:?}").into(),
            );
        }
    }
    Ok(())
}

/// The fixed twin: the same path, ICMP allowed; the frag-needed leaves
/// router-b and reaches the server. Uses the library call `--pcap` makes.
fn fixed_twin_control() -> Result<(), Failed> {
    let dir = Scratch::new("pcap-fixed");
    let t = Topology::from_file(&topologies_dir().join("hidden_smaller.toml"))?;
    let lab = Lab::build(&t)?;
    let path = FailingPath {
        from: "server".into(),
        to: "client".into(),
        family: Family::V4,
        lost_icmp: vec![],
    };
    let started = std::time::Instant::now();
    let files = capture_path(&lab, &t.name, &path, &CheckOptions::default(), &dir.0)?;
    let took = started.elapsed();
    drop(lab);
    if files.len() != 6 {
        return Err(format!(
            "{} files, expected 6 (two per router, one per host): {files:?}",
            files.len()
        )
        .into());
    }
    let server = server_addr("hidden_smaller")?;
    let base = "hidden_smaller.server-to-client.ipv4";
    let read = |s: &str| -> Result<Vec<String>, Failed> {
        tcpdump(&file_ending(&dir.0, &format!("{base}.{s}.pcapng"))?)
    };
    let sender = read("0-server.router-b")?;
    let rb_in = read("1-router-b.server")?;
    for (what, lines) in [
        ("leaving router-b", &rb_in),
        ("reaching the server", &sender),
    ] {
        let f = frag_needed(lines);
        if !f.iter().any(|l| l.contains("mtu 1200")) {
            return Err(format!("no frag-needed (mtu 1200) {what}:\n{}", lines.join("\n")).into());
        }
    }
    if big_segments(&sender, server, 1160) == 0 {
        return Err("the server never sent a big segment (nothing for PMTUD to do)".into());
    }
    // The transfer recovers at once; the capture ends when the probes do.
    if took > std::time::Duration::from_secs(20) {
        return Err(format!("capturing one good path took {took:?}").into());
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    needs_tool(
        "tcpdump",
        vec![
            live("pcap::icmp_blackhole::story", blackhole_story),
            live(
                "pcap::hidden_smaller::frag_needed_reaches_sender",
                fixed_twin_control,
            ),
        ],
    )
}
