//! The topology (design.md §3): the validated types every other module
//! reads — nodes, links, tunnels, filters, anycast groups, expectations —
//! and their small helpers. Pure data: loading and validation live in
//! [`crate::load`], planning in [`crate::plan`].

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::check_id::CheckId;

mod names;
mod to_toml;
mod tunnel_kind;

pub use names::{default_iface_names, default_tunnel_names, iface_name_problem, names_per_pair};
pub use tunnel_kind::TunnelKind;

/// A validated topology.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Topology {
    pub name: String,
    pub description: String,
    /// Where it was read from (None when parsed from a string); ruleset paths are relative to its directory.
    pub source: Option<PathBuf>,
    /// Sorted by name.
    pub nodes: BTreeMap<String, Node>,
    pub links: Vec<Link>,
    pub filters: Vec<Filter>,
    pub expect: Option<Expect>,
    /// `[[anycast]]`: service addresses shared by several hosts, in file order.
    pub anycast: Vec<Anycast>,
    /// `[[tunnels]]`: VXLAN, GENEVE, GRE, IP-in-IP or WireGuard links over
    /// the lab's own links (see [`crate::plan::tunnel`]).
    pub tunnels: Vec<Tunnel>,
    /// `[[segments]]`: multi-access LANs (a bridge with N members), in file order.
    pub segments: Vec<Segment>,
}

/// `[[segments]]`: a LAN with N members (built as a Linux bridge in a
/// namespace of its own whose ports never limit a frame: only the
/// members' MTUs decide). Planned as an N-ended link numbered after the
/// links (segment `s` is plan link `links.len() + s`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segment {
    /// `[a-z][a-z0-9-]{0,14}`, unique among segments.
    pub name: String,
    /// At least two nodes, each once, in file order.
    pub members: Vec<String>,
    /// Per member, in `members` order.
    pub mtu: Vec<u32>,
    /// Each member's interface name on the segment (default: the segment's name).
    pub names: Vec<String>,
    /// User-given IPv4 addresses per member, one subnet; None: automatic
    /// (member `k` gets `.k+1` of the segment's /24).
    pub addresses: Option<Vec<Cidr>>,
    /// User-given IPv6 addresses per member; None: automatic (`::k+1` of
    /// its /64) where every member is >= 1280.
    pub addresses6: Option<Vec<Cidr>>,
}

/// How a node's stack treats PMTU ICMP (ICMPv4 3/4, ICMPv6 2) addressed
/// to it: `pmtu_icmp = "obey"` (the default, what every Linux stack does)
/// or `"ignore"` (an appliance that receives them and does not act on
/// them; built by discarding them at the very entry of the node's stack,
/// after a capture on its interface sees them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PmtuIcmp {
    #[default]
    Obey,
    Ignore,
}

impl PmtuIcmp {
    pub fn as_str(self) -> &'static str {
        match self {
            PmtuIcmp::Obey => "obey",
            PmtuIcmp::Ignore => "ignore",
        }
    }
}

/// A link carried over an encapsulation ([`TunnelKind`]) between two nodes
/// that reach each other over the physical links (the underlay).
#[derive(Debug, Clone, PartialEq)]
pub struct Tunnel {
    pub between: [String; 2],
    /// The encapsulation (`kind`, default VXLAN).
    pub kind: TunnelKind,
    /// Family of the outer (encapsulating) packets.
    pub underlay: Family,
    /// Per end, in `between` order; None: the underlay path MTU between the
    /// endpoints minus the encapsulation overhead, on both ends.
    pub mtu: Option<[u32; 2]>,
    /// Interface names per end (default `vx-PEER`, `vx-PEER-2` for a second
    /// VXLAN tunnel to PEER; other kinds their own prefix, `wg-PEER`, …).
    pub names: [String; 2],
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    pub router: bool,
    /// `net.*` sysctls set in this node only, in file order.
    pub sysctl: Vec<(String, String)>,
    /// `mss_clamp` (routers only): rewrite the MSS option of forwarded SYNs.
    pub mss_clamp: Option<MssClamp>,
    /// User-given routes (`routes = [{ to, via }]`), in file order. In each
    /// family it lists any, the node gets exactly these (plus its connected
    /// subnets) instead of automatic routes.
    pub routes: Vec<Route>,
    /// `pmtu_icmp` (hosts only): whether its stack acts on PMTU ICMP.
    pub pmtu_icmp: PmtuIcmp,
}

