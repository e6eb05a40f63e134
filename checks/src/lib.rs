//! mtulab checks: the static model of what a topology should do, the
//! invariant checks of what the kernel does, and reports.

pub mod model;
