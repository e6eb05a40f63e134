//! Property tests over generated topologies, driven by hand with proptest's
//! `TestRunner` inside libtest-mimic trials:
//!
//! - `property::format_round_trip`: `to_toml` output parses back equal, and
//!   mutated files never make `Topology::from_str` panic (no root needed).
//! - `property::two_rules` (live): chains with matching link ends and no
//!   filters satisfy `pmtud` and `tcp-transfer` in both families.
//! - `property::planted_bug_is_caught` (live): a deliberately wrong PMTU model
//!   (egress MTUs only) is refuted on the kernel and shrunk to a small case.
//! - `property::two_rules_parallel` (live): the same property as `two_rules`
//!   on 2 threads, reporting cases/second.
//!
//! PROPTEST_CASES sets the number of cases (default: 256 for the format
//! property, 16 for live ones). Failures are persisted under
//! `checks/proptest-regressions/` and printed as ready-to-save TOML.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::live;
use harness::plan::Hop;
use harness::probe::ping::{self, PingOutcome};
use harness::topology::{default_iface_names, Filter, FilterKind, Hook, Link, Node};
use harness::{Family, Lab, Plan, Topology};
use libtest_mimic::{Arguments, Failed, Trial};
use mtulab::check::{self, CheckOptions};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};

// ---------------------------------------------------------------- strategies

/// What a generated topology may contain.
#[derive(Clone, Copy)]
struct Allow {
    mismatches: bool,
    filters: bool,
}

/// Common MTUs mostly, any MTU in 552..=9000 sometimes.
fn mtu() -> impl Strategy<Value = u32> {
    prop_oneof![
        5 => prop::sample::select(vec![1280u32, 1400, 1446, 1450, 1500, 4000, 9000]),
        1 => 552u32..=9000,
    ]
}

/// One link of the chain: its MTU and, maybe, a different MTU on the far end.
fn link_spec(mismatch: bool) -> BoxedStrategy<(u32, Option<u32>)> {
    if mismatch {
        (mtu(), prop::option::weighted(0.5, mtu())).boxed()
    } else {
        mtu().prop_map(|m| (m, None)).boxed()
    }
}

/// The links of a chain with 0–4 routers, in order from h0 to h1. Built as
/// first + router-router links + last so that shrinking removes routers
/// without moving a mismatch onto a host's link.
fn chain(mismatch: bool) -> impl Strategy<Value = Vec<(u32, Option<u32>)>> {
    let spec = || link_spec(mismatch);
    prop_oneof![
        4 => (spec(), prop::collection::vec(spec(), 0..=3), spec()).prop_map(
            |(first, mut middle, last)| {
                middle.insert(0, first);
                middle.push(last);
                middle
            }
        ),
        1 => spec().prop_map(|s| vec![s]),
    ]
}

fn hook() -> impl Strategy<Value = Hook> {
    prop::sample::select(vec![Hook::Input, Hook::Forward, Hook::Output])
}

/// Chain `h0 - r0 - … - r(n-1) - h1`; `links[i]` joins node i and i+1.
/// Mismatches (when `mismatch_anywhere` is false) are kept to router-router
/// links.
fn build(
    name: String,
    description: String,
    links: &[(u32, Option<u32>)],
    filters: &[(usize, Hook)],
    mismatch_anywhere: bool,
) -> Topology {
    let routers = links.len() - 1;
    let mut chain = vec!["h0".to_string()];
    chain.extend((0..routers).map(|i| format!("r{i}")));
    chain.push("h1".to_string());
    let mut nodes = BTreeMap::new();
    for n in &chain {
        nodes.insert(
            n.clone(),
            Node {
                router: n.starts_with('r'),
                sysctl: Vec::new(),
                ..Node::default()
            },
        );
    }
    let betweens: Vec<[String; 2]> = chain
        .windows(2)
        .map(|w| [w[0].clone(), w[1].clone()])
        .collect();
    let names = default_iface_names(&betweens);
    let last = betweens.len() - 1;
    let links = betweens
        .into_iter()
        .zip(names)
        .enumerate()
        .map(|(i, (between, names))| {
            let (a, b) = links[i];
            let between_routers = i != 0 && i != last;
            let b = match b {
                Some(b) if mismatch_anywhere || between_routers => b,
                _ => a,
            };
            Link {
                between,
                mtu: [a, b],
                names,
                ..Link::default()
            }
        })
        .collect();
    let filters = filters
        .iter()
        .map(|&(at, hook)| Filter {
            node: chain[at % chain.len()].clone(),
            kind: FilterKind::DropPmtuIcmp { hook },
        })
        .collect();
    Topology {
        name,
        description,
        source: None,
        nodes,
        links,
        filters,
        expect: None,
        ..Topology::default()
    }
}

