//! What the model predicts: the public types of a [`super::Model`] (paths,
//! bottlenecks, ICMP, pings, learned PMTUs, stalls, clamps, findings).

use super::*;

/// A link whose two ends have different MTUs (rule 1 broken).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkMismatch {
    /// Index into the topology's links (file order, 0-based; words say `link N` counting from 1).
    pub link: usize,
    pub nodes: [String; 2],
    /// Interface names per end (on `nodes[i]`).
    pub ifaces: [String; 2],
    pub mtu: [u32; 2],
    /// A `[[tunnels]]` entry (VXLAN): its receiving end does not enforce its MTU.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tunnel: bool,
}

impl fmt::Display for LinkMismatch {
    /// `link 2 (router-a:router-b 1500 vs router-b:router-a 1400)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "link {} ({}:{} {} vs {}:{} {})",
            self.link + 1,
            self.nodes[0],
            self.ifaces[0],
            self.mtu[0],
            self.nodes[1],
            self.ifaces[1],
            self.mtu[1]
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BottleneckKind {
    /// A node sends into a smaller MTU: a router there generates
    /// frag-needed / packet-too-big; at hop 0 it is the sender's own interface.
    Egress,
    /// The receiving end's MTU is smaller than the sending end's: packets
    /// between them are dropped silently by veth (beyond the 4-byte slack),
    /// no ICMP is ever generated.
    IngressOnly,
}

/// Which interface sets the path MTU (the first one along the path with the smallest MTU).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bottleneck {
    /// Index into `hops`.
    pub hop: usize,
    pub link: usize,
    /// Egress: the sending node; ingress-only: the receiving node.
    pub node: String,
    pub iface: String,
    pub mtu: u32,
    pub kind: BottleneckKind,
}

/// MSS each end advertises: its interface MTU on the path minus 40 (IPv4) or 60 (IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Mss {
    pub from: u32,
    pub to: u32,
}

/// Outcome of one DF ping; sizes are whole IP packets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Ping {
    Reply,
    /// A router's frag-needed / packet-too-big reached the sender.
    TooBig {
        mtu: u32,
        from_node: String,
    },
    /// Larger than the sender's own interface MTU: refused locally.
    LocalTooBig {
        mtu: u32,
    },
    /// Nothing comes back: dropped silently, or the ICMP was dropped.
    Silence,
}

/// What stops an ICMP error on its way back to the sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Culprit {
    /// A declarative `drop = "pmtu-icmp"` filter.
    Filter { node: String, hook: Hook },
    /// A real ruleset (nft / iptables / ip6tables) the model cannot read.
    Ruleset {
        node: String,
        tool: String,
        path: String,
    },
    /// The generating router has no route back to the sender's address.
    NoRoute { router: String, dst: IpAddr },
    /// The ICMP itself is too big for a receiving end on the way back.
    IngressMtu {
        link: usize,
        node: String,
        iface: String,
        mtu: u32,
        size: u32,
    },
}

/// Whether a frag-needed / packet-too-big one router on the path would
/// send reaches the path's sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IcmpPrediction {
    pub router: String,
    /// Index into `hops` of the hop this router sends on.
    pub hop: usize,
    /// The MTU it would report: its egress MTU on the path.
    pub mtu: u32,
    /// Whether the sender's PMTUD (from its interface MTU) or the bulk
    /// transfer hits this router, assuming every ICMP arrives: false means
    /// a drop here is latent.
    pub needed: bool,
    /// Nodes the ICMP crosses: the router (OUTPUT), routers (FORWARD), the sender (INPUT).
    pub way_back: Vec<String>,
    pub reaches: Knowable<bool>,
    /// What drops it (or, with `reaches` unknown, the ruleset that decides).
    pub culprit: Option<Culprit>,
}

/// The sender's cached path MTU towards the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Learned {
    pub mtu: u32,
    /// Locked at the IPv4 `min_pmtu` floor (TCP then sends without DF).
    pub locked: bool,
}

