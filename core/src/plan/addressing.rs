//! Addressing: link `i` (file order) gets 198.18.0.0/15 split in /24s and,
//! when both ends' MTU is at least 1280, `2001:db8:0:i::/64`; given
//! addresses replace a link's automatic ones, and automatic subnets step
//! around them and around anycast addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{IfAddr, IPV6_MIN_MTU};
use crate::topology::{Anycast, Cidr, Family, Link, Segment};

pub(crate) fn host_len(family: Family) -> u8 {
    match family {
        Family::V4 => 32,
        Family::V6 => 128,
    }
}

/// Each link's IPv4 subnet and IPv6 subnet (None: no IPv6 on it), given or
/// automatic. Link `i` without given addresses gets `198.18.0.0 + 256·i`/24
/// and `2001:db8:0:i::/64` unless that overlaps a given subnet or an
/// anycast address; then the lowest such /24 (/64) no other link uses.
/// Err(i): no /24 is left for link `i`.
pub fn link_subnets(
    links: &[Link],
    anycast: &[Anycast],
) -> Result<Vec<(Cidr, Option<Cidr>)>, usize> {
    subnets(links, &[], anycast)
}

/// What one link or segment needs from automatic addressing.
struct Need {
    given4: Option<Cidr>,
    given6: Option<Cidr>,
    /// Every end is >= 1280: IPv6 unless given.
    auto6: bool,
}

/// [`link_subnets`] for links, then segments (segment `s` is entry
/// `links.len() + s`, and is numbered so: its automatic /24 is
/// `198.18.0.0 + 256·(links.len() + s)`). Err(i): no /24 is left for entry `i`.
pub fn subnets(
    links: &[Link],
    segments: &[Segment],
    anycast: &[Anycast],
) -> Result<Vec<(Cidr, Option<Cidr>)>, usize> {
    let needs: Vec<Need> = links
        .iter()
        .map(|l| Need {
            given4: l.addresses.map(|e| e[0].network()),
            given6: l.addresses6.map(|e| e[0].network()),
            auto6: l.mtu.iter().all(|&m| m >= IPV6_MIN_MTU),
        })
        .chain(segments.iter().map(|s| Need {
            given4: s.addresses.as_ref().map(|e| e[0].network()),
            given6: s.addresses6.as_ref().map(|e| e[0].network()),
            auto6: s.mtu.iter().all(|&m| m >= IPV6_MIN_MTU),
        }))
        .collect();
    subnets_of(&needs, anycast)
}

fn subnets_of(links: &[Need], anycast: &[Anycast]) -> Result<Vec<(Cidr, Option<Cidr>)>, usize> {
    let auto6 = |l: &Need| l.auto6;
    let mut out4 = vec![None; links.len()];
    let mut out6 = vec![None; links.len()];
    for family in [Family::V4, Family::V6] {
        let (out, slots): (&mut Vec<Option<Cidr>>, usize) = match family {
            Family::V4 => (&mut out4, MAX_V4_SUBNETS),
            Family::V6 => (&mut out6, 1 << 16),
        };
        let candidate = |k: usize| match family {
            Family::V4 => Cidr {
                addr: IpAddr::V4(v4_network(k)),
                prefix_len: 24,
            },
            Family::V6 => Cidr {
                addr: IpAddr::V6(v6_network(k)),
                prefix_len: 64,
            },
        };
        let given = |l: &Need| match family {
            Family::V4 => l.given4,
            Family::V6 => l.given6,
        };
        let mut taken: Vec<Cidr> = links.iter().filter_map(given).collect();
        taken.extend(anycast.iter().filter_map(|a| {
            a.addr(family).map(|addr| Cidr {
                addr,
                prefix_len: host_len(family),
            })
        }));
        let wants = |l: &Need| given(l).is_none() && (family == Family::V4 || auto6(l));
        let mut used = std::collections::BTreeSet::new();
        for (i, l) in links.iter().enumerate() {
            if let Some(net) = given(l) {
                out[i] = Some(net);
            } else if wants(l) && i < slots {
                let c = candidate(i);
                if !taken.iter().any(|t| t.overlaps(&c)) {
                    out[i] = Some(c);
                    used.insert(i);
                }
            }
        }
        let mut next = 0;
        for (i, l) in links.iter().enumerate() {
            if out[i].is_some() || !wants(l) {
                continue;
            }
            loop {
                if next >= slots {
                    return Err(i);
                }
                let c = candidate(next);
                if !used.contains(&next) && !taken.iter().any(|t| t.overlaps(&c)) {
                    out[i] = Some(c);
                    used.insert(next);
                    break;
                }
                next += 1;
            }
        }
    }
    Ok(out4
        .into_iter()
        .zip(out6)
        .map(|(a, b)| (a.expect("every link has an IPv4 subnet"), b))
        .collect())
}

