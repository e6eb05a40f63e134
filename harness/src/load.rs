//! Loading a topology for this kernel: [`mtulab_core::load`] with sysctl
//! names looked up under `/proc/sys` ([`ProcSysctlNames`]).

use std::path::Path;

use mtulab_core::{Loaded, TopologyError};

use crate::sysctl::ProcSysctlNames;

/// Read, validate and plan the topology file at `path` for the running kernel.
pub fn load_file(path: &Path) -> Result<Loaded, TopologyError> {
    mtulab_core::load_file(path, &ProcSysctlNames)
}

/// [`load_file`] for text (`path` names it in errors and anchors rulesets).
pub fn load_str(src: &str, path: &Path) -> Result<Loaded, TopologyError> {
    mtulab_core::load_str(src, path, &ProcSysctlNames)
}
