//! Tunnels (`[[tunnels]]`): a link carried over an encapsulation (VXLAN,
//! GENEVE, GRE, GRETAP, IPIP, SIT, ip6tnl, WireGuard: [`TunnelKind`])
//! between two nodes that reach each other over the physical links (the
//! underlay). Pure code: how a tunnel is addressed, which MTU it gets, and
//! the routes that keep its encapsulated packets on the physical links.
//! The interfaces themselves are made by the harness (`harness::lab`,
//! `harness::tunnels`).
//!
//! A tunnel is planned as one more link, numbered after the topology's
//! links (tunnel `k` is link `links.len() + k`): its own /24 and, when both
//! ends are at least 1280, its own /64; overlay routing may use it like any
//! link (one hop; on equal cost the lower link index, so a physical link
//! wins a tie) in the families its kind carries (IPIP: IPv4 only, SIT:
//! IPv6 only; [`LinkPlan::subnet`] hides the other).
//!
//! Underlay: end 0 sends from its address on the first physical link of its
//! shortest path to end 1, to end 1's address on the link that path enters
//! it by (and back). Every node whose route to either underlay address would
//! otherwise go through a tunnel gets a host route (/32, /128) along the
//! physical-only routing, so encapsulated packets never enter a tunnel.
//!
//! MTU: unless given, the smallest underlay path MTU of the two directions
//! minus the kind's encapsulation overhead ([`TunnelKind::overhead`]; VXLAN:
//! outer IP + UDP 8 + VXLAN 8 + inner Ethernet 14, 50 bytes over IPv4, 70
//! over IPv6), the same on both ends. A given MTU larger than that is
//! rejected, so outer packets always fit the underlay and whether a kind
//! sets DF on them never matters.
//!
//! Kernel behaviour this relies on (measured on 6.18, VXLAN over veth, see
//! docs/kernel-behaviour.md, "VXLAN"): the outer header is sent without DF
//! (`df unset`, the kernel default), so an underlay narrower than the tunnel
//! fragments the outer packet instead of dropping it; a VXLAN device does
//! not check its MTU on receive.

use std::fmt;
use std::net::IpAddr;

use super::addressing::{end_address, host_len, v4_network, v6_network, MAX_V4_SUBNETS};
use super::{path_mtu, IfAddr, LinkPlan, Plan, PlanError, RoutePlan, IPV6_MIN_MTU};
use crate::topology::{Cidr, Family, Topology, Tunnel, TunnelKind};

/// Outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14.
pub const VXLAN_OVERHEAD_V4: u32 = 50;
/// Outer IPv6 40 + UDP 8 + VXLAN 8 + inner Ethernet 14.
pub const VXLAN_OVERHEAD_V6: u32 = 70;
/// IANA VXLAN port.
pub const VXLAN_PORT: u16 = 4789;
/// IANA GENEVE port.
pub const GENEVE_PORT: u16 = 6081;
/// WireGuard's customary port; tunnel `k` listens on this + `k`.
pub const WIREGUARD_PORT: u16 = 51820;

/// Encapsulation overhead of `kind` over an underlay of `family` (validation
/// has refused the combinations the kind cannot do).
pub fn overhead(kind: TunnelKind, family: Family) -> u32 {
    kind.overhead(family)
        .unwrap_or_else(|| panic!("validated: {kind} runs over {family}"))
}

/// How a planned tunnel is carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelPlan {
    pub kind: TunnelKind,
    /// Tunnel index + 1: the VXLAN / GENEVE network identifier (VNI).
    pub vni: u32,
    pub underlay: Family,
    /// Each end's underlay (source) address; the other end's is its remote.
    pub local: [IpAddr; 2],
    /// Underlay path MTU from end `e` to the other end.
    pub underlay_mtu: [u32; 2],
    /// Whether the file gave the MTU (else it is the default).
    pub mtu_given: bool,
}

impl TunnelPlan {
    /// WireGuard's listen port on both ends (51820 + tunnel index).
    pub fn wireguard_port(&self) -> u16 {
        WIREGUARD_PORT.saturating_add(u16::try_from(self.vni - 1).unwrap_or(u16::MAX))
    }
}

