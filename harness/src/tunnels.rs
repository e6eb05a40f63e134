//! Tunnel devices over rtnetlink, one per [`TunnelKind`], and the probe
//! that tells whether the running kernel has a kind at all.
//!
//! Every kind is created point to point between the two endpoints'
//! underlay addresses (`local` / `remote`, the plan's
//! [`mtulab_core::plan::tunnel::TunnelPlan`]), created up, with its MTU set
//! (the plan's; the kernel's own default would assume a 1500 underlay).
//! What each is told explicitly, and why:
//!
//! - `vxlan`: VNI, port 4789, no learning, DF unset (see [`netlink::new_vxlan`]).
//! - `geneve`: VNI, remote, port 6081, TTL 64; DF left unset (the kernel
//!   default, as for VXLAN: outer packets never exceed the underlay anyway).
//! - `gre` / `gretap` (`ip6gre` / `ip6gretap` over IPv6): no key, sequence
//!   or checksum (a 4-byte GRE header), TTL 64, `pmtudisc` on over IPv4 (the
//!   kernel default: outer DF set); over IPv6 encapsulation limit 4.
//! - `ipip`, `sit`: TTL 64, `pmtudisc` on.
//! - `ip6tnl`: TTL 64, encapsulation limit 4 (`IPV6_DEFAULT_TNL_ENCAP_LIMIT`,
//!   what iproute2 sends unless told `encaplimit none`: an 8-byte
//!   destination option on every packet, counted in the overhead), protocol
//!   left at 0 = any (IPv4 and IPv6 inside).
//! - `wireguard`: only the device here; keys, port and peer are set over
//!   generic netlink ([`crate::wireguard`]).
//!
//! A kind the kernel lacks is refused with EOPNOTSUPP ("Unknown device
//! type"; a kernel with modules tries to load `rtnl-link-KIND` first).
//! [`support`] creates one device of the kind in a scratch namespace to
//! find out, once per process and kind.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;

use netlink_packet_route::link::{
    InfoData, InfoGeneve, InfoGre, InfoGre6, InfoIpTunnel, InfoKind, LinkAttribute, LinkFlags,
    LinkInfo, LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;

use mtulab_core::plan::tunnel::GENEVE_PORT;
use mtulab_core::topology::{Family, TunnelKind};

use crate::netlink::{self, NetlinkError, Request, Rtnl, VxlanEnd};

/// TTL of outer packets (the kernel's default is to inherit the inner one).
const OUTER_TTL: u8 = 64;
/// IPv6 tunnel encapsulation limit (RFC 2473): `IPV6_DEFAULT_TNL_ENCAP_LIMIT`,
/// what iproute2 sends by default.
const ENCAP_LIMIT: u8 = 4;

/// One end of a tunnel, created up in the socket's namespace.
#[derive(Debug, Clone)]
pub struct TunnelEnd {
    pub kind: TunnelKind,
    pub name: String,
    pub index: u32,
    pub mtu: u32,
    /// VXLAN / GENEVE network identifier.
    pub vni: u32,
    /// Underlay addresses (same family).
    pub local: IpAddr,
    pub remote: IpAddr,
}

/// The request that creates `e`.
pub fn new_tunnel(e: &TunnelEnd) -> RouteNetlinkMessage {
    let v4 = |a: IpAddr| match a {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => Ipv4Addr::UNSPECIFIED,
    };
    let v6 = |a: IpAddr| match a {
        IpAddr::V6(a) => a,
        IpAddr::V4(_) => Ipv6Addr::UNSPECIFIED,
    };
    let over6 = e.local.is_ipv6();
    let ip_tunnel = |extra: Vec<InfoIpTunnel>| {
        let mut d = vec![
            InfoIpTunnel::Local(e.local),
            InfoIpTunnel::Remote(e.remote),
            InfoIpTunnel::Ttl(OUTER_TTL),
        ];
        d.extend(extra);
        InfoData::IpTunnel(d)
    };
    let gre4 = || {
        vec![
            InfoGre::Local(v4(e.local)),
            InfoGre::Remote(v4(e.remote)),
            InfoGre::Ttl(OUTER_TTL),
            InfoGre::PathMTUDiscovery(true),
        ]
    };
    let gre6 = || {
        vec![
            InfoGre6::Local(v6(e.local)),
            InfoGre6::Remote(v6(e.remote)),
            InfoGre6::Ttl(OUTER_TTL),
            InfoGre6::EncapLimit(ENCAP_LIMIT),
        ]
    };
    let (kind, data) = match e.kind {
        TunnelKind::Vxlan => {
            return netlink::new_vxlan(&VxlanEnd {
                name: e.name.clone(),
                index: e.index,
                mtu: e.mtu,
                vni: e.vni,
                local: e.local,
                remote: e.remote,
            })
        }
        TunnelKind::Geneve => {
            let remote = match e.remote {
                IpAddr::V4(r) => InfoGeneve::Remote(r),
                IpAddr::V6(r) => InfoGeneve::Remote6(r),
            };
            (
                InfoKind::Geneve,
                Some(InfoData::Geneve(vec![
                    InfoGeneve::Id(e.vni),
                    remote,
                    InfoGeneve::Ttl(OUTER_TTL),
                    InfoGeneve::Port(GENEVE_PORT),
                ])),
            )
        }
        TunnelKind::Gre if over6 => (InfoKind::GreTun6, Some(InfoData::GreTun6(gre6()))),
        TunnelKind::Gre => (InfoKind::GreTun, Some(InfoData::GreTun(gre4()))),
        TunnelKind::Gretap if over6 => (InfoKind::GreTap6, Some(InfoData::GreTap6(gre6()))),
        TunnelKind::Gretap => (InfoKind::GreTap, Some(InfoData::GreTap(gre4()))),
        TunnelKind::Ipip => (
            InfoKind::IpIp,
            Some(ip_tunnel(vec![InfoIpTunnel::PMtuDisc(true)])),
        ),
        TunnelKind::Sit => (
            InfoKind::SitTun,
            Some(ip_tunnel(vec![InfoIpTunnel::PMtuDisc(true)])),
        ),
        TunnelKind::Ip6tnl => (
            InfoKind::Ip6Tnl,
            Some(ip_tunnel(vec![InfoIpTunnel::EncapLimit(ENCAP_LIMIT)])),
        ),
        TunnelKind::Wireguard => (InfoKind::Wireguard, None),
    };
    let mut msg = LinkMessage::default();
    msg.header.index = e.index;
    msg.header.flags = LinkFlags::Up;
    msg.header.change_mask = LinkFlags::Up;
    msg.attributes.push(LinkAttribute::IfName(e.name.clone()));
    msg.attributes.push(LinkAttribute::Mtu(e.mtu));
    let mut info = vec![LinkInfo::Kind(kind)];
    info.extend(data.map(LinkInfo::Data));
    msg.attributes.push(LinkAttribute::LinkInfo(info));
    RouteNetlinkMessage::NewLink(msg)
}

/// Words for a refused tunnel create: "the running kernel has no GRE
/// support (…)" when the kernel does not know the kind.
pub fn unsupported_reason(kind: TunnelKind, e: &NetlinkError) -> Option<String> {
    match e {
        NetlinkError::Request { source, .. } if source.raw_os_error() == Some(libc::EOPNOTSUPP) => {
            Some(format!(
                "the running kernel has no {} support (ip link add type {kind}: {source})",
                kind.label()
            ))
        }
        _ => None,
    }
}

/// Whether the running kernel can make `kind` devices over an `underlay`
/// (GRE over IPv6 is another module, `ip6_gre`): Ok, or the reason it
/// cannot. Found by creating one in a scratch namespace (once per process,
/// kind and underlay). A probe that cannot run (not root) says Ok:
/// building the lab will fail on its own terms.
pub fn support(kind: TunnelKind, underlay: Family) -> Result<(), String> {
    type Seen = BTreeMap<(TunnelKind, Family), Result<(), String>>;
    static SEEN: Mutex<Seen> = Mutex::new(BTreeMap::new());
    if let Some(r) = SEEN
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(kind, underlay))
    {
        return r.clone();
    }
    let r = probe(kind, underlay);
    SEEN.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert((kind, underlay), r.clone());
    r
}

