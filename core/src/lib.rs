//! mtulab core: the pure reasoning of mtulab, with no kernel, netlink or
//! libc in its dependency tree (it builds and tests anywhere, without root).
//!
//! One-way flow: [`topology`] (the types) ← [`load`] (parse, validate, plan
//! once) → [`plan`] (addressing, routing, paths, tunnels) → [`model`] (what
//! the kernel should do) → [`compare`] (the one model-vs-kernel comparator).
//! [`check_id`] names the checks. Beside the flow: [`snapshot`] (the
//! document `mtulab snapshot` writes) and [`import`] (snapshots → a topology).

pub mod check_id;
pub mod compare;
pub mod import;
pub mod load;
pub mod model;
pub mod observe;
pub mod plan;
pub mod snapshot;
pub mod topology;

pub use check_id::CheckId;
pub use load::{load_file, load_str, Loaded};
pub use plan::Plan;
pub use topology::{Family, Topology, TopologyError};
