//! The `mtulab` command line: a thin layer over the harness and checks
//! libraries. Exit codes: 0 all good, 1 a violation (or, with --expect, an
//! outcome that differs from the file's `[expect]`), 2 bad input or
//! environment.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::{Lab, LabError};

mod rollout;
mod signals;

#[derive(Parser)]
#[command(
    name = "mtulab",
    version,
    about = "Path MTU Discovery labs on Linux network namespaces"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Junit,
}

/// Options shared by the probe commands on a kept lab.
#[derive(clap::Args)]
struct ProbeArgs {
    /// The kept lab (id or topology name); default: the only one.
    #[arg(long)]
    lab: Option<String>,
    /// Sending node.
    from: String,
    /// Receiving host (its address in the family).
    to: String,
    /// IPv6 instead of IPv4.
    #[arg(short = '6')]
    ipv6: bool,
    /// Print the structured result as JSON.
    #[arg(long)]
    json: bool,
    /// Keep cached PMTU exceptions (default: flush every node first, so the
    /// probe sees what the path does, not what an earlier probe learned).
    #[arg(long)]
    keep_cache: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Build each topology, run every check, tear it down.
    Check {
        /// Topology files, or directories of them (*.toml, not recursive).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Exit 0 when each outcome matches the file's [expect] (for
        /// scenarios broken on purpose), 1 when it does not.
        #[arg(long)]
        expect: bool,
        /// Topologies checked at once.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Only IPv4 / only IPv6.
        #[arg(short = '4', conflicts_with = "only6")]
        only4: bool,
        #[arg(short = '6')]
        only6: bool,
    },
    /// DF ping of an exact whole-packet size on a kept lab.
    Ping {
        #[command(flatten)]
        probe: ProbeArgs,
        /// Whole IP packet size in bytes (what must fit an MTU).
        #[arg(long)]
        size: u32,
    },
    /// tracepath on a kept lab: hops and the PMTU seen at each.
    Tracepath {
        #[command(flatten)]
        probe: ProbeArgs,
    },
    /// A bulk TCP transfer from FROM to TO on a kept lab.
    Transfer {
        #[command(flatten)]
        probe: ProbeArgs,
        #[arg(long, default_value_t = 1 << 20)]
        bytes: u64,
    },
    /// Build a lab from a topology file and keep it; prints each node's namespace.
    Up {
        file: PathBuf,
        /// Keep the lab only while this command runs: remove it on Ctrl-C,
        /// SIGTERM or end of standard input.
        #[arg(long)]
        wait: bool,
    },
    /// Remove kept labs (all of them, or the one named with --lab).
    Down {
        #[arg(long)]
        lab: Option<String>,
    },
    /// List kept labs.
    List,
    /// Capture this namespace's network state as JSON (read-only).
    Snapshot {
        /// Write to FILE instead of standard output.
        #[arg(short = 'o')]
        output: Option<PathBuf>,
        /// The node name import gives this machine (default: the file name).
        #[arg(long)]
        node: Option<String>,
    },
    /// Build one topology file from several machines' snapshots.
    Import {
        #[arg(required = true)]
        snapshots: Vec<PathBuf>,
        /// Write to FILE (rulesets beside it) instead of standard output.
        #[arg(short = 'o')]
        output: Option<PathBuf>,
        /// Leave this interface out on every machine (repeatable).
        #[arg(long)]
        ignore: Vec<String>,
        /// The topology's name (default: from the output file's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Check two topologies; report what AFTER introduces and fixes.
    Diff {
        before: PathBuf,
        after: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Only IPv4 / only IPv6.
        #[arg(short = '4', conflicts_with = "only6")]
        only4: bool,
        #[arg(short = '6')]
        only6: bool,
    },
    /// Run a command inside a node of a kept lab.
    Exec {
        #[arg(long)]
        lab: Option<String>,
        node: String,
        #[arg(last = true, required = true)]
        command: Vec<String>,
    },
}

/// An error with the exit code it maps to.
struct Failure {
    code: u8,
    message: String,
}

/// Every lab error is bad input (a file, a ruleset, a lab name) or an
/// environment the lab cannot be built in: exit 2, and the lab is gone.
impl From<LabError> for Failure {
    fn from(e: LabError) -> Failure {
        fail(2, e.to_string())
    }
}

fn fail(code: u8, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

fn no_node(lab: &Lab, node: &str) -> Failure {
    let nodes: Vec<&str> = lab.namespaces().keys().map(String::as_str).collect();
    fail(
        2,
        format!(
            "lab {} has no node {node:?} (nodes: {})",
            lab.id(),
            nodes.join(", ")
        ),
    )
}

fn require_live() -> Result<(), Failure> {
    match harness::env::live_unavailable() {
        Some(why) => Err(fail(2, format!("cannot build labs here: mtulab {why}"))),
        None => Ok(()),
    }
}

/// Topology files named on the command line; directories expand to their
/// `*.toml` files, sorted.
fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p).map_err(|e| fail(2, format!("{}: {e}", p.display())))?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(fail(
                    2,
                    format!("{}: no *.toml topology files", p.display()),
                ));
            }
            files.extend(found);
        } else {
            files.push(p.clone());
        }
    }
    Ok(files)
}

