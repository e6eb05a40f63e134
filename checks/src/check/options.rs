//! What a check run covers ([`CheckOptions`]) and how it fails ([`CheckError`]).

use mtulab_core::{CheckId, Family};

#[derive(Debug, Clone)]
pub struct CheckOptions {
    pub families: Vec<Family>,
    /// Which checks to run (from [`CheckId::LIVE`]).
    pub checks: Vec<CheckId>,
    pub transfer_bytes: u64,
    /// `--pcap DIR`: re-probe every failing path with captures into DIR.
    pub pcap: Option<std::path::PathBuf>,
    /// `--path FROM TO`: only this ordered host pair (no anycast downloads).
    pub path: Option<(String, String)>,
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
            pcap: None,
            path: None,
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
    #[error("topology {topology}: {source}")]
    Pcap {
        topology: String,
        source: Box<crate::pcap::PcapError>,
    },
}
