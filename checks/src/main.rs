//! The `mtulab` command line: a thin layer over the harness and checks
//! libraries. Exit codes: 0 all good, 1 a violation (or, with --expect, an
//! outcome that differs from the file's `[expect]`), 2 bad input or
//! environment.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use harness::{Lab, LabError, Topology};

mod signals;

#[derive(Parser)]
#[command(name = "mtulab", version, about = "Path MTU Discovery labs on Linux network namespaces")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
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

fn require_live() -> Result<(), Failure> {
    match harness::env::live_unavailable() {
        Some(why) => Err(fail(2, format!("cannot build labs here: mtulab {why}"))),
        None => Ok(()),
    }
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Cmd::Up { file, wait } => {
            let topology = Topology::from_file(&file).map_err(LabError::from)?;
            require_live()?;
            let lab = Lab::build(&topology)?;
            println!("lab {} is up; remove it with `mtulab down --lab {}`", lab.id, lab.id);
            let width = lab.namespaces().keys().map(|n| n.len()).max().unwrap_or(0);
            for (node, ns) in lab.namespaces() {
                println!("  {node:width$}  {ns}");
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
        Cmd::Exec { lab, node, command } => {
            require_live()?;
            let lab = Lab::attach(lab.as_deref())?;
            let Some(mut cmd) = lab.command(&node, &command[0]) else {
                return Err(fail(
                    2,
                    format!(
                        "lab {} has no node {node:?} (nodes: {})",
                        lab.id,
                        lab.namespaces().keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
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
    // Every run reaps what killed runs left (never a live run's labs).
    if harness::env::live_unavailable().is_none() {
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
