//! Property tests over generated topologies, driven by hand with proptest's
//! `TestRunner` inside libtest-mimic trials:
//!
//! - `property::format_round_trip`: `to_toml` output parses back equal, and
//!   mutated files never make `Topology::from_str` panic (no root needed).
//! - `property::two_rules` (live): chains with matching link ends and no
//!   filters satisfy `pmtud` and `tcp-transfer` in both families.
//! - `property::two_rules_parallel` (live): the same property as `two_rules`
//!   on 2 threads, reporting cases/second.
//! - `property::model_matches_kernel` (live): on generated trees (0–4
//!   routers, extra hosts, per-end mismatches, ICMP filters, sometimes
//!   `tcp_mtu_probing` on a host or an `mss_clamp` on a router),
//!   `mtulab::model`'s predictions per host path and
//!   family — routed path MTU, learned PMTU, DF pings at and one byte over
//!   the path MTU, transfer verdict — equal what the kernel does. What the
//!   model calls `Unknown` is skipped and counted.
//! - `property::planted_bug_is_caught` (live): the same comparison against
//!   the model with `ModelOptions::planted_bug` (receiving-end MTUs
//!   ignored) fails and shrinks to a small topology.
//!
//! PROPTEST_CASES sets the number of cases (default: 256 for the format
//! property, 16 for two_rules, 24 for model_matches_kernel; the planted
//! bug gets at least 32). The model properties run two `TestRunner`s on
//! two threads (MTULAB_PROPERTY_THREADS changes that). Failures are
//! persisted under `checks/proptest-regressions/`, replayed first, and
//! printed with every difference and the shrunk topology as ready-to-save
//! TOML.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use common::live;
use harness::lab::LabNode;
use harness::probe::exceptions;
use harness::probe::ping::{self, PingOutcome, PingResult};
use harness::probe::tracepath::{self, TraceOpts};
use harness::probe::transfer::{self, TransferOpts, TransferVerdict};
use harness::topology::{
    default_iface_names, ClampTo, Filter, FilterKind, Hook, Link, MssClamp, Node,
};
use harness::{netlink, sysctl};
use harness::{Family, Lab, Plan, Topology};
use libtest_mimic::{Arguments, Failed, Trial};
use mtulab::check::{self, CheckOptions};
use mtulab::model::{self, ModelOptions};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{
    Config, FailurePersistence, FileFailurePersistence, PersistedSeed, RngSeed, TestCaseError,
    TestError, TestRunner,
};

// ---------------------------------------------------------------- strategies

/// What a generated topology may contain.
#[derive(Clone, Copy)]
struct Allow {
    mismatches: bool,
    filters: bool,
}

