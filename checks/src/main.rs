//! The `mtulab` command line: a thin layer over the harness and checks
//! libraries. Exit codes: 0 all good, 1 a violation (or, with --expect, an
//! outcome that differs from the file's `[expect]`; for a probe command, a
//! failed probe), 2 bad input or environment. docs/cli.md is the reference.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::{Lab, LabError};

mod labs;
mod out;
mod rollout;
mod signals;

#[derive(Parser)]
#[command(
    name = "mtulab",
    version,
    about = "Path MTU Discovery labs on Linux network namespaces",
    long_about = "Path MTU Discovery labs on Linux network namespaces: build a lab from a \
topology file (TOML; docs/format.md), drive real kernel traffic through it and check the two \
rules (equal MTU on both ends of a link; don't block ICMP frag-needed / packet-too-big).",
    after_help = "Exit codes: 0 all good; 1 a violation (with --expect: an outcome other than \
the file's [expect]; for ping/tracepath/transfer: the probe failed); 2 bad input or environment \
(FILE:LINE: what is wrong, nothing built; not root; a tool missing). Building labs needs root. \
Reference: docs/cli.md and docs/format.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// Build labs with the kernel's stock TCP timers (RTO at least 200 ms,
    /// delayed ACKs, tcp_retries1 3) instead of the lab's fast ones: slower
    /// verdicts, same meaning (README "Lab timers"). Also
    /// MTULAB_KERNEL_DEFAULTS=1.
    #[arg(long, global = true)]
    kernel_defaults: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// A line per check and path, then each violation in words with its fix.
    Human,
    /// One object per topology (an array for several): docs/cli.md.
    Json,
    /// JUnit XML, a test case per check and subject, for CI systems.
    Junit,
    /// A self-contained HTML page: a drawing per topology, failing paths
    /// highlighted, violations and fixes beside it.
    Html,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum DrawFormat {
    /// The picture, with its legend.
    Svg,
    /// Graphviz DOT (taillabel / headlabel carry the per-end MTUs).
    Dot,
}

