//! mtulab checks: the model (what a topology should do), the live checks
//! (what the kernel does), and the reports.

pub mod anycast;
pub mod check;
pub mod diff;
pub mod import;
pub mod model;
pub mod report;
