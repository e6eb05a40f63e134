//! What a check run covers ([`CheckOptions`]) and how it fails ([`CheckError`]).

use mtulab_core::{CheckId, Family};

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub families: Vec<Family>,
    /// Which checks to run (from [`CheckId::LIVE`]).
    pub checks: Vec<CheckId>,
    pub transfer_bytes: u64,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            families: vec![Family::V4, Family::V6],
            checks: CheckId::LIVE.to_vec(),
            transfer_bytes: 1 << 20,
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
