//! The static model: what a topology *should* do for Path MTU Discovery,
//! predicted from the topology and its [`Plan`] alone (no kernel). The live
//! probes observe what the kernel does; every disagreement is reported.
//!
//! For each ordered host pair and family with a path, [`predict`] gives a
//! [`PathPrediction`]: the path MTU and what sets it, the MSS each end
//! advertises, whether each router's frag-needed / packet-too-big reaches
//! the sender, DF ping outcomes at and just over the path MTU, the PMTU the
//! sender learns and the bulk-transfer verdict. Anything that depends on
//! what the model cannot know (a real nft/iptables ruleset, timing) is
//! [`Knowable::Unknown`] with the reason. The model assumes fresh state: no
//! PMTU exceptions cached from earlier probes.
//!
//! Rules it applies:
//! - The path MTU is the smallest MTU of any interface the packets leave or
//!   enter; the first such interface along the path is the bottleneck
//!   (an egress before the receiving end of the same hop).
//! - A router's ICMP error leaves through its own OUTPUT hook, crosses the
//!   FORWARD hook of every router on *its* routed way back to the sender's
//!   source address (not the forward path reversed), and the sender's INPUT.
//!   A `drop = "pmtu-icmp"` at one of those hooks drops it. A real ruleset
//!   on any node a flow, its replies or its ICMP errors cross makes that
//!   flow's pings, learned PMTU and transfer `Unknown` (it may filter or
//!   clamp anything); iptables counts for IPv4 only, ip6tables for IPv6 only.
//! - The MSS `to` advertises reaches `from` in its SYN / SYN-ACK along the
//!   way back; an `mss_clamp` on a router there (matching its
//!   `mss_clamp_oif`, if any) lowers it, and the sender's segments shrink
//!   to fit. The sender's `tcp_mtu_probing`, `ip_no_pmtu_disc` and
//!   `route.min_pmtu` change the verdict and what is learned as measured
//!   below; what was not measured is `Unknown` with the reason.
//! - The sender's PMTUD starts at its interface MTU and shrinks on every
//!   report that arrives; it stops at a silent drop or a dropped report.
//!
//! Kernel behaviour it relies on, measured on 6.18 (veth, throwaway
//! namespaces; a 1500 → 1400 end means the sending end is 1500):
//! - veth delivers a non-GSO packet up to the receiving device's MTU + 4
//!   (`VLAN_HLEN` in `is_skb_forwardable`), IPv4 and IPv6 alike: DF pings of
//!   1401..=1404 bytes crossed 1500 → 1400 and got replies, 1405 and more
//!   vanished (counted in the receiver's `rx dropped`), no ICMP anywhere.
//! - Through a router r2 whose ingress is 1400 (r1 1500 → r2 1400, r2 1500
//!   onwards): DF pings of 1405+ vanish; of 1401..=1404 cross, and the echo
//!   reply (no DF on IPv4) is fragmented by r2 and arrives; on IPv6 r2
//!   cannot fragment the reply, sends packet-too-big to the replier instead,
//!   and that first ping gets no reply; the replier caches the MTU and
//!   fragments the reply to a resent request, which arrives (the DF ping
//!   probe resends, so the model predicts a reply when the packet-too-big
//!   reaches the replier). The other direction (r2 sending
//!   into 1400) gets frag-needed / packet-too-big with mtu 1400 from r2.
//! - TCP through an ingress-only restriction (1500-byte segments into 1400):
//!   veth skips the MTU check for GSO packets, so bursts pass and single
//!   full-size segments (retransmissions, small writes) do not. 1 MiB
//!   transfers: IPv4 20 of 20 completed, IPv6 8 of 10 (2 stalled); 4 MiB
//!   IPv4 4 of 5; 20 MB stalled after 9.7 MB; 1448-byte writes with
//!   `TCP_NODELAY` stalled at once. Adjacent to the sender (its link's far
//!   end 1400) 10 of 10 1 MiB completed. Not predictable: `Unknown`.
//! - Where the ICMP is dropped (nft `drop` of ICMP 3/4 and ICMPv6 2): on the
//!   bottleneck router's OUTPUT the transfer away from it stalls (the
//!   sender wrote 64 KiB, then nothing moved for 4 s) and a DF ping over
//!   the path MTU is silent; on its FORWARD
//!   nothing breaks; on the sending host's INPUT only that host's own
//!   transfers that need PMTUD stall; other directions unaffected.
//! - `tcp_mtu_probing=1` on the sender recovered that blackhole: 200 KB and
//!   1 MiB took 6.3-6.5 s on both families.
//! - frag-needed with mtu 500 (below `net.ipv4.route.min_pmtu` = 552): the
//!   sender caches `mtu lock 552`; later `ping -M do` of 501..=552 bytes
//!   still gets frag-needed (mtu = 500) from the router, 500 replies; TCP
//!   completes (locked route: DF cleared, the router fragments).
//! - TCP MSS hides a narrow link next to an endpoint: client 1500, server
//!   1400 on one link: 1 MiB both ways completed (MSS 1348).
//! - Mitigations, on icmp_blackhole at 1280 (client 1500 | router-a 1280
//!   router-b, which drops its own frag-needed | 9000 server), 1 MiB each
//!   way, both families unless said:
//!   - `mss_clamp = "pmtu"` (nft `set rt mtu`, forward hook) on router-a
//!     fixed the download at once (MSS 1240 / 1220); on router-b too, as
//!     `rt mtu` is the smaller of the routes towards the SYN's destination
//!     and back to its source, and router-b's route to the client is
//!     1280; on a router beyond both (9000 either side) it did not. On
//!     icmp_blackhole itself (1200, IPv4) router-a's clamp fixed both
//!     directions (MSS 1160). A fixed 1200 fixed it, 1360 did not; an
//!     `oifname` limit helps only where the receiver's SYN leaves.
//!   - `tcp_mtu_probing=1` on the sender: recovered in 6.42-6.68 s (IPv4)
//!     and 6.45-6.66 s (IPv6) over 5 runs, `tcp_base_mss` 512 alike;
//!     `=2`: ok at once (0.01 s).
//!   - `ip_no_pmtu_disc` 1, 2, 3 on the sender: IPv4 ok at once (TCP
//!     sends without DF, routers fragment), IPv6 still a blackhole. With
//!     ICMP flowing (no filter) the learned PMTU (`ping -M want`, `ip
//!     route get`) was a locked 552 in mode 1, and 9000 in modes 2 and 3.
//!   - `net.ipv4.route.min_pmtu=1400` (no filter): learned a locked 1400,
//!     transfer ok (fragmented by the router); IPv6 learned 1280.
//! - A throwaway sweep of 11 chain topologies (each filter hook, probing,
//!   ingress-only both ways, within-slack ends, a 500 link, a second
//!   narrowing, one mismatched link) agreed with this model on every DF
//!   ping at and over the path MTU, learned PMTU (`ping -M want`, then
//!   `ip route get`) and 1 MiB transfer, both families.
//!
//! Tunnels (`[[tunnels]]`, VXLAN, see `harness::tunnel`) are links in the
//! plan with their MTU, and predicted like one, except that a VXLAN end
//! does not check its MTU on receive. Measured on 6.18 (VXLAN between two
//! routers two hops apart, veth underlay, `df unset`, no learning):
//! - A VXLAN device made without an underlay `dev` gets MTU 1500 whatever
//!   the underlay: the harness always sets it (default: underlay path MTU
//!   minus 50 over IPv4, minus 70 over IPv6; read back 1450, 1446, 1430).
//! - Tunnel 1450 over a 1500 underlay: DF ping of 1450 answered; 1451 from
//!   the client got frag-needed mtu 1450 from the gateway (from the gateway
//!   itself: local EMSGSIZE, mtu 1450); tracepath: pmtu 1450. IPv6 alike.
//! - vpn_1446 (underlay 1496): client -> appliance DF 1446 answered, 1447
//!   too-big mtu 1446 from gw-a; appliance -> client 1447 and 1500 silent
//!   (the appliance drops gw-b's report), and its 1 MiB transfer stalls
//!   (0 bytes, blackhole in 0.65 s), both families.
//! - vpn_1446_appliance_mtu (appliance end 1440, gw-b end 1500): client ->
//!   appliance DF 1440 and 1444 answered, 1445 and 1446 silent (veth's
//!   4-byte slack, nobody reports), 1447 too-big mtu 1446 from gw-a; the
//!   client learns 1446; TCP completes both ways (MSS 1400 from the
//!   appliance), both families.
//! - Tunnel ends 1450 and 1300: DF pings of 1300..=1450 towards the 1300
//!   end all answered (the VXLAN receive path has no MTU check, unlike
//!   veth); from the 1300 side 1301 got frag-needed mtu 1300.
//! - Underlay shrinking beneath the tunnel (tunnel 1450, a 1400 underlay
//!   link): with `df unset` (our setting, the kernel default) the outer
//!   packet is fragmented by the underlay router (IpFragCreates 2 per
//!   packet) and 1450-byte DF pings are answered, 1 MiB completes. With
//!   `df set` the gateway learns underlay PMTU 1400 and then silently drops
//!   forwarded IPv4 (the VXLAN PMTU check only replies for bridged
//!   devices; IPv4 forwarding ignores the learned exception), while IPv6
//!   inner packets got packet-too-big mtu 1350 after the first was lost.
//!   The format therefore rejects a tunnel MTU above underlay - overhead,
//!   and the model never needs underlay fragmentation.

use std::fmt;
use std::net::IpAddr;

use mtulab_core::plan::{Hop, Plan};
use mtulab_core::topology::{ClampTo, Family, FilterKind, Hook, Topology, Verdict};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Bytes beyond its MTU a veth accepts in a non-GSO packet (`VLAN_HLEN`).
pub const VETH_SLACK: u32 = 4;
/// `net.ipv4.route.min_pmtu` default: a smaller frag-needed is cached as a locked 552.
pub const IPV4_MIN_PMTU: u32 = 552;
/// IPv6 minimum link MTU.
pub const IPV6_MIN_MTU: u32 = 1280;
/// Largest ICMPv4 error a Linux router sends (RFC 1812: up to 576 bytes).
const ICMPV4_ERROR_MAX: u32 = 576;
/// IP + ICMP header bytes in front of the quoted packet (v4, v6).
const ICMP_ERROR_HEADER: [u32; 2] = [28, 48];

/// A value the model either knows or cannot know (and why).
/// Serialises as the value itself, or `{"unknown": "reason"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Knowable<T> {
    Known(T),
    Unknown(String),
}

impl<T> Knowable<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Knowable::Known(v) => Some(v),
            Knowable::Unknown(_) => None,
        }
    }

    pub fn as_ref(&self) -> Knowable<&T> {
        match self {
            Knowable::Known(v) => Knowable::Known(v),
            Knowable::Unknown(r) => Knowable::Unknown(r.clone()),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Knowable<U> {
        match self {
            Knowable::Known(v) => Knowable::Known(f(v)),
            Knowable::Unknown(r) => Knowable::Unknown(r),
        }
    }
}

impl<T: Serialize> Serialize for Knowable<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Knowable::Known(v) => v.serialize(s),
            Knowable::Unknown(reason) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry("unknown", reason)?;
                m.end()
            }
        }
    }
}

/// Switches for tests of the checks themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModelOptions {
    /// Plant a bug on purpose: ignore receiving-end (ingress) MTUs when
    /// computing `path_mtu` and `bottleneck`, so a test can show the
    /// model-vs-kernel comparison catches it. Never set outside such tests.
    pub planted_bug: bool,
}

/// Everything the model predicts for one topology.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Model {
    pub topology: String,
    pub link_mismatches: Vec<LinkMismatch>,
    /// Ordered host pairs and families with a path: hosts in name order, IPv4 first.
    pub paths: Vec<PathPrediction>,
    /// Ordered host pairs and families without one (not a violation).
    pub no_path: Vec<NoPath>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoPath {
    pub from: String,
    pub to: String,
    #[serde(serialize_with = "ser_family")]
    pub family: Family,
}

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

/// One step of a path: `node` sends out of `out_iface` to `next`, arriving on `in_iface`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HopSummary {
    pub node: String,
    pub out_iface: String,
    pub out_mtu: u32,
    pub next: String,
    pub in_iface: String,
    pub in_mtu: u32,
    pub link: usize,
}