/// A tunnel's underlay, as routed over the physical links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Underlay {
    pub family: Family,
    pub local: [IpAddr; 2],
    /// Path MTU from end `e` to the other end: the smallest MTU of any
    /// interface the outer packets leave or enter.
    pub path_mtu: [u32; 2],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnderlayError {
    /// No path over the physical links (only routers forwarding).
    NoPath {
        from: String,
        to: String,
        family: Family,
    },
    /// A given MTU does not fit the underlay after encapsulation.
    MtuTooBig {
        kind: TunnelKind,
        node: String,
        mtu: u32,
        underlay_mtu: u32,
        overhead: u32,
    },
    /// The underlay leaves less than the IPv4 minimum MTU (68).
    UnderlayTooSmall {
        kind: TunnelKind,
        underlay_mtu: u32,
        overhead: u32,
    },
    /// The tunnel carries only IPv6 (SIT) but an end's MTU is below 1280,
    /// so it could carry nothing.
    CarriesNothing { kind: TunnelKind, mtu: u32 },
}

impl fmt::Display for UnderlayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnderlayError::NoPath { from, to, family } => write!(
                f,
                "no {family} underlay path from {from:?} to {to:?} over the links (only routers forward; a tunnel never carries another)"
            ),
            UnderlayError::MtuTooBig {
                kind,
                node,
                mtu,
                underlay_mtu,
                overhead,
            } => write!(
                f,
                "mtu {mtu} on {node:?} does not fit the underlay: path MTU {underlay_mtu} minus the {overhead}-byte {} overhead is {}",
                kind.label(),
                underlay_mtu.saturating_sub(*overhead)
            ),
            UnderlayError::UnderlayTooSmall {
                kind,
                underlay_mtu,
                overhead,
            } => write!(
                f,
                "underlay path MTU {underlay_mtu} minus the {overhead}-byte {} overhead is below 68",
                kind.label()
            ),
            UnderlayError::CarriesNothing { kind, mtu } => write!(
                f,
                "kind {kind} carries IPv6 only, which needs an MTU of at least {IPV6_MIN_MTU}, and this one's is {mtu}"
            ),
        }
    }
}

/// The underlay of `t` in `phys`, a plan of the physical links only.
pub fn underlay(phys: &Plan, t: &Tunnel) -> Result<Underlay, UnderlayError> {
    let family = t.underlay;
    let [a, b] = &t.between;
    let no_path = |from: &str, to: &str| UnderlayError::NoPath {
        from: from.to_owned(),
        to: to.to_owned(),
        family,
    };
    let addr_on = |node: &str, iface: &str| {
        phys.node(node)
            .and_then(|n| n.iface(iface))
            .and_then(|i| i.addr(family))
            .map(|a| a.addr)
    };
    let target = phys.address_of(b, family).ok_or_else(|| no_path(a, b))?;
    let hops = phys
        .path_to(a, target, family)
        .filter(|h| !h.is_empty())
        .ok_or_else(|| no_path(a, b))?;
    let local_a = addr_on(a, &hops[0].out_iface).ok_or_else(|| no_path(a, b))?;
    let last = hops.last().expect("non-empty");
    let local_b = addr_on(b, &last.in_iface).ok_or_else(|| no_path(a, b))?;
    let ab = phys
        .path_to(a, local_b, family)
        .ok_or_else(|| no_path(a, b))?;
    let ba = phys
        .path_to(b, local_a, family)
        .ok_or_else(|| no_path(b, a))?;
    Ok(Underlay {
        family,
        local: [local_a, local_b],
        path_mtu: [&ab, &ba].map(|h| path_mtu(h).unwrap_or(u32::MAX)),
    })
}

/// The MTU per end of `t` over `u`: as given, or the default.
pub fn resolved_mtu(t: &Tunnel, u: &Underlay) -> Result<[u32; 2], UnderlayError> {
    let mtu = fitting_mtu(t, u)?;
    let carries_v6_only = !t.kind.carries(Family::V4);
    if let Some(&small) = mtu.iter().filter(|&&m| m < IPV6_MIN_MTU).min() {
        if carries_v6_only {
            return Err(UnderlayError::CarriesNothing {
                kind: t.kind,
                mtu: small,
            });
        }
    }
    Ok(mtu)
}

