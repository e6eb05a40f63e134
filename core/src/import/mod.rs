//! `mtulab import`: several machines' snapshots ([`crate::snapshot`]) →
//! one topology file. Pure: snapshots in, TOML text and ruleset texts out;
//! the caller writes them.
//!
//! - [`infer`]: which interfaces are joined (shared subnets), edge hosts,
//!   tunnels, routes, routers, sysctls, rulesets; what cannot be mapped.
//! - [`emit`]: the topology as TOML, with comments naming the snapshot each
//!   part came from.

pub mod emit;
pub mod infer;

pub use infer::{import, ImportError, ImportOptions, Imported, SnapshotInput};
