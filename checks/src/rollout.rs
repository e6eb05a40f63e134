//! The rollout-review commands of the `mtulab` binary: `snapshot` (this
//! namespace's state as JSON), `import` (snapshots → a topology file) and
//! `diff` (check two topologies, report what the change introduces and
//! fixes). Each returns its exit code, or an error message for exit 2.

use std::path::{Path, PathBuf};

use mtulab_core::import::{self, ImportOptions, SnapshotInput};
use mtulab_core::snapshot::Snapshot;

/// `mtulab snapshot [-o FILE] [--node NAME]`: read-only.
pub fn snapshot(output: Option<&Path>, node: Option<String>) -> Result<u8, String> {
    if let Some(n) = &node {
        let ok = n.len() <= 15
            && n.starts_with(|c: char| c.is_ascii_lowercase())
            && n.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !ok {
            return Err(format!(
                "--node {n:?} is not a valid node name ([a-z][a-z0-9-]{{0,14}})"
            ));
        }
    }
    if let Some(out) = output {
        check_parent(out)?;
    }
    let snap = harness::snapshot::capture(node).map_err(|e| e.to_string())?;
    let text = serde_json::to_string_pretty(&snap).expect("a snapshot serialises") + "\n";
    for u in &snap.unread {
        eprintln!("mtulab: snapshot: not read: {}: {}", u.what, u.reason);
    }
    match output {
        Some(out) => std::fs::write(out, text)
            .map_err(|e| format!("{}: cannot write: {e}", out.display()))?,
        None => print!("{text}"),
    }
    Ok(0)
}

/// An output file's directory must exist (checked before anything is read
/// or written).
fn check_parent(out: &Path) -> Result<(), String> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "{}: cannot write: directory {} does not exist",
            out.display(),
            dir.display()
        ));
    }
    if out.is_dir() {
        return Err(format!(
            "{}: is a directory, not a file name",
            out.display()
        ));
    }
    Ok(())
}

/// A topology name from a file name: `[a-z0-9_-]`, at most 24 characters.
fn topology_name(stem: &str) -> String {
    let mut n: String = stem
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(24)
        .collect();
    if n.is_empty() {
        n = "imported".into();
    }
    n
}

/// `mtulab import SNAPSHOT... [-o FILE] [--ignore IFACE]... [--name NAME]`.
pub fn import(
    files: &[PathBuf],
    output: Option<&Path>,
    ignore: Vec<String>,
    name: Option<String>,
) -> Result<u8, String> {
    if let Some(out) = output {
        check_parent(out)?;
    }
    let mut inputs = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| format!("{}: cannot read snapshot: {e}", f.display()))?;
        let snapshot = Snapshot::from_json(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        inputs.push(SnapshotInput {
            label: f.display().to_string(),
            stem: f
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            snapshot,
        });
    }
    let stem = output
        .and_then(|o| o.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".into());
    let opts = ImportOptions {
        ignore,
        name: name.unwrap_or_else(|| topology_name(&stem)),
        ruleset_prefix: format!("{stem}."),
    };
    let imported = import::import(&inputs, &opts).map_err(|e| e.to_string())?;
    for w in &imported.warnings {
        eprintln!("mtulab: import: warning: {w}");
    }
    match output {
        Some(out) => {
            let dir = match out.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            for (file, text) in &imported.rulesets {
                let p = dir.join(file);
                std::fs::write(&p, text)
                    .map_err(|e| format!("{}: cannot write: {e}", p.display()))?;
            }
            std::fs::write(out, &imported.toml)
                .map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
            eprintln!(
                "mtulab: import: wrote {}{} ({} nodes, {} links, {} tunnels, {} warnings)",
                out.display(),
                if imported.rulesets.is_empty() {
                    String::new()
                } else {
                    format!(
                        " and {}",
                        imported
                            .rulesets
                            .iter()
                            .map(|(f, _)| dir.join(f).display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                },
                imported.topology.nodes.len(),
                imported.topology.links.len(),
                imported.topology.tunnels.len(),
                imported.warnings.len()
            );
        }
        None if !imported.rulesets.is_empty() => {
            return Err(format!(
                "the snapshots carry rulesets ({}): give -o FILE so they can be written beside it",
                imported
                    .rulesets
                    .iter()
                    .map(|(f, _)| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
        None => print!("{}", imported.toml),
    }
    Ok(0)
}

/// The output formats of `diff` (the same names as `check`'s).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DiffFormat {
    Human,
    Json,
    Junit,
}

/// `mtulab diff BEFORE AFTER`: both files validated before either lab is
/// built; exit 1 when AFTER introduces a violation.
pub fn diff(
    before: &Path,
    after: &Path,
    format: DiffFormat,
    families: Vec<mtulab_core::Family>,
    live: impl FnOnce() -> Result<(), String>,
) -> Result<u8, String> {
    let tb = harness::load::load_file(before).map_err(|e| e.to_string())?;
    let ta = harness::load::load_file(after).map_err(|e| e.to_string())?;
    live()?;
    let opts = mtulab::check::CheckOptions {
        families,
        ..mtulab::check::CheckOptions::default()
    };
    let (rb, ra) = std::thread::scope(|s| {
        let hb = s.spawn(|| mtulab::check::run(&tb, &opts));
        let ha = s.spawn(|| mtulab::check::run(&ta, &opts));
        (
            hb.join().expect("check thread"),
            ha.join().expect("check thread"),
        )
    });
    let rb = rb.map_err(|e| format!("{}: {e}", before.display()))?;
    let ra = ra.map_err(|e| format!("{}: {e}", after.display()))?;
    let mut d = mtulab::diff::compare(&rb, &ra);
    // Both files often carry one name (an edited copy): show the files.
    d.before = before.display().to_string();
    d.after = after.display().to_string();
    match format {
        DiffFormat::Human => println!("{}", mtulab::diff::human(&d)),
        DiffFormat::Json => println!("{}", mtulab::diff::json(&d)),
        DiffFormat::Junit => print!("{}", mtulab::diff::junit(&d)),
    }
    Ok(if d.introduced.is_empty() { 0 } else { 1 })
}