/// The MTU per end of `t` over `u`, as given or the default, checked
/// against the underlay.
fn fitting_mtu(t: &Tunnel, u: &Underlay) -> Result<[u32; 2], UnderlayError> {
    let kind = t.kind;
    let overhead = overhead(kind, u.family);
    match t.mtu {
        Some(mtu) => {
            for ((&m, &path), node) in mtu.iter().zip(&u.path_mtu).zip(&t.between) {
                if m + overhead > path {
                    return Err(UnderlayError::MtuTooBig {
                        kind,
                        node: node.clone(),
                        mtu: m,
                        underlay_mtu: path,
                        overhead,
                    });
                }
            }
            Ok(mtu)
        }
        None => {
            let underlay_mtu = u.path_mtu[0].min(u.path_mtu[1]);
            match underlay_mtu.checked_sub(overhead) {
                Some(m) if m >= 68 => Ok([m, m]),
                _ => Err(UnderlayError::UnderlayTooSmall {
                    kind,
                    underlay_mtu,
                    overhead,
                }),
            }
        }
    }
}

/// The plan of `topology`'s physical links alone.
pub fn physical_plan(topology: &Topology) -> Result<Plan, PlanError> {
    Plan::try_new(&Topology {
        tunnels: Vec::new(),
        ..topology.clone()
    })
}

/// A planned tunnel (tunnel `k`): its MTU per end and how it is carried.
pub fn plan_tunnel(
    phys: &Plan,
    t: &Tunnel,
    k: usize,
) -> Result<([u32; 2], TunnelPlan), UnderlayError> {
    let u = underlay(phys, t)?;
    let mtu = resolved_mtu(t, &u)?;
    Ok((
        mtu,
        TunnelPlan {
            kind: t.kind,
            vni: u32::try_from(k).expect("tunnel count fits u32") + 1,
            underlay: u.family,
            local: u.local,
            underlay_mtu: u.path_mtu,
            mtu_given: t.mtu.is_some(),
        },
    ))
}

/// The tunnels of `topology` as links `first`, `first + 1`, … (see
/// this module). Tunnel link `i` gets subnet `i` (/24, and /64 where
/// both ends are >= 1280) unless that overlaps a link's subnet or an
/// anycast address; then the next free one.
pub(super) fn tunnel_links(
    topology: &Topology,
    phys: &Plan,
    first: usize,
) -> Result<Vec<LinkPlan>, (usize, UnderlayError)> {
    let mut taken: Vec<Cidr> = phys
        .links
        .iter()
        .flat_map(|l| [Some(&l.ipv4), l.ipv6.as_ref()])
        .flatten()
        .map(|a| Cidr {
            addr: a.addr,
            prefix_len: a.prefix_len,
        })
        .collect();
    for a in &topology.anycast {
        for family in [Family::V4, Family::V6] {
            if let Some(addr) = a.addr(family) {
                taken.push(Cidr {
                    addr,
                    prefix_len: host_len(family),
                });
            }
        }
    }
    let mut out = Vec::new();
    for (k, t) in topology.tunnels.iter().enumerate() {
        let (mtu, tunnel) = plan_tunnel(phys, t, k).map_err(|e| (k, e))?;
        let mut free = |family: Family| {
            let c = (first + k..MAX_V4_SUBNETS.max(first + k + 1))
                .map(|j| match family {
                    Family::V4 => Cidr {
                        addr: IpAddr::V4(v4_network(j)),
                        prefix_len: 24,
                    },
                    Family::V6 => Cidr {
                        addr: IpAddr::V6(v6_network(j)),
                        prefix_len: 64,
                    },
                })
                .find(|c| !taken.iter().any(|t| t.overlaps(c)))?;
            taken.push(c);
            Some(IfAddr::from(&c))
        };
        let Some(ipv4) = free(Family::V4) else {
            continue;
        };
        let ipv6 = if t.kind.carries(Family::V6) && mtu.iter().all(|&m| m >= IPV6_MIN_MTU) {
            free(Family::V6)
        } else {
            None
        };
        let ends = |net: &IfAddr| vec![end_address(net, 0), end_address(net, 1)];
        out.push(LinkPlan {
            between: t.between.to_vec(),
            names: t.names.to_vec(),
            mtu: mtu.to_vec(),
            ends4: ends(&ipv4),
            ends6: ipv6.as_ref().map(ends),
            ipv4,
            ipv6,
            tunnel: Some(tunnel),
            segment: None,
        });
    }
    Ok(out)
}