/// Common MTUs mostly, any MTU in 552..=9000 sometimes. Listed widest
/// first because `select` shrinks towards the first: a link that plays no
/// part in a failure shrinks to 9000, too wide to matter, and drops out of
/// the picture.
fn mtu() -> impl Strategy<Value = u32> {
    prop_oneof![
        5 => prop::sample::select(vec![9000u32, 4000, 1500, 1450, 1446, 1400, 1280]),
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
    assemble(name, description, nodes, links, &chain, filters)
}

/// The topology of `nodes` and `links`, with a `drop = "pmtu-icmp"` filter
/// at `order[at % len]` for each of `filters`.
fn assemble(
    name: String,
    description: String,
    nodes: BTreeMap<String, Node>,
    links: Vec<Link>,
    order: &[String],
    filters: &[(usize, Hook)],
) -> Topology {
    let filters = filters
        .iter()
        .map(|&(at, hook)| Filter {
            node: order[at % order.len()].clone(),
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

    // The live trees too: sysctls, MSS clamps and their interfaces.
    let started = Instant::now();
    let mut runner = TestRunner::new(config(n, regressions!("format_round_trip_trees")));
    let r = runner.run(&tree_topology("tree"), |t| {
        let text = t.to_toml();
        let mut back = Topology::from_str(&text, Path::new("generated.toml"))
            .map_err(|e| TestCaseError::fail(format!("to_toml output rejected: {e}\n{text}")))?;
        back.source = None;
        prop_assert_eq!(&back, &t, "round trip differs; written as:\n{}", text);
        Ok(())
    });
    outcome("format_round_trip (trees)", started, n, r)?;

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

// ---------------------------------------------------------------- model = kernel

/// Tree topologies for `model_matches_kernel`: a chain `h0 - r0 … - h1` of
/// 0–4 routers, up to two more hosts hanging off its routers, per-end
/// mismatches on any link now and then, declarative ICMP filters at random
/// nodes and hooks, `tcp_mtu_probing=1` on a random host now and then, an
/// `mss_clamp` on a random router now and then (a second one rarely). Every
/// part is a vec or an option, so shrinking removes routers, hosts, filters,
/// clamps and mismatches one at a time.
fn tree_topology(prefix: &'static str) -> impl Strategy<Value = Topology> {
    let spec = || (mtu(), prop::option::weighted(0.2, mtu()));
    (
        (
            spec(),
            prop::collection::vec(spec(), 0..=3),
            prop::option::weighted(0.8, spec()),
        ),
        prop::collection::vec((0usize..4, spec()), 0..=2),
        prop::collection::vec((0usize..8, hook()), 0..=2),
        prop::option::weighted(0.1, 0usize..4),
        (
            prop::option::weighted(0.35, clamp()),
            prop::option::weighted(0.1, clamp()),
        ),
    )
        .prop_map(
            move |((first, middle, last), extra, filters, probing, clamps)| {
                // No last link: h0 - h1 directly (no routers, no extra hosts).
                let mut chain = vec![first];
                let extra = match last {
                    Some(last) => {
                        chain.extend(middle);
                        chain.push(last);
                        extra
                    }
                    None => Vec::new(),
                };
                let clamps: Vec<ClampSpec> = [clamps.0, clamps.1].into_iter().flatten().collect();
                build_tree(prefix, &chain, &extra, &filters, probing, &clamps)
            },
        )
}

/// An `mss_clamp` for `build_tree`: router index (modulo the routers),
/// what to clamp to, and maybe an `mss_clamp_oif` (index, modulo the
/// router's interfaces).
type ClampSpec = (usize, ClampTo, Option<usize>);

/// A router's MSS clamp now and then: `"pmtu"` or a fixed MSS from a
/// meaningful set (what fits 1200, 1280, 1400, 1420, 1500 and 8040-byte
/// packets, IPv4), sometimes limited to one outgoing interface. Listed
/// weakest first (8000 lowers nothing below a 8040-byte path), so that
/// `select` shrinks towards the clamp that changes least; the options
/// around it shrink to no clamp at all.
fn clamp() -> impl Strategy<Value = ClampSpec> {
    (
        0usize..4,
        prop::sample::select(vec![
            ClampTo::Mss(8000),
            ClampTo::Mss(1460),
            ClampTo::Mss(1400),
            ClampTo::Mss(1360),
            ClampTo::Mss(1240),
            ClampTo::Mss(1160),
            ClampTo::Pmtu,
        ]),
        prop::option::weighted(0.3, 0usize..4),
    )
}

/// `chain[i]` joins node i and i+1 of `h0 r0 … h1`; `extra[k]` joins host
/// h(2+k) to router `r(at % routers)`.
fn build_tree(
    name: &str,
    chain: &[(u32, Option<u32>)],
    extra: &[(usize, (u32, Option<u32>))],
    filters: &[(usize, Hook)],
    probing: Option<usize>,
    clamps: &[ClampSpec],
) -> Topology {
    let routers = chain.len() - 1;
    let mut order = vec!["h0".to_string()];
    order.extend((0..routers).map(|i| format!("r{i}")));
    order.push("h1".to_string());
    let mut betweens: Vec<[String; 2]> = order
        .windows(2)
        .map(|w| [w[0].clone(), w[1].clone()])
        .collect();
    let mut specs = chain.to_vec();
    let mut hosts = vec!["h0".to_string(), "h1".to_string()];
    if routers > 0 {
        for (k, &(at, spec)) in extra.iter().enumerate() {
            let host = format!("h{}", k + 2);
            betweens.push([format!("r{}", at % routers), host.clone()]);
            specs.push(spec);
            hosts.push(host.clone());
            order.push(host);
        }
    }
    let probing_host = probing.map(|i| hosts[i % hosts.len()].clone());
    let mut nodes: BTreeMap<String, Node> = order
        .iter()
        .map(|n| {
            let mut sysctl = Vec::new();
            if probing_host.as_deref() == Some(n.as_str()) {
                sysctl.push(("net.ipv4.tcp_mtu_probing".to_string(), "1".to_string()));
            }
            let node = Node {
                router: n.starts_with('r'),
                sysctl,
                ..Node::default()
            };
            (n.clone(), node)
        })
        .collect();
    let names = default_iface_names(&betweens);
    // Each clamp's router and its interfaces (as the router names them).
    let clamps: BTreeMap<String, MssClamp> = if routers == 0 {
        BTreeMap::new()
    } else {
        clamps
            .iter()
            .map(|&(at, to, oif)| {
                let router = format!("r{}", at % routers);
                let ifaces: Vec<&String> = betweens
                    .iter()
                    .zip(&names)
                    .flat_map(|(b, n)| b.iter().zip(n).filter(|(node, _)| **node == router))
                    .map(|(_, name)| name)
                    .collect();
                let oif = oif.map(|i| ifaces[i % ifaces.len()].clone());
                (router, MssClamp { to, oif })
            })
            .collect()
    };
    for (router, clamp) in clamps {
        if let Some(n) = nodes.get_mut(&router) {
            n.mss_clamp = Some(clamp);
        }
    }
    let links = betweens
        .into_iter()
        .zip(names)
        .zip(specs)
        .map(|((between, names), (a, b))| Link {
            between,
            mtu: [a, b.unwrap_or(a)],
            names,
            ..Link::default()
        })
        .collect();
    assemble(
        name.to_string(),
        String::new(),
        nodes,
        links,
        &order,
        filters,
    )
}

/// What the model-versus-kernel comparisons counted, over all cases.
#[derive(Default)]
struct Tally {
    cases: AtomicUsize,
    paths: AtomicUsize,
    compared: AtomicUsize,
    /// Comparisons skipped because the model says `Unknown`.
    unknown: AtomicUsize,
    /// Kernel silences and learned PMTUs re-probed with long deadlines
    /// before counting as a difference.
    reprobed: AtomicUsize,
    /// Microseconds spent per activity: lab, path MTU and learned PMTU, pings, transfers.
    micros: [AtomicU64; 4],
    /// Kernel transfer verdicts: ok, recovered, blackhole.
    verdicts: [AtomicUsize; 3],
    /// Transfers compared where the model predicts an MSS clamp lowers
    /// the sender's segments, and of those, where the model's verdict
    /// without the topology's clamps differs (the clamp decides).
    clamped: AtomicUsize,
    clamp_decides: AtomicUsize,
}

impl Tally {
    fn line(&self) -> String {
        format!(
            "{} cases, {} host paths, {} comparisons, {} skipped as Unknown by the model, {} re-probed with long deadlines",
            self.cases.load(Ordering::Relaxed),
            self.paths.load(Ordering::Relaxed),
            self.compared.load(Ordering::Relaxed),
            self.unknown.load(Ordering::Relaxed),
            self.reprobed.load(Ordering::Relaxed)
        ) + &format!(
            "; seconds in labs {:.1}, path MTU + learned {:.1}, pings {:.1}, transfers {:.1} \
             (ok {}, recovered {}, blackhole {}; {} under an MSS clamp, {} decided by it)",
            self.secs(LABS),
            self.secs(LEARN),
            self.secs(PINGS),
            self.secs(TRANSFERS),
            self.verdicts[0].load(Ordering::Relaxed),
            self.verdicts[1].load(Ordering::Relaxed),
            self.verdicts[2].load(Ordering::Relaxed),
            self.clamped.load(Ordering::Relaxed),
            self.clamp_decides.load(Ordering::Relaxed)
        )
    }

    fn secs(&self, what: usize) -> f64 {
        self.micros[what].load(Ordering::Relaxed) as f64 / 1e6
    }

    fn spent(&self, what: usize, since: Instant) {
        self.micros[what].fetch_add(since.elapsed().as_micros() as u64, Ordering::Relaxed);
    }
}

const LABS: usize = 0;
const LEARN: usize = 1;
const PINGS: usize = 2;
const TRANSFERS: usize = 3;

/// DF pings: a short deadline (answers on veth take well under a
/// millisecond once the warm-up resolved the neighbours); a silence the
/// model did not predict is re-probed with a long one before it counts.
const PING_SHORT: Duration = Duration::from_millis(100);
const PING_LONG: Duration = Duration::from_secs(2);
/// The sender's PMTUD, fast: once a TTL is silent every higher one is
/// too (the same packet meets the same drop), and answers on veth take
/// well under a millisecond. A learned PMTU the model did not predict is
/// measured again with iputils-like patience before it counts.
const TRACE_FAST: TraceOpts = TraceOpts {
    max_hops: 30,
    probe_timeout: Duration::from_millis(25),
    attempts: 1,
    max_silent_hops: 1,
    initial_mtu: 65535,
    base_port: 44444,
};
/// Bulk transfer size: enough full-size segments to hit any bottleneck.
const TRANSFER_BYTES: u64 = 64 << 10;

/// The node owning `addr` in the plan, or the address itself.
fn node_of(plan: &Plan, addr: IpAddr) -> String {
    plan.nodes
        .iter()
        .find(|n| {
            n.interfaces.iter().any(|i| {
                i.ipv4.as_ref().map(|a| a.addr) == Some(addr)
                    || i.ipv6.as_ref().map(|a| a.addr) == Some(addr)
            })
        })
        .map(|n| n.name.clone())
        .unwrap_or_else(|| addr.to_string())
}

fn model_ping(p: &model::Ping) -> String {
    match p {
        model::Ping::Reply => "reply".into(),
        model::Ping::TooBig { mtu, from_node } => format!("too-big mtu {mtu} from {from_node}"),
        model::Ping::LocalTooBig { mtu } => format!("local-too-big mtu {mtu}"),
        model::Ping::Silence => "silence".into(),
    }
}

/// The kernel's answer in the model's words (the ICMP source address
/// mapped back to its node through the plan).
fn kernel_ping(plan: &Plan, r: &PingResult) -> String {
    let from = || {
        r.from
            .map(|a| node_of(plan, a))
            .unwrap_or_else(|| "?".into())
    };
    let mtu = || r.mtu.map(|m| m.to_string()).unwrap_or_else(|| "?".into());
    match r.outcome {
        PingOutcome::Reply => "reply".into(),
        PingOutcome::TooBig => format!("too-big mtu {} from {}", mtu(), from()),
        PingOutcome::LocalTooBig => format!("local-too-big mtu {}", mtu()),
        PingOutcome::Silence => "silence".into(),
        PingOutcome::Unreachable => format!("unreachable {:?} from {}", r.icmp, from()),
    }
}

/// The path MTU as the kernel routes it: from `from`, each node's route
/// lookup towards `dst` gives the interface the packets leave by; the
/// smallest MTU (read back from the kernel) of every interface they leave
/// or enter until `to`. Also the way, for messages.
fn kernel_path_mtu(lab: &Lab, from: &str, to: &str, dst: IpAddr) -> Result<(u32, String), String> {
    let mut node = from.to_string();
    let mut min = u32::MAX;
    let mut way = Vec::new();
    for _ in 0..lab.plan.nodes.len() {
        let n = lab.node(&node).ok_or("node")?;
        let r = exceptions::route_get(n, dst).map_err(|e| e.to_string())?;
        let oif = r
            .oif
            .ok_or(format!("{node}: no output interface towards {dst}"))?;
        let iface = lab
            .plan
            .node(&node)
            .and_then(|p| {
                p.interfaces
                    .iter()
                    .find(|i| lab.ifindex(&node, &i.name) == Some(oif))
            })
            .ok_or(format!("{node}: ifindex {oif} is no lab interface"))?;
        let mtu_of = |n: &str, i: &str| {
            lab.mtus
                .get(&(n.to_string(), i.to_string()))
                .copied()
                .ok_or(format!("no MTU read back for {n}:{i}"))
        };
        let out = mtu_of(&node, &iface.name)?;
        let inn = mtu_of(&iface.peer_node, &iface.peer_iface)?;
        min = min.min(out).min(inn);
        way.push(format!(
            "{node}:{} {out} -> {}:{} {inn}",
            iface.name, iface.peer_node, iface.peer_iface
        ));
        if iface.peer_node == to {
            return Ok((min, way.join(", ")));
        }
        node = iface.peer_node.clone();
    }
    Err(format!(
        "no route from {from} reaches {to} ({})",
        way.join(", ")
    ))
}

/// `exceptions::flush_node` for one family: IPv4 bumps the namespace's
/// IPv4 route generation (`net.ipv4.route.flush`, every IPv4 exception
/// stale, IPv6 untouched), IPv6 deletes each cloned IPv6 route (IPv4
/// untouched); then no exception of that family may carry an MTU.
fn flush_family(node: &LabNode, family: Family) -> Result<(), String> {
    let name = &node.name;
    let of_family = |e: &netlink::RouteLookup| e.dst.is_ipv4() == (family == Family::V4);
    let list = || exceptions::list(node).map_err(|e| e.to_string());
    match family {
        Family::V4 => node
            .ns
            .run(|| sysctl::write("net.ipv4.route.flush", "1"))
            .map_err(|e| format!("{name}: {e}"))?
            .map_err(|e| format!("{name}: set {}={}: {}", e.key, e.value, e.source))?,
        Family::V6 => {
            let dels: Vec<netlink::Request> = list()?
                .iter()
                .filter(|e| of_family(e))
                .map(|e| {
                    netlink::Request::plain(
                        format!("delete IPv6 exception to {}", e.dst),
                        netlink::del_exception(e),
                    )
                })
                .collect();
            match node.rtnl().execute(dels) {
                Ok(()) => {}
                // Expired or removed meanwhile: gone is what we want.
                Err(netlink::NetlinkError::Request { source, .. })
                    if source.raw_os_error() == Some(libc::ESRCH)
                        || source.raw_os_error() == Some(libc::ENOENT) => {}
                Err(e) => return Err(format!("{name}: {e}")),
            }
        }
    }
    let left: Vec<String> = list()?
        .into_iter()
        .filter(|e| of_family(e) && e.mtu.is_some())
        .map(|e| format!("{} mtu {}", e.dst, e.mtu.unwrap_or(0)))
        .collect();
    if left.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{name}: exceptions left after the flush: {}",
            left.join(", ")
        ))
    }
}

/// Compare one path's predictions with the kernel; push every difference
/// (with `all` false, stop at the first one: what shrinking needs).
fn compare_path(
    lab: &Lab,
    p: &model::PathPrediction,
    unclamped: Option<&model::PathPrediction>,
    all: bool,
    tally: &Tally,
    diffs: &mut Vec<String>,
) -> Result<(), String> {
    let (from, to, family) = (p.from.as_str(), p.to.as_str(), p.family);
    let subject = format!("{from} -> {to} {family}");
    let probe = |e: harness::probe::error::ProbeError| format!("{subject}: {e}");
    // `detail` is shown only with a difference. True: stop here (a
    // difference, and only the first one is wanted).
    let mut differ = |what: &str, model: String, kernel: String, detail: String| {
        tally.compared.fetch_add(1, Ordering::Relaxed);
        if model == kernel {
            return false;
        }
        diffs.push(format!(
            "{subject}: {what}: model {model}, kernel {kernel}{detail}"
        ));
        !all
    };
    let unknown = || {
        tally.unknown.fetch_add(1, Ordering::Relaxed);
    };
    let (sender, receiver) = (
        lab.node(from).ok_or("sender")?,
        lab.node(to).ok_or("receiver")?,
    );
    // Only the two ends can hold an exception after a probe between them:
    // the kernel caches one where a too-big arrives about a packet the node
    // sent (the probes, their replies and ACKs); routers only forward and
    // answer (`model_case` checks that no router ever holds one). So
    // flushing both ends before each probe starts it from the state a flush
    // of the whole lab would (what the `*_hosts` probes do, at three times
    // the cost on a six-node lab). Only this family's exceptions: the other
    // family's path between the same ends may be probed meanwhile
    // (`compare_paths`), and a too-big only ever makes an exception in its
    // own family.
    let fresh = || -> Result<(), String> {
        flush_family(sender, family).map_err(|e| format!("{subject}: {e}"))?;
        flush_family(receiver, family).map_err(|e| format!("{subject}: {e}"))?;
        Ok(())
    };
    // A minimal echo first, once per path: the path is up and neighbours
    // are resolved, so a silence later can only mean the size.
    let small = match family {
        Family::V4 => 28,
        Family::V6 => 48,
    };
    let warm = ping::df_ping(&sender.ns, p.dst, small, PING_LONG).map_err(probe)?;
    if warm.outcome != PingOutcome::Reply {
        return Err(format!(
            "{subject}: a {small}-byte echo got {:?}: the path is down",
            warm.outcome
        ));
    }

    // Path MTU as routed.
    let t0 = Instant::now();
    let (kernel_mtu, way) = kernel_path_mtu(lab, from, to, p.dst)?;
    if differ(
        "path MTU",
        p.path_mtu.to_string(),
        kernel_mtu.to_string(),
        format!(" (kernel route: {way})"),
    ) {
        return Ok(());
    }

    // What the sender learns: tracepath (the sender's PMTUD), then its route lookup.
    match p.learned_pmtu.known() {
        None => unknown(),
        Some(l) => {
            let own = lab
                .mtus
                .get(&(from.to_string(), p.hops[0].out_iface.clone()))
                .copied()
                .unwrap_or(p.hops[0].out_mtu);
            let show =
                |mtu: u32, locked: bool| format!("{mtu}{}", if locked { " locked" } else { "" });
            let learn = |opts: &TraceOpts| -> Result<_, String> {
                fresh()?;
                let trace = tracepath::tracepath(&sender.ns, p.dst, opts).map_err(probe)?;
                let got = exceptions::route_get(sender, p.dst).map_err(probe)?;
                Ok((show(got.mtu.unwrap_or(own), got.locked), trace))
            };
            let want = show(l.mtu, l.locked);
            let (mut got, mut trace) = learn(&TRACE_FAST)?;
            if got != want {
                tally.reprobed.fetch_add(1, Ordering::Relaxed);
                (got, trace) = learn(&TraceOpts::default())?;
            }
            if differ(
                "learned PMTU (tracepath, then route lookup)",
                want,
                got,
                format!(
                    " (tracepath: pmtu {}, reached {}, hops {:?})",
                    trace.pmtu,
                    trace.reached,
                    trace
                        .hops
                        .iter()
                        .map(|h| (h.addr.map(|a| node_of(&lab.plan, a)), h.pmtu))
                        .collect::<Vec<_>>()
                ),
            ) {
                return Ok(());
            }
        }
    }

    tally.spent(LEARN, t0);
    // DF pings at the path MTU and one byte over (each from a flushed lab).
    let t0 = Instant::now();
    for (what, size, pred) in [
        ("DF ping at the path MTU", p.path_mtu, &p.ping_at_pmtu),
        ("DF ping one byte over", p.path_mtu + 1, &p.ping_over_pmtu),
    ] {
        let Some(pred) = pred.known() else {
            unknown();
            continue;
        };
        let want = model_ping(pred);
        fresh()?;
        let mut got = ping::df_ping(&sender.ns, p.dst, size, PING_SHORT).map_err(probe)?;
        if got.outcome == PingOutcome::Silence && *pred != model::Ping::Silence {
            tally.reprobed.fetch_add(1, Ordering::Relaxed);
            fresh()?;
            got = ping::df_ping(&sender.ns, p.dst, size, PING_LONG).map_err(probe)?;
        }
        if differ(
            &format!("{what} ({size} bytes)"),
            want,
            kernel_ping(&lab.plan, &got),
            String::new(),
        ) {
            return Ok(());
        }
    }

    tally.spent(PINGS, t0);
    // The bulk transfer's verdict.
    let t0 = Instant::now();
    match p.transfer.known() {
        None => unknown(),
        Some(v) => {
            fresh()?;
            let opts = TransferOpts {
                bytes: TRANSFER_BYTES,
                ..Default::default()
            };
            let t = transfer::transfer(&sender.ns, &receiver.ns, p.dst, &opts).map_err(probe)?;
            let (got, k) = match t.verdict {
                TransferVerdict::Ok => ("ok", 0),
                TransferVerdict::Recovered => ("recovered", 1),
                TransferVerdict::Blackhole => ("blackhole", 2),
            };
            tally.verdicts[k].fetch_add(1, Ordering::Relaxed);
            if p.mss_clamp.is_some() {
                tally.clamped.fetch_add(1, Ordering::Relaxed);
                if unclamped.is_some_and(|u| u.transfer.known() != p.transfer.known()) {
                    tally.clamp_decides.fetch_add(1, Ordering::Relaxed);
                }
            }
            let detail = format!(
                " ({} of {} bytes in {:.2} s, pmtu {}, snd_mss {}, {} RTOs)",
                t.bytes, t.requested, t.seconds, t.pmtu, t.snd_mss, t.rtos
            );
            if differ("transfer", v.as_str().to_string(), got.to_string(), detail) {
                return Ok(());
            }
        }
    }
    tally.spent(TRANSFERS, t0);
    // The next probe flushes first, as every probe does.
    Ok(())
}

/// Paths of one lab compared at the same time (MTULAB_PROPERTY_LANES,
/// default 2; 1 runs them one after the other).
fn lanes() -> usize {
    std::env::var("MTULAB_PROPERTY_LANES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
        .max(1)
}

/// `compare_path` for each of `paths` (with its clamp-less twin), on up to
/// `lanes()` threads, never two paths of one family with a node in common
/// at the same time: each probe starts by flushing its two ends' PMTU
/// exceptions of its family (IPv4 has no finer flush than all of them),
/// and a too-big only makes an exception in its own family at the node it
/// reaches, so paths of different families, or of one family with four
/// different ends, share no state the comparison reads (routers hold no
/// exceptions: `model_case` checks; PMTU ICMP is exempt from the kernel's
/// ICMP rate limits). So a path's IPv4 and IPv6 probes overlap, and in a
/// tree of four hosts two paths of one family may. The differences come
/// in path order (with `all` false, no new path starts after the first).
fn compare_paths(
    lab: &Lab,
    paths: &[(&model::PathPrediction, Option<&model::PathPrediction>)],
    all: bool,
    tally: &Tally,
) -> Result<Vec<String>, String> {
    struct Lanes<'a> {
        pending: Vec<usize>,
        busy: Vec<(&'a str, Family)>,
        diffs: Vec<(usize, Vec<String>)>,
        error: Option<String>,
    }
    let state = Mutex::new(Lanes {
        pending: (0..paths.len()).collect(),
        busy: Vec::new(),
        diffs: Vec::new(),
        error: None,
    });
    let freed = Condvar::new();
    let lock = || state.lock().unwrap_or_else(|e| e.into_inner());
    let lane = || {
        let mut g = lock();
        loop {
            let done = g.error.is_some() || (!all && !g.diffs.is_empty()) || g.pending.is_empty();
            if done {
                freed.notify_all();
                return;
            }
            let free = g.pending.iter().position(|&i| {
                let p = paths[i].0;
                !g.busy.contains(&(p.from.as_str(), p.family))
                    && !g.busy.contains(&(p.to.as_str(), p.family))
            });
            let Some(at) = free else {
                g = freed.wait(g).unwrap_or_else(|e| e.into_inner());
                continue;
            };
            let i = g.pending.remove(at);
            let (p, u) = paths[i];
            g.busy
                .extend([(p.from.as_str(), p.family), (p.to.as_str(), p.family)]);
            drop(g);
            tally.paths.fetch_add(1, Ordering::Relaxed);
            let mut diffs = Vec::new();
            let r = compare_path(lab, p, u, all, tally, &mut diffs);
            g = lock();
            g.busy
                .retain(|&(n, f)| f != p.family || (n != p.from && n != p.to));
            match r {
                Err(e) => g.error = g.error.take().or(Some(e)),
                Ok(()) if !diffs.is_empty() => g.diffs.push((i, diffs)),
                Ok(()) => {}
            }
            freed.notify_all();
        }
    };
    std::thread::scope(|s| {
        for _ in 1..lanes() {
            s.spawn(lane);
        }
        lane();
    });
    let mut done = state.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = done.error {
        return Err(e);
    }
    done.diffs.sort_by_key(|(i, _)| *i);
    Ok(done.diffs.into_iter().flat_map(|(_, d)| d).collect())
}

/// One case of `model_matches_kernel`: build the lab, predict with
/// `options`, compare every host path in both families (with `all` false,
/// stop at the first difference).
fn model_case(
    t: &Topology,
    options: &ModelOptions,
    all: bool,
    tally: &Tally,
) -> Result<(), TestCaseError> {
    let t0 = Instant::now();
    let lab = Lab::build(t).map_err(|e| TestCaseError::fail(format!("lab: {e}")))?;
    tally.spent(LABS, t0);
    let predicted = model::predict_with(t, &lab.plan, options);
    // The same topology without its clamps, to count the verdicts a clamp decides.
    let mut bare = t.clone();
    for n in bare.nodes.values_mut() {
        n.mss_clamp = None;
    }
    let unclamped = model::predict_with(&bare, &lab.plan, options);
    let paths: Vec<_> = predicted
        .paths
        .iter()
        .map(|p| {
            let u = unclamped
                .paths
                .iter()
                .find(|u| u.from == p.from && u.to == p.to && u.family == p.family);
            (p, u)
        })
        .collect();
    let diffs = compare_paths(&lab, &paths, all, tally).map_err(TestCaseError::fail)?;
    // What lets `compare_path` flush only the two ends: no router learned anything.
    let left = exceptions::live_in(&lab).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let on_routers: Vec<_> = left
        .iter()
        .filter(|(n, _)| lab.plan.node(n).is_some_and(|p| p.router))
        .map(|(n, e)| format!("{n}: {} mtu {:?}", e.dst, e.mtu))
        .collect();
    prop_assert!(
        on_routers.is_empty(),
        "routers hold PMTU exceptions after the probes: {:?}",
        on_routers
    );
    tally.cases.fetch_add(1, Ordering::Relaxed);
    let t0 = Instant::now();
    drop(lab);
    tally.spent(LABS, t0);
    if diffs.is_empty() {
        Ok(())
    } else {
        Err(TestCaseError::fail(format!(
            "{} model-versus-kernel differences:\n  {}",
            diffs.len(),
            diffs.join("\n  ")
        )))
    }
}

/// Run `case` over `n` topologies from `strategy()` on `threads` threads.
/// Persisted seeds under `persist` are replayed first, once, by the first
/// thread. Then the threads take the new cases `0..n` in turn, each while
/// any are left, so a thread that draws slow cases runs fewer (none waits
/// for an unlucky one with a fixed share). Case `k` is generated by its own
/// one-case `TestRunner` seeded from `base` and `k` (shrinking and persistence
/// as usual), so the cases are the same whatever the thread count and
/// timing: `base` is `PROPTEST_RNG_SEED` if set, else random, and printed.
/// Once one case fails, the threads start no new case, so the failing one
/// shrinks alone at full speed. Returns the first failure, if any.
#[expect(
    clippy::result_large_err,
    reason = "proptest's own TestError, returned once per property"
)]
fn run_parallel<S: Strategy<Value = Topology>>(
    n: u32,
    threads: u32,
    persist: &'static str,
    strategy: impl Fn() -> S + Sync,
    case: impl Fn(&Topology) -> Result<(), TestCaseError> + Sync,
) -> Result<(), TestError<Topology>> {
    let stop = AtomicBool::new(false);
    let next = AtomicU32::new(0);
    let base = match config(0, persist).rng_seed {
        RngSeed::Fixed(seed) => seed,
        RngSeed::Random => {
            use std::hash::{BuildHasher, Hasher};
            std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish()
        }
    };
    println!(
        "{}: cases from seed {base} (PROPTEST_RNG_SEED={base} runs them again)",
        Path::new(persist)
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default()
    );
    // One runner: `cases` new cases (none: replay only) from `seed`.
    let run_one = |cases: u32, seed: Option<u64>| {
        let mine = AtomicBool::new(false);
        let mut config = config(cases, persist);
        if let Some(seed) = seed {
            config.rng_seed = RngSeed::Fixed(seed);
            config.failure_persistence =
                Some(Box::new(SaveOnly(FileFailurePersistence::Direct(persist))));
        }
        TestRunner::new(config).run(&strategy(), |t| {
            if stop.load(Ordering::Relaxed) && !mine.load(Ordering::Relaxed) {
                return Ok(());
            }
            let r = case(&t);
            if r.is_err() {
                mine.store(true, Ordering::Relaxed);
                stop.store(true, Ordering::Relaxed);
            }
            r
        })
    };
    let results: Vec<Result<(), TestError<Topology>>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (stop, next, run_one) = (&stop, &next, &run_one);
                s.spawn(move || {
                    if i == 0 {
                        run_one(0, None)?;
                    }
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= n || stop.load(Ordering::Relaxed) {
                            return Ok(());
                        }
                        run_one(1, Some(case_seed(base, k)))?;
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(TestError::Abort("a property thread panicked".into())))
            })
            .collect()
    });
    let mut first_err = None;
    for r in results {
        match r {
            Err(TestError::Fail(..)) => return r,
            Err(e) => first_err = first_err.or(Some(Err(e))),
            Ok(()) => {}
        }
    }
    first_err.unwrap_or(Ok(()))
}