impl From<&Hop> for HopSummary {
    fn from(h: &Hop) -> Self {
        HopSummary {
            node: h.node.clone(),
            out_iface: h.out_iface.clone(),
            out_mtu: h.out_mtu,
            next: h.next.clone(),
            in_iface: h.in_iface.clone(),
            in_mtu: h.in_mtu,
            link: h.link,
        }
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
    Filter {
        node: String,
        #[serde(serialize_with = "ser_hook")]
        hook: Hook,
    },
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
    #[serde(serialize_with = "ser_family")]
    pub family: Family,
    /// `to`'s probe address (`Plan::address_of`).
    pub dst: IpAddr,
    /// `from`'s source address (of its interface on the path): where ICMP errors go.
    pub src: IpAddr,
    pub hops: Vec<HopSummary>,
    /// The way `to`'s replies and ACKs take back to `src`; None without a route.
    pub return_hops: Option<Vec<HopSummary>>,
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
    #[serde(serialize_with = "ser_verdict")]
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
    /// Check id (design §4).
    pub check: &'static str,
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

/// Predict every ordered host pair and family of `topology` (whose plan is `plan`).
pub fn predict(topology: &Topology, plan: &Plan) -> Model {
    predict_with(topology, plan, &ModelOptions::default())
}

/// [`predict`] with test switches.
pub fn predict_with(topology: &Topology, plan: &Plan, options: &ModelOptions) -> Model {
    let mut paths = Vec::new();
    let mut no_path = Vec::new();
    for family in [Family::V4, Family::V6] {
        let ctx = Ctx {
            topology,
            plan,
            options,
            family,
        };
        for from in plan.hosts() {
            for to in plan.hosts() {
                if from == to {
                    continue;
                }
                match ctx.predict_path(from, to) {
                    Some(p) => paths.push(p),
                    None => no_path.push(NoPath {
                        from: from.to_owned(),
                        to: to.to_owned(),
                        family,
                    }),
                }
            }
        }
    }
    Model {
        topology: topology.name.clone(),
        link_mismatches: link_mismatches(topology),
        paths,
        no_path,
    }
}

/// Links whose two ends have different MTUs, in file order, then tunnels
/// given unequal MTUs (link index `links.len() + k`, as planned; a default
/// tunnel MTU is the same on both ends).
pub fn link_mismatches(topology: &Topology) -> Vec<LinkMismatch> {
    let tunnels = topology
        .tunnels
        .iter()
        .enumerate()
        .filter_map(|(k, t)| Some((topology.links.len() + k, t, t.mtu?)))
        .filter(|(_, _, mtu)| mtu[0] != mtu[1])
        .map(|(i, t, mtu)| LinkMismatch {
            link: i,
            nodes: t.between.clone(),
            ifaces: t.names.clone(),
            mtu,
            tunnel: true,
        });
    topology
        .links
        .iter()
        .enumerate()
        .filter(|(_, l)| l.mtu[0] != l.mtu[1])
        .map(|(i, l)| LinkMismatch {
            link: i,
            nodes: l.between.clone(),
            ifaces: l.names.clone(),
            mtu: l.mtu,
            tunnel: false,
        })
        .chain(tunnels)
        .collect()
}

/// The outcome of one DF ping of `size` bytes (whole IP packet) from host
/// `from` to host `to`'s address; None when the family has no path.
pub fn predict_ping(
    topology: &Topology,
    plan: &Plan,
    from: &str,
    to: &str,
    family: Family,
    size: u32,
) -> Option<Knowable<Ping>> {
    let options = ModelOptions::default();
    let ctx = Ctx {
        topology,
        plan,
        options: &options,
        family,
    };
    let p = ctx.predict_path(from, to)?;
    let hops = plan.path(from, to, family)?;
    let back = plan.path_to(to, p.src, family);
    Some(ctx.ping(&hops, back.as_deref(), &p.icmp, &p.flow_nodes(), size))
}

impl Model {
    pub fn path(&self, from: &str, to: &str, family: Family) -> Option<&PathPrediction> {
        self.paths
            .iter()
            .find(|p| p.from == from && p.to == to && p.family == family)
    }

    /// What a user would notice and how to fix it: link mismatches first,
    /// then each path's findings.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out: Vec<Finding> = self
            .link_mismatches
            .iter()
            .map(|m| {
                let (small, big) = if m.mtu[0] < m.mtu[1] { (0, 1) } else { (1, 0) };
                let limit = m.mtu[small] + VETH_SLACK;
                let seen = if m.tunnel {
                    // Measured: the VXLAN receive path has no MTU check.
                    format!(
                        "the tunnel's ends differ; {} accepts up to {} bytes from {} (VXLAN does not enforce its MTU on receive), so senders whose traffic enters at {} learn {}, never {}",
                        m.nodes[small],
                        m.mtu[big],
                        m.nodes[big],
                        m.nodes[big],
                        m.mtu[big],
                        m.mtu[small]
                    )
                } else if m.mtu[big] <= limit {
                    format!(
                        "the ends differ by {} bytes, within veth's {VETH_SLACK}-byte slack: nothing is dropped, but nothing reports {}'s smaller MTU either",
                        m.mtu[big] - m.mtu[small],
                        m.nodes[small]
                    )
                } else {
                    format!(
                        "packets from {} to {} of up to {limit} bytes cross, {}..={} bytes vanish without ICMP",
                        m.nodes[big],
                        m.nodes[small],
                        limit + 1,
                        m.mtu[big]
                    )
                };
                Finding {
                    check: "link-mtu-match",
                    subject: format!("link {}", m.link + 1),
                    seen,
                    fix: format!("equalise MTU on {m}"),
                }
            })
            .collect();
        for p in &self.paths {
            out.extend(p.findings());
        }
        out
    }
}

impl PathPrediction {
    fn fi(&self) -> usize {
        family_index(self.family)
    }

    /// Every node the flow's packets, replies and ICMP errors cross.
    fn flow_nodes(&self) -> Vec<String> {
        let mut nodes: Vec<String> = Vec::new();
        let mut add = |n: &String| {
            if !nodes.contains(n) {
                nodes.push(n.clone());
            }
        };
        for h in self.hops.iter().chain(self.return_hops.iter().flatten()) {
            add(&h.node);
            add(&h.next);
        }
        for i in &self.icmp {
            i.way_back.iter().for_each(&mut add);
        }
        nodes
    }

    /// The `icmp-passes` finding for `router`'s frag-needed / packet-too-big
    /// to this path's sender: Some only when the model knows it is dropped.
    pub fn icmp_finding(&self, router: &str) -> Option<Finding> {
        let i = self.icmp.iter().find(|i| i.router == router)?;
        let (Knowable::Known(false), Some(c)) = (&i.reaches, &i.culprit) else {
            return None;
        };
        let when = if i.needed {
            format!("{} needs it ({} sends into {})", self.from, i.router, i.mtu)
        } else {
            format!(
                "latent: nothing needs it today, {} would blackhole once {} has to send into a smaller MTU",
                self.from, i.router
            )
        };
        Some(Finding {
            check: "icmp-passes",
            subject: format!("{} -> {} ({})", self.from, self.to, self.family),
            seen: format!(
                "{} from {} to {}: {}; {when}",
                ICMP_SHORT[self.fi()],
                i.router,
                self.from,
                culprit_words(c, &i.router, self.family)
            ),
            fix: culprit_fix(c, self.family),
        })
    }

    /// The first finding of `check` on this path (None: the model predicts it holds or cannot know).
    pub fn finding(&self, check: &str) -> Option<Finding> {
        self.findings().into_iter().find(|f| f.check == check)
    }

    /// What a user would see on this path and the fix, one finding per broken check.
    pub fn findings(&self) -> Vec<Finding> {
        let subject = format!("{} -> {} ({})", self.from, self.to, self.family);
        let finding = |check, seen: String, fix: String| Finding {
            check,
            subject: subject.clone(),
            seen,
            fix,
        };
        let mut out = Vec::new();
        // tcp-transfer
        if let Some(stall) = &self.stall {
            let probing = format!("set net.ipv4.tcp_mtu_probing=1 on {}", self.from);
            match (stall, self.transfer.known()) {
                (
                    Stall::IcmpDropped {
                        router,
                        next,
                        link,
                        mtu,
                        size,
                        culprit,
                    },
                    Some(v),
                ) => {
                    let mss = mtu - MSS_OVERHEAD[self.fi()];
                    let cause = format!(
                        "{size}-byte packets do not fit {router}'s {mtu} towards {next} (link {}) and {}",
                        link + 1,
                        culprit_words(culprit, router, self.family)
                    );
                    // The MSS that limits this flow's segments is the one
                    // `to` announces: a clamp must sit on a router its SYN
                    // crosses, which is not the stalling router when the
                    // way back differs from the way out.
                    let syn_routers: Vec<&str> = self
                        .return_hops
                        .iter()
                        .flatten()
                        .skip(1)
                        .map(|h| h.node.as_str())
                        .collect();
                    let at = if syn_routers.is_empty() || syn_routers.contains(&router.as_str()) {
                        router.as_str()
                    } else {
                        syn_routers[0]
                    };
                    let clamp = format!("clamp MSS to {mss} on {at}");
                    let (seen, fix) = if *v == Verdict::Recovered {
                        (
                            format!(
                                "bulk transfers from {} to {} stall for seconds, then recover by TCP MTU probing: {cause}",
                                self.from, self.to
                            ),
                            format!("{}, or {clamp}", culprit_fix(culprit, self.family)),
                        )
                    } else {
                        (
                            format!(
                                "bulk transfers from {} to {} stall (small exchanges work): {cause}",
                                self.from, self.to
                            ),
                            format!(
                                "{}, or {clamp}, or {probing}",
                                culprit_fix(culprit, self.family)
                            ),
                        )
                    };
                    out.push(finding("tcp-transfer", seen, fix));
                }
                (
                    Stall::IngressDrop {
                        link,
                        node,
                        iface,
                        mtu,
                        size,
                        gso,
                    },
                    verdict,
                ) => {
                    let how = if *gso {
                        "may stall (veth lets GSO bursts through but drops single full-size segments)"
                    } else if verdict == Some(&Verdict::Recovered) {
                        "stall for seconds, then recover by TCP MTU probing"
                    } else {
                        "stall"
                    };
                    out.push(finding(
                        "tcp-transfer",
                        format!(
                            "bulk transfers from {} to {} {how}: {size}-byte packets are dropped silently entering {node}:{iface} ({mtu}, link {}), no ICMP",
                            self.from,
                            self.to,
                            link + 1
                        ),
                        format!("equalise MTU on link {}, or {probing}", link + 1),
                    ));
                }
                (Stall::IcmpDropped { .. }, None) => {}
            }
        }
        // icmp-passes: every router, needed today or latent.
        out.extend(
            self.icmp
                .iter()
                .filter_map(|i| self.icmp_finding(&i.router)),
        );
        // pmtud: the learned PMTU and a DF ping at the path MTU.
        if let Knowable::Known(l) = &self.learned_pmtu {
            if l.mtu != self.path_mtu {
                let b = &self.bottleneck;
                let (why, fix) = if l.locked {
                    (
                        format!(
                            "a frag-needed below net.ipv4.route.min_pmtu is cached as a locked {}",
                            l.mtu
                        ),
                        format!(
                            "raise link {}'s MTU to at least {IPV4_MIN_PMTU}, or lower net.ipv4.route.min_pmtu on {}",
                            b.link + 1,
                            self.from
                        ),
                    )
                } else {
                    match &self.pmtud_stall {
                        Some(Stall::IngressDrop {
                            link,
                            node,
                            iface,
                            mtu,
                            size,
                            ..
                        }) => (
                            format!(
                                "{size}-byte packets are dropped silently entering {node}:{iface} ({mtu}, link {})",
                                link + 1
                            ),
                            format!("equalise MTU on link {}", link + 1),
                        ),
                        Some(Stall::IcmpDropped {
                            router, culprit, ..
                        }) => (
                            culprit_words(culprit, router, self.family),
                            culprit_fix(culprit, self.family),
                        ),
                        // Delivered although bigger than a receiving end:
                        // a tunnel end does not check its MTU, a veth end
                        // has 4 bytes of slack; either way nothing reports it.
                        None => {
                            let (kind, why) = if self.tunnel_links.contains(&b.link) {
                                (
                                    "tunnel, ",
                                    format!(
                                        "a VXLAN end does not enforce its MTU on receive, so {}-byte packets cross and nothing reports it",
                                        l.mtu
                                    ),
                                )
                            } else {
                                (
                                    "",
                                    format!(
                                        "veth's {VETH_SLACK}-byte slack lets {}-byte packets in, so nothing reports it",
                                        l.mtu
                                    ),
                                )
                            };
                            (
                                format!(
                                    "{}:{} receives at {} ({kind}link {}) but {why}",
                                    b.node,
                                    b.iface,
                                    b.mtu,
                                    b.link + 1
                                ),
                                format!("equalise MTU on link {}", b.link + 1),
                            )
                        }
                    }
                };
                out.push(finding(
                    "pmtud",
                    format!(
                        "{} learns PMTU {} towards {}, the path MTU is {}: {why}",
                        self.from, l.mtu, self.to, self.path_mtu
                    ),
                    fix,
                ));
            }
        }
        if let Knowable::Known(Ping::Silence) = &self.ping_at_pmtu {
            let back = self
                .return_hops
                .as_ref()
                .and_then(|h| h.iter().map(|h| h.out_mtu.min(h.in_mtu)).min());
            out.push(finding(
                "pmtud",
                format!(
                    "a DF ping of {} bytes from {} to {} gets no reply: the echo reply does not fit the way back{}",
                    self.path_mtu,
                    self.from,
                    self.to,
                    back.map(|m| format!(" (MTU {m})")).unwrap_or_default()
                ),
                match self.family {
                    // IPv4 routers fragment the echo reply (no DF): only a
                    // silent drop on the way back loses it.
                    Family::V4 => "make both directions take links of the same MTU".to_owned(),
                    // IPv6: the replier fragments once a router's
                    // packet-too-big tells it, so a lost reply means that
                    // report did not reach it either.
                    Family::V6 => format!(
                        "let ICMPv6 type 2 (packet-too-big) from the routers on the way back reach {}, or make both directions take links of the same MTU",
                        self.to
                    ),
                },
            ));
        }
        out
    }
}

/// Bytes of IP + TCP header the MSS leaves out (v4, v6).
const MSS_OVERHEAD: [u32; 2] = [40, 60];
const ICMP_NAME: [&str; 2] = [
    "ICMP type 3 code 4 (frag-needed)",
    "ICMPv6 type 2 (packet-too-big)",
];
const ICMP_SHORT: [&str; 2] = ["frag-needed", "packet-too-big"];

fn family_index(family: Family) -> usize {
    match family {
        Family::V4 => 0,
        Family::V6 => 1,
    }
}

impl Culprit {
    /// How this stops the ICMP error `router` generated, in words.
    pub fn words(&self, router: &str, family: Family) -> String {
        culprit_words(self, router, family)
    }

    /// The fix, in words.
    pub fn fix(&self, family: Family) -> String {
        culprit_fix(self, family)
    }
}

/// How `culprit` stops the ICMP `router` generated.
fn culprit_words(culprit: &Culprit, router: &str, family: Family) -> String {
    let what = ICMP_SHORT[family_index(family)];
    match culprit {
        Culprit::Filter { node, hook } => match hook {
            Hook::Output if node == router => format!("{node} drops its own {what} on output"),
            Hook::Output => format!("{node} drops {what} on output"),
            Hook::Forward => format!("{node} drops {router}'s {what} in forward"),
            Hook::Input => format!("{node} drops {router}'s {what} on input"),
        },
        Culprit::Ruleset { node, tool, path } => {
            format!("{tool} ruleset {path} on {node} decides whether {router}'s {what} passes")
        }
        Culprit::NoRoute { router, dst } => format!("{router} has no route back to {dst}"),
        Culprit::IngressMtu {
            link,
            node,
            iface,
            mtu,
            size,
        } => format!(
            "{router}'s {size}-byte {what} is dropped entering {node}:{iface} ({mtu}, link {})",
            link + 1
        ),
    }
}

fn culprit_fix(culprit: &Culprit, family: Family) -> String {
    let what = ICMP_NAME[family_index(family)];
    match culprit {
        Culprit::Filter { node, hook } => {
            let dir = match hook {
                Hook::Output => "out of",
                Hook::Forward => "through",
                Hook::Input => "into",
            };
            format!("let {what} {dir} {node}")
        }
        Culprit::Ruleset { node, path, .. } => format!("let {what} pass {path} on {node}"),
        Culprit::NoRoute { router, dst } => format!("give {router} a route back to {dst}"),
        Culprit::IngressMtu { link, .. } => format!("equalise MTU on link {}", link + 1),
    }
}

fn ser_family<S: Serializer>(f: &Family, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.as_str())
}

