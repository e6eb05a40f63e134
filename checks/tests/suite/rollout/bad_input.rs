//! `bad_input::…` trials: each new command exits 2 with file and what is wrong, and creates nothing.

use std::path::Path;

use crate::common::*;
use libtest_mimic::Failed;

/// Run `mtulab ARGS` expecting exit 2 and each needle in stderr, with
/// nothing created in `dir`.
pub(crate) fn bad(args: &[&str], needles: &[&str], dir: &Path) -> Result<(), Failed> {
    let before: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    let child = mtulab()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let o = child.wait_with_output()?;
    let err = text(&o.stderr);
    // Its namespaces carry its pid: none may be left.
    let left = namespaces_of_pid(pid);
    if !left.is_empty() {
        return Err(format!("namespaces left behind: {left:?}").into());
    }
    if o.status.code() != Some(2) {
        return Err(format!("exit {:?}, expected 2: {err}", o.status.code()).into());
    }
    for n in needles {
        if !err.contains(n) {
            return Err(format!("stderr lacks {n:?}: {err}").into());
        }
    }
    let after: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .collect();
    if before != after {
        return Err(format!("files were created: {after:?}").into());
    }
    Ok(())
}

pub(crate) fn bad_import() -> Result<(), Failed> {
    let s = Scratch::new("bad-imp");
    let d = &s.0;
    let p = |n: &str| d.join(n).to_string_lossy().into_owned();
    std::fs::write(d.join("junk.json"), "{ not json")?;
    std::fs::write(d.join("other.json"), "{\"schema\": \"something/2\"}")?;
    let out = p("out.toml");
    bad(
        &["import", &p("missing.json"), "-o", &out],
        &["missing.json", "cannot read snapshot"],
        d,
    )?;
    bad(
        &["import", &p("junk.json"), "-o", &out],
        &["junk.json", "not JSON", "line 1"],
        d,
    )?;
    bad(
        &["import", &p("other.json"), "-o", &out],
        &["other.json", "\"something/2\""],
        d,
    )?;
    // Snapshots of one interface each.
    let mk = |addr: &str, stem: &str| -> Result<(), Failed> {
        let text = format!(
            r#"{{"schema":"mtulab-snapshot/1","taken":0,"mtulab":"t","links":[{{"index":2,"name":"eth0","kind":"veth","mtu":1500,"up":true,"oper_state":"up"}}],"addresses":[{{"link":"eth0","address":"{addr}","prefix_len":24,"scope":"universe"}}],"routes":[],"sysctl":{{"net.ipv4.ip_forward":"1"}},"nft":"","iptables":null,"ip6tables":null,"unread":[]}}"#
        );
        std::fs::write(d.join(format!("{stem}.json")), text)?;
        Ok(())
    };
    mk("198.18.1.1", "ra")?;
    mk("198.18.1.2", "rb")?;
    mk("198.18.1.3", "rc")?;
    // Unmappable state: a machine on one LAN twice (rd's eth0 and eth1).
    std::fs::write(
        d.join("rd.json"),
        r#"{"schema":"mtulab-snapshot/1","taken":0,"mtulab":"t","links":[{"index":2,"name":"eth0","kind":"veth","mtu":1500,"up":true,"oper_state":"up"},{"index":3,"name":"eth1","kind":"veth","mtu":1500,"up":true,"oper_state":"up"}],"addresses":[{"link":"eth0","address":"198.18.1.4","prefix_len":24,"scope":"universe"},{"link":"eth1","address":"198.18.1.5","prefix_len":24,"scope":"universe"}],"routes":[],"sysctl":{"net.ipv4.ip_forward":"1"},"nft":"","iptables":null,"ip6tables":null,"unread":[]}"#,
    )?;
    bad(
        &[
            "import",
            &p("ra.json"),
            &p("rb.json"),
            &p("rd.json"),
            "-o",
            &out,
        ],
        &["rd.json", "two interfaces on subnet 198.18.1.0/24"],
        d,
    )?;
    // Three machines on one subnet are a LAN: a segment.
    let o = mtulab()
        .args([
            "import",
            &p("ra.json"),
            &p("rb.json"),
            &p("rc.json"),
            "-o",
            &out,
        ])
        .output()?;
    let written = std::fs::read_to_string(d.join("out.toml")).unwrap_or_default();
    if !o.status.success() || !written.contains("[[segments]]") {
        return Err(format!(
            "three machines on a LAN did not import as a segment: {}",
            text(&o.stderr)
        )
        .into());
    }
    std::fs::remove_file(d.join("out.toml"))?;
    // Its twin maps cleanly and writes the file.
    let o = mtulab()
        .args(["import", &p("ra.json"), &p("rb.json"), "-o", &out])
        .output()?;
    if !o.status.success() || !d.join("out.toml").exists() {
        return Err(format!("the two-machine twin did not import: {}", text(&o.stderr)).into());
    }
    std::fs::remove_file(d.join("out.toml"))?;
    bad(
        &["import", &p("ra.json"), "-o", &p("nodir/out.toml")],
        &["nodir", "does not exist"],
        d,
    )?;
    Ok(())
}

pub(crate) fn bad_snapshot() -> Result<(), Failed> {
    let s = Scratch::new("bad-snap");
    let d = &s.0;
    let nodir = d.join("nodir/x.json").to_string_lossy().into_owned();
    bad(&["snapshot", "-o", &nodir], &["nodir", "does not exist"], d)?;
    bad(
        &["snapshot", "--node", "Bad_Name"],
        &["\"Bad_Name\"", "not a valid node name"],
        d,
    )?;
    Ok(())
}

pub(crate) fn bad_diff() -> Result<(), Failed> {
    let s = Scratch::new("bad-diff");
    let d = &s.0;
    let inv = topologies_dir().join("invalid/mtu_range.toml");
    let good = topologies_dir().join("direct_1500.toml");
    bad(
        &["diff", &good.to_string_lossy(), &inv.to_string_lossy()],
        &["mtu_range.toml:"],
        d,
    )?;
    bad(
        &[
            "diff",
            &d.join("none.toml").to_string_lossy(),
            &good.to_string_lossy(),
        ],
        &["none.toml", "cannot read"],
        d,
    )?;
    Ok(())
}