/// MSS clamping on a router (`mss_clamp = "pmtu"` or `mss_clamp = 1360`,
/// optionally `mss_clamp_oif = "IFACE"`): the MSS option of every forwarded
/// TCP SYN and SYN-ACK (both families) is lowered, never raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MssClamp {
    pub to: ClampTo,
    /// Only SYNs leaving through this interface of the node; None: all.
    pub oif: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClampTo {
    /// nft `rt mtu`: the smaller route MTU of the router's routes towards
    /// the SYN's destination and back to its source, minus 40 (IPv4) / 60 (IPv6).
    Pmtu,
    /// A fixed MSS (both families).
    Mss(u16),
}

/// Values `mss_clamp = N` accepts: TCP's minimum MSS (`TCP_MIN_MSS`) up to
/// the largest that fits a 65535-byte IPv4 packet.
pub const MSS_CLAMP_RANGE: std::ops::RangeInclusive<u32> = 88..=65495;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Link {
    pub between: [String; 2],
    /// Per end, in `between` order.
    pub mtu: [u32; 2],
    /// Interface names per end (default: the peer node's name, `peer-2` for a second link to it).
    pub names: [String; 2],
    /// User-given IPv4 addresses per end (`addresses = ["198.18.7.1/24", …]`);
    /// None: automatic.
    pub addresses: Option<[Cidr; 2]>,
    /// User-given IPv6 addresses per end (`addresses6`); None: automatic
    /// (where both ends are >= 1280).
    pub addresses6: Option<[Cidr; 2]>,
}

/// An address with a prefix length, as written in the file (`198.18.7.1/24`);
/// for a route destination or a subnet, host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl Cidr {
    /// The network: host bits cleared.
    pub fn network(&self) -> Cidr {
        let addr = match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        Cidr {
            addr,
            prefix_len: self.prefix_len,
        }
    }

    /// Whether `addr` lies in this network.
    pub fn contains(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.addr.is_ipv4()
            && Cidr {
                addr,
                prefix_len: self.prefix_len,
            }
            .network()
                == self.network()
    }

    /// Whether the two networks share any address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        let shorter = self.prefix_len.min(other.prefix_len);
        self.addr.is_ipv4() == other.addr.is_ipv4()
            && Cidr {
                addr: self.addr,
                prefix_len: shorter,
            }
            .network()
                == Cidr {
                    addr: other.addr,
                    prefix_len: shorter,
                }
                .network()
    }

    pub fn family(&self) -> Family {
        if self.addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// A user-given route: `{ to = "198.18.9.0/24", via = "198.18.7.2" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Destination network (host bits zero); `0.0.0.0/0` / `::/0` for a default route.
    pub to: Cidr,
    /// Gateway: an address on a subnet connected to the node.
    pub via: IpAddr,
}

/// `[[anycast]]`: one service address (per family) configured on every
/// member's loopback; routers whose shortest paths to the members split
/// get a multipath route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anycast {
    pub address: Option<Ipv4Addr>,
    pub address6: Option<Ipv6Addr>,
    /// Member hosts, in file order (at least two).
    pub nodes: Vec<String>,
}

impl Anycast {
    pub fn addr(&self, family: Family) -> Option<IpAddr> {
        match family {
            Family::V4 => self.address.map(IpAddr::V4),
            Family::V6 => self.address6.map(IpAddr::V6),
        }
    }
}

/// Where lab addresses must lie (shared/common rules): 198.18.0.0/15 and 2001:db8::/32.
pub const LAB_RANGES: [Cidr; 2] = [
    Cidr {
        addr: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 0)),
        prefix_len: 15,
    },
    Cidr {
        addr: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0)),
        prefix_len: 32,
    },
];

