//! The rollout review end to end: `mtulab snapshot` inside namespaces,
//! `mtulab import`, `mtulab check` / `mtulab diff` on the result.
//!
//! - `handbuilt::CASE::{broken,control}` (a chain, IPv6 only, an nft
//!   ruleset, a LAN segment with a mismatched member): networks built with plain `ip` /
//!   `nft` commands (namespaces `mlh-…`, removed by a guard), snapshotted
//!   from inside each namespace, imported and checked; the check's verdicts
//!   must equal what DF pings measure on the hand-built network itself.
//! - `snapshot::read_only`: links, addresses, routes, rulesets and sysctls
//!   are byte-identical before and after a snapshot; `snapshot::unread`:
//!   what it cannot read is listed (and nothing when it can).
//! - `roundtrip::NAME`: every bundled scenario built, snapshotted node by
//!   node, imported, checked: the same violations per check and path and
//!   the same path verdicts as the original. Scenarios import cannot
//!   express yet are ignored with the reason.
//! - `diff::…`: a change that breaks exits 1 naming the new violations, a
//!   fix exits 0 naming what it fixed, identical files report no change.
//! - `bad_input::…`: each new command exits 2 with file and what is wrong,
//!   and creates nothing.

mod bad_input;
mod diff;
mod handbuilt;
mod kit;
mod roundtrip;
mod snapshot;

use crate::common::*;
use libtest_mimic::Trial;

use bad_input::*;
use diff::*;
use handbuilt::*;
use roundtrip::*;
use snapshot::*;

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for (name, v4, v6) in [("chain_ipv4", true, false), ("ipv6_only", false, true)] {
        for broken in [true, false] {
            let variant = if broken { "broken" } else { "control" };
            let tag = format!("{}-{}", &name[..4], &variant[..1]);
            trials.push(live(format!("handbuilt::{name}::{variant}"), move || {
                chain(&tag, v4, v6, broken)
            }));
        }
    }
    trials.push(live("handbuilt::nft_ruleset::broken", || ruleset(true)));
    trials.push(live("handbuilt::nft_ruleset::control", || ruleset(false)));
    trials.push(live("handbuilt::lan_mismatched_member::broken", || {
        lan(true)
    }));
    trials.push(live("handbuilt::lan_mismatched_member::control", || {
        lan(false)
    }));
    trials.push(live("snapshot::read_only", snapshot_read_only));
    trials.push(live("snapshot::unread", snapshot_unread));
    for f in toml_files(&topologies_dir()) {
        let name = f.file_stem().unwrap().to_string_lossy().into_owned();
        // Snapshot decodes VXLAN's tunnel parameters only: a scenario with
        // another tunnel kind cannot come back from its snapshots yet.
        let other_kind = mtulab_core::Topology::from_file(&f).ok().and_then(|t| {
            t.tunnels
                .iter()
                .find(|t| t.kind != mtulab_core::topology::TunnelKind::Vxlan)
                .map(|t| t.kind)
        });
        let trial = live(format!("roundtrip::{name}"), move || roundtrip(&f));
        let gap = GAPS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, why)| why.to_string())
            .or_else(|| {
                other_kind.map(|k| {
                    format!("snapshot/import decode VXLAN tunnels only, this file has a {k} tunnel")
                })
            });
        match gap {
            Some(why) => trials.push(
                trial
                    .with_ignored_flag(true)
                    .with_kind(format!("import gap: {why}")),
            ),
            None => trials.push(trial),
        }
    }
    trials.push(live("diff::breaks_drop_icmp", || {
        expect_diff(
            "hidden_smaller_v6.toml",
            "icmp_blackhole_v6.toml",
            1,
            &[
                "INTRODUCED icmp-passes",
                "INTRODUCED pmtud",
                "INTRODUCED tcp-transfer server -> client",
            ],
        )
    }));
    trials.push(live("diff::breaks_lower_one_end", || {
        expect_diff(
            "direct_1500.toml",
            "direct_mismatch.toml",
            1,
            &["INTRODUCED link-mtu-match link 1"],
        )
    }));
    trials.push(live("diff::fixes", || {
        expect_diff(
            "icmp_blackhole_v6.toml",
            "hidden_smaller_v6.toml",
            0,
            &[
                "FIXED      icmp-passes",
                "FIXED      tcp-transfer server -> client",
                "0 introduced",
            ],
        )
    }));
    trials.push(live("diff::identical", || {
        expect_diff(
            "hidden_smaller_v6.toml",
            "hidden_smaller_v6.toml",
            0,
            &["0 introduced, 0 fixed", "(no change)"],
        )
    }));
    trials.push(live("diff::json_and_junit", || {
        let (c, out) = diff("direct_1500.toml", "direct_mismatch.toml", "json")?;
        let v: serde_json::Value = serde_json::from_str(
            out.lines()
                .skip_while(|l| !l.starts_with('{'))
                .collect::<Vec<_>>()
                .join("\n")
                .as_str(),
        )?;
        if c != 1 || v["introduced"][0]["check"] != "link-mtu-match" {
            return Err(format!("json diff: exit {c}: {out}").into());
        }
        let (c, out) = diff("direct_1500.toml", "direct_mismatch.toml", "junit")?;
        let xml_start = out.find("<?xml").ok_or("no xml")?;
        let doc = roxmltree::Document::parse(&out[xml_start..])?;
        let failures = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count();
        if c != 1 || failures == 0 {
            return Err(format!("junit diff: exit {c}, {failures} failures: {out}").into());
        }
        Ok(())
    }));
    trials.push(Trial::test("bad_input::import", bad_import));
    trials.push(Trial::test("bad_input::snapshot", bad_snapshot));
    trials.push(live("bad_input::diff", bad_diff));
    trials
}
