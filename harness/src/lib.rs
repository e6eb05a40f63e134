//! mtulab harness: everything that touches the kernel. The pure code it
//! builds from (topology, validation, plan) is in `mtulab_core`.
//!
//! One module per kernel subsystem: [`netns`] (every setns/unshare),
//! [`netlink`] (links, addresses, routes, lookups), [`sysctl`], [`firewall`]
//! (nftables / iptables inside a node), [`lab`] (owns and tears down a lab),
//! [`state`] (the registry of labs and the reaper).

pub mod env;
pub mod firewall;
pub mod lab;
pub mod load;
pub mod netlink;
pub mod netns;
pub mod probe;
pub mod snapshot;
pub mod state;
pub mod sysctl;

pub use firewall::FirewallError;
pub use lab::{Lab, LabError, LabNode};
pub use load::{load_file, load_str};
pub use netlink::NetlinkError;
pub use netns::NetnsError;
pub use probe::error::ProbeError;
pub use sysctl::SysctlError;
