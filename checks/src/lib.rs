//! mtulab checks: the live checks (what the kernel does, judged against
//! the model of `mtulab_core`) and the reports.

pub mod check;
pub mod diff;
pub mod report;