/// Topologies for the format property: any valid name, description,
/// mismatches and filters as allowed.
fn any_topology(allow: Allow) -> impl Strategy<Value = Topology> {
    (
        "[a-z0-9_-]{1,24}",
        prop_oneof![3 => Just(String::new()), 1 => "[ -~]{0,30}", 1 => "\\PC{0,12}"],
        chain(allow.mismatches),
        if allow.filters {
            prop::collection::vec((0usize..6, hook()), 0..3).boxed()
        } else {
            Just(Vec::new()).boxed()
        },
    )
        .prop_map(|(name, desc, links, filters)| build(name, desc, &links, &filters, true))
}

/// Topologies for live properties: short unique names, matching ends unless
/// `allow.mismatches` (then only between routers), filters only if allowed.
fn live_topology(prefix: &'static str, allow: Allow) -> impl Strategy<Value = Topology> {
    (
        chain(allow.mismatches),
        if allow.filters {
            prop::collection::vec((0usize..6, hook()), 0..2).boxed()
        } else {
            Just(Vec::new()).boxed()
        },
    )
        .prop_map(move |(links, filters)| {
            // The lab id adds the pid and a sequence number to the name.
            build(prefix.to_string(), String::new(), &links, &filters, false)
        })
}

// ---------------------------------------------------------------- runner

fn cases(default: u32) -> u32 {
    match std::env::var("PROPTEST_CASES") {
        Ok(_) => Config::default().cases,
        Err(_) => default,
    }
}

fn config(cases: u32, persist: &'static str) -> Config {
    Config {
        cases,
        max_shrink_time: 60_000,
        max_shrink_iters: 256,
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(persist))),
        ..Config::default()
    }
}

macro_rules! regressions {
    ($name:literal) => {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/proptest-regressions/",
            $name,
            ".txt"
        )
    };
}

/// A shrunk failing topology as a ready-to-save file.
fn as_file(t: &Topology) -> String {
    format!(
        "# ---- shrunk failing topology ({} links), save as e.g. topologies/{}.toml\n{}# ----",
        t.links.len(),
        t.name,
        t.to_toml()
    )
}

fn outcome(
    property: &str,
    started: Instant,
    n: u32,
    r: Result<(), TestError<Topology>>,
) -> Result<(), Failed> {
    let secs = started.elapsed().as_secs_f64();
    match r {
        Ok(()) => {
            println!(
                "{property}: {n} cases passed in {secs:.1} s ({:.2} cases/s)",
                f64::from(n) / secs
            );
            Ok(())
        }
        Err(TestError::Fail(why, t)) => {
            Err(format!("{property} failed: {why}\n{}", as_file(&t)).into())
        }
        Err(TestError::Abort(why)) => Err(format!("{property} aborted: {why}").into()),
    }
}

// ---------------------------------------------------------------- properties

