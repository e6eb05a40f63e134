//! What a check run covers ([`CheckOptions`]) and how it fails ([`CheckError`]).

use mtulab_core::{CheckId, Family};

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub families: Vec<Family>,
    /// Which checks to run (from [`CheckId::LIVE`]).
    pub checks: Vec<CheckId>,
    pub transfer_bytes: u64,
    /// Say on stderr how many paths a topology will probe, and each path
    /// as it is probed (`mtulab check` on a terminal, or `--progress`).
    pub progress: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            families: vec![Family::V4, Family::V6],
            checks: CheckId::LIVE.to_vec(),
            transfer_bytes: 1 << 20,
            progress: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Lab(#[from] harness::LabError),
    #[error("topology {topology}: {source}")]
    Probe {
        topology: String,
        source: harness::probe::error::ProbeError,
    },
}
