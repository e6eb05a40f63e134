//! The lab registry in `/run/mtulab/`: one JSON file per lab naming its
//! owner process and its namespaces, so that kept labs (`mtulab up`) can be
//! found again and labs of killed runs can be reaped.
//!
//! Ordering makes the reaper safe against live runs: a lab's state file is
//! written *before* its first namespace is created and removed *after* its
//! last namespace is gone; the reaper lists namespaces *before* reading
//! state files. So any namespace it sees without a state file is orphaned,
//! and any state file whose owner is dead (and which is not kept) is stale.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::netns;

pub const STATE_DIR: &str = "/run/mtulab";
/// Every namespace mtulab creates starts with this.
pub const NS_PREFIX: &str = "mtulab-";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    pub id: String,
    pub topology: String,
    /// The topology file it was built from (absolute), if any.
    pub source: Option<PathBuf>,
    /// The topology text, so a kept lab can be reopened after the file changed.
    pub toml: String,
    pub pid: u32,
    /// The owner's start time (clock ticks since boot), against pid reuse.
    pub start_time: u64,
    pub kept: bool,
    /// The lab's timers (absent in the files of older versions).
    #[serde(default)]
    pub timers: Option<crate::timers::Timers>,
    /// node name -> namespace name.
    pub namespaces: BTreeMap<String, String>,
    /// Who built it ([`caller_uid`]); None in files written before owners
    /// were recorded.
    #[serde(default)]
    pub owner: Option<u32>,
    /// segment name -> the namespace of its bridge (`[[segments]]`).
    #[serde(default)]
    pub segments: BTreeMap<String, String>,
}

/// The user a lab belongs to: the one who asked for it. Under sudo that is
/// `SUDO_UID` (root runs the command on the user's behalf); otherwise the
/// real uid. `mtulab down` without `--lab` removes only the caller's labs.
pub fn caller_uid() -> u32 {
    let real = nix::unistd::getuid().as_raw();
    if real == 0 {
        if let Some(uid) = std::env::var("SUDO_UID")
            .ok()
            .and_then(|v| v.trim().parse().ok())
        {
            return uid;
        }
    }
    real
}

pub fn state_path(id: &str) -> PathBuf {
    Path::new(STATE_DIR).join(format!("{id}.json"))
}

/// Field 22 of /proc/PID/stat: when the process started.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: skip past the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

impl LabState {
    pub fn write(&self) -> io::Result<()> {
        std::fs::create_dir_all(STATE_DIR)?;
        let path = state_path(&self.id);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(self).map_err(io::Error::other)?,
        )?;
        std::fs::rename(tmp, path)
    }

    pub fn read(id: &str) -> io::Result<LabState> {
        let bytes = std::fs::read(state_path(id))?;
        serde_json::from_slice(&bytes).map_err(io::Error::other)
    }

    pub fn remove_file(&self) -> io::Result<()> {
        match std::fs::remove_file(state_path(&self.id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Every namespace of this lab: its nodes', then its segments'.
    pub fn all_namespaces(&self) -> impl Iterator<Item = &String> {
        self.namespaces.values().chain(self.segments.values())
    }

    /// Is the process that created this lab still running?
    pub fn owner_alive(&self) -> bool {
        process_start_time(self.pid) == Some(self.start_time)
    }

    /// Remove every namespace of this lab, then the state file. Keeps going
    /// past errors and returns them all; "already gone" is success.
    pub fn destroy(&self) -> Vec<io::Error> {
        let mut errors = Vec::new();
        for ns in self.all_namespaces() {
            if let Err(e) = netns::remove_named(&Path::new(netns::NETNS_RUN_DIR).join(ns)) {
                errors.push(io::Error::new(
                    e.kind(),
                    format!("remove namespace {ns}: {e}"),
                ));
            }
        }
        if let Err(e) = self.remove_file() {
            errors.push(e);
        }
        errors
    }
}

/// Every lab in the registry (unreadable files are skipped).
pub fn all_labs() -> Vec<LabState> {
    let Ok(dir) = std::fs::read_dir(STATE_DIR) else {
        return Vec::new();
    };
    let mut labs: Vec<LabState> = dir
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let id = name.strip_suffix(".json")?;
            LabState::read(id).ok()
        })
        .collect();
    labs.sort_by(|a, b| a.id.cmp(&b.id));
    labs
}

/// What the reaper removed.
#[derive(Debug, Default)]
pub struct Reaped {
    pub labs: Vec<String>,
    pub orphan_namespaces: Vec<String>,
    pub errors: Vec<io::Error>,
}

/// Remove labs whose creating process is dead (unless kept) and `mtulab-`
/// namespaces that no lab claims. Never touches a live run's namespaces or
/// anything not named `mtulab-`.
pub fn reap() -> Reaped {
    let mut out = Reaped::default();
    // Namespaces first, then state files: see the module comment.
    let namespaces = netns::list_named(NS_PREFIX);
    let labs = all_labs();
    let mut claimed = std::collections::BTreeSet::new();
    for lab in &labs {
        claimed.extend(lab.all_namespaces().cloned());
        if lab.kept || lab.owner_alive() {
            continue;
        }
        // The file was read before the owner was seen dead: it may have
        // marked the lab kept in between (`mtulab up` keeps, then exits).
        // Read again now that the owner is known dead; what it wrote last
        // is final.
        match LabState::read(&lab.id) {
            Ok(now) if now.kept => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            _ => {}
        }
        out.errors.extend(lab.destroy());
        out.labs.push(lab.id.clone());
    }
    for ns in namespaces {
        if claimed.contains(&ns) {
            continue;
        }
        // A state file may have appeared after our listing (a run that
        // started meanwhile): re-check that no lab claims it now.
        if all_labs()
            .iter()
            .any(|l| l.all_namespaces().any(|n| *n == ns))
        {
            continue;
        }
        match netns::remove_named(&Path::new(netns::NETNS_RUN_DIR).join(&ns)) {
            Ok(()) => out.orphan_namespaces.push(ns),
            Err(e) => out.errors.push(e),
        }
    }
    out
}