fn format_round_trip() -> Result<(), Failed> {
    let n = cases(256);
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n, regressions!("format_round_trip")));
    let strategy = any_topology(Allow {
        mismatches: true,
        filters: true,
    });
    let r = runner.run(&strategy, |t| {
        let text = t.to_toml();
        let back = Topology::from_str(&text, Path::new("generated.toml"))
            .map_err(|e| TestCaseError::fail(format!("to_toml output rejected: {e}\n{text}")))?;
        let mut back = back;
        back.source = None;
        prop_assert_eq!(&back, &t, "round trip differs; written as:\n{}", text);
        Ok(())
    });
    outcome("format_round_trip", started, n, r)?;

    // Mutated files: Ok or Err, never a panic.
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n, regressions!("format_mutations")));
    let edits = prop::collection::vec((0u8..6, any::<prop::sample::Index>(), "\\PC{0,8}"), 1..6);
    let strategy = (
        any_topology(Allow {
            mismatches: true,
            filters: true,
        }),
        edits,
    );
    let r = runner.run(&strategy, |(t, edits)| {
        let text = mutate(&t.to_toml(), &edits);
        let got = std::panic::catch_unwind(|| {
            let _ = Topology::from_str(&text, Path::new("mutated.toml"));
        });
        prop_assert!(got.is_ok(), "from_str panicked on:\n{}", text);
        Ok(())
    });
    let secs = started.elapsed().as_secs_f64();
    match r {
        Ok(()) => {
            println!("format_mutations: {n} cases passed in {secs:.1} s");
            Ok(())
        }
        Err(TestError::Fail(why, (_, edits))) => {
            Err(format!("from_str panicked: {why} (edits {edits:?})").into())
        }
        Err(TestError::Abort(why)) => Err(format!("aborted: {why}").into()),
    }
}

