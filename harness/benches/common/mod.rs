//! Shared by the bench targets: medians, round counts, bundled topologies.
#![allow(dead_code)] // each bench uses a different subset

use std::path::Path;
use std::time::Duration;

use mtulab_core::Topology;

pub fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// MTULAB_BENCH_ROUNDS, or `default`.
pub fn rounds(default: usize) -> usize {
    std::env::var("MTULAB_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

/// A bundled scenario, `topologies/NAME.toml`.
pub fn topology(name: &str) -> Topology {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../topologies")
        .join(format!("{name}.toml"));
    Topology::from_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
