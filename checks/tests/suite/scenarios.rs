//! One trial per bundled scenario × family × check, named
//! `scenario::NAME::FAMILY::CHECK` (`scenario::NAME::link_mtu_match` for the
//! family-less check), each asserting the scenario's `[expect]` on a fresh
//! lab. Without root (or a needed tool) trials are ignored with the reason,
//! never passed; MTULAB_REQUIRE_ROOT=1 makes that a failure. A scenario
//! with a tunnel kind the running kernel lacks (GRE, WireGuard, … here) is
//! ignored with the reason whatever MTULAB_REQUIRE_ROOT says.

use crate::common;

use common::*;
use libtest_mimic::{Failed, Trial};
use mtulab::check::{self, CheckOptions};
use mtulab_core::Family;
use mtulab_core::{CheckId, Loaded, Plan};

fn run_trial(loaded: &Loaded, family: Option<Family>, check_id: CheckId) -> Result<(), Failed> {
    let opts = CheckOptions {
        families: family
            .map(|f| vec![f])
            .unwrap_or_else(|| vec![Family::V4, Family::V6]),
        checks: vec![check_id],
        ..CheckOptions::default()
    };
    let report = check::run(loaded, &opts)?;
    let mismatches = check::compare_expect(&loaded.topology, &report, &opts);
    if mismatches.is_empty() {
        return Ok(());
    }
    Err(format!(
        "not as expected:\n  - {}\n\n{}",
        mismatches.join("\n  - "),
        mtulab::report::human(&report, false)
    )
    .into())
}

/// Why a (family, check) of this topology has nothing to check, if so.
fn nothing_to_check(plan: &Plan, family: Family, check_id: CheckId) -> Option<String> {
    let hosts = plan.hosts();
    let paths: Vec<_> = hosts
        .iter()
        .flat_map(|a| hosts.iter().map(move |b| (*a, *b)))
        .filter(|(a, b)| a != b)
        .filter_map(|(a, b)| plan.path(a, b, family))
        .collect();
    if paths.is_empty() {
        return Some(format!("no host pair has an {} path", family.as_str()));
    }
    if check_id == CheckId::IcmpPasses && paths.iter().all(|p| p.len() < 2) {
        return Some("no router on any path".into());
    }
    None
}

pub fn trials() -> Vec<Trial> {
    let mut trials = Vec::new();
    for file in toml_files(&topologies_dir()) {
        let loaded =
            harness::load::load_file(&file).unwrap_or_else(|e| panic!("bundled scenario: {e}"));
        let plan = &loaded.plan;
        let name = loaded.topology.name.clone();
        let kinds: Vec<_> = loaded
            .topology
            .tunnels
            .iter()
            .map(|t| (t.kind, t.underlay))
            .collect();
        let t = loaded.clone();
        trials.push(live_tunnels(
            format!("scenario::{name}::link_mtu_match"),
            kinds.clone(),
            move || run_trial(&t, None, CheckId::LinkMtuMatch),
        ));
        for family in [Family::V4, Family::V6] {
            for id in [CheckId::Pmtud, CheckId::TcpTransfer, CheckId::IcmpPasses] {
                let trial_name = format!(
                    "scenario::{name}::{}::{}",
                    family.as_str(),
                    id.as_str().replace('-', "_")
                );
                if let Some(why) = nothing_to_check(plan, family, id) {
                    trials.push(
                        Trial::test(trial_name, || Ok(()))
                            .with_ignored_flag(true)
                            .with_kind(why),
                    );
                    continue;
                }
                let t = loaded.clone();
                trials.push(live_tunnels(trial_name, kinds.clone(), move || {
                    run_trial(&t, Some(family), id)
                }));
            }
        }
    }
    trials
}