/// Apply byte and line edits to `text`.
fn mutate(text: &str, edits: &[(u8, prop::sample::Index, String)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for (kind, at, ins) in edits {
        let len = bytes.len().max(1);
        let i = at.index(len).min(bytes.len());
        match kind {
            0 => {
                // delete a byte
                if i < bytes.len() {
                    bytes.remove(i);
                }
            }
            1 => {
                // insert a string
                bytes.splice(i..i, ins.bytes());
            }
            2 => {
                // replace a byte with an arbitrary one
                if i < bytes.len() {
                    bytes[i] = ins.bytes().next().unwrap_or(0xff);
                }
            }
            kind => {
                let s = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<String> = s.lines().map(String::from).collect();
                if lines.is_empty() {
                    continue;
                }
                let l = at.index(lines.len());
                match kind {
                    3 => {
                        lines.remove(l);
                    }
                    4 => {
                        let dup = lines[l].clone();
                        lines.insert(l, dup);
                    }
                    _ => {
                        let m = (l + 1) % lines.len();
                        lines.swap(l, m);
                    }
                }
                bytes = lines.join("\n").into_bytes();
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Host-to-host paths (per family) the live two-rules cases have checked.
static PATHS_CHECKED: AtomicUsize = AtomicUsize::new(0);

/// The two rules on one topology: pmtud and tcp-transfer hold on every path.
fn two_rules_case(t: &Topology) -> Result<(), TestCaseError> {
    let opts = CheckOptions {
        families: vec![Family::V4, Family::V6],
        checks: vec![check::PMTUD, check::TCP_TRANSFER],
        transfer_bytes: 64 << 10,
    };
    let report = check::run(t, &opts).map_err(|e| TestCaseError::fail(format!("lab: {e}")))?;
    let human = || mtulab::report::human(&report, false);
    prop_assert!(report.ok, "violations:\n{}", human());
    prop_assert!(!report.paths.is_empty(), "no path checked");
    PATHS_CHECKED.fetch_add(report.paths.len(), Ordering::Relaxed);
    for p in &report.paths {
        prop_assert_eq!(
            p.observed_pmtu,
            Some(p.expected_pmtu),
            "{} -> {} {}:\n{}",
            &p.from,
            &p.to,
            &p.family,
            human()
        );
        prop_assert_eq!(
            p.transfer.as_deref(),
            Some("ok"),
            "{} -> {} {}:\n{}",
            &p.from,
            &p.to,
            &p.family,
            human()
        );
    }
    Ok(())
}

const MATCHING: Allow = Allow {
    mismatches: false,
    filters: false,
};

fn two_rules() -> Result<(), Failed> {
    let n = cases(16);
    let before = PATHS_CHECKED.load(Ordering::Relaxed);
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n, regressions!("two_rules")));
    let r = runner.run(&live_topology("prop-two-rules", MATCHING), |t| {
        two_rules_case(&t)
    });
    outcome("two_rules", started, n, r)?;
    println!(
        "two_rules: {} paths checked (pmtud + tcp-transfer, both families where configured)",
        PATHS_CHECKED.load(Ordering::Relaxed) - before
    );
    Ok(())
}

/// The same property on 2 threads: cases are generated up front from one
/// runner (so PROPTEST_CASES and persistence seeds apply), then split.
fn two_rules_parallel() -> Result<(), Failed> {
    let n = cases(16);
    let mut runner = TestRunner::new(config(n, regressions!("two_rules_parallel")));
    let strategy = live_topology("prop-par", MATCHING);
    let mut topologies = Vec::new();
    for _ in 0..n {
        topologies.push(strategy.new_tree(&mut runner)?.current());
    }
    let started = Instant::now();
    let halves: Vec<Vec<Topology>> = vec![
        topologies.iter().step_by(2).cloned().collect(),
        topologies.iter().skip(1).step_by(2).cloned().collect(),
    ];
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = halves
            .iter()
            .map(|half| {
                s.spawn(move || {
                    for t in half {
                        if let Err(e) = two_rules_case(t) {
                            return Err(format!("{e}\n{}", as_file(t)));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("thread panicked".into())))
            .collect()
    });
    let secs = started.elapsed().as_secs_f64();
    for r in results {
        r?;
    }
    println!(
        "two_rules_parallel: {n} cases on 2 threads in {secs:.1} s ({:.2} cases/s)",
        f64::from(n) / secs
    );
    Ok(())
}

/// The planted bug: a PMTU model that looks at egress MTUs only and ignores
/// a smaller receiving end.
fn wrong_model(hops: &[Hop]) -> u32 {
    hops.iter().map(|h| h.out_mtu).min().unwrap_or(0)
}

/// Against the kernel: a DF packet of the model's PMTU from h0 reaches h1.
fn model_case(t: &Topology, model: fn(&[Hop]) -> u32) -> Result<(), TestCaseError> {
    let plan = Plan::new(t);
    let hops = plan
        .path("h0", "h1", Family::V4)
        .ok_or_else(|| TestCaseError::fail("no IPv4 path h0 -> h1"))?;
    let predicted = model(&hops);
    let lab = Lab::build(t).map_err(|e| TestCaseError::fail(format!("lab: {e}")))?;
    let got = ping::df_ping_hosts(
        &lab,
        "h0",
        "h1",
        Family::V4,
        predicted,
        Duration::from_millis(500),
    )
    .map_err(|e| TestCaseError::fail(format!("probe: {e}")))?;
    drop(lab);
    prop_assert_eq!(
        got.outcome,
        PingOutcome::Reply,
        "the model predicts a path MTU of {} h0 -> h1, but a DF packet of that size got {:?}",
        predicted,
        got.outcome
    );
    Ok(())
}

fn planted_bug_is_caught() -> Result<(), Failed> {
    // Enough cases to meet a mismatch reliably; the failure ends the run early.
    let n = cases(32).max(32);
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n, regressions!("planted_bug_is_caught")));
    let strategy = live_topology(
        "prop-planted",
        Allow {
            mismatches: true,
            filters: false,
        },
    );
    let r = runner.run(&strategy, |t| model_case(&t, wrong_model));
    let secs = started.elapsed().as_secs_f64();
    match r {
        Ok(()) => Err(format!(
            "the wrong model survived {n} cases in {secs:.1} s: the machinery missed the planted bug"
        )
        .into()),
        Err(TestError::Abort(why)) => Err(format!("aborted: {why}").into()),
        Err(TestError::Fail(why, t)) => {
            println!(
                "planted_bug_is_caught: caught and shrunk in {secs:.1} s: {why}\n{}",
                as_file(&t)
            );
            if t.links.len() > 3 {
                return Err(format!("shrunk case is not small ({} links)", t.links.len()).into());
            }
            // Sanity: the shrunk case really has a smaller receiving end.
            if !t.links.iter().any(|l| l.mtu[0] != l.mtu[1]) {
                return Err("shrunk case has no per-end mismatch".into());
            }
            Ok(())
        }
    }
}

fn main() {
    let args = Arguments::from_args();
    let trials = vec![
        Trial::test("property::format_round_trip", format_round_trip),
        live("property::two_rules", two_rules),
        live("property::planted_bug_is_caught", planted_bug_is_caught),
        live("property::two_rules_parallel", two_rules_parallel),
    ];
    libtest_mimic::run(&args, trials).exit();
}
