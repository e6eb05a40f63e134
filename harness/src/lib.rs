//! mtulab harness: everything that touches the kernel, plus the pure
//! topology/plan code it builds from.
//!
//! One module per kernel subsystem: [`netns`] (every setns/unshare),
//! [`netlink`] (links, addresses, routes, lookups), [`sysctl`], [`firewall`]
//! (nftables / iptables inside a node), [`lab`] (owns and tears down a lab),
//! [`state`] (the registry of labs and the reaper), [`timers`] (the TCP
//! timer settings a lab gives its nodes).

pub mod env;
pub mod firewall;
pub mod lab;
pub mod netlink;
pub mod netns;
pub mod plan;
pub mod probe;
pub mod state;
pub mod sysctl;
pub mod timers;
pub mod topology;
pub mod tunnel;

pub use lab::{Lab, LabError};
pub use plan::Plan;
pub use topology::{Family, Topology, TopologyError};
