//! mtulab checks: the model (what a topology should do), the live checks
//! (what the kernel does), and the reports.

pub mod anycast;
pub mod check;
pub mod draw;
pub mod html;
pub mod model;
pub mod pcap;
pub mod report;
