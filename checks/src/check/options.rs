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
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            families: vec![Family::V4, Family::V6],
            checks: CheckId::LIVE.to_vec(),
            transfer_bytes: 1 << 20,
            pcap: None,
            path: None,
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