fn ser_hook<S: Serializer>(h: &Hook, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(h.as_str())
}

fn ser_verdict<S: Serializer>(v: &Knowable<Verdict>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().map(|v| v.as_str()).serialize(s)
}

/// What happens to one packet (and its fragments) along a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fate {
    Delivered,
    /// Bigger than the sender's own interface and it may not fragment.
    LocalTooBig {
        mtu: u32,
    },
    /// The router of `hops[hop]` may not fragment it into `mtu`.
    TooBig {
        hop: usize,
        mtu: u32,
    },
    /// Dropped silently entering `hops[hop].next` (`size` > MTU + slack).
    Dropped {
        hop: usize,
        size: u32,
    },
}

/// Who may fragment: the sender (no DF, or IPv6 source fragmentation) and
/// routers (IPv4 without DF).
#[derive(Debug, Clone, Copy)]
struct Frag {
    source: bool,
    routers: bool,
}

const DF: Frag = Frag {
    source: false,
    routers: false,
};

fn walk(hops: &[Hop], size: u32, frag: Frag) -> Fate {
    let mut cur = size;
    for (i, h) in hops.iter().enumerate() {
        if cur > h.out_mtu {
            let may = if i == 0 { frag.source } else { frag.routers };
            if !may {
                return if i == 0 {
                    Fate::LocalTooBig { mtu: h.out_mtu }
                } else {
                    Fate::TooBig {
                        hop: i,
                        mtu: h.out_mtu,
                    }
                };
            }
            cur = h.out_mtu;
        }
        if cur > h.in_mtu + VETH_SLACK {
            return Fate::Dropped { hop: i, size: cur };
        }
    }
    Fate::Delivered
}

/// Result of the sender's PMTUD iterations (DF packets, shrinking on each ICMP that arrives).
struct Run {
    learned: Learned,
    /// Hop indices of the routers whose ICMP the sender used.
    hit: Vec<usize>,
    stop: Option<Stall>,
}

struct Ctx<'a> {
    topology: &'a Topology,
    plan: &'a Plan,
    options: &'a ModelOptions,
    family: Family,
}