fn check(
    paths: &[PathBuf],
    format: Format,
    expect: bool,
    jobs: usize,
    families: Vec<mtulab_core::Family>,
) -> Result<u8, Failure> {
    use mtulab::check::{self, CheckOptions};
    use std::io::IsTerminal;
    // Every file is validated before any lab is built: bad input changes nothing.
    let topologies = collect_files(paths)?
        .iter()
        .map(|f| harness::load::load_file(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(LabError::from)?;
    require_live()?;
    let opts = CheckOptions {
        families,
        ..CheckOptions::default()
    };
    let started = std::time::Instant::now();
    let total = topologies.len();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<(usize, Result<mtulab::report::Report, String>)>> =
        Default::default();
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, total.max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(t) = topologies.get(i) else { break };
                let r = check::run(t, &opts).map(|mut r| {
                    if expect {
                        r.expect_mismatches = Some(check::compare_expect(&t.topology, &r, &opts));
                    }
                    r
                });
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if started.elapsed().as_secs() >= 2 || std::io::stderr().is_terminal() {
                    let verdict = match &r {
                        Ok(r) if r.ok => "ok".to_string(),
                        Ok(r) => format!("{} violations", r.violations.len()),
                        Err(_) => "error".to_string(),
                    };
                    eprintln!(
                        "[{n}/{total}] {}: {verdict} ({:.1} s elapsed)",
                        t.topology.name,
                        started.elapsed().as_secs_f64()
                    );
                }
                results.lock().unwrap().push((
                    i,
                    r.map_err(|e| match &t.topology.source {
                        Some(f) => format!("{}: {e}", f.display()),
                        None => e.to_string(),
                    }),
                ));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);
    let mut reports = Vec::new();
    for (_, r) in results {
        reports.push(r.map_err(|e| fail(2, e))?);
    }
    let colour = std::io::stdout().is_terminal();
    match format {
        Format::Human => {
            for r in &reports {
                println!("{}", mtulab::report::human(r, colour));
            }
            let bad = reports.iter().filter(|r| !r.ok).count();
            println!(
                "{} topologies, {} with violations, {:.1} s",
                reports.len(),
                bad,
                started.elapsed().as_secs_f64()
            );
        }
        Format::Json => println!("{}", mtulab::report::json(&reports)),
        Format::Junit => print!("{}", mtulab::report::junit(&reports)),
    }
    let good = if expect {
        reports
            .iter()
            .all(|r| r.expect_mismatches.as_ref().is_some_and(|m| m.is_empty()))
    } else {
        reports.iter().all(|r| r.ok)
    };
    Ok(if good { 0 } else { 1 })
}

fn probe(
    p: &ProbeArgs,
    what: impl FnOnce(
        &Lab,
        mtulab_core::Family,
    ) -> Result<(serde_json::Value, String), harness::probe::error::ProbeError>,
) -> Result<u8, Failure> {
    require_live()?;
    let lab = Lab::attach(p.lab.as_deref())?;
    for n in [&p.from, &p.to] {
        if lab.node(n).is_none() {
            return Err(no_node(&lab, n));
        }
    }
    if !p.keep_cache {
        harness::probe::exceptions::flush(&lab).map_err(|e| fail(2, e.to_string()))?;
    }
    let family = if p.ipv6 {
        mtulab_core::Family::V6
    } else {
        mtulab_core::Family::V4
    };
    let (json, text) = what(&lab, family).map_err(|e| fail(2, e.to_string()))?;
    if p.json {
        println!("{}", serde_json::to_string_pretty(&json).expect("json"));
    } else {
        println!("{text}");
    }
    Ok(0)
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Cmd::Check {
            paths,
            format,
            expect,
            jobs,
            only4,
            only6,
        } => {
            let families = match (only4, only6) {
                (true, _) => vec![mtulab_core::Family::V4],
                (_, true) => vec![mtulab_core::Family::V6],
                _ => vec![mtulab_core::Family::V4, mtulab_core::Family::V6],
            };
            check(&paths, format, expect, jobs, families)
        }
        Cmd::Ping { probe: p, size } => probe(&p, |lab, fam| {
            let r = harness::probe::ping::df_ping_hosts(
                lab,
                &p.from,
                &p.to,
                fam,
                size,
                std::time::Duration::from_secs(2),
            )?;
            let text = format!(
                "{} -> {} ({}), {} bytes DF: {}{}{}",
                p.from,
                p.to,
                r.dst,
                size,
                r.outcome.as_str(),
                r.mtu.map(|m| format!(", mtu {m}")).unwrap_or_default(),
                r.from.map(|a| format!(", from {a}")).unwrap_or_default(),
            );
            Ok((serde_json::to_value(&r).expect("json"), text))
        }),
        Cmd::Tracepath { probe: p } => probe(&p, |lab, fam| {
            let t = harness::probe::tracepath::tracepath_hosts(
                lab,
                &p.from,
                &p.to,
                fam,
                &Default::default(),
            )?;
            let mut text = String::new();
            for (i, h) in t.hops.iter().enumerate() {
                text.push_str(&format!(
                    "{:2}: {:<28} {}\n",
                    i + 1,
                    h.addr
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "no reply".into()),
                    h.pmtu.map(|m| format!("pmtu {m}")).unwrap_or_default()
                ));
            }
            text.push_str(&format!(
                "    pmtu {} {}",
                t.pmtu,
                if t.reached { "reached" } else { "NOT reached" }
            ));
            Ok((serde_json::to_value(&t).expect("json"), text))
        }),
        Cmd::Transfer { probe: p, bytes } => probe(&p, |lab, fam| {
            let t = harness::probe::transfer::transfer_hosts(
                lab,
                &p.from,
                &p.to,
                fam,
                &harness::probe::transfer::TransferOpts {
                    bytes,
                    ..Default::default()
                },
            )?;
            let v = serde_json::to_value(&t).expect("json");
            let text = format!(
                "{} -> {}: {} ({} of {} bytes in {:.2} s; pmtu {}, mss {}, {} timeouts)",
                p.from,
                p.to,
                v["verdict"].as_str().unwrap_or(""),
                t.bytes,
                t.requested,
                t.seconds,
                t.pmtu,
                t.snd_mss,
                t.rtos
            );
            Ok((v, text))
        }),
        Cmd::Up { file, wait } => {
            let loaded = harness::load::load_file(&file).map_err(LabError::from)?;
            require_live()?;
            let lab = Lab::build_loaded(&loaded)?;
            println!(
                "lab {} is up; remove it with `mtulab down --lab {}`",
                lab.id(),
                lab.id()
            );
            let width = lab.namespaces().keys().map(|n| n.len()).max().unwrap_or(0);
            for (node, ns) in lab.namespaces() {
                println!("  {node:width$}  {ns}");
            }
            for (seg, ns) in lab.segment_namespaces() {
                println!(
                    "  segment {seg}: bridge {} in {ns}",
                    harness::lab::SEGMENT_BRIDGE
                );
            }
            if wait {
                println!("ready; Ctrl-C or end of input removes it");
                use std::io::Read;
                // Returns at end of input; signals are handled by `signals`.
                let _ = std::io::stdin().read_to_end(&mut Vec::new());
                drop(lab);
                return Ok(0);
            }
            lab.keep()?;
            Ok(0)
        }
        Cmd::Down { lab } => {
            require_live()?;
            let kept: Vec<_> = harness::state::all_labs()
                .into_iter()
                .filter(|l| l.kept)
                .filter(|l| lab.as_deref().is_none_or(|n| l.id == n || l.topology == n))
                .collect();
            if kept.is_empty() {
                return match lab {
                    Some(n) => Err(fail(2, format!("no kept lab named {n:?}"))),
                    None => {
                        eprintln!("no kept labs");
                        Ok(0)
                    }
                };
            }
            let mut errors = 0;
            for l in kept {
                for e in harness::lab::destroy_kept(&l) {
                    eprintln!("mtulab: {e}");
                    errors += 1;
                }
                println!("removed lab {}", l.id);
            }
            Ok(if errors > 0 { 1 } else { 0 })
        }
        Cmd::List => {
            for l in harness::state::all_labs().into_iter().filter(|l| l.kept) {
                println!("{}  ({} nodes)", l.id, l.namespaces.len());
            }
            Ok(0)
        }
        Cmd::Snapshot { output, node } => {
            rollout::snapshot(output.as_deref(), node).map_err(|m| fail(2, m))
        }
        Cmd::Import {
            snapshots,
            output,
            ignore,
            name,
        } => rollout::import(&snapshots, output.as_deref(), ignore, name).map_err(|m| fail(2, m)),
        Cmd::Diff {
            before,
            after,
            format,
            only4,
            only6,
        } => {
            let families = match (only4, only6) {
                (true, _) => vec![mtulab_core::Family::V4],
                (_, true) => vec![mtulab_core::Family::V6],
                _ => vec![mtulab_core::Family::V4, mtulab_core::Family::V6],
            };
            let format = match format {
                Format::Human => rollout::DiffFormat::Human,
                Format::Json => rollout::DiffFormat::Json,
                Format::Junit => rollout::DiffFormat::Junit,
            };
            rollout::diff(&before, &after, format, families, || {
                require_live().map_err(|f| f.message)
            })
            .map_err(|m| fail(2, m))
        }
        Cmd::Exec { lab, node, command } => {
            require_live()?;
            let lab = Lab::attach(lab.as_deref())?;
            let Some(mut cmd) = lab.command(&node, &command[0]) else {
                return Err(no_node(&lab, &node));
            };
            let status = cmd
                .args(&command[1..])
                .status()
                .map_err(|e| fail(2, format!("run {}: {e}", command[0])))?;
            Ok(status.code().map(|c| c as u8).unwrap_or(1))
        }
    }
}

fn main() -> ExitCode {
    signals::install();
    let cli = Cli::parse();
    // Every run reaps what killed runs left (never a live run's labs);
    // snapshot and import build nothing and change nothing.
    let builds = !matches!(cli.command, Cmd::Snapshot { .. } | Cmd::Import { .. });
    if builds && harness::env::live_unavailable().is_none() {
        let reaped = harness::state::reap();
        for id in &reaped.labs {
            eprintln!("mtulab: removed lab {id} left by a killed run");
        }
    }
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("mtulab: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}