/// The seed of case `k` of a run from `base`: mixed (splitmix64), so
/// that runs from nearby bases share no cases.
fn case_seed(base: u64, k: u32) -> u64 {
    let mut z = base ^ u64::from(k).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for _ in 0..2 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
    }
    z
}

/// Failure persistence that saves like the inner one but loads nothing:
/// the one-case runners (the replay runner loads).
#[derive(Debug, Clone, PartialEq)]
struct SaveOnly(FileFailurePersistence);

impl FailurePersistence for SaveOnly {
    fn load_persisted_failures2(&self, _: Option<&'static str>) -> Vec<PersistedSeed> {
        Vec::new()
    }

    fn save_persisted_failure2(
        &mut self,
        source_file: Option<&'static str>,
        seed: PersistedSeed,
        shrunken_value: &dyn std::fmt::Debug,
    ) {
        self.0
            .save_persisted_failure2(source_file, seed, shrunken_value);
    }

    fn box_clone(&self) -> Box<dyn FailurePersistence> {
        Box::new(self.clone())
    }

    fn eq(&self, other: &dyn FailurePersistence) -> bool {
        other
            .as_any()
            .downcast_ref::<SaveOnly>()
            .is_some_and(|o| o == self)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// Threads for the model properties: MTULAB_PROPERTY_THREADS, default 2
/// (this machine's cores; 1 measures single-thread throughput).
fn threads() -> u32 {
    std::env::var("MTULAB_PROPERTY_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
        .max(1)
}

/// Default live cases for the model property (PROPTEST_CASES overrides).
const MODEL_CASES: u32 = 24;

/// The shrunk failing topology, run again comparing everything: every
/// model-versus-kernel difference, then the topology as a file.
fn explain(t: &Topology, options: &ModelOptions, first: &str) -> String {
    let all = match model_case(t, options, true, &Tally::default()) {
        Err(TestCaseError::Fail(why) | TestCaseError::Reject(why)) => why.message().to_string(),
        Ok(()) => format!("(it passed when run again: a flaky difference) {first}"),
    };
    format!("{all}\n{}", as_file(t))
}

/// `property::model_matches_kernel`: for every generated topology, each
/// host path's predicted path MTU, learned PMTU, DF pings at and one byte
/// over the path MTU and transfer verdict equal what the kernel does
/// (comparisons the model calls `Unknown` skipped and counted).
fn model_matches_kernel() -> Result<(), Failed> {
    let n = cases(MODEL_CASES);
    let tally = Tally::default();
    let options = ModelOptions::default();
    let started = Instant::now();
    let threads = threads();
    let r = run_parallel(
        n,
        threads,
        regressions!("model_matches_kernel"),
        || tree_topology("prop-model"),
        |t| model_case(t, &options, false, &tally),
    );
    println!("model_matches_kernel: {}", tally.line());
    if let Err(TestError::Fail(why, t)) = &r {
        return Err(format!(
            "model_matches_kernel failed after {:.1} s (shrunk): {}",
            started.elapsed().as_secs_f64(),
            explain(t, &options, why.message())
        )
        .into());
    }
    outcome(
        &format!("model_matches_kernel ({threads} threads)"),
        started,
        n,
        r,
    )
}

/// `property::planted_bug_is_caught`: the same comparison against a model
/// with a planted bug (receiving-end MTUs ignored in the path MTU) fails on
/// the kernel and shrinks to a small topology with a per-end mismatch.
fn planted_bug_is_caught() -> Result<(), Failed> {
    // Enough cases to meet a mismatch reliably; the failure ends the run early.
    let n = cases(32).max(32);
    let tally = Tally::default();
    let bugged = ModelOptions { planted_bug: true };
    let started = Instant::now();
    let r = run_parallel(
        n,
        threads(),
        regressions!("planted_bug_is_caught"),
        || tree_topology("prop-planted"),
        |t| model_case(t, &bugged, false, &tally),
    );
    let secs = started.elapsed().as_secs_f64();
    match r {
        Ok(()) => Err(format!(
            "the planted bug survived {n} cases in {secs:.1} s ({}): the machinery missed it",
            tally.line()
        )
        .into()),
        Err(TestError::Abort(why)) => Err(format!("aborted: {why}").into()),
        Err(TestError::Fail(why, t)) => {
            let why = why.message().to_string();
            println!(
                "planted_bug_is_caught: caught and shrunk in {secs:.1} s ({}):\n{}",
                tally.line(),
                explain(&t, &bugged, &why)
            );
            if t.links.len() > 2 {
                return Err(format!("shrunk case is not small ({} links)", t.links.len()).into());
            }
            // Sanity: the shrunk case really has a smaller receiving end, and
            // the difference is the one the bug makes.
            if !t.links.iter().any(|l| l.mtu[0] != l.mtu[1]) {
                return Err("shrunk case has no per-end mismatch".into());
            }
            if !why.contains(": path MTU: model") {
                return Err(format!("caught, but not by the path MTU: {why}").into());
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
        live("property::model_matches_kernel", model_matches_kernel),
    ];
    libtest_mimic::run(&args, trials).exit();
}