/// Host routes that pin every node's way to each tunnel's underlay
/// addresses to the physical-only routing of `phys`, where the full plan
/// (tunnels included) would choose another first hop.
pub fn pin_underlay_routes(plan: &mut Plan, phys: &Plan) {
    let mut add: Vec<(usize, RoutePlan)> = Vec::new();
    for link in &plan.links {
        let Some(t) = &link.tunnel else { continue };
        let family = t.underlay;
        for &dst in &t.local {
            for (n, node) in plan.nodes.iter().enumerate() {
                let Some(phys_first) = phys
                    .path_to(&node.name, dst, family)
                    .and_then(|h| h.into_iter().next())
                else {
                    continue;
                };
                let full_first = plan
                    .path_to(&node.name, dst, family)
                    .and_then(|h| h.into_iter().next());
                if full_first.as_ref().is_some_and(|h| {
                    h.out_iface == phys_first.out_iface && h.next == phys_first.next
                }) {
                    continue;
                }
                let Some(via) = phys
                    .node(&phys_first.next)
                    .and_then(|p| p.iface(&phys_first.in_iface))
                    .and_then(|i| i.addr(family))
                else {
                    continue;
                };
                let route = RoutePlan {
                    dst: IfAddr {
                        addr: dst,
                        prefix_len: if dst.is_ipv4() { 32 } else { 128 },
                    },
                    via: via.addr,
                    dev: phys_first.out_iface.clone(),
                };
                if !add.iter().any(|(m, r)| *m == n && *r == route) {
                    add.push((n, route));
                }
            }
        }
    }
    for (n, r) in add {
        // Replaces a host route the overlay routing made for the same address.
        plan.nodes[n].routes.retain(|x| x.dst != r.dst);
        plan.nodes[n].routes.push(r);
    }
}