pub fn lab_range(family: Family) -> &'static Cidr {
    &LAB_RANGES[usize::from(family == Family::V6)]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hook {
    Input,
    Forward,
    Output,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterKind {
    /// `drop = "pmtu-icmp"`: ICMPv4 type 3 code 4 and ICMPv6 type 2 dropped at `hook`.
    DropPmtuIcmp { hook: Hook },
    /// A real ruleset loaded with `nft -f` (absolute path, resolved against the topology file).
    Nft(PathBuf),
    /// iptables-save format, loaded with iptables-restore.
    Iptables(PathBuf),
    /// ip6tables-save format, loaded with ip6tables-restore.
    Ip6tables(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub node: String,
    pub kind: FilterKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    #[serde(rename = "ipv4")]
    V4,
    #[serde(rename = "ipv6")]
    V6,
}

/// A bulk transfer's verdict (design.md §5 `transfer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Blackhole,
    Recovered,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expect {
    /// Check ids that must fail (exactly these); None = not asserted.
    pub violations: Option<Vec<CheckId>>,
    pub paths: Vec<ExpectPath>,
    /// `[expect.ipv4]`: replaces `violations` for IPv4's per-path checks.
    pub ipv4: Option<ExpectFamily>,
    /// `[expect.ipv6]`: replaces `violations` for IPv6's per-path checks.
    pub ipv6: Option<ExpectFamily>,
}

impl Expect {
    /// The family table for `family`, if the file has one.
    pub fn family(&self, family: Family) -> Option<&ExpectFamily> {
        match family {
            Family::V4 => self.ipv4.as_ref(),
            Family::V6 => self.ipv6.as_ref(),
        }
    }

    /// Whether the file has any `[expect.ipv4]` / `[expect.ipv6]` table, so
    /// that expectations are compared per family.
    pub fn per_family(&self) -> bool {
        self.ipv4.is_some() || self.ipv6.is_some()
    }
}

/// `[expect.ipv4]` / `[expect.ipv6]`: the per-path checks (those in
/// [`CheckId::PER_FAMILY`]) that fail in this family, exactly these.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExpectFamily {
    pub violations: Vec<CheckId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpectPath {
    pub from: String,
    pub to: String,
    /// None: both families.
    pub family: Option<Family>,
    pub pmtu: Option<u32>,
    pub transfer: Option<Verdict>,
}

/// Bad input: which file, which line, what is wrong.
/// Shown as `FILE:LINE: message`, or `FILE: message` when no line applies.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}: {message}", file.display(), if *line > 0 { format!(":{line}") } else { String::new() })]
pub struct TopologyError {
    pub file: PathBuf,
    /// 1-based; 0 when no line applies.
    pub line: usize,
    pub message: String,
}

/// Smallest and largest MTU a link end may have (IPv4 minimum; 16-bit total length).
pub const MTU_RANGE: std::ops::RangeInclusive<u32> = 68..=65535;

/// Most links a topology may have: each gets a /24 of 198.18.0.0/15.
pub const MAX_LINKS: usize = 512;

/// Longest topology name (it becomes part of every namespace name).
pub const MAX_NAME_LEN: usize = 24;

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }
}

impl std::str::FromStr for Family {
    type Err = String;
    /// `ipv4` or `ipv6`.
    fn from_str(s: &str) -> Result<Family, String> {
        match s {
            "ipv4" => Ok(Family::V4),
            "ipv6" => Ok(Family::V6),
            other => Err(format!("unknown family {other:?} (expected ipv4 or ipv6)")),
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Blackhole => "blackhole",
            Verdict::Recovered => "recovered",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Topology {
    /// Host (non-router) names, sorted.
    pub fn hosts(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|(_, n)| !n.router)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Router names, sorted.
    pub fn routers(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.router)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

impl std::str::FromStr for Cidr {
    type Err = ();
    /// `ADDR/LEN` with LEN at most 32 (IPv4) or 128 (IPv6).
    fn from_str(s: &str) -> Result<Cidr, ()> {
        let (a, l) = s.split_once('/').ok_or(())?;
        let addr: IpAddr = a.parse().map_err(|_| ())?;
        if l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()) || l.len() > 3 {
            return Err(());
        }
        let prefix_len: u8 = l.parse().map_err(|_| ())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix_len > max {
            return Err(());
        }
        Ok(Cidr { addr, prefix_len })
    }
}
