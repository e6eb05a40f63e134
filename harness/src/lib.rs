//! mtulab harness: everything that touches the kernel, plus the pure
//! topology/plan code it builds from.

pub mod plan;
pub mod topology;
