//! Automatic addressing and routing: turns a validated [`Topology`] into the
//! concrete plan the lab builds (interfaces, addresses, routes per node) and
//! the forwarding paths the model reasons about. Pure code.
//!
//! SKELETON: the helper implements; the public types are the contract.

use std::net::IpAddr;

use crate::topology::{Family, Topology};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IfAddr {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IfacePlan {
    pub name: String,
    /// Index into `Plan::links`.
    pub link: usize,
    /// 0 or 1: which end of the link this is.
    pub end: usize,
    pub mtu: u32,
    pub peer_node: String,
    pub peer_iface: String,
    pub ipv4: Option<IfAddr>,
    /// Only where both ends of the link are >= 1280.
    pub ipv6: Option<IfAddr>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoutePlan {
    /// Destination network (address with host bits zero) and prefix length.
    pub dst: IfAddr,
    pub via: IpAddr,
    pub dev: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodePlan {
    pub name: String,
    pub router: bool,
    pub sysctl: Vec<(String, String)>,
    pub interfaces: Vec<IfacePlan>,
    /// Non-connected routes only (connected ones come with the addresses).
    pub routes: Vec<RoutePlan>,
}

/// One step of a forwarding path: `node` sends out of `out_iface` to `next`, arriving on `in_iface`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub node: String,
    pub out_iface: String,
    pub out_mtu: u32,
    pub next: String,
    pub in_iface: String,
    pub in_mtu: u32,
    pub link: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub name: String,
    /// Sorted by node name.
    pub nodes: Vec<NodePlan>,
}

impl Plan {
    pub fn new(topology: &Topology) -> Plan {
        let _ = topology;
        todo!()
    }
    pub fn node(&self, name: &str) -> Option<&NodePlan> {
        self.nodes.iter().find(|n| n.name == name)
    }
    /// The address probes use to reach host `name` in `family`: the address
    /// of its first interface (link order) that has one.
    pub fn address_of(&self, name: &str, family: Family) -> Option<IpAddr> {
        let _ = (name, family);
        todo!()
    }
    /// The forwarding path from host `from` to host `to`'s `address_of`, as the
    /// routes in this plan send it; None when the family has no path.
    pub fn path(&self, from: &str, to: &str, family: Family) -> Option<Vec<Hop>> {
        let _ = (from, to, family);
        todo!()
    }
    /// Hosts (non-routers), sorted.
    pub fn hosts(&self) -> Vec<&str> {
        self.nodes.iter().filter(|n| !n.router).map(|n| n.name.as_str()).collect()
    }
}