impl Ctx<'_> {
    fn fi(&self) -> usize {
        family_index(self.family)
    }

    fn predict_path(&self, from: &str, to: &str) -> Option<PathPrediction> {
        let family = self.family;
        let hops = self.plan.path(from, to, family)?;
        let first = hops.first()?;
        let dst = self.plan.address_of(to, family)?;
        let src = self
            .plan
            .node(from)?
            .iface(&first.out_iface)?
            .addr(family)?
            .addr;
        let back = self.plan.path_to(to, src, family);

        let bottleneck = self.bottleneck(&hops);
        let from_mtu = first.out_mtu;
        let to_mtu = back.as_ref().and_then(|b| b.first()).map(|h| h.out_mtu);
        let overhead = MSS_OVERHEAD[self.fi()];
        let mss = match to_mtu {
            Some(t) => Knowable::Known(Mss {
                from: from_mtu - overhead,
                to: t - overhead,
            }),
            None => Knowable::Unknown(format!("{to} has no route back to {src}")),
        };
        // The MSS `to` advertises reaches `from` along `back`; a clamp on
        // a router there lowers it.
        let mss_clamp = back
            .as_deref()
            .and_then(|b| self.clamp_on_way(to, b, from_mtu.min(to_mtu.unwrap_or(from_mtu))));
        let tcp_packet = match to_mtu {
            Some(t) => Knowable::Known(
                mss_clamp
                    .as_ref()
                    .map_or(from_mtu.min(t), |c| from_mtu.min(t).min(c.mss + overhead)),
            ),
            None => Knowable::Unknown(format!("{to} has no route back to {src}")),
        };
        let knobs = self.knobs(from);

        let mut icmp: Vec<IcmpPrediction> = hops
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, h)| self.icmp_from(&h.node, i, h.out_mtu, src, from_mtu))
            .collect();
        // Which routers today's traffic needs, assuming every ICMP arrives.
        let mut needed: Vec<usize> = self.run(&hops, from_mtu, &icmp, true).hit;
        if let Knowable::Known(p) = tcp_packet {
            needed.extend(self.run(&hops, p, &icmp, true).hit);
        }
        for i in &mut icmp {
            i.needed = needed.contains(&i.hop);
        }

        let mtu_probing = self
            .topology
            .nodes
            .get(from)
            .into_iter()
            .flat_map(|n| &n.sysctl)
            .any(|(k, v)| {
                k == "net.ipv4.tcp_mtu_probing" && v.trim().parse::<u32>().is_ok_and(|v| v >= 1)
            });

        let mut p = PathPrediction {
            from: from.to_owned(),
            to: to.to_owned(),
            family,
            dst,
            src,
            hops: hops.iter().map(HopSummary::from).collect(),
            return_hops: back
                .as_ref()
                .map(|b| b.iter().map(HopSummary::from).collect()),
            path_mtu: bottleneck.mtu,
            bottleneck,
            mss,
            tcp_packet,
            icmp,
            ping_at_pmtu: Knowable::Unknown(String::new()),
            ping_over_pmtu: Knowable::Unknown(String::new()),
            learned_pmtu: Knowable::Unknown(String::new()),
            transfer: Knowable::Unknown(String::new()),
            stall: None,
            pmtud_stall: None,
            mtu_probing,
            tunnel_links: hops
                .iter()
                .map(|h| h.link)
                .filter(|&l| self.plan.links.get(l).is_some_and(|l| l.tunnel.is_some()))
                .collect(),
            knobs,
            mss_clamp,
        };
        let flow = p.flow_nodes();
        let ruleset = self.ruleset_among(&flow);
        let unknown = |r: &Culprit| {
            let Culprit::Ruleset { node, tool, path } = r else {
                unreachable!("ruleset_among returns rulesets")
            };
            format!("{tool} ruleset {path} on {node} may filter or clamp this flow; the live probes decide")
        };

        p.ping_at_pmtu = self.ping(&hops, back.as_deref(), &p.icmp, &flow, p.path_mtu);
        p.ping_over_pmtu = self.ping(&hops, back.as_deref(), &p.icmp, &flow, p.path_mtu + 1);

        let pmtud = self.run(&hops, from_mtu, &p.icmp, false);
        p.pmtud_stall = pmtud.stop.clone();
        p.learned_pmtu = match (&ruleset, &pmtud.stop) {
            (Some(r), _) => Knowable::Unknown(unknown(r)),
            (
                None,
                Some(Stall::IcmpDropped {
                    router,
                    culprit: c @ Culprit::Ruleset { .. },
                    ..
                }),
            ) => Knowable::Unknown(culprit_words(c, router, family)),
            _ => Knowable::Known(pmtud.learned),
        };

        let (transfer, stall) = match p.tcp_packet.clone() {
            Knowable::Unknown(r) => (Knowable::Unknown(r), None),
            Knowable::Known(size) => {
                let run = self.run(&hops, size, &p.icmp, false);
                let mitigated = if mtu_probing {
                    Verdict::Recovered
                } else {
                    Verdict::Blackhole
                };
                let run = self.mitigate(&hops, size, &knobs, run);
                let (verdict, stall) = match run.stop {
                    None => (Knowable::Known(Verdict::Ok), None),
                    // Whether the ICMP passes is the ruleset's call: no stall to report.
                    Some(Stall::IcmpDropped {
                        router,
                        culprit: c @ Culprit::Ruleset { .. },
                        ..
                    }) => (Knowable::Unknown(culprit_words(&c, &router, family)), None),
                    Some(s @ Stall::IcmpDropped { .. }) => (Knowable::Known(mitigated), Some(s)),
                    Some(s @ Stall::IngressDrop { gso: true, .. }) => (
                        Knowable::Unknown(format!(
                            "{size}-byte TCP segments exceed a receiving end's MTU: veth passes GSO bursts and drops single segments, so the transfer {} depending on loss",
                            if mtu_probing { "completes or recovers" } else { "completes or stalls" }
                        )),
                        Some(s),
                    ),
                    Some(s @ Stall::IngressDrop { gso: false, .. }) => {
                        (Knowable::Known(mitigated), Some(s))
                    }
                };
                match &ruleset {
                    Some(r) => (Knowable::Unknown(unknown(r)), stall),
                    None => (verdict, stall),
                }
            }
        };
        p.transfer = transfer;
        p.stall = stall;
        self.apply_knobs_to_pmtud(&mut p, &hops, from_mtu);
        Some(p)
    }

    /// `node`'s PMTU sysctls (kernel defaults where unset or unparsable).
    fn knobs(&self, node: &str) -> SenderKnobs {
        let mut k = SenderKnobs::default();
        let Some(n) = self.topology.nodes.get(node) else {
            return k;
        };
        for (key, value) in &n.sysctl {
            let Ok(v) = value.trim().parse::<u32>() else {
                continue;
            };
            match key.as_str() {
                "net.ipv4.tcp_mtu_probing" => k.mtu_probing = v,
                "net.ipv4.tcp_base_mss" => k.base_mss = v,
                "net.ipv4.ip_no_pmtu_disc" => k.no_pmtu_disc = v,
                "net.ipv4.route.min_pmtu" => k.min_pmtu = v,
                _ => {}
            }
        }
        k
    }

    /// The smallest MSS any `mss_clamp` on the routers of `back` (the way
    /// `to`'s SYN / SYN-ACK takes to the sender) leaves in `to`'s MSS option,
    /// if one lowers it below `packet - overhead`. `rt mtu` is the smaller
    /// route MTU of the router's routes towards the SYN's destination
    /// (this hop's egress) and back to its source (`to`'s address).
    fn clamp_on_way(&self, to: &str, back: &[Hop], packet: u32) -> Option<ClampPrediction> {
        let overhead = MSS_OVERHEAD[self.fi()];
        let to_src = back
            .first()
            .and_then(|h| self.plan.node(to)?.iface(&h.out_iface)?.addr(self.family))
            .map(|a| a.addr)?;
        let mut best: Option<ClampPrediction> = None;
        for h in back.iter().skip(1) {
            let Some(clamp) = self
                .topology
                .nodes
                .get(&h.node)
                .and_then(|n| n.mss_clamp.as_ref())
            else {
                continue;
            };
            if clamp.oif.as_ref().is_some_and(|o| *o != h.out_iface) {
                continue;
            }
            let mss = match clamp.to {
                ClampTo::Mss(v) => u32::from(v),
                ClampTo::Pmtu => {
                    let towards_src = self
                        .plan
                        .path_to(&h.node, to_src, self.family)
                        .and_then(|p| p.first().map(|f| f.out_mtu))
                        .unwrap_or(h.out_mtu);
                    h.out_mtu.min(towards_src).saturating_sub(overhead)
                }
            };
            if mss + overhead < packet && best.as_ref().is_none_or(|b| mss < b.mss) {
                best = Some(ClampPrediction {
                    router: h.node.clone(),
                    mss,
                });
            }
        }
        best
    }

    /// The transfer's stall after the sender's own mitigations that send
    /// the segments differently (measured on 6.18, icmp_blackhole at 1280):
    /// - `ip_no_pmtu_disc` >= 1 (IPv4): TCP sockets send without DF
    ///   (IP_PMTUDISC_DONT), so routers fragment: modes 1, 2 and 3 all
    ///   moved 1 MiB at once through the blackhole; IPv6 still stalled.
    /// - `tcp_mtu_probing=2`: probing from `tcp_base_mss` on from the start
    ///   moved 1 MiB at once (0.01 s) in both families, when the packets of
    ///   `base_mss` fit; larger `base_mss` was not measured.
    fn mitigate(&self, hops: &[Hop], size: u32, knobs: &SenderKnobs, run: Run) -> Run {
        let Some(stop) = &run.stop else {
            return run;
        };
        let nodf = Frag {
            source: true,
            routers: true,
        };
        let icmp_stall = matches!(stop, Stall::IcmpDropped { culprit, .. } if !matches!(culprit, Culprit::Ruleset { .. }));
        if self.family == Family::V4
            && knobs.no_pmtu_disc >= 1
            && icmp_stall
            && matches!(walk(hops, size, nodf), Fate::Delivered)
        {
            return Run { stop: None, ..run };
        }
        if knobs.mtu_probing == 2 && icmp_stall {
            if let Stall::IcmpDropped { mtu, .. } = stop {
                if knobs.base_mss + MSS_OVERHEAD[self.fi()] <= *mtu {
                    return Run { stop: None, ..run };
                }
            }
        }
        run
    }

    /// What `ip_no_pmtu_disc` does to the PMTU the sender learns (IPv4;
    /// measured with `ping -M want` then `ip route get`, hidden 1280 link):
    /// mode 1 cached a locked `min_pmtu` (552) on the first frag-needed,
    /// whatever MTU it carried; modes 2 and 3 ignored ICMP-borne reports
    /// (the learned PMTU stayed the interface's). DF pings over the path
    /// MTU were not measured under these modes: unknown.
    fn apply_knobs_to_pmtud(&self, p: &mut PathPrediction, hops: &[Hop], from_mtu: u32) {
        let mode = p.knobs.no_pmtu_disc;
        if self.family != Family::V4 || mode == 0 {
            return;
        }
        let why = format!(
            "net.ipv4.ip_no_pmtu_disc={mode} on {}: not measured",
            p.from
        );
        if matches!(p.ping_over_pmtu, Knowable::Known(_)) {
            p.ping_over_pmtu = Knowable::Unknown(why.clone());
        }
        if !matches!(p.learned_pmtu, Knowable::Known(_)) {
            return;
        }
        p.learned_pmtu = match mode {
            1 => {
                let first_arrives = match walk(hops, from_mtu, DF) {
                    Fate::TooBig { hop, .. } => p
                        .icmp
                        .iter()
                        .find(|i| i.hop == hop)
                        .map(|i| i.reaches.clone()),
                    _ => Some(Knowable::Known(false)),
                };
                match first_arrives {
                    Some(Knowable::Known(true)) => Knowable::Known(Learned {
                        mtu: from_mtu.min(p.knobs.min_pmtu),
                        locked: true,
                    }),
                    Some(Knowable::Known(false)) => Knowable::Known(Learned {
                        mtu: from_mtu,
                        locked: false,
                    }),
                    _ => Knowable::Unknown(why),
                }
            }
            2 | 3 => Knowable::Known(Learned {
                mtu: from_mtu,
                locked: false,
            }),
            _ => Knowable::Unknown(why),
        };
    }

    /// The first interface along the path with the smallest MTU: each hop's
    /// egress, then (unless the planted bug is on) its receiving end.
    fn bottleneck(&self, hops: &[Hop]) -> Bottleneck {
        let mut best: Option<Bottleneck> = None;
        for (i, h) in hops.iter().enumerate() {
            let egress = Bottleneck {
                hop: i,
                link: h.link,
                node: h.node.clone(),
                iface: h.out_iface.clone(),
                mtu: h.out_mtu,
                kind: BottleneckKind::Egress,
            };
            let ingress = Bottleneck {
                hop: i,
                link: h.link,
                node: h.next.clone(),
                iface: h.in_iface.clone(),
                mtu: h.in_mtu,
                kind: BottleneckKind::IngressOnly,
            };
            let candidates = if self.options.planted_bug {
                vec![egress]
            } else {
                vec![egress, ingress]
            };
            for c in candidates {
                if best.as_ref().is_none_or(|b| c.mtu < b.mtu) {
                    best = Some(c);
                }
            }
        }
        best.expect("a path has at least one hop")
    }

    /// `hops` as the kernel treats them: a VXLAN device does not check its
    /// MTU on receive (measured: 1450-byte DF pings crossed a tunnel whose
    /// receiving end was 1300), so a tunnel hop's receiving end never drops.
    fn tunnel_rx_unchecked(&self, hops: &[Hop]) -> Vec<Hop> {
        hops.iter()
            .map(|h| {
                let mut h = h.clone();
                if self
                    .plan
                    .links
                    .get(h.link)
                    .is_some_and(|l| l.tunnel.is_some())
                {
                    h.in_mtu = u32::MAX - VETH_SLACK;
                }
                h
            })
            .collect()
    }

    /// Declarative drop of PMTU ICMP at `hook` on `node`.
    fn drops(&self, node: &str, hook: Hook) -> bool {
        self.topology.filters.iter().any(|f| {
            f.node == node && matches!(f.kind, FilterKind::DropPmtuIcmp { hook: h } if h == hook)
        })
    }

    /// A real ruleset on `node` that can see this family's packets.
    fn ruleset_on(&self, node: &str) -> Option<Culprit> {
        self.topology.filters.iter().find_map(|f| {
            if f.node != node {
                return None;
            }
            let (tool, path) = match (&f.kind, self.family) {
                (FilterKind::Nft(p), _) => ("nft", p),
                (FilterKind::Iptables(p), Family::V4) => ("iptables", p),
                (FilterKind::Ip6tables(p), Family::V6) => ("ip6tables", p),
                _ => return None,
            };
            Some(Culprit::Ruleset {
                node: node.to_owned(),
                tool: tool.to_owned(),
                path: path.display().to_string(),
            })
        })
    }

    fn ruleset_among(&self, nodes: &[String]) -> Option<Culprit> {
        nodes.iter().find_map(|n| self.ruleset_on(n))
    }

    /// The frag-needed / packet-too-big `router` (sending on `hops[hop]`
    /// into `mtu`) would send to `src` about a `orig`-byte packet.
    fn icmp_from(
        &self,
        router: &str,
        hop: usize,
        mtu: u32,
        src: IpAddr,
        orig: u32,
    ) -> IcmpPrediction {
        let mut out = IcmpPrediction {
            router: router.to_owned(),
            hop,
            mtu,
            needed: false,
            way_back: vec![router.to_owned()],
            reaches: Knowable::Known(false),
            culprit: None,
        };
        let Some(way) = self
            .plan
            .path_to(router, src, self.family)
            .map(|w| self.tunnel_rx_unchecked(&w))
        else {
            out.culprit = Some(Culprit::NoRoute {
                router: router.to_owned(),
                dst: src,
            });
            return out;
        };
        out.way_back.extend(way.iter().map(|h| h.next.clone()));
        // Position of each event along the way: node k's hooks at (k, 1),
        // the ingress into node k at (k, 0).
        let last = out.way_back.len() - 1;
        let filter = out.way_back.iter().enumerate().find_map(|(k, node)| {
            let hook = if k == 0 {
                Hook::Output
            } else if k == last {
                Hook::Input
            } else {
                Hook::Forward
            };
            self.drops(node, hook).then(|| {
                (
                    (k, 1),
                    Culprit::Filter {
                        node: node.clone(),
                        hook,
                    },
                )
            })
        });
        let size = match self.family {
            Family::V4 => ICMPV4_ERROR_MAX.min(ICMP_ERROR_HEADER[0] + orig),
            Family::V6 => IPV6_MIN_MTU.min(ICMP_ERROR_HEADER[1] + orig),
        };
        // ICMP errors go without DF: IPv4 routers fragment them, an IPv6 source does.
        let frag = Frag {
            source: true,
            routers: self.family == Family::V4,
        };
        let ingress = match walk(&way, size, frag) {
            Fate::Dropped { hop: j, size } => {
                let h = &way[j];
                Some((
                    (j + 1, 0),
                    Culprit::IngressMtu {
                        link: h.link,
                        node: h.next.clone(),
                        iface: h.in_iface.clone(),
                        mtu: h.in_mtu,
                        size,
                    },
                ))
            }
            // Cannot happen on IPv6 links (all >= 1280), and IPv4 fragments.
            Fate::TooBig { hop: j, mtu } => Some((
                (j, 1),
                Culprit::IngressMtu {
                    link: way[j].link,
                    node: way[j].node.clone(),
                    iface: way[j].out_iface.clone(),
                    mtu,
                    size,
                },
            )),
            Fate::Delivered | Fate::LocalTooBig { .. } => None,
        };
        let first = [filter, ingress]
            .into_iter()
            .flatten()
            .min_by_key(|(p, _)| *p);
        if let Some((_, c)) = first {
            out.culprit = Some(c);
        } else if let Some(r) = self.ruleset_among(&out.way_back) {
            out.reaches = Knowable::Unknown(format!(
                "{}; the live probes decide",
                culprit_words(&r, router, self.family)
            ));
            out.culprit = Some(r);
        } else {
            out.reaches = Knowable::Known(true);
        }
        out
    }

    /// The sender's PMTUD iterations starting with `start`-byte DF packets.
    /// `optimistic`: every ICMP arrives (to find the routers traffic needs).
    fn run(&self, hops: &[Hop], start: u32, icmp: &[IcmpPrediction], optimistic: bool) -> Run {
        let hops = &self.tunnel_rx_unchecked(hops)[..];
        let mut learned = Learned {
            mtu: hops[0].out_mtu,
            locked: false,
        };
        let mut cur = start;
        let mut hit = Vec::new();
        loop {
            // A locked route sends without DF (TCP, IP_PMTUDISC_WANT): routers fragment.
            let frag = if learned.locked {
                Frag {
                    source: true,
                    routers: true,
                }
            } else {
                DF
            };
            match walk(hops, cur, frag) {
                Fate::Delivered | Fate::LocalTooBig { .. } => {
                    return Run {
                        learned,
                        hit,
                        stop: None,
                    }
                }
                Fate::Dropped { hop, size } => {
                    let h = &hops[hop];
                    return Run {
                        learned,
                        hit,
                        stop: Some(Stall::IngressDrop {
                            link: h.link,
                            node: h.next.clone(),
                            iface: h.in_iface.clone(),
                            mtu: h.in_mtu,
                            size,
                            gso: !learned.locked,
                        }),
                    };
                }
                Fate::TooBig { hop, mtu } => {
                    let ic = icmp
                        .iter()
                        .find(|i| i.hop == hop)
                        .expect("an ICMP prediction per router on the path");
                    if !optimistic && ic.reaches != Knowable::Known(true) {
                        let h = &hops[hop];
                        let culprit = ic
                            .culprit
                            .clone()
                            .expect("an ICMP that does not surely arrive has a culprit");
                        return Run {
                            learned,
                            hit,
                            stop: Some(Stall::IcmpDropped {
                                router: h.node.clone(),
                                next: h.next.clone(),
                                link: h.link,
                                mtu,
                                size: cur,
                                culprit,
                            }),
                        };
                    }
                    hit.push(hop);
                    let floor = match self.family {
                        Family::V4 => self.knobs(&hops[0].node).min_pmtu,
                        Family::V6 => IPV6_MIN_MTU,
                    };
                    if mtu < floor {
                        // The kernel caches min(old, floor), locked (IPv4);
                        // IPv6 links are never below 1280.
                        cur = cur.min(floor);
                        learned = Learned {
                            mtu: cur,
                            locked: true,
                        };
                    } else {
                        cur = mtu;
                        learned.mtu = mtu;
                    }
                }
            }
        }
    }

    /// One DF ping of `size` bytes along `hops`, its reply along `back`.
    fn ping(
        &self,
        hops: &[Hop],
        back: Option<&[Hop]>,
        icmp: &[IcmpPrediction],
        flow: &[String],
        size: u32,
    ) -> Knowable<Ping> {
        let hops = &self.tunnel_rx_unchecked(hops)[..];
        let back = back.map(|b| self.tunnel_rx_unchecked(b));
        let back = back.as_deref();
        if let Some(Culprit::Ruleset { node, tool, path }) = self.ruleset_among(flow) {
            return Knowable::Unknown(format!(
                "{tool} ruleset {path} on {node} may filter these packets; the live probes decide"
            ));
        }
        match walk(hops, size, DF) {
            Fate::LocalTooBig { mtu } => Knowable::Known(Ping::LocalTooBig { mtu }),
            Fate::Dropped { .. } => Knowable::Known(Ping::Silence),
            Fate::TooBig { hop, mtu } => {
                match icmp.iter().find(|i| i.hop == hop).map(|i| &i.reaches) {
                    Some(Knowable::Known(true)) => Knowable::Known(Ping::TooBig {
                        mtu,
                        from_node: hops[hop].node.clone(),
                    }),
                    Some(Knowable::Unknown(r)) => Knowable::Unknown(r.clone()),
                    _ => Knowable::Known(Ping::Silence),
                }
            }
            Fate::Delivered => {
                // The echo reply has no DF: the replier fragments it, IPv4
                // routers too; an IPv6 router sends packet-too-big to the
                // replier instead and this reply is lost. The probe
                // (`harness::probe::ping::df_ping`) resends its request
                // every quarter of its deadline, so once the replier has
                // learned the MTU it fragments the next reply itself and
                // the ping gets its answer — if that packet-too-big
                // reaches the replier (measured on 6.18: h1 1511 -> 1280
                // r0 4000 -> 9000 h2, 1281-byte ping: a single echo gets
                // no reply and h2 caches `mtu 1280`; the probe's second
                // echo gets a reply). Each narrowing on the way back costs
                // one echo; the probe sends at least four.
                let Some(back) = back else {
                    return Knowable::Known(Ping::Silence);
                };
                let frag = Frag {
                    source: true,
                    routers: self.family == Family::V4,
                };
                let replier = hops.last().map(|h| h.next.as_str());
                let replier_addr = replier.and_then(|r| self.plan.address_of(r, self.family));
                let mut cur = size;
                loop {
                    match walk(back, cur, frag) {
                        Fate::Delivered => return Knowable::Known(Ping::Reply),
                        Fate::TooBig { hop, mtu } if mtu < cur => {
                            let Some(addr) = replier_addr else {
                                return Knowable::Known(Ping::Silence);
                            };
                            let ptb = self.icmp_from(&back[hop].node, hop, mtu, addr, cur);
                            match ptb.reaches {
                                Knowable::Known(true) => cur = mtu,
                                Knowable::Known(false) => return Knowable::Known(Ping::Silence),
                                Knowable::Unknown(r) => return Knowable::Unknown(r),
                            }
                        }
                        _ => return Knowable::Known(Ping::Silence),
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Anycast behind ECMP.

/// What the model says about downloads from one anycast address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnycastPrediction {
    /// The anycast address.
    pub address: IpAddr,
    #[serde(serialize_with = "ser_family")]
    pub family: Family,
    pub members: Vec<String>,
    /// Routers with a multipath route to the address, with their
    /// `fib_multipath_hash_policy` (0 unless set).
    pub ecmp: Vec<(String, u32)>,
    /// Every download from the address, per flow: `Known(Ok)` when ICMP
    /// errors follow their flow (no ECMP, or L3 hashing, IPv6 with the
    /// members reflecting flow labels) and the unicast downloads from the
    /// members are predicted ok; `Unknown` when some flows may stall (an L4
    /// or custom hash: which ones is a coin toss per flow).
    #[serde(serialize_with = "ser_verdict")]
    pub transfer: Knowable<Verdict>,
}

fn sysctl_of<'a>(topology: &'a Topology, node: &str, key: &str) -> Option<&'a str> {
    topology
        .nodes
        .get(node)?
        .sysctl
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Predict downloads from every anycast address (each family it has) to
/// any host that is not a member.
///
/// Measured on 6.18 (client -1500- r0 -1300- r1 -9000- lb -9000- s1 / s2,
/// both serving one anycast address, lb with a two-way multipath route; 32
/// sequential 1 MiB / 256 KiB downloads per run, exceptions flushed before each):
/// - IPv4, fib_multipath_hash_policy=0 on lb: 32 of 32 completed, every
///   flow on the same server (L3 hash: one address pair), the frag-needed
///   from r1 at that server (the kernel hashes an ICMP error on the header
///   it quotes, and the L3 hash is symmetric).
/// - IPv4, policy 1: 17, 12, 18, 18 of 32 stalled (shell runs), 14, 17, 15
///   (the probe); every frag-needed at one server, the stalled flows held by
///   the other. The ICMP's own header (r1 -> anycast, no ports) is hashed,
///   the TCP flows by their ports; and the forwarded SYN's hash is the
///   client's random socket txhash, so which flows stall changes from run
///   to run even with fixed ports. Each flow is a coin toss: all 32 on the
///   ICMP's server has probability 2^-32.
/// - IPv6, policy 0: the L3 hash includes the flow label. With auto flow
///   labels the server labels its segments differently from the client, so
///   the packet-too-big (quoting the server's label) went to a random
///   server: 4 and 3 of 32 never completed (shell); in 10 runs of the
///   check (scenario anycast_flowlabel) 13-22 of 32 were not prompt, 2-7 of
///   them never completed, the rest recovered after an RTO. With
///   net.ipv6.flowlabel_reflect=1 on the
///   servers (set before their sockets exist) 32 of 32 completed, flows
///   spread 16/16, each packet-too-big at its flow's server.
/// - IPv6, policy 1: 15, 13 of 32 stalled (shell), 13, 10, 17 (the probe).
pub fn predict_anycast(topology: &Topology, plan: &Plan) -> Vec<AnycastPrediction> {
    let model = predict(topology, plan);
    let mut out = Vec::new();
    for group in &topology.anycast {
        for family in [Family::V4, Family::V6] {
            let Some(address) = group.addr(family) else {
                continue;
            };
            let fam = if family == Family::V4 { "ipv4" } else { "ipv6" };
            let ecmp: Vec<(String, u32)> = plan
                .nodes
                .iter()
                .filter(|n| n.multipath.iter().any(|m| m.dst.addr == address))
                .map(|n| {
                    let key = format!("net.{fam}.fib_multipath_hash_policy");
                    let policy = sysctl_of(topology, &n.name, &key)
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    (n.name.clone(), policy)
                })
                .collect();
            let reflect = group.nodes.iter().all(|m| {
                sysctl_of(topology, m, "net.ipv6.flowlabel_reflect")
                    .and_then(|v| v.trim().parse::<u32>().ok())
                    .is_some_and(|v| v & 1 != 0)
            });
            let mut transfer = Knowable::Known(Verdict::Ok);
            for (router, policy) in &ecmp {
                let why = match (policy, family) {
                    (0, Family::V4) => continue,
                    (0, Family::V6) if reflect => continue,
                    (0, Family::V6) => format!(
                        "{router} hashes IPv6 on the flow label too, and the members do not reflect the client's (net.ipv6.flowlabel_reflect): a packet-too-big quoting a member's own label may reach another member"
                    ),
                    (1, _) => format!(
                        "{router} hashes on L4 (fib_multipath_hash_policy=1): an ICMP error is hashed on its own header, not its flow's, so flows held by other members than the one it hashes to may stall"
                    ),
                    (p, _) => format!(
                        "{router} uses fib_multipath_hash_policy={p}: not modelled"
                    ),
                };
                transfer = Knowable::Unknown(why);
                break;
            }
            // The downloads themselves, as the unicast paths from the members.
            if transfer.known().is_some() {
                for m in &group.nodes {
                    for client in plan.hosts() {
                        if group.nodes.iter().any(|g| g == client) {
                            continue;
                        }
                        match model.path(m, client, family).map(|p| &p.transfer) {
                            Some(Knowable::Known(Verdict::Ok)) | None => {}
                            Some(other) => {
                                transfer = other.clone();
                            }
                        }
                    }
                }
            }
            out.push(AnycastPrediction {
                address,
                family,
                members: group.nodes.clone(),
                ecmp,
                transfer,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use mtulab_core::topology::Filter;

    use super::*;
    use Family::{V4, V6};

    fn topo(src: &str) -> Topology {
        Topology::from_str(src, Path::new("test.toml")).unwrap_or_else(|e| panic!("{e}"))
    }

    fn model_of(t: &Topology) -> Model {
        predict(t, &Plan::new(t))
    }

    fn model(src: &str) -> Model {
        model_of(&topo(src))
    }

    fn path<'a>(m: &'a Model, from: &str, to: &str, family: Family) -> &'a PathPrediction {
        m.path(from, to, family)
            .unwrap_or_else(|| panic!("no prediction {from} -> {to} {family}"))
    }

    fn known<T: Clone + fmt::Debug>(k: &Knowable<T>) -> T {
        match k {
            Knowable::Known(v) => v.clone(),
            Knowable::Unknown(r) => panic!("unknown: {r}"),
        }
    }

    fn too_big(mtu: u32, node: &str) -> Knowable<Ping> {
        Knowable::Known(Ping::TooBig {
            mtu,
            from_node: node.to_owned(),
        })
    }

    fn learned(mtu: u32) -> Knowable<Learned> {
        Knowable::Known(Learned { mtu, locked: false })
    }

    fn ok() -> Knowable<Verdict> {
        Knowable::Known(Verdict::Ok)
    }

    fn icmp<'a>(p: &'a PathPrediction, router: &str) -> &'a IcmpPrediction {
        p.icmp
            .iter()
            .find(|i| i.router == router)
            .unwrap_or_else(|| panic!("no ICMP prediction for {router}"))
    }

    fn checks(m: &Model) -> Vec<(&'static str, String)> {
        m.findings()
            .into_iter()
            .map(|f| (f.check, f.subject))
            .collect()
    }

    /// Two hosts on one 1500 link (the bundled direct_1500): path MTU 1500
    /// set by the sender itself, MSS 1460 / 1440, nothing to learn,
    /// transfer ok, nothing to report.
    #[test]
    fn direct_1500() {
        let m = model_of(&bundled("direct_1500"));
        assert!(m.link_mismatches.is_empty());
        assert!(m.no_path.is_empty());
        assert_eq!(m.paths.len(), 4);
        let p = path(&m, "client", "server", V4);
        assert_eq!(p.dst, "198.18.0.2".parse::<IpAddr>().unwrap());
        assert_eq!(p.src, "198.18.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(p.path_mtu, 1500);
        assert_eq!(
            p.bottleneck,
            Bottleneck {
                hop: 0,
                link: 0,
                node: "client".into(),
                iface: "server".into(),
                mtu: 1500,
                kind: BottleneckKind::Egress
            }
        );
        assert_eq!(
            known(&p.mss),
            Mss {
                from: 1460,
                to: 1460
            }
        );
        assert_eq!(known(&p.tcp_packet), 1500);
        assert!(p.icmp.is_empty());
        assert_eq!(p.ping_at_pmtu, Knowable::Known(Ping::Reply));
        assert_eq!(
            p.ping_over_pmtu,
            Knowable::Known(Ping::LocalTooBig { mtu: 1500 })
        );
        assert_eq!(p.learned_pmtu, learned(1500));
        assert_eq!(p.transfer, ok());
        assert_eq!(p.stall, None);
        let p6 = path(&m, "server", "client", V6);
        assert_eq!(
            known(&p6.mss),
            Mss {
                from: 1440,
                to: 1440
            }
        );
        assert_eq!(p6.transfer, ok());
        assert!(m.findings().is_empty(), "{:?}", m.findings());
    }

    //   client 1200 ---- 1500 server    (one link, ends differ; no IPv6: 1200 < 1280)
    //
    /// The bundled direct_mismatch: one link, client end 1200, server end
    /// 1500. DF traffic towards the 1200 end beyond 1204 bytes vanishes
    /// (veth's 4-byte slack lets 1201..=1204 through, and the client
    /// fragments the reply), so the server never learns 1200; TCP works
    /// because the client advertises MSS 1160.
    #[test]
    fn direct_mismatch() {
        let t = bundled("direct_mismatch");
        let m = model_of(&t);
        assert_eq!(
            link_mismatches(&t),
            [LinkMismatch {
                link: 0,
                nodes: ["client".into(), "server".into()],
                ifaces: ["server".into(), "client".into()],
                mtu: [1200, 1500],
                tunnel: false,
            }]
        );
        assert_eq!(
            m.link_mismatches[0].to_string(),
            "link 1 (client:server 1200 vs server:client 1500)"
        );
        assert_eq!(
            m.no_path.len(),
            2,
            "no IPv6 on a 1200 link: {:?}",
            m.no_path
        );
        assert!(m.no_path.iter().all(|n| n.family == V6));

        let s = path(&m, "server", "client", V4);
        assert_eq!(s.path_mtu, 1200);
        assert_eq!(s.bottleneck.kind, BottleneckKind::IngressOnly);
        assert_eq!(s.bottleneck.node, "client");
        assert_eq!(s.bottleneck.iface, "server");
        assert_eq!(
            known(&s.mss),
            Mss {
                from: 1460,
                to: 1160
            }
        );
        assert_eq!(known(&s.tcp_packet), 1200);
        assert_eq!(s.ping_at_pmtu, Knowable::Known(Ping::Reply));
        assert_eq!(s.ping_over_pmtu, Knowable::Known(Ping::Reply), "slack");
        let ping = |size| predict_ping(&t, &Plan::new(&t), "server", "client", V4, size);
        assert_eq!(ping(1204), Some(Knowable::Known(Ping::Reply)));
        assert_eq!(ping(1205), Some(Knowable::Known(Ping::Silence)));
        assert_eq!(ping(1500), Some(Knowable::Known(Ping::Silence)));
        assert_eq!(
            ping(1501),
            Some(Knowable::Known(Ping::LocalTooBig { mtu: 1500 }))
        );
        assert_eq!(
            s.learned_pmtu,
            learned(1500),
            "nothing is learned from a silent drop"
        );
        assert_eq!(s.transfer, ok(), "MSS 1160 hides the small end");

        let c = path(&m, "client", "server", V4);
        assert_eq!(c.path_mtu, 1200);
        assert_eq!(c.bottleneck.kind, BottleneckKind::Egress);
        assert_eq!(c.bottleneck.node, "client");
        assert_eq!(
            c.ping_over_pmtu,
            Knowable::Known(Ping::LocalTooBig { mtu: 1200 })
        );
        assert_eq!(c.learned_pmtu, learned(1200));
        assert_eq!(c.transfer, ok());

        assert_eq!(
            checks(&m),
            [
                ("link-mtu-match", "link 1".to_owned()),
                ("pmtud", "server -> client (ipv4)".to_owned()),
            ]
        );
        let f = m.findings();
        assert_eq!(
            f[0].fix,
            "equalise MTU on link 1 (client:server 1200 vs server:client 1500)"
        );
        assert_eq!(
            f[0].seen,
            "packets from server to client of up to 1204 bytes cross, 1205..=1500 bytes vanish without ICMP"
        );
    }

    /// The bundled client_net_smaller: the narrow link is next to the
    /// client, whose MSS (1460) keeps the server's segments at 1500 bytes,
    /// so no ICMP is needed for TCP either way; the server's PMTUD
    /// (9000-byte probes) learns 1500 from the router.
    #[test]
    fn client_net_smaller() {
        let m = model_of(&bundled("client_net_smaller"));
        for family in [V4, V6] {
            let s = path(&m, "server", "client", family);
            assert_eq!(s.path_mtu, 1500);
            assert_eq!(s.bottleneck.node, "router");
            assert_eq!(s.bottleneck.kind, BottleneckKind::Egress);
            assert_eq!(known(&s.tcp_packet), 1500);
            assert_eq!(s.transfer, ok());
            assert_eq!(s.ping_over_pmtu, too_big(1500, "router"));
            assert_eq!(s.learned_pmtu, learned(1500));
            assert!(icmp(s, "router").needed);
            assert_eq!(icmp(s, "router").reaches, Knowable::Known(true));
            assert_eq!(icmp(s, "router").way_back, ["router", "server"]);

            let c = path(&m, "client", "server", family);
            assert_eq!(c.path_mtu, 1500);
            assert_eq!(c.bottleneck.node, "client");
            assert_eq!(c.transfer, ok());
            assert!(!icmp(c, "router").needed, "router sends into 9000");
        }
        let s = path(&m, "server", "client", V4);
        assert_eq!(
            known(&s.mss),
            Mss {
                from: 8960,
                to: 1460
            }
        );
        assert!(m.findings().is_empty(), "{:?}", m.findings());
    }

    // The bundled hidden_smaller scenario, cut before its [expect] (whose
    // `pmtu = 1200` the tests' `.replace("mtu = 1200", …)` must not touch):
    //
    //   client --1500-- router-a --1200-- router-b --9000-- server
    fn hidden_smaller_src() -> &'static str {
        let file = include_str!("../../topologies/hidden_smaller.toml");
        file.split_once("\n[expect]").expect("[expect]").0
    }

    fn with_filter(src: &str, node: &str, kind: FilterKind) -> Topology {
        let mut t = topo(src);
        t.filters.push(Filter {
            node: node.into(),
            kind,
        });
        t
    }

    fn drop_at(hook: Hook) -> FilterKind {
        FilterKind::DropPmtuIcmp { hook }
    }

    /// The 1200 link is between routers: neither MSS covers it (client 1460,
    /// server 8960), so each direction needs the frag-needed of the router
    /// in front of it: router-b's for server -> client, router-a's for
    /// client -> server. All arrive: both ok, path MTU 1200 both ways.
    #[test]
    fn hidden_smaller() {
        let m = model(hidden_smaller_src());
        assert_eq!(m.no_path.len(), 2, "IPv6 does not cross 1200");
        let s = path(&m, "server", "client", V4);
        assert_eq!(s.path_mtu, 1200);
        assert_eq!(
            s.bottleneck,
            Bottleneck {
                hop: 1,
                link: 1,
                node: "router-b".into(),
                iface: "router-a".into(),
                mtu: 1200,
                kind: BottleneckKind::Egress
            }
        );
        assert_eq!(
            known(&s.mss),
            Mss {
                from: 8960,
                to: 1460
            }
        );
        assert_eq!(known(&s.tcp_packet), 1500);
        assert_eq!(s.ping_at_pmtu, Knowable::Known(Ping::Reply));
        assert_eq!(s.ping_over_pmtu, too_big(1200, "router-b"));
        assert_eq!(s.learned_pmtu, learned(1200));
        assert_eq!(s.transfer, ok());
        assert!(icmp(s, "router-b").needed);
        assert!(!icmp(s, "router-a").needed, "router-a sends into 1500");
        assert_eq!(
            icmp(s, "router-a").way_back,
            ["router-a", "router-b", "server"]
        );

        let c = path(&m, "client", "server", V4);
        assert_eq!(c.path_mtu, 1200);
        assert_eq!(c.bottleneck.node, "router-a");
        assert_eq!(c.ping_over_pmtu, too_big(1200, "router-a"));
        assert_eq!(c.learned_pmtu, learned(1200));
        assert_eq!(c.transfer, ok());
        assert!(icmp(c, "router-a").needed);
        assert!(m.findings().is_empty(), "{:?}", m.findings());
    }

    /// hidden_smaller with router-b dropping its own frag-needed on OUTPUT:
    /// server -> client blackholes (and its DF ping over 1200 is silent, the
    /// server learns nothing); client -> server is fine today, but
    /// router-b's frag-needed towards the client is dropped as well: latent.
    #[test]
    fn icmp_blackhole() {
        let t = with_filter(hidden_smaller_src(), "router-b", drop_at(Hook::Output));
        let m = model_of(&t);
        let s = path(&m, "server", "client", V4);
        assert_eq!(s.path_mtu, 1200);
        assert_eq!(s.transfer, Knowable::Known(Verdict::Blackhole));
        assert_eq!(s.ping_at_pmtu, Knowable::Known(Ping::Reply));
        assert_eq!(s.ping_over_pmtu, Knowable::Known(Ping::Silence));
        assert_eq!(s.learned_pmtu, learned(9000));
        let b = icmp(s, "router-b");
        assert!(b.needed);
        assert_eq!(b.reaches, Knowable::Known(false));
        assert_eq!(
            b.culprit,
            Some(Culprit::Filter {
                node: "router-b".into(),
                hook: Hook::Output
            })
        );
        assert_eq!(
            icmp(s, "router-a").reaches,
            Knowable::Known(true),
            "router-a's ICMP crosses router-b's FORWARD, not its OUTPUT"
        );
        assert!(matches!(
            &s.stall,
            Some(Stall::IcmpDropped { router, mtu: 1200, size: 1500, .. }) if router == "router-b"
        ));

        let c = path(&m, "client", "server", V4);
        assert_eq!(c.transfer, ok());
        assert_eq!(c.ping_over_pmtu, too_big(1200, "router-a"));
        let latent = icmp(c, "router-b");
        assert!(!latent.needed);
        assert_eq!(latent.reaches, Knowable::Known(false));

        let f = m.findings();
        let transfer = f.iter().find(|f| f.check == "tcp-transfer").unwrap();
        assert_eq!(transfer.subject, "server -> client (ipv4)");
        assert_eq!(
            transfer.seen,
            "bulk transfers from server to client stall (small exchanges work): 1500-byte packets do not fit router-b's 1200 towards router-a (link 2) and router-b drops its own frag-needed on output"
        );
        assert_eq!(
            transfer.fix,
            "let ICMP type 3 code 4 (frag-needed) out of router-b, or clamp MSS to 1160 on router-b, or set net.ipv4.tcp_mtu_probing=1 on server"
        );
        assert_eq!(
            checks(&m),
            [
                ("icmp-passes", "client -> server (ipv4)".to_owned()),
                ("tcp-transfer", "server -> client (ipv4)".to_owned()),
                ("icmp-passes", "server -> client (ipv4)".to_owned()),
                ("pmtud", "server -> client (ipv4)".to_owned()),
            ]
        );
    }

    /// A FORWARD drop on router-b, the bottleneck router for server -> client,
    /// blackholes no transfer: its own frag-needed never crosses its FORWARD
    /// hook. It does drop router-a's frag-needed towards the server (latent).
    #[test]
    fn forward_drop_on_bottleneck_router_breaks_no_transfer() {
        let t = with_filter(hidden_smaller_src(), "router-b", drop_at(Hook::Forward));
        let m = model_of(&t);
        let s = path(&m, "server", "client", V4);
        assert_eq!(s.transfer, ok());
        assert_eq!(s.ping_over_pmtu, too_big(1200, "router-b"));
        assert_eq!(icmp(s, "router-b").reaches, Knowable::Known(true));
        let a = icmp(s, "router-a");
        assert!(!a.needed);
        assert_eq!(a.reaches, Knowable::Known(false));
        assert_eq!(
            a.culprit,
            Some(Culprit::Filter {
                node: "router-b".into(),
                hook: Hook::Forward
            })
        );
        let c = path(&m, "client", "server", V4);
        assert_eq!(c.transfer, ok());
        assert!(c.icmp.iter().all(|i| i.reaches == Knowable::Known(true)));
        assert_eq!(
            checks(&m),
            [("icmp-passes", "server -> client (ipv4)".to_owned())]
        );
    }

    /// The client dropping frag-needed on INPUT only hurts paths where the
    /// client is the sender that needs one: its uploads to the server stall
    /// (router-a's frag-needed is dropped); the server's downloads to it are
    /// fine (router-b's frag-needed goes to the server).
    #[test]
    fn client_input_drop_blackholes_only_client_uploads() {
        let t = with_filter(hidden_smaller_src(), "client", drop_at(Hook::Input));
        let m = model_of(&t);
        let c = path(&m, "client", "server", V4);
        assert_eq!(c.transfer, Knowable::Known(Verdict::Blackhole));
        assert_eq!(c.ping_over_pmtu, Knowable::Known(Ping::Silence));
        assert_eq!(c.learned_pmtu, learned(1500));
        assert_eq!(
            icmp(c, "router-a").culprit,
            Some(Culprit::Filter {
                node: "client".into(),
                hook: Hook::Input
            })
        );
        let s = path(&m, "server", "client", V4);
        assert_eq!(s.transfer, ok());
        assert_eq!(s.ping_over_pmtu, too_big(1200, "router-b"));
        assert!(s.icmp.iter().all(|i| i.reaches == Knowable::Known(true)));
    }

    /// Control for the blackhole: tcp_mtu_probing=1 on the server (the
    /// sender) makes server -> client recover; it changes nothing for the
    /// client's uploads, and nothing about what is learned.
    #[test]
    fn mtu_probing_on_sender_recovers() {
        let src = hidden_smaller_src().replace(
            "[nodes.server]",
            "[nodes.server]\nsysctl = { \"net.ipv4.tcp_mtu_probing\" = \"1\" }",
        );
        let t = with_filter(&src, "router-b", drop_at(Hook::Output));
        let m = model_of(&t);
        let s = path(&m, "server", "client", V4);
        assert!(s.mtu_probing);
        assert_eq!(s.transfer, Knowable::Known(Verdict::Recovered));
        assert_eq!(s.learned_pmtu, learned(9000));
        assert_eq!(s.ping_over_pmtu, Knowable::Known(Ping::Silence));
        let c = path(&m, "client", "server", V4);
        assert!(!c.mtu_probing);
        assert_eq!(c.transfer, ok());
        // Probing on the receiver does not help the sender.
        let src = hidden_smaller_src().replace(
            "[nodes.client]",
            "[nodes.client]\nsysctl = { \"net.ipv4.tcp_mtu_probing\" = \"2\" }",
        );
        let t = with_filter(&src, "router-b", drop_at(Hook::Output));
        let m = model_of(&t);
        assert_eq!(
            path(&m, "server", "client", V4).transfer,
            Knowable::Known(Verdict::Blackhole)
        );
    }

    //   client --1500-- router-a --1300-- router-b --9000-- server   (IPv6 too)
    fn hidden_1300() -> String {
        hidden_smaller_src().replace("mtu = 1200", "mtu = 1300")
    }

    /// A real ruleset on router-b: whatever crosses router-b is the live
    /// probes' to decide. iptables only sees IPv4, so IPv6 stays known.
    #[test]
    fn ruleset_makes_paths_through_it_unknown() {
        let t = with_filter(
            &hidden_1300(),
            "router-b",
            FilterKind::Nft(PathBuf::from("/x/rulesets/router-b.nft")),
        );
        let m = model_of(&t);
        for family in [V4, V6] {
            for (from, to) in [("server", "client"), ("client", "server")] {
                let p = path(&m, from, to, family);
                assert_eq!(p.path_mtu, 1300, "interfaces are still known");
                assert!(matches!(p.transfer, Knowable::Unknown(_)), "{from}->{to}");
                assert!(matches!(p.ping_over_pmtu, Knowable::Unknown(_)));
                assert!(matches!(p.learned_pmtu, Knowable::Unknown(_)));
                let b = icmp(p, "router-b");
                assert!(matches!(b.reaches, Knowable::Unknown(_)));
                assert_eq!(
                    b.culprit,
                    Some(Culprit::Ruleset {
                        node: "router-b".into(),
                        tool: "nft".into(),
                        path: "/x/rulesets/router-b.nft".into()
                    })
                );
            }
        }
        let Knowable::Unknown(reason) = &path(&m, "server", "client", V4).transfer else {
            unreachable!()
        };
        assert!(
            reason.contains("/x/rulesets/router-b.nft on router-b"),
            "{reason}"
        );

        let t = with_filter(
            &hidden_1300(),
            "router-b",
            FilterKind::Iptables(PathBuf::from("/x/r.rules")),
        );
        let m = model_of(&t);
        assert!(matches!(
            path(&m, "server", "client", V4).transfer,
            Knowable::Unknown(_)
        ));
        let s6 = path(&m, "server", "client", V6);
        assert_eq!(s6.transfer, ok());
        assert_eq!(s6.ping_over_pmtu, too_big(1300, "router-b"));
        // Control: a ruleset on a node off every path changes nothing.
        let src = hidden_1300() + "[nodes.spare]\nrouter = true\n[[links]]\nbetween = [\"router-a\", \"spare\"]\nmtu = 1500\n";
        let t = with_filter(&src, "spare", FilterKind::Nft(PathBuf::from("/x/s.nft")));
        let m = model_of(&t);
        assert_eq!(path(&m, "server", "client", V4).transfer, ok());
    }

    //   c --1500-- r1 1500 --- 1400 r2 --1500-- s
    const INGRESS_BETWEEN_ROUTERS: &str = r#"name = "ingress_only"
[nodes.c]
[nodes.r1]
router = true
[nodes.r2]
router = true
[nodes.s]
[[links]]
between = ["c", "r1"]
mtu = 1500
[[links]]
between = ["r1", "r2"]
mtu = [1500, 1400]
[[links]]
between = ["r2", "s"]
mtu = 1500
"#;

    /// r2 receives at 1400 from a 1500 r1 (measured on 6.18): c's DF pings
    /// of 1401..=1404 cross, the IPv4 reply is fragmented by r2 and arrives,
    /// the first IPv6 reply gets packet-too-big at r2 and is lost (the
    /// probe's next one arrives); 1405+ vanish;
    /// c learns nothing; TCP depends on GSO luck. The other way r2 sends
    /// into 1400 and reports it.
    #[test]
    fn ingress_only_between_routers() {
        let t = topo(INGRESS_BETWEEN_ROUTERS);
        let m = model_of(&t);
        for family in [V4, V6] {
            let c = path(&m, "c", "s", family);
            assert_eq!(c.path_mtu, 1400);
            assert_eq!(
                c.bottleneck,
                Bottleneck {
                    hop: 1,
                    link: 1,
                    node: "r2".into(),
                    iface: "r1".into(),
                    mtu: 1400,
                    kind: BottleneckKind::IngressOnly
                }
            );
            assert_eq!(c.ping_at_pmtu, Knowable::Known(Ping::Reply));
            assert_eq!(c.learned_pmtu, learned(1500));
            assert!(
                matches!(c.transfer, Knowable::Unknown(_)),
                "{:?}",
                c.transfer
            );
            assert!(matches!(
                c.stall,
                Some(Stall::IngressDrop {
                    gso: true,
                    mtu: 1400,
                    ..
                })
            ));
            let ping = |size| predict_ping(&t, &Plan::new(&t), "c", "s", family, size).unwrap();
            assert_eq!(ping(1405), Knowable::Known(Ping::Silence));
            let s = path(&m, "s", "c", family);
            assert_eq!(s.path_mtu, 1400);
            assert_eq!(s.bottleneck.kind, BottleneckKind::Egress);
            assert_eq!(s.ping_over_pmtu, too_big(1400, "r2"));
            assert_eq!(s.learned_pmtu, learned(1400));
            assert_eq!(s.transfer, ok());
        }
        assert_eq!(
            path(&m, "c", "s", V4).ping_over_pmtu,
            Knowable::Known(Ping::Reply)
        );
        // IPv6: the first reply meets r2's 1400 egress and is lost, r2's
        // packet-too-big teaches s, the probe's next echo gets a reply.
        assert_eq!(
            path(&m, "c", "s", V6).ping_over_pmtu,
            Knowable::Known(Ping::Reply)
        );
        // The planted bug ignores r2's 1400 ingress: path MTU 1500.
        let bugged = predict_with(&t, &Plan::new(&t), &ModelOptions { planted_bug: true });
        assert_eq!(path(&bugged, "c", "s", V4).path_mtu, 1500);
        assert_eq!(path(&bugged, "s", "c", V4).path_mtu, 1400);
    }

    /// An IPv6 echo reply too big for a router on the way back: the
    /// probe's resent request gets a reply once the replier has learned
    /// the MTU from that router's packet-too-big — silence when the
    /// packet-too-big is dropped on its way to the replier (r2 OUTPUT,
    /// s INPUT), a reply again when the drop is elsewhere (c INPUT).
    #[test]
    fn v6_reply_too_big_on_the_way_back() {
        let t = topo(INGRESS_BETWEEN_ROUTERS);
        let at = |t: &Topology| predict_ping(t, &Plan::new(t), "c", "s", V6, 1401).expect("a path");
        assert_eq!(at(&t), Knowable::Known(Ping::Reply));
        for (node, hook, want) in [
            ("r2", Hook::Output, Ping::Silence),
            ("s", Hook::Input, Ping::Silence),
            ("c", Hook::Input, Ping::Reply),
        ] {
            let f = with_filter(INGRESS_BETWEEN_ROUTERS, node, drop_at(hook));
            assert_eq!(at(&f), Knowable::Known(want), "drop at {node} {hook}");
        }
        // IPv4: r2 fragments the reply, filters or not.
        let f = with_filter(INGRESS_BETWEEN_ROUTERS, "r2", drop_at(Hook::Output));
        assert_eq!(
            predict_ping(&f, &Plan::new(&f), "c", "s", V4, 1401).expect("a path"),
            Knowable::Known(Ping::Reply)
        );
    }

    //   c --1500-- ra --500-- rb --1500-- s    (IPv4 only)
    /// A frag-needed below min_pmtu: c caches a locked 552 (not 500); DF
    /// pings of 501 still get frag-needed (500); TCP sends without DF and
    /// ra fragments: ok.
    #[test]
    fn below_min_pmtu_learns_locked_552() {
        let m = model(&hidden_smaller_src().replace("mtu = 1200", "mtu = 500"));
        let c = path(&m, "client", "server", V4);
        assert_eq!(c.path_mtu, 500);
        assert_eq!(
            c.learned_pmtu,
            Knowable::Known(Learned {
                mtu: 552,
                locked: true
            })
        );
        assert_eq!(c.ping_at_pmtu, Knowable::Known(Ping::Reply));
        assert_eq!(c.ping_over_pmtu, too_big(500, "router-a"));
        assert_eq!(c.transfer, ok());
        let f: Vec<_> = m.findings();
        assert!(f.iter().any(|f| f.check == "pmtud"
            && f.subject == "client -> server (ipv4)"
            && f.seen.contains("learns PMTU 552")));
    }

    //   client --1500-- router-a 1500 --- 1497 router-b --1500-- server
    /// Ends 3 bytes apart, within veth's 4-byte slack: nothing is dropped
    /// client -> server, so nothing is learned (1500) although router-b
    /// receives at 1497; a DF ping of 1498 gets a reply on IPv4 (router-b
    /// fragments the reply into 1497) and on IPv6 once the server has
    /// learned 1497 from router-b's packet-too-big (the probe resends).
    #[test]
    fn mismatch_within_slack() {
        let m = model(
            &hidden_smaller_src()
                .replace("mtu = 1200", "mtu = [1500, 1497]")
                .replace("mtu = 9000", "mtu = 1500"),
        );
        for family in [V4, V6] {
            let c = path(&m, "client", "server", family);
            assert_eq!(c.path_mtu, 1497);
            assert_eq!(c.bottleneck.kind, BottleneckKind::IngressOnly);
            assert_eq!(c.bottleneck.node, "router-b");
            assert_eq!(c.ping_at_pmtu, Knowable::Known(Ping::Reply));
            assert_eq!(c.learned_pmtu, learned(1500));
            assert_eq!(c.pmtud_stall, None);
            assert_eq!(c.transfer, ok(), "1500 <= 1497 + 4");
            let s = path(&m, "server", "client", family);
            assert_eq!(s.path_mtu, 1497);
            assert_eq!(s.ping_over_pmtu, too_big(1497, "router-b"));
            assert_eq!(s.learned_pmtu, learned(1497));
        }
        assert_eq!(
            path(&m, "client", "server", V4).ping_over_pmtu,
            Knowable::Known(Ping::Reply)
        );
        // IPv6: the first reply is lost at router-b, whose packet-too-big
        // teaches the server; the probe's next echo gets a reply.
        assert_eq!(
            path(&m, "client", "server", V6).ping_over_pmtu,
            Knowable::Known(Ping::Reply)
        );
        let f = m.findings();
        assert_eq!(f[0].check, "link-mtu-match");
        assert!(
            f[0].seen.contains("within veth's 4-byte slack"),
            "{}",
            f[0].seen
        );
        let pmtud = f
            .iter()
            .find(|f| f.check == "pmtud" && f.subject == "client -> server (ipv4)")
            .unwrap();
        assert!(
            pmtud.seen.contains("slack lets 1500-byte packets in"),
            "{}",
            pmtud.seen
        );
    }

    //   c --1500-- r1 --1400-- r2 --1300-- r3 --1500-- s     r2 drops on output
    /// Two narrowing steps: c learns 1400 from r1, then r2's frag-needed is
    /// dropped: c is stuck at 1400 and its transfer stalls at r2, not r1.
    /// s meets r3 (1300) first, whose ICMP arrives; r2 sends s's packets
    /// into 1400, which they already fit: its dropped ICMP is latent for s.
    #[test]
    fn second_narrowing_blackholes() {
        let src = r#"name = "two_narrow"
[nodes.c]
[nodes.r1]
router = true
[nodes.r2]
router = true
[nodes.r3]
router = true
[nodes.s]
[[links]]
between = ["c", "r1"]
mtu = 1500
[[links]]
between = ["r1", "r2"]
mtu = 1400
[[links]]
between = ["r2", "r3"]
mtu = 1300
[[links]]
between = ["r3", "s"]
mtu = 1500
"#;
        let t = with_filter(src, "r2", drop_at(Hook::Output));
        let m = model_of(&t);
        for family in [V4, V6] {
            let c = path(&m, "c", "s", family);
            assert_eq!(c.path_mtu, 1300);
            assert_eq!(c.bottleneck.node, "r2");
            assert_eq!(c.learned_pmtu, learned(1400));
            assert_eq!(c.transfer, Knowable::Known(Verdict::Blackhole));
            assert!(matches!(
                &c.stall,
                Some(Stall::IcmpDropped { router, size: 1400, mtu: 1300, .. }) if router == "r2"
            ));
            assert_eq!(c.ping_over_pmtu, Knowable::Known(Ping::Silence));
            assert_eq!(
                c.icmp.iter().map(|i| i.needed).collect::<Vec<_>>(),
                [true, true, false]
            );
            let s = path(&m, "s", "c", family);
            assert_eq!(s.learned_pmtu, learned(1300));
            assert_eq!(s.ping_over_pmtu, too_big(1300, "r3"));
            assert_eq!(s.transfer, ok());
            let r2 = icmp(s, "r2");
            assert!(!r2.needed);
            assert_eq!(r2.reaches, Knowable::Known(false));
        }
    }

    // topologies/fixtures/diamond.toml with ra -- r1 -- rb at 1400 (not
    // 1300) and the server's link at 1300 (not 1500):
    //
    //                    link 1 (1400)  r2  link 4 (1400)
    //   client -- ra <                                 > rb -- server
    //   link 0 (1500)    link 2 (1400)  r1  link 3 (1400)     link 5 (1300)
    fn diamond() -> String {
        let server_link = "between = [\"rb\", \"server\"]\nmtu = 1500";
        let src = include_str!("../../topologies/fixtures/diamond.toml");
        assert!(src.contains(server_link));
        src.replace("mtu = 1300", "mtu = 1400")
            .replace(server_link, "between = [\"rb\", \"server\"]\nmtu = 1300")
    }

    /// The way back is routed, not the forward path reversed: client ->
    /// server goes ra, r2, rb, but rb's frag-needed to the client goes rb,
    /// r1, ra. A FORWARD drop on r1, a router the client's packets never
    /// cross, stops the client's PMTUD at 1400 (ra's report arrives, rb's
    /// does not); TCP is unaffected because the server's MSS (1260) covers
    /// rb's 1300.
    #[test]
    fn icmp_way_back_differs_from_forward_path() {
        let t = with_filter(&diamond(), "r1", drop_at(Hook::Forward));
        let m = model_of(&t);
        for family in [V4, V6] {
            let c = path(&m, "client", "server", family);
            assert_eq!(
                c.hops.iter().map(|h| h.node.as_str()).collect::<Vec<_>>(),
                ["client", "ra", "r2", "rb"]
            );
            assert_eq!(c.path_mtu, 1300);
            assert_eq!(c.bottleneck.node, "rb");
            let rb = icmp(c, "rb");
            assert!(rb.needed);
            assert_eq!(rb.way_back, ["rb", "r1", "ra", "client"]);
            assert_eq!(
                rb.culprit,
                Some(Culprit::Filter {
                    node: "r1".into(),
                    hook: Hook::Forward
                })
            );
            assert_eq!(icmp(c, "ra").reaches, Knowable::Known(true));
            assert_eq!(c.learned_pmtu, learned(1400));
            assert_eq!(c.ping_at_pmtu, Knowable::Known(Ping::Reply));
            assert_eq!(c.ping_over_pmtu, Knowable::Known(Ping::Silence));
            assert_eq!(known(&c.tcp_packet), 1300);
            assert_eq!(c.transfer, ok());
            // The server's path back runs through r1 but r1's own ICMP
            // leaves through its OUTPUT, not FORWARD.
            let s = path(&m, "server", "client", family);
            assert!(s.icmp.iter().all(|i| i.reaches == Knowable::Known(true)));
        }
        // Control: without the filter the client learns 1300 from rb.
        let m = model(&diamond());
        let c = path(&m, "client", "server", V4);
        assert_eq!(c.learned_pmtu, learned(1300));
        assert_eq!(c.ping_over_pmtu, too_big(1300, "rb"));
    }

    /// Knowable serialises as the value, or {"unknown": reason}; pings and
    /// families the way the CLI's JSON spells them.
    #[test]
    fn serialises() {
        let k: Knowable<u32> = Knowable::Known(3);
        assert_eq!(serde_json::to_string(&k).unwrap(), "3");
        let k: Knowable<u32> = Knowable::Unknown("why".into());
        assert_eq!(serde_json::to_string(&k).unwrap(), r#"{"unknown":"why"}"#);
        assert_eq!(
            serde_json::to_value(too_big(1200, "rb")).unwrap(),
            serde_json::json!({"outcome": "too-big", "mtu": 1200, "from_node": "rb"})
        );
        let m = model(hidden_smaller_src());
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["paths"][0]["family"], "ipv4");
        assert_eq!(v["paths"][0]["transfer"], "ok");
        assert_eq!(v["paths"][0]["ping_at_pmtu"]["outcome"], "reply");
    }

    /// Asymmetric given routes: downloads return through rc (1400), whose
    /// frag-needed is dropped. The fix suggests a clamp where the client's
    /// SYN passes (ra), not on rc, which only the SYN-ACK crosses: measured,
    /// `mss_clamp = 1360` on ra made the download ok, on rc it stayed a
    /// blackhole.
    #[test]
    fn clamp_advice_follows_the_syn_not_the_stall() {
        let m = model_of(&bundled("given_routes_blackhole"));
        let down = path(&m, "server", "client", V4);
        assert_eq!(down.path_mtu, 1400);
        assert_eq!(down.transfer, Knowable::Known(Verdict::Blackhole));
        let f = down
            .finding("tcp-transfer")
            .expect("a tcp-transfer finding");
        assert!(
            f.seen.contains("rc drops its own frag-needed on output"),
            "{}",
            f.seen
        );
        assert!(f.fix.contains("clamp MSS to 1360 on ra"), "{}", f.fix);
        // Control: on the symmetric icmp_blackhole the stalling router is
        // also on the SYN's way, so the clamp goes there.
        let m = model_of(&bundled("icmp_blackhole"));
        let f = path(&m, "server", "client", V4)
            .finding("tcp-transfer")
            .unwrap();
        assert!(f.fix.contains("clamp MSS to 1160 on router-b"), "{}", f.fix);
        // Uploads don't cross rc: nothing to say.
        let m = model_of(&bundled("given_routes_blackhole"));
        assert_eq!(
            path(&m, "client", "server", V4).finding("tcp-transfer"),
            None
        );
    }

    fn bundled(name: &str) -> Topology {
        let file = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../topologies")
            .join(format!("{name}.toml"));
        Topology::from_file(&file).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A tunnel is a link with its MTU: the 1446 VXLAN hop is the path MTU,
    /// the gateway in front of it reports it, and the appliance that drops
    /// the report blackholes its own uploads; the other way works.
    #[test]
    fn vpn_1446_tunnel_is_the_bottleneck() {
        let m = model_of(&bundled("vpn_1446"));
        assert!(m.link_mismatches.is_empty());
        for family in [V4, V6] {
            let up = path(&m, "appliance", "client", family);
            assert_eq!(up.path_mtu, 1446, "{family}");
            assert_eq!(up.bottleneck.node, "gw-b");
            assert_eq!(up.bottleneck.iface, "vx-gw-a");
            assert_eq!(up.bottleneck.link, 4);
            assert_eq!(up.transfer, Knowable::Known(Verdict::Blackhole));
            assert!(
                matches!(&up.stall, Some(Stall::IcmpDropped { router, mtu: 1446, .. }) if router == "gw-b"),
                "{:?}",
                up.stall
            );
            assert_eq!(up.ping_over_pmtu, Knowable::Known(Ping::Silence));
            assert_eq!(up.learned_pmtu, learned(1500));
            let down = path(&m, "client", "appliance", family);
            assert_eq!(down.learned_pmtu, learned(1446));
            assert_eq!(down.ping_over_pmtu, too_big(1446, "gw-a"));
            assert_eq!(down.transfer, ok());
        }
        // Control: without the appliance's filter the upload works.
        let mut t = bundled("vpn_1446");
        t.filters.clear();
        let m = model_of(&t);
        let up = path(&m, "appliance", "client", V4);
        assert_eq!(up.transfer, ok());
        assert_eq!(up.learned_pmtu, learned(1446));
    }

    /// Workaround (b): `mss_clamp = "pmtu"` on gw-b clamps the client's SYN
    /// to gw-b's route back through the 1446 tunnel (1406 / 1386), so the
    /// appliance's segments fit and its downloads complete; PMTUD itself
    /// stays broken (the appliance still learns 1500 from DF probes).
    #[test]
    fn vpn_1446_mss_clamp_at_the_gateway() {
        let m = model_of(&bundled("vpn_1446_mss_clamp"));
        for (family, mss) in [(V4, 1406), (V6, 1386)] {
            let up = path(&m, "appliance", "client", family);
            assert_eq!(
                up.mss_clamp,
                Some(ClampPrediction {
                    router: "gw-b".into(),
                    mss
                }),
                "{family}"
            );
            assert_eq!(up.transfer, ok(), "{family}");
            assert_eq!(up.learned_pmtu, learned(1500));
            assert_eq!(path(&m, "client", "appliance", family).transfer, ok());
        }
        // Control: vpn_1446 itself (no clamp) blackholes.
        let m = model_of(&bundled("vpn_1446"));
        let up = path(&m, "appliance", "client", V4);
        assert_eq!(up.mss_clamp, None);
        assert_eq!(up.transfer, Knowable::Known(Verdict::Blackhole));
    }

    /// Workaround (a), only the appliance's end lowered: TCP fine both ways,
    /// but DF packets of 1445..=1446 bytes towards the appliance vanish
    /// (beyond veth's 4-byte slack, below the tunnel's 1446) and the client
    /// learns 1446, not 1440.
    #[test]
    fn vpn_1446_appliance_end_lowered() {
        let m = model_of(&bundled("vpn_1446_appliance_mtu"));
        assert_eq!(m.link_mismatches.len(), 1);
        assert_eq!(m.link_mismatches[0].mtu, [1500, 1440]);
        for family in [V4, V6] {
            let down = path(&m, "client", "appliance", family);
            assert_eq!(down.path_mtu, 1440);
            assert_eq!(down.bottleneck.kind, BottleneckKind::IngressOnly);
            assert_eq!(down.learned_pmtu, learned(1446));
            assert_eq!(down.transfer, ok());
            let ping = |size| {
                predict_ping(
                    &bundled("vpn_1446_appliance_mtu"),
                    &Plan::new(&bundled("vpn_1446_appliance_mtu")),
                    "client",
                    "appliance",
                    family,
                    size,
                )
                .unwrap()
            };
            assert_eq!(ping(1444), Knowable::Known(Ping::Reply));
            assert_eq!(ping(1445), Knowable::Known(Ping::Silence));
            assert_eq!(ping(1446), Knowable::Known(Ping::Silence));
            assert_eq!(ping(1447), too_big(1446, "gw-a"));
            let up = path(&m, "appliance", "client", family);
            assert_eq!(up.transfer, ok());
            assert_eq!(up.learned_pmtu, learned(1440));
        }
    }

    /// A VXLAN end does not check its MTU on receive (measured): with the
    /// tunnel's ends at 1450 and 1300, 1450-byte DF packets still cross
    /// towards the 1300 end, and the mismatch is reported as a link's.
    #[test]
    fn tunnel_receiving_end_is_unchecked() {
        let src = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies/vxlan_1450.toml"),
        )
        .unwrap()
        .replace(
            "underlay = \"ipv4\"\n",
            "underlay = \"ipv4\"\nmtu = [1450, 1300]\n",
        );
        let t = topo(&src);
        let m = model_of(&t);
        assert_eq!(m.link_mismatches.len(), 1);
        assert_eq!(m.link_mismatches[0].link, 4);
        assert_eq!(m.link_mismatches[0].ifaces, ["vx-gw-b", "vx-gw-a"]);
        let p = path(&m, "client", "server", V4);
        assert_eq!(p.path_mtu, 1300);
        assert_eq!(p.learned_pmtu, learned(1450));
        assert_eq!(p.ping_over_pmtu, Knowable::Known(Ping::Reply));
        let back = path(&m, "server", "client", V4);
        assert_eq!(back.learned_pmtu, learned(1300));
        assert_eq!(back.ping_over_pmtu, too_big(1300, "gw-b"));
        let full = predict_ping(&t, &Plan::new(&t), "client", "server", V4, 1450).unwrap();
        assert_eq!(full, Knowable::Known(Ping::Reply));
        // Control: the same 1300 end on a veth link (the tunnel equal again)
        // drops 1450-byte packets.
        let veth = topo(&src.replace("mtu = [1450, 1300]\n", "").replace(
            "between = [\"gw-b\", \"server\"]\nmtu = 1500",
            "between = [\"gw-b\", \"server\"]\nmtu = [1500, 1300]",
        ));
        let full = predict_ping(&veth, &Plan::new(&veth), "client", "server", V4, 1450).unwrap();
        assert_eq!(full, Knowable::Known(Ping::Silence));
    }

    // ----- Mitigations (issue 4). The topology is icmp_blackhole at 1280,
    // so both families run:
    //   client --1500-- router-a --1280-- router-b --9000-- server
    //                                     [drop pmtu-icmp @ output]
    fn blackhole_1280(node_extra: &[(&str, &str)]) -> Topology {
        let mut src = hidden_smaller_src().replace("mtu = 1200", "mtu = 1280");
        for (node, extra) in node_extra {
            src = src.replacen(
                &format!(
                    "[nodes.{node}]\n{}",
                    if node.starts_with("router") {
                        "router = true\n"
                    } else {
                        ""
                    }
                ),
                &format!(
                    "[nodes.{node}]\n{}{extra}\n",
                    if node.starts_with("router") {
                        "router = true\n"
                    } else {
                        ""
                    }
                ),
                1,
            );
        }
        with_filter(&src, "router-b", drop_at(Hook::Output))
    }

    fn verdict(m: &Model, from: &str, to: &str, f: Family) -> Knowable<Verdict> {
        path(m, from, to, f).transfer.clone()
    }

    const BLACKHOLE: Knowable<Verdict> = Knowable::Known(Verdict::Blackhole);

    /// Control: without a mitigation the download stalls in both families.
    #[test]
    fn blackhole_1280_control() {
        let m = model_of(&blackhole_1280(&[]));
        for f in [V4, V6] {
            assert_eq!(verdict(&m, "server", "client", f), BLACKHOLE, "{f}");
            assert_eq!(verdict(&m, "client", "server", f), ok(), "{f}");
            assert_eq!(path(&m, "server", "client", f).mss_clamp, None);
        }
    }

    /// `mss_clamp = "pmtu"` on router-a (before the 1280 link): the client's
    /// SYN leaves router-a into 1280, so `rt mtu` is 1280 and the server's
    /// segments fit: 1240 (IPv4) / 1220 (IPv6) MSS, transfer ok. ICMP is
    /// still dropped: the server still learns 9000 (pmtud keeps failing).
    /// Measured: ok in 0.01 s both ways, both families, snd_mss 1228 / 1208
    /// (the MSS minus 12 bytes of timestamps).
    #[test]
    fn clamp_to_pmtu_before_narrow_link_fixes_blackhole() {
        let m = model_of(&blackhole_1280(&[("router-a", "mss_clamp = \"pmtu\"")]));
        for (f, mss) in [(V4, 1240), (V6, 1220)] {
            let s = path(&m, "server", "client", f);
            assert_eq!(
                s.mss_clamp,
                Some(ClampPrediction {
                    router: "router-a".into(),
                    mss
                })
            );
            assert_eq!(s.tcp_packet, Knowable::Known(1280));
            assert_eq!(s.transfer, ok(), "{f}");
            assert_eq!(s.learned_pmtu, learned(9000));
            assert_eq!(verdict(&m, "client", "server", f), ok());
        }
    }

    /// `rt mtu` takes the smaller of the routes towards the SYN's
    /// destination and back to its source: on router-b (after the narrow
    /// link) the route back to the client is 1280, so it fixes the download
    /// too (measured: ok). A router beyond both (router-c, 9000 on either
    /// side) sees no narrow route and fixes nothing (measured: blackhole).
    #[test]
    fn clamp_to_pmtu_needs_a_route_through_the_narrow_link() {
        let m = model_of(&blackhole_1280(&[("router-b", "mss_clamp = \"pmtu\"")]));
        assert_eq!(verdict(&m, "server", "client", V4), ok());
        assert_eq!(verdict(&m, "server", "client", V6), ok());

        let src = hidden_smaller_src()
            .replace("mtu = 1200", "mtu = 1280")
            .replace(
                "between = [\"router-b\", \"server\"]",
                "between = [\"router-b\", \"router-c\"]",
            )
            .replace(
                "[nodes.server]",
                "[nodes.server]\n[nodes.router-c]\nrouter = true\nmss_clamp = \"pmtu\"",
            )
            + "[[links]]\nbetween = [\"router-c\", \"server\"]\nmtu = 9000\n";
        let t = with_filter(&src, "router-b", drop_at(Hook::Output));
        let m = model_of(&t);
        for f in [V4, V6] {
            let s = path(&m, "server", "client", f);
            assert_eq!(s.mss_clamp, None, "{f}");
            assert_eq!(s.transfer, BLACKHOLE, "{f}");
        }
    }

    /// A fixed clamp helps only when MSS + 40 / 60 fits the narrow link:
    /// 1200 does (1240 / 1260 <= 1280), 1360 does not (1400 / 1420).
    /// Measured: 1200 ok, 1360 blackhole, both families.
    #[test]
    fn fixed_clamp_must_fit() {
        let m = model_of(&blackhole_1280(&[("router-a", "mss_clamp = 1200")]));
        for f in [V4, V6] {
            assert_eq!(verdict(&m, "server", "client", f), ok(), "{f}");
            assert_eq!(
                path(&m, "server", "client", f)
                    .mss_clamp
                    .as_ref()
                    .unwrap()
                    .mss,
                1200
            );
        }
        let m = model_of(&blackhole_1280(&[("router-a", "mss_clamp = 1360")]));
        for f in [V4, V6] {
            let s = path(&m, "server", "client", f);
            assert_eq!(s.transfer, BLACKHOLE, "{f}");
            assert_eq!(
                s.tcp_packet,
                Knowable::Known(1360 + MSS_OVERHEAD[family_index(f)])
            );
        }
    }

    /// `mss_clamp_oif`: the server's MSS comes from the client's SYN, which
    /// leaves router-a through "router-b". Clamping only what leaves
    /// through "client" (the server's SYN-ACK) does not help the download
    /// (measured: blackhole); through "router-b" it does (measured: ok).
    #[test]
    fn clamp_oif_must_see_the_receivers_syn() {
        let m = model_of(&blackhole_1280(&[(
            "router-a",
            "mss_clamp = \"pmtu\"\nmss_clamp_oif = \"client\"",
        )]));
        assert_eq!(verdict(&m, "server", "client", V4), BLACKHOLE);
        // The client's own MSS is clamped on the way to it (server's SYN-ACK).
        assert_eq!(
            path(&m, "client", "server", V4)
                .mss_clamp
                .as_ref()
                .unwrap()
                .mss,
            1240
        );
        let m = model_of(&blackhole_1280(&[(
            "router-a",
            "mss_clamp = \"pmtu\"\nmss_clamp_oif = \"router-b\"",
        )]));
        assert_eq!(verdict(&m, "server", "client", V4), ok());
        assert_eq!(verdict(&m, "server", "client", V6), ok());
    }

    /// `tcp_mtu_probing=2` probes from `tcp_base_mss` (1024: 1064 / 1084
    /// bytes fit 1280) from the start: measured ok at once, both families.
    /// Mode 1 recovers (measured 6.56 s IPv4, 6.45 s IPv6 for 1 MiB).
    #[test]
    fn mtu_probing_modes() {
        let m = model_of(&blackhole_1280(&[(
            "server",
            "sysctl = { \"net.ipv4.tcp_mtu_probing\" = \"2\" }",
        )]));
        for f in [V4, V6] {
            assert_eq!(verdict(&m, "server", "client", f), ok(), "{f}");
            assert_eq!(path(&m, "server", "client", f).knobs.mtu_probing, 2);
        }
        let m = model_of(&blackhole_1280(&[(
            "server",
            "sysctl = { \"net.ipv4.tcp_mtu_probing\" = \"1\" }",
        )]));
        for f in [V4, V6] {
            assert_eq!(
                verdict(&m, "server", "client", f),
                Knowable::Known(Verdict::Recovered)
            );
        }
    }

    /// `ip_no_pmtu_disc` >= 1 on the IPv4 sender: TCP sends without DF and
    /// routers fragment, so the blackhole does not stall the transfer
    /// (measured: modes 1, 2, 3 ok); IPv6 has no such knob and stalls.
    /// With ICMP flowing (no filter), mode 1 learns a locked min_pmtu (552)
    /// from the first frag-needed, modes 2 and 3 ignore it (9000).
    #[test]
    fn no_pmtu_disc() {
        for mode in ["1", "2", "3"] {
            let sys = format!("sysctl = {{ \"net.ipv4.ip_no_pmtu_disc\" = \"{mode}\" }}");
            let m = model_of(&blackhole_1280(&[("server", &sys)]));
            let s = path(&m, "server", "client", V4);
            assert_eq!(s.transfer, ok(), "mode {mode}");
            assert_eq!(s.learned_pmtu, learned(9000), "mode {mode}");
            assert!(matches!(s.ping_over_pmtu, Knowable::Unknown(_)));
            assert_eq!(verdict(&m, "server", "client", V6), BLACKHOLE);

            let src = hidden_smaller_src()
                .replace("mtu = 1200", "mtu = 1280")
                .replace("[nodes.server]", &format!("[nodes.server]\n{sys}"));
            let m = model(&src);
            let s = path(&m, "server", "client", V4);
            assert_eq!(s.transfer, ok());
            let want = if mode == "1" {
                Knowable::Known(Learned {
                    mtu: 552,
                    locked: true,
                })
            } else {
                learned(9000)
            };
            assert_eq!(s.learned_pmtu, want, "mode {mode}");
            assert_eq!(path(&m, "server", "client", V6).learned_pmtu, learned(1280));
        }
    }

    /// `net.ipv4.route.min_pmtu = 1400` on the sender, 1280 hidden link, no
    /// filter: the frag-needed (1280) is below the floor, so the sender
    /// caches a locked 1400 and sends without DF; routers fragment and the
    /// transfer completes. Measured: learned 1400, ok; IPv6 learns 1280.
    #[test]
    fn min_pmtu_floor_from_sysctl() {
        let src = hidden_smaller_src()
            .replace("mtu = 1200", "mtu = 1280")
            .replace(
                "[nodes.server]",
                "[nodes.server]\nsysctl = { \"net.ipv4.route.min_pmtu\" = \"1400\" }",
            );
        let m = model(&src);
        let s = path(&m, "server", "client", V4);
        assert_eq!(
            s.learned_pmtu,
            Knowable::Known(Learned {
                mtu: 1400,
                locked: true
            })
        );
        assert_eq!(s.transfer, ok());
        assert_eq!(path(&m, "server", "client", V6).learned_pmtu, learned(1280));
        // Control: the default floor (552) leaves 1280 unlocked.
        let m = model(&hidden_smaller_src().replace("mtu = 1200", "mtu = 1280"));
        assert_eq!(path(&m, "server", "client", V4).learned_pmtu, learned(1280));
    }

    /// Anycast: L3 hashing (IPv6 with flow labels reflected) predicts every
    /// flow ok; L4 hashing, or IPv6 without reflection, is honestly unknown;
    /// without ECMP (one member nearer) there is nothing to hash.
    #[test]
    fn anycast_predictions() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../topologies");
        let load = |name: &str| {
            let src = std::fs::read_to_string(path.join(format!("{name}.toml"))).unwrap();
            topo(&src)
        };
        let l3 = load("anycast_hash_l3");
        let p = predict_anycast(&l3, &Plan::new(&l3));
        assert_eq!(p.len(), 2);
        for a in &p {
            assert_eq!(a.transfer, Knowable::Known(Verdict::Ok), "{a:?}");
            assert_eq!(a.ecmp, [("lb".to_string(), 0)]);
            assert_eq!(a.members, ["s1", "s2"]);
        }
        let l4 = load("anycast_hash_l4");
        for a in predict_anycast(&l4, &Plan::new(&l4)) {
            assert_eq!(a.ecmp, [("lb".to_string(), 1)]);
            match &a.transfer {
                Knowable::Unknown(why) => assert!(why.contains("L4"), "{why}"),
                other => panic!("{other:?}"),
            }
        }
        // IPv6 at policy 0 without flow label reflection: unknown; IPv4 still ok.
        let src = std::fs::read_to_string(path.join("anycast_hash_l3.toml"))
            .unwrap()
            .replace("sysctl = { \"net.ipv6.flowlabel_reflect\" = \"1\" }\n", "");
        let t = topo(&src);
        let p = predict_anycast(&t, &Plan::new(&t));
        assert_eq!(p[0].transfer, Knowable::Known(Verdict::Ok));
        assert!(matches!(&p[1].transfer, Knowable::Unknown(w) if w.contains("flow label")));
        // s2 one hop nearer than s1: no multipath route, nothing to hash.
        let src = std::fs::read_to_string(path.join("anycast_hash_l4.toml"))
            .unwrap()
            .replace("between = [\"lb\", \"s2\"]", "between = [\"r1\", \"s2\"]");
        let t = topo(&src);
        for a in predict_anycast(&t, &Plan::new(&t)) {
            assert!(a.ecmp.is_empty());
            assert_eq!(a.transfer, Knowable::Known(Verdict::Ok));
        }
        // A blackhole on the members' unicast downloads carries over.
        let src = format!(
            "{}\n[[filters]]\nnode = \"r1\"\ndrop = \"pmtu-icmp\"\nhook = \"output\"\n",
            std::fs::read_to_string(path.join("anycast_hash_l3.toml"))
                .unwrap()
                .replace("[expect]\nviolations = []\n", "")
        );
        let t = topo(&src);
        for a in predict_anycast(&t, &Plan::new(&t)) {
            assert_eq!(a.transfer, Knowable::Known(Verdict::Blackhole), "{a:?}");
        }
    }
}