/// What stops a flow (before any mitigation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Stall {
    /// `router` cannot forward `size`-byte packets into `mtu` and its ICMP does not arrive.
    IcmpDropped {
        router: String,
        next: String,
        link: usize,
        mtu: u32,
        size: u32,
        culprit: Culprit,
    },
    /// `size`-byte packets are dropped silently entering `node:iface` (MTU `mtu`).
    IngressDrop {
        link: usize,
        node: String,
        iface: String,
        mtu: u32,
        size: u32,
        /// Whether the dropped packets may be GSO (TCP segments straight
        /// from the sender, which veth does not check): then it is a matter of luck.
        gso: bool,
    },
}

/// The model's prediction for data sent from `from` to `to` in one family.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathPrediction {
    pub from: String,
    pub to: String,
    pub family: Family,
    /// `to`'s probe address (`Plan::address_of`).
    pub dst: IpAddr,
    /// `from`'s source address (of its interface on the path): where ICMP errors go.
    pub src: IpAddr,
    pub hops: Vec<Hop>,
    /// The way `to`'s replies and ACKs take back to `src`; None without a route.
    pub return_hops: Option<Vec<Hop>>,
    /// Smallest MTU of any interface the packets leave or enter.
    pub path_mtu: u32,
    pub bottleneck: Bottleneck,
    pub mss: Knowable<Mss>,
    /// Largest IP packet the bulk transfer from `from` initially sends.
    pub tcp_packet: Knowable<u32>,
    /// One per router on the path, in path order.
    pub icmp: Vec<IcmpPrediction>,
    /// DF ping of exactly `path_mtu` bytes.
    pub ping_at_pmtu: Knowable<Ping>,
    /// DF ping of `path_mtu + 1` bytes.
    pub ping_over_pmtu: Knowable<Ping>,
    pub learned_pmtu: Knowable<Learned>,
    pub transfer: Knowable<Verdict>,
    /// What stops the bulk transfer, before `tcp_mtu_probing` (None: nothing).
    pub stall: Option<Stall>,
    /// What stops the sender's PMTUD short of `path_mtu` (None: nothing;
    /// `learned_pmtu` may still differ: the IPv4 floor, or veth's slack).
    pub pmtud_stall: Option<Stall>,
    /// `net.ipv4.tcp_mtu_probing` >= 1 on `from` (applies to IPv6 too).
    pub mtu_probing: bool,
    /// Links of `hops` that are tunnels (VXLAN: the receiving end does not
    /// enforce its MTU).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tunnel_links: Vec<usize>,
    /// `from`'s PMTU sysctls as the model reads them.
    pub knobs: SenderKnobs,
    /// The MSS clamp that limits the segments `from` sends, if any.
    pub mss_clamp: Option<ClampPrediction>,
}

/// The sender's PMTU-relevant sysctls (kernel defaults where unset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SenderKnobs {
    /// `net.ipv4.tcp_mtu_probing` (both families).
    pub mtu_probing: u32,
    /// `net.ipv4.tcp_base_mss`.
    pub base_mss: u32,
    /// `net.ipv4.ip_no_pmtu_disc` (IPv4 only).
    pub no_pmtu_disc: u32,
    /// `net.ipv4.route.min_pmtu` (IPv4 only).
    pub min_pmtu: u32,
}

impl Default for SenderKnobs {
    fn default() -> Self {
        SenderKnobs {
            mtu_probing: 0,
            base_mss: 1024,
            no_pmtu_disc: 0,
            min_pmtu: IPV4_MIN_PMTU,
        }
    }
}

/// An `mss_clamp` on a router that lowers the MSS `from` may send with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClampPrediction {
    pub router: String,
    /// The MSS option `from` receives after the clamp.
    pub mss: u32,
}

/// One thing a user would notice, with the check it breaks and the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: CheckId,
    /// `link 2`, or `server -> client (ipv4)`.
    pub subject: String,
    /// What a user would see.
    pub seen: String,
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}: {}; fix: {}",
            self.check, self.subject, self.seen, self.fix
        )
    }
}