/// Most members a segment may have (automatic addresses `.1`…`.254` of a /24).
pub const MAX_SEGMENT_MEMBERS: usize = 254;

/// /24s in 198.18.0.0/15.
pub(crate) const MAX_V4_SUBNETS: usize = 512;

/// The two ends' addresses of `link` in `family` (given, or `.1` / `.2` of
/// its subnet from [`link_subnets`]); None when the link has no such family.
pub fn link_end_addresses(
    link: &Link,
    subnets: &(Cidr, Option<Cidr>),
    family: Family,
) -> Option<[Cidr; 2]> {
    let given = match family {
        Family::V4 => link.addresses,
        Family::V6 => link.addresses6,
    };
    if given.is_some() {
        return given;
    }
    let net = match family {
        Family::V4 => IfAddr::from(&subnets.0),
        Family::V6 => IfAddr::from(subnets.1.as_ref()?),
    };
    Some([0, 1].map(|end| {
        let a = end_address(&net, end);
        Cidr {
            addr: a.addr,
            prefix_len: a.prefix_len,
        }
    }))
}

/// Each member's address of `segment` in `family` (given, or `.k+1` /
/// `::k+1` for member `k` of its subnet from [`subnets`]); None when the
/// segment has no such family.
pub fn segment_member_addresses(
    segment: &Segment,
    subnets: &(Cidr, Option<Cidr>),
    family: Family,
) -> Option<Vec<Cidr>> {
    let given = match family {
        Family::V4 => &segment.addresses,
        Family::V6 => &segment.addresses6,
    };
    if given.is_some() {
        return given.clone();
    }
    let net = match family {
        Family::V4 => IfAddr::from(&subnets.0),
        Family::V6 => IfAddr::from(subnets.1.as_ref()?),
    };
    Some(
        (0..segment.members.len())
            .map(|k| {
                let a = end_address(&net, k);
                Cidr {
                    addr: a.addr,
                    prefix_len: a.prefix_len,
                }
            })
            .collect(),
    )
}

/// Network of link `i`: 198.18.0.0 + i*256 (/24).
pub fn v4_network(i: usize) -> Ipv4Addr {
    let i = u32::try_from(i).expect("link index fits u32");
    Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 0, 0)) + i * 256)
}

/// Network of link `i`: 2001:db8:0:i::/64.
pub fn v6_network(i: usize) -> Ipv6Addr {
    let i = u16::try_from(i).expect("link index fits u16");
    Ipv6Addr::new(0x2001, 0xdb8, 0, i, 0, 0, 0, 0)
}

/// Address of `end` on `network`: `.1` / `::1` for end 0, `.2` / `::2`
/// for end 1, … (segment members: at most [`MAX_SEGMENT_MEMBERS`]).
pub(crate) fn end_address(network: &IfAddr, end: usize) -> IfAddr {
    let n = u8::try_from(end + 1).expect("at most 254 ends");
    let addr = match network.addr {
        IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) + u32::from(n))),
        IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) + u128::from(n))),
    };
    IfAddr {
        addr,
        prefix_len: network.prefix_len,
    }
}

pub(crate) fn family_of(addr: IpAddr) -> Family {
    match addr {
        IpAddr::V4(_) => Family::V4,
        IpAddr::V6(_) => Family::V6,
    }
}

/// Whether `addr` lies in the network of `net` (address and prefix length).
pub(crate) fn contains(net: &IfAddr, addr: IpAddr) -> bool {
    match (net.addr, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(net.prefix_len))
                .unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(net.prefix_len))
                .unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}