/// Options shared by the probe commands on a kept lab.
#[derive(clap::Args)]
struct ProbeArgs {
    /// The kept lab (its id, or its topology's name); default: the only
    /// kept lab.
    #[arg(long, value_name = "LAB")]
    lab: Option<String>,
    /// Sending node.
    from: String,
    /// Receiving host (its address in the family).
    to: String,
    /// IPv6 instead of IPv4 (the lab must have an IPv6 path: only links
    /// with both ends >= 1280 carry IPv6).
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
    /// Build each topology, run every check, tear it down. Every file is
    /// validated (rulesets by their tools) before any lab is built.
    Check {
        /// Topology files, or directories of them (*.toml, not recursive).
        #[arg(required = true, value_name = "FILE_OR_DIR")]
        paths: Vec<PathBuf>,
        /// How to print the report.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Exit 0 when each outcome matches the file's [expect] (for
        /// scenarios broken on purpose), 1 when it does not.
        #[arg(long)]
        expect: bool,
        /// Topologies checked at once (at least 1; default: four per core,
        /// a check mostly waits on the kernel). Reports keep the files' order.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        jobs: Option<u16>,
        /// Say how many paths each topology will probe and report each path
        /// as it is done, on stderr (default: when stderr is a terminal).
        #[arg(long)]
        progress: bool,
        /// Only IPv4.
        #[arg(short = '4', conflicts_with = "only6")]
        only4: bool,
        /// Only IPv6.
        #[arg(short = '6')]
        only6: bool,
        /// Probe and explain just the path from FROM to TO (one FILE; both
        /// families unless -4 / -6); link-mtu-match and anycast downloads
        /// are not run.
        #[arg(long, num_args = 2, value_names = ["FROM", "TO"])]
        path: Option<Vec<String>>,
        /// Also write the HTML report to FILE (with any --format).
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Re-probe every failing path with packet captures on each
        /// interface it crosses; pcapng files go to DIR.
        #[arg(long, value_name = "DIR")]
        pcap: Option<PathBuf>,
    },
    /// Draw a topology (no lab is built, no root needed): SVG with each
    /// link's MTU at both ends, or Graphviz DOT.
    Draw {
        /// The topology file (validated as by `check`).
        file: PathBuf,
        /// What to write.
        #[arg(long, value_enum, default_value_t = DrawFormat::Svg)]
        format: DrawFormat,
        /// Write to OUT instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: Option<PathBuf>,
    },
    /// DF ping of an exact whole-packet size on a kept lab. Exit 0 on a
    /// reply, 1 on anything else (too-big, local-too-big, unreachable,
    /// silence).
    Ping {
        #[command(flatten)]
        probe: ProbeArgs,
        /// Whole IP packet size in bytes (what must fit an MTU; not ping's
        /// payload size): 28..=65535 for IPv4, 48..=65535 for IPv6.
        #[arg(long)]
        size: u64,
    },
    /// tracepath on a kept lab: hops and the PMTU seen at each. Exit 0
    /// when the destination was reached, 1 when not.
    Tracepath {
        #[command(flatten)]
        probe: ProbeArgs,
    },
    /// A bulk TCP transfer from FROM to TO on a kept lab. Exit 0 when it
    /// completed promptly (ok), 1 when it stalled (blackhole) or completed
    /// only after timeouts (recovered).
    Transfer {
        #[command(flatten)]
        probe: ProbeArgs,
        /// Bytes to send.
        #[arg(long, default_value_t = 1 << 20)]
        bytes: u64,
    },
    /// Build a lab from a topology file and keep it (recorded in
    /// /run/mtulab until `mtulab down`); prints each node's namespace, for
    /// `ip netns exec NAMESPACE …`.
    Up {
        /// The topology file.
        file: PathBuf,
        /// Keep the lab only while this command runs: remove it on Ctrl-C,
        /// SIGTERM or end of standard input.
        #[arg(long)]
        wait: bool,
    },
    /// Remove kept labs: yours (built by your user: SUDO_UID under sudo,
    /// else your uid), the one named with --lab, or every one with --all.
    Down {
        /// Only this lab (its id, or its topology's name), whoever built it.
        #[arg(long, value_name = "LAB", conflicts_with = "all")]
        lab: Option<String>,
        /// Every kept lab on the machine, other users' included.
        #[arg(long)]
        all: bool,
    },
    /// List kept labs: id, topology, nodes, and whose they are.
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
        /// Snapshot files (`mtulab snapshot` output), one per machine.
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
        /// The topology as it is (e.g. today's import).
        before: PathBuf,
        /// The same topology with the planned change.
        after: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = rollout::DiffFormat::Human)]
        format: rollout::DiffFormat,
        /// Only IPv4 / only IPv6.
        #[arg(short = '4', conflicts_with = "only6")]
        only4: bool,
        #[arg(short = '6')]
        /// Only IPv6.
        only6: bool,
    },
    /// Run a command inside a node of a kept lab (its network namespace);
    /// exits with the command's exit code.
    Exec {
        /// The kept lab (its id, or its topology's name); default: the only
        /// kept lab.
        #[arg(long, value_name = "LAB")]
        lab: Option<String>,
        /// The node to run in.
        node: String,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
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

impl From<out::WriteError> for Failure {
    fn from(e: out::WriteError) -> Failure {
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

struct Outputs {
    format: Format,
    html: Option<PathBuf>,
    pcap: Option<PathBuf>,
}

/// `--path FROM TO`: both must be hosts of the (one) topology.
fn only_path(
    loaded: &[mtulab_core::Loaded],
    path: Option<Vec<String>>,
) -> Result<Option<(String, String)>, Failure> {
    let Some(p) = path else { return Ok(None) };
    let [from, to] = <[String; 2]>::try_from(p).map_err(|_| fail(2, "--path takes FROM and TO"))?;
    let [l] = loaded else {
        return Err(fail(
            2,
            format!(
                "--path needs exactly one topology file, not {}",
                loaded.len()
            ),
        ));
    };
    let hosts = l.plan.hosts();
    for n in [&from, &to] {
        if !hosts.contains(&n.as_str()) {
            let what = if l.plan.node(n).is_some() {
                "is a router, not a host"
            } else {
                "is not a node"
            };
            return Err(fail(
                2,
                format!(
                    "--path: {n:?} {what} of topology {} (hosts: {})",
                    l.topology.name,
                    hosts.join(", ")
                ),
            ));
        }
    }
    if from == to {
        return Err(fail(2, format!("--path: FROM and TO are both {from:?}")));
    }
    Ok(Some((from, to)))
}

fn check(
    paths: &[PathBuf],
    out: Outputs,
    expect: bool,
    jobs: usize,
    families: Vec<mtulab_core::Family>,
    path: Option<Vec<String>>,
    progress: bool,
) -> Result<u8, Failure> {
    let format = out.format;
    use mtulab::check::{self, CheckOptions};
    use std::io::IsTerminal;
    // Every file is validated before any lab is built: bad input changes
    // nothing, and a mix of files builds nothing when any is bad.
    let topologies = collect_files(paths)?
        .iter()
        .map(|f| harness::load::load_file(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(LabError::from)?;
    let only = only_path(&topologies, path)?;
    require_live()?;
    for t in &topologies {
        harness::preflight::check(t).map_err(LabError::from)?;
    }
    let mut opts = CheckOptions {
        families,
        pcap: out.pcap.clone(),
        progress: progress || std::io::stderr().is_terminal(),
        ..CheckOptions::default()
    };
    if let Some(p) = only {
        opts.checks
            .retain(|c| *c != mtulab_core::CheckId::LinkMtuMatch);
        opts.path = Some(p);
    }
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
                    // An unsupported topology is not judged against [expect].
                    if expect && r.unsupported.is_none() {
                        r.expect_mismatches = Some(check::compare_expect(&t.topology, &r, &opts));
                    }
                    r
                });
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                if started.elapsed().as_secs() >= 2 || std::io::stderr().is_terminal() {
                    let verdict = match &r {
                        Ok(r) if r.unsupported.is_some() => "unsupported".to_string(),
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
                out::line(&mtulab::report::human(r, colour))?;
            }
            let bad = reports
                .iter()
                .filter(|r| !r.ok && r.unsupported.is_none())
                .count();
            let unsupported = reports.iter().filter(|r| r.unsupported.is_some()).count();
            let skipped = if unsupported > 0 {
                format!(", {unsupported} unsupported on this kernel (not checked)")
            } else {
                String::new()
            };
            out::line(&format!(
                "{} topologies, {} with violations{skipped}, {:.1} s",
                reports.len(),
                bad,
                started.elapsed().as_secs_f64()
            ))?;
        }
        Format::Json => out::line(&mtulab::report::json(&reports))?,
        Format::Junit => out::emit(&mtulab::report::junit(&reports))?,
        Format::Html => out::emit(&html_page(&topologies, &reports))?,
    }
    if let Some(f) = &out.html {
        std::fs::write(f, html_page(&topologies, &reports))
            .map_err(|e| fail(2, format!("write {}: {e}", f.display())))?;
    }
    // Unsupported topologies (a tunnel kind this kernel lacks) are skipped:
    // the exit code is that of the topologies that ran, and 2 (environment)
    // when none could run.
    let ran: Vec<&mtulab::report::Report> =
        reports.iter().filter(|r| r.unsupported.is_none()).collect();
    if ran.is_empty() && !reports.is_empty() {
        return Ok(2);
    }
    let good = if expect {
        ran.iter()
            .all(|r| r.expect_mismatches.as_ref().is_some_and(|m| m.is_empty()))
    } else {
        ran.iter().all(|r| r.ok)
    };
    Ok(if good { 0 } else { 1 })
}

fn html_page(topologies: &[mtulab_core::Loaded], reports: &[mtulab::report::Report]) -> String {
    let items: Vec<_> = topologies.iter().zip(reports).collect();
    mtulab::html::report(&items)
}

fn draw(
    file: &std::path::Path,
    format: DrawFormat,
    output: Option<&std::path::Path>,
) -> Result<u8, Failure> {
    use mtulab::draw;
    let l = harness::load::load_file(file).map_err(LabError::from)?;
    let d = draw::Diagram::new(&l.topology, &l.plan);
    let text = match format {
        DrawFormat::Svg => draw::svg::svg(&d, &draw::layout(&d), true),
        DrawFormat::Dot => draw::dot::dot(&d),
    };
    match output {
        Some(o) => {
            std::fs::write(o, text).map_err(|e| fail(2, format!("write {}: {e}", o.display())))?
        }
        None => out::emit(&text)?,
    }
    Ok(0)
}

/// What a probe found: its JSON, its line(s) of text, and whether it is a
/// success (exit 0) or a failure (exit 1).
struct Probed {
    json: serde_json::Value,
    text: String,
    ok: bool,
}

fn family_of(ipv6: bool) -> mtulab_core::Family {
    if ipv6 {
        mtulab_core::Family::V6
    } else {
        mtulab_core::Family::V4
    }
}

/// `--size` as a whole IP packet: the headers of a DF echo request at
/// least (IPv4 20 + ICMP 8; IPv6 40 + ICMPv6 8), a 16-bit total length at
/// most (no jumbograms).
fn check_size(size: u64, family: mtulab_core::Family) -> Result<u32, Failure> {
    let min = match family {
        mtulab_core::Family::V4 => 28,
        mtulab_core::Family::V6 => 48,
    };
    match u32::try_from(size) {
        Ok(s) if (min..=65535).contains(&s) => Ok(s),
        _ => Err(fail(
            2,
            format!(
                "--size {size}: a whole {family} packet of a DF ping is {min}..=65535 bytes ({} header + 8 ICMP{} at least; 65535 at most)",
                min - 8,
                if min == 48 { "v6" } else { "" },
            ),
        )),
    }
}

fn probe(
    p: &ProbeArgs,
    what: impl FnOnce(&Lab, mtulab_core::Family) -> Result<Probed, harness::probe::error::ProbeError>,
) -> Result<u8, Failure> {
    require_live()?;
    let lab = Lab::attach(p.lab.as_deref())?;
    for n in [&p.from, &p.to] {
        if lab.node(n).is_none() {
            return Err(no_node(&lab, n));
        }
    }
    let family = family_of(p.ipv6);
    if lab.plan().path(&p.from, &p.to, family).is_none() {
        let why = match family {
            mtulab_core::Family::V6 => {
                " (IPv6 is configured only on links whose ends are both at least 1280)"
            }
            mtulab_core::Family::V4 => "",
        };
        return Err(fail(
            2,
            format!(
                "lab {} has no {family} path from {} to {}{why}",
                lab.id(),
                p.from,
                p.to
            ),
        ));
    }
    if !p.keep_cache {
        harness::probe::exceptions::flush(&lab).map_err(|e| fail(2, e.to_string()))?;
    }
    let r = what(&lab, family).map_err(|e| fail(2, e.to_string()))?;
    if p.json {
        out::line(&serde_json::to_string_pretty(&r.json).expect("json"))?;
    } else {
        out::line(&r.text)?;
    }
    Ok(if r.ok { 0 } else { 1 })
}

/// `up`: build, record as kept, then print. The lab is recorded before
/// anything is printed, so a closed or full stdout (`mtulab up … | true`)
/// never loses it: it stays kept (`mtulab list`, `mtulab down`).
fn up(file: &std::path::Path, wait: bool) -> Result<u8, Failure> {
    let loaded = harness::load::load_file(file).map_err(LabError::from)?;
    require_live()?;
    harness::preflight::check(&loaded).map_err(LabError::from)?;
    let lab = Lab::build_loaded(&loaded)?;
    let mut text = String::new();
    let width = lab.namespaces().keys().map(|n| n.len()).max().unwrap_or(0);
    let nodes: String = lab
        .namespaces()
        .iter()
        .map(|(node, ns)| format!("  {node:width$}  {ns}\n"))
        .chain(lab.segment_namespaces().iter().map(|(seg, ns)| {
            format!(
                "  segment {seg}: bridge {} in {ns}\n",
                harness::lab::SEGMENT_BRIDGE
            )
        }))
        .collect();
    if wait {
        text.push_str(&format!(
            "lab {} is up until this command ends\n{nodes}timers: {}\n",
            lab.id(),
            lab.timers.describe()
        ));
        text.push_str("ready; Ctrl-C or end of input removes it\n");
        // A closed stdout is no reason to end early; a full one is (the
        // lab is removed on the way out).
        out::emit(&text)?;
        use std::io::Read;
        // Returns at end of input; signals are handled by `signals`.
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        drop(lab);
        return Ok(0);
    }
    let id = lab.id().to_string();
    let timers = format!("timers: {}\n", lab.timers.describe());
    lab.keep()?;
    text.push_str(&format!(
        "lab {id} is up; remove it with `mtulab down --lab {id}`\n{nodes}{timers}"
    ));
    out::emit(&text).map_err(|e| {
        fail(
            2,
            format!("{e}; lab {id} is up and kept (`mtulab list` shows it, `mtulab down --lab {id}` removes it)"),
        )
    })?;
    Ok(0)
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Cmd::Check {
            paths,
            format,
            expect,
            jobs,
            progress,
            only4,
            only6,
            path,
            html,
            pcap,
        } => {
            let families = match (only4, only6) {
                (true, _) => vec![mtulab_core::Family::V4],
                (_, true) => vec![mtulab_core::Family::V6],
                _ => vec![mtulab_core::Family::V4, mtulab_core::Family::V6],
            };
            check(
                &paths,
                Outputs { format, html, pcap },
                expect,
                jobs.map_or_else(
                    || 4 * std::thread::available_parallelism().map_or(1, |n| n.get()),
                    usize::from,
                ),
                families,
                path,
                progress,
            )
        }
        Cmd::Draw {
            file,
            format,
            output,
        } => draw(&file, format, output.as_deref()),
        Cmd::Ping { probe: p, size } => {
            let size = check_size(size, family_of(p.ipv6))?;
            probe(&p, |lab, fam| {
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
                Ok(Probed {
                    json: serde_json::to_value(&r).expect("json"),
                    text,
                    ok: r.outcome == mtulab_core::observe::PingOutcome::Reply,
                })
            })
        }
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
            Ok(Probed {
                json: serde_json::to_value(&t).expect("json"),
                text,
                ok: t.reached,
            })
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
            let text = format!(
                "{} -> {}: {} ({} of {} bytes in {:.2} s; pmtu {}, mss {}, {} timeouts)",
                p.from,
                p.to,
                t.verdict.as_str(),
                t.bytes,
                t.requested,
                t.seconds,
                t.pmtu,
                t.snd_mss,
                t.rtos
            );
            Ok(Probed {
                json: serde_json::to_value(&t).expect("json"),
                text,
                ok: t.verdict == mtulab_core::topology::Verdict::Ok,
            })
        }),
        Cmd::Up { file, wait } => up(&file, wait),
        Cmd::Down { lab, all } => {
            require_live()?;
            let kept: Vec<_> = harness::state::all_labs()
                .into_iter()
                .filter(|l| l.kept)
                .collect();
            let me = harness::state::caller_uid();
            let pick = labs::to_remove(&kept, lab.as_deref(), all, me);
            if pick.remove.is_empty() {
                if let Some(n) = lab {
                    return Err(fail(2, format!("no kept lab named {n:?}")));
                }
                eprintln!(
                    "mtulab: no kept labs of yours{}",
                    labs::others_note(pick.others)
                );
                return Ok(0);
            }
            let mut errors = 0;
            for l in pick.remove {
                for e in harness::lab::destroy_kept(l) {
                    eprintln!("mtulab: {e}");
                    errors += 1;
                }
                out::line(&format!("removed lab {}", l.id))?;
            }
            if pick.others > 0 {
                eprintln!(
                    "mtulab: {}",
                    labs::others_note(pick.others).trim_start_matches("; ")
                );
            }
            Ok(if errors > 0 { 1 } else { 0 })
        }
        Cmd::List => {
            let me = harness::state::caller_uid();
            for l in harness::state::all_labs().into_iter().filter(|l| l.kept) {
                out::line(&labs::list_line(&l, me))?;
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
    if cli.kernel_defaults {
        harness::timers::use_kernel_defaults();
    }
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