#[cfg(test)]
mod kinds_tests;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::topology::Topology;

    fn parse(src: &str) -> Result<Topology, crate::topology::TopologyError> {
        Topology::from_str(src, Path::new("t.toml"))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    // topologies/fixtures/long_tunnel.toml: gw-a and gw-b three routers
    // apart, so a router next to gw-a would reach gw-b's underlay address
    // sooner through the tunnel (2 hops) than physically (3): the pinned
    // routes must stop that.
    //
    //   client -- gw-a -- r1 -- r2 -- r3 -- gw-b -- server     (links 0-5)
    //               \\============ vx (link 6) ===========//
    const LONG: &str = include_str!("../../../topologies/fixtures/long_tunnel.toml");

    /// The tunnel is link 6 with its own subnets, the default MTU is the
    /// underlay path MTU (1400) minus 50, end addresses are the endpoints'
    /// addresses on the links facing each other.
    #[test]
    fn planned_as_a_link() {
        let t = parse(LONG).unwrap();
        assert_eq!(t.tunnels[0].names, ["vx-gw-b", "vx-gw-a"]);
        assert_eq!(t.tunnels[0].underlay, Family::V4);
        assert_eq!(t.tunnels[0].mtu, None);
        let p = Plan::new(&t);
        assert_eq!(p.links.len(), 7);
        let l = &p.links[6];
        assert_eq!(l.mtu, [1350, 1350]);
        assert_eq!(l.ipv4.addr, ip("198.18.6.0"));
        assert_eq!(l.ipv6.as_ref().unwrap().addr, ip("2001:db8:0:6::"));
        let tp = l.tunnel.as_ref().unwrap();
        assert_eq!(tp.vni, 1);
        assert_eq!(tp.local, [ip("198.18.1.1"), ip("198.18.4.2")]);
        assert_eq!(tp.underlay_mtu, [1400, 1400]);
        assert!(!tp.mtu_given);
        let gwa = p.node("gw-a").unwrap().iface("vx-gw-b").unwrap();
        assert_eq!(gwa.mtu, 1350);
        assert_eq!(gwa.ipv4.as_ref().unwrap().addr, ip("198.18.6.1"));
        // Overlay traffic takes the tunnel, both families.
        for family in [Family::V4, Family::V6] {
            let links: Vec<usize> = p
                .path("client", "server", family)
                .unwrap()
                .iter()
                .map(|h| h.link)
                .collect();
            assert_eq!(links, [0, 6, 5], "{family}");
        }
        // Control: without the tunnel the path is the physical chain.
        let phys = physical_plan(&t).unwrap();
        assert_eq!(phys.links.len(), 6);
        assert_eq!(phys.path("client", "server", Family::V4).unwrap().len(), 6);
    }

    /// Every node's way to both underlay addresses uses physical links only,
    /// and r1 needed a pinned host route for it (its overlay route to r3's
    /// link goes through gw-a and the tunnel).
    #[test]
    fn underlay_never_through_a_tunnel() {
        let t = parse(LONG).unwrap();
        let p = Plan::new(&t);
        let tp = p.links[6].tunnel.clone().unwrap();
        for node in &p.nodes {
            for dst in tp.local {
                let Some(path) = p.path_to(&node.name, dst, Family::V4) else {
                    panic!("{} has no way to {dst}", node.name)
                };
                assert!(
                    path.iter().all(|h| p.links[h.link].tunnel.is_none()),
                    "{} -> {dst}: {path:?}",
                    node.name
                );
            }
        }
        let r1 = p.node("r1").unwrap();
        assert!(
            r1.routes
                .iter()
                .any(|r| r.dst.addr == ip("198.18.4.2") && r.dst.prefix_len == 32 && r.dev == "r2"),
            "{:?}",
            r1.routes
        );
        // Control: without pinning, r1 would send it into the tunnel's direction.
        let mut unpinned = p.clone();
        for n in &mut unpinned.nodes {
            n.routes
                .retain(|r| !(r.dst.prefix_len == 32 && tp.local.contains(&r.dst.addr)));
        }
        let via = unpinned.path_to("r1", ip("198.18.4.2"), Family::V4);
        assert!(
            via.as_ref()
                .is_none_or(|h| h.iter().any(|h| unpinned.links[h.link].tunnel.is_some())),
            "{via:?}"
        );
    }

    /// Over an IPv6 underlay the overhead is 70; a tunnel below 1280 carries
    /// no IPv6, so the IPv6 overlay stays on the links.
    #[test]
    fn ipv6_underlay_and_small_tunnels() {
        let t = parse(&LONG.replace(
            "between = [\"gw-a\", \"gw-b\"]\n",
            "between = [\"gw-a\", \"gw-b\"]\nunderlay = \"ipv6\"\n",
        ))
        .unwrap();
        let p = Plan::new(&t);
        assert_eq!(p.links[6].mtu, [1330, 1330]);
        let tp = p.links[6].tunnel.as_ref().unwrap();
        assert_eq!(tp.local, [ip("2001:db8:0:1::1"), ip("2001:db8:0:4::2")]);

        let t = parse(&LONG.replacen("mtu = 1400", "mtu = 1300", 1)).unwrap();
        let p = Plan::new(&t);
        assert_eq!(p.links[6].mtu, [1250, 1250]);
        assert_eq!(p.links[6].ipv6, None);
        let h = p.path("client", "server", Family::V6).unwrap();
        assert!(h.iter().all(|h| h.link != 6), "{h:?}");
        let h = p.path("client", "server", Family::V4).unwrap();
        assert!(h.iter().any(|h| h.link == 6), "{h:?}");
    }

    /// A given MTU is kept (per end too) when it fits, rejected when it does
    /// not; the error names the tunnel's mtu line.
    #[test]
    fn given_mtu() {
        let with = |mtu: &str| {
            parse(&LONG.replace(
                "between = [\"gw-a\", \"gw-b\"]\n",
                &format!("between = [\"gw-a\", \"gw-b\"]\nmtu = {mtu}\n"),
            ))
        };
        let p = Plan::new(&with("[1350, 1300]").unwrap());
        assert_eq!(p.links[6].mtu, [1350, 1300]);
        assert!(p.links[6].tunnel.as_ref().unwrap().mtu_given);
        let e = with("1351").unwrap_err();
        // The mtu line: added right after the fixture's last line.
        assert_eq!(e.line, LONG.lines().count() + 1, "{e}");
        assert_eq!(
            e.message,
            "tunnel 1: mtu 1351 on \"gw-a\" does not fit the underlay: path MTU 1400 minus the 50-byte VXLAN overhead is 1350"
        );
        let e = with("[1300, 1400]").unwrap_err();
        assert!(e.message.contains("mtu 1400 on \"gw-b\""), "{e}");
        let e = with("[1300]").unwrap_err();
        assert!(e.message.contains("tunnel 1: mtu list has 1 values"), "{e}");
        let e = with("60").unwrap_err();
        assert!(e.message.contains("tunnel 1: mtu 60 is outside"), "{e}");
        // An underlay too narrow for any tunnel.
        let e = parse(&LONG.replacen("mtu = 1400", "mtu = 100", 1)).unwrap_err();
        assert!(
            e.message
                .contains("minus the 50-byte VXLAN overhead is below 68"),
            "{e}"
        );
    }

    /// Endpoints need a physical path on which only routers forward.
    #[test]
    fn no_underlay() {
        let e = parse(&LONG.replace("[nodes.r2]\nrouter = true", "[nodes.r2]")).unwrap_err();
        // r2 a host: the hosts are disconnected before tunnels are looked at.
        assert!(e.message.contains("cannot reach each other"), "{e}");
        // A host as endpoint is fine; one behind another host is not.
        let src = LONG.replace(
            "between = [\"gw-a\", \"gw-b\"]\n",
            "between = [\"client\", \"server\"]\n",
        );
        let p = Plan::new(&parse(&src).unwrap());
        assert_eq!(p.links[6].between, ["client", "server"]);
        assert_eq!(p.links[6].names, ["vx-server", "vx-client"]);
    }

    /// Names: `vx-PEER`, `vx-PEER-2`, truncated; they must not collide with
    /// a link's interface name; self-tunnels and unknown keys are refused.
    #[test]
    fn names_and_shape() {
        let b = |x: &str, y: &str| [x.to_owned(), y.to_owned()];
        let long = "r23456789012345";
        let pairs = [b("a", long), b(long, "a"), b("a", "c"), b("a", "c")];
        let kinds = [
            TunnelKind::Vxlan,
            TunnelKind::Vxlan,
            TunnelKind::Vxlan,
            TunnelKind::Wireguard,
        ];
        let names = crate::topology::default_tunnel_names(pairs.iter().zip(kinds));
        assert_eq!(names[0], b("vx-r23456789012", "vx-a"));
        assert_eq!(names[1], b("vx-a-2", "vx-r234567890-2"));
        assert_eq!(names[2], b("vx-c", "vx-a"));
        // Each kind its own prefix and its own count.
        assert_eq!(names[3], b("wg-c", "wg-a"));

        let e = parse(&LONG.replace(
            "between = [\"gw-a\", \"gw-b\"]\n",
            "between = [\"gw-a\", \"gw-b\"]\nnames = [\"r1\", \"vx\"]\n",
        ))
        .unwrap_err();
        assert_eq!(
            e.message,
            "tunnel 1: interface name \"r1\" on node \"gw-a\" is already used by link 2"
        );
        let ok = parse(&LONG.replace(
            "between = [\"gw-a\", \"gw-b\"]\n",
            "between = [\"gw-a\", \"gw-b\"]\nnames = [\"vx0\", \"vx1\"]\n",
        ))
        .unwrap();
        assert_eq!(ok.tunnels[0].names, ["vx0", "vx1"]);
        let e =
            parse(&LONG.replace("[\"gw-a\", \"gw-b\"]\n", "[\"gw-a\", \"gw-a\"]\n")).unwrap_err();
        assert_eq!(e.message, "tunnel 1 connects \"gw-a\" to itself");
        let e = parse(&format!("{LONG}vni = 7\n")).unwrap_err();
        assert!(e.message.contains("unknown field `vni`"), "{e}");
    }

    /// to_toml writes tunnels back: defaults left out, given values kept.
    #[test]
    fn round_trip() {
        for extra in [
            "",
            "mtu = [1300, 1200]\nnames = [\"t0\", \"t1\"]\nunderlay = \"ipv6\"\n",
        ] {
            let t = parse(&LONG.replace(
                "between = [\"gw-a\", \"gw-b\"]\n",
                &format!("between = [\"gw-a\", \"gw-b\"]\n{extra}"),
            ))
            .unwrap();
            let text = t.to_toml();
            let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(back, t, "{text}");
            assert_eq!(text.contains("names ="), !extra.is_empty(), "{text}");
        }
    }
}
