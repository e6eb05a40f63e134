//! What the model predicts: the public types of a [`super::Model`] (paths,
//! bottlenecks, ICMP, pings, learned PMTUs, stalls, clamps, findings).

use super::*;

/// A link whose two ends (or a segment whose members) have different
/// MTUs (rule 1 broken).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkMismatch {
    /// Index into the plan's links (links in file order, then segments,
    /// then tunnels; 0-based; words say `link N` counting from 1, or `segment NAME`).
    pub link: usize,
    /// The link's two ends, or the segment's members.
    pub nodes: Vec<String>,
    /// Interface names per end (on `nodes[i]`).
    pub ifaces: Vec<String>,
    pub mtu: Vec<u32>,
    /// A `[[tunnels]]` entry (VXLAN): its receiving end does not enforce its MTU.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tunnel: bool,
    /// `link N` or `tunnel K` ([`crate::plan::link_name`]).
    pub name: String,
    /// The segment's name, for a `[[segments]]` entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
}

impl LinkMismatch {
    /// `link N`, `segment NAME` or `tunnel K` (the one name).
    pub fn label(&self) -> String {
        self.name.clone()
    }

    /// The MTU most ends have and the ends that differ from it (see [`odd_members`]).
    pub fn odd_members(&self) -> (u32, Vec<usize>) {
        odd_members(&self.mtu)
    }
}

/// The MTU most of `mtus` have (on a tie the smaller: the safer one to
/// equalise to) and the indexes of those that differ from it.
pub fn odd_members(mtus: &[u32]) -> (u32, Vec<usize>) {
    let mut counts: Vec<(u32, usize)> = Vec::new();
    for &m in mtus {
        match counts.iter_mut().find(|(v, _)| *v == m) {
            Some((_, c)) => *c += 1,
            None => counts.push((m, 1)),
        }
    }
    let common = counts
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map_or(0, |(v, _)| *v);
    let odd = (0..mtus.len()).filter(|&i| mtus[i] != common).collect();
    (common, odd)
}

impl fmt::Display for LinkMismatch {
    /// `link 2 (router-a:router-b 1500 vs router-b:router-a 1400)`, or
    /// `segment lan (r2:lan 9000 vs r1:lan 1500, h1:lan 1500)`: the odd
    /// members first.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = |i: usize| format!("{}:{} {}", self.nodes[i], self.ifaces[i], self.mtu[i]);
        if self.segment.is_none() && self.nodes.len() == 2 {
            return write!(f, "{} ({} vs {})", self.label(), end(0), end(1));
        }
        let (_, odd) = self.odd_members();
        let odd_ends: Vec<String> = odd.iter().map(|&i| end(i)).collect();
        let rest: Vec<String> = (0..self.nodes.len())
            .filter(|i| !odd.contains(i))
            .map(end)
            .collect();
        write!(
            f,
            "{} ({} vs {})",
            self.label(),
            odd_ends.join(", "),
            rest.join(", ")
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
    /// The segment's name, when `link` is a `[[segments]]` entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
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
    /// The ICMP reaches the sender, whose stack ignores it
    /// (`pmtu_icmp = "ignore"`): it keeps sending what does not fit `mtu`.
    Ignored { node: String, mtu: u32 },
    /// The ICMP itself is too big for a receiving end on the way back.
    IngressMtu {
        link: usize,
        /// `link N` or `tunnel K`.
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        segment: Option<String>,
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
    /// It reaches the sender (`reaches` true, or up to a ruleset), whose
    /// stack ignores it (`pmtu_icmp = "ignore"`): nothing acts on it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub ignored: bool,
    /// What drops it (or, with `reaches` unknown, the ruleset that
    /// decides; with `ignored`, [`Culprit::Ignored`]).
    pub culprit: Option<Culprit>,
}

impl IcmpPrediction {
    /// Whether the sender acts on it: it arrives and is not ignored.
    pub fn acted(&self) -> Knowable<bool> {
        if self.ignored {
            Knowable::Known(false)
        } else {
            self.reaches.clone()
        }
    }
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
        #[serde(skip_serializing_if = "Option::is_none")]
        segment: Option<String>,
        mtu: u32,
        size: u32,
        culprit: Culprit,
    },
    /// `size`-byte packets are dropped silently entering `node:iface` (MTU `mtu`).
    IngressDrop {
        link: usize,
        #[serde(skip_serializing_if = "Option::is_none")]
        segment: Option<String>,
        node: String,
        iface: String,
        mtu: u32,
        size: u32,
        /// Whether the dropped packets may be GSO (TCP segments straight
        /// from the sender, which veth does not check): then it is a matter of luck.
        gso: bool,
    },
    /// The path's narrowest interface (`node:iface`, MTU `mtu`, on `link`)
    /// is below `size`, the smallest packet TCP sends (its minimum MSS plus
    /// headers): no ICMP, clamp or probing helps.
    BelowMinMss {
        link: usize,
        node: String,
        iface: String,
        mtu: u32,
        size: u32,
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
    /// The name of every planned link ([`crate::plan::link_names`]), to
    /// name one in the findings.
    #[serde(skip)]
    pub link_names: Vec<String>,
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