/// The first (kind, underlay) of `tunnels` the kernel lacks, with the reason.
pub fn first_unsupported(
    tunnels: impl IntoIterator<Item = (TunnelKind, Family)>,
) -> Option<(TunnelKind, String)> {
    tunnels
        .into_iter()
        .find_map(|(k, f)| support(k, f).err().map(|why| (k, why)))
}

fn probe(kind: TunnelKind, underlay: Family) -> Result<(), String> {
    let (local, remote): (IpAddr, IpAddr) = match underlay {
        Family::V4 => (
            Ipv4Addr::new(198, 19, 255, 1).into(),
            Ipv4Addr::new(198, 19, 255, 2).into(),
        ),
        Family::V6 => (
            "2001:db8:ffff::1"
                .parse::<Ipv6Addr>()
                .expect("literal")
                .into(),
            "2001:db8:ffff::2"
                .parse::<Ipv6Addr>()
                .expect("literal")
                .into(),
        ),
    };
    let end = TunnelEnd {
        kind,
        name: "mtulab-probe".into(),
        index: 0,
        mtu: 1280,
        vni: 1,
        local,
        remote,
    };
    // Created down: an IPv6 tunnel that is up would try to send (router
    // solicitations, MLD) from an address nobody configured.
    let mut msg = new_tunnel(&end);
    if let RouteNetlinkMessage::NewLink(m) = &mut msg {
        m.header.flags = LinkFlags::empty();
    }
    let ran = crate::netns::in_scratch(move || -> Result<(), String> {
        let Ok(mut rtnl) = Rtnl::open() else {
            return Ok(());
        };
        let created = rtnl.execute(vec![Request::create(
            format!("create a {kind} device"),
            msg,
        )]);
        if let Err(e) = &created {
            if let Some(why) = unsupported_reason(kind, e) {
                return Err(format!("{why}, over {underlay}"));
            }
        }
        if kind == TunnelKind::Wireguard {
            if let Err(e) = crate::wireguard::family_id() {
                return Err(format!(
                    "the running kernel has no WireGuard support (generic netlink family \"wireguard\": {e})"
                ));
            }
        }
        Ok(())
    });
    // Not allowed to make a namespace (not root): say nothing here.
    ran.unwrap_or(Ok(()))
}
