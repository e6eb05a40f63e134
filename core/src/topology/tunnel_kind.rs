//! Tunnel kinds (`[[tunnels]] kind = …`): what each encapsulation costs in
//! bytes over an IPv4 or IPv6 underlay, which inner families it carries and
//! which underlay families it can use. Pure facts; the harness turns a kind
//! into a Linux device (`harness::tunnels`).
//!
//! Overhead: the bytes the encapsulation adds to an inner packet of the
//! tunnel's MTU, so that `tunnel MTU + overhead` is the largest outer
//! packet. Outer IPv4 header 20, IPv6 header 40; then
//!
//! | kind | after the outer IP header | over IPv4 | over IPv6 |
//! |---|---|---|---|
//! | `vxlan` | UDP 8 + VXLAN 8 + inner Ethernet 14 | 50 | 70 |
//! | `geneve` | UDP 8 + GENEVE 8 (no options: Linux's device sends none) + inner Ethernet 14 | 50 | 70 |
//! | `gre` | GRE 4 (no key, sequence or checksum) | 24 | 52 |
//! | `gretap` | GRE 4 + inner Ethernet 14 | 38 | 66 |
//! | `ipip` | nothing (IPv4 in IPv4) | 20 | — |
//! | `sit` | nothing (IPv6 in IPv4) | 20 | — |
//! | `ip6tnl` | nothing (IPv4 or IPv6 in IPv6) | — | 48 |
//! | `wireguard` | UDP 8 + WireGuard data header 16 (type 4, receiver 4, counter 8) + Poly1305 tag 16 | 60 | 80 |
//!
//! Over IPv6 the kernel's IP-in-IPv6 tunnels (`ip6gre`, `ip6gretap`,
//! `ip6tnl`) add an 8-byte destination-options header carrying the
//! tunnel encapsulation limit (RFC 2473) unless the device has the
//! "ignore encapsulation limit" flag (`encaplimit none`). iproute2 sends
//! limit 4 (`IPV6_DEFAULT_TNL_ENCAP_LIMIT`) unless told otherwise, so that
//! is what real tunnels carry; mtulab sets 4 explicitly rather than rely on
//! a default, and counts the 8 bytes (GRE over IPv6: 40 + 8 + 4 = 52;
//! ip6tnl: 40 + 8 = 48, the 1452 a stock `ip6tnl0` shows over 1500).
//! Measured on the wire in guest kernels (`harness/tests/tunnel_kinds.rs`).
//!
//! WireGuard pads the plaintext to a multiple of 16 bytes but never beyond
//! the device MTU (`calculate_skb_padding` in drivers/net/wireguard), so
//! the largest outer packet is exactly MTU + 60 (IPv4) / + 80 (IPv6): a
//! 1500 underlay gives 1440 over IPv4 and 1420 over IPv6 (`wg-quick`'s
//! default 1420 assumes the worse, IPv6). WireGuard cannot give the VPN
//! story's 1446 from a 1500 WAN: 1446 is what IPsec ESP in tunnel mode
//! with AES-GCM leaves over IPv4 (outer IPv4 20 + ESP SPI/sequence 8 +
//! IV 8 + pad length/next header 2 + ICV 16 = 54, and 1446 + 2 is already a
//! multiple of 4, so no padding), or a VXLAN over a 1496 hop (1496 − 50).

use std::fmt;

use super::Family;

/// How a `[[tunnels]]` entry is encapsulated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum TunnelKind {
    /// VXLAN (UDP 4789), an Ethernet link: the default.
    #[default]
    Vxlan,
    /// GENEVE (UDP 6081), an Ethernet link.
    Geneve,
    /// GRE (`gre`, `ip6gre` over IPv6): IPv4 and IPv6 inside.
    Gre,
    /// GRE carrying Ethernet (`gretap`, `ip6gretap` over IPv6).
    Gretap,
    /// IPv4 in IPv4 (`ipip`).
    Ipip,
    /// IPv6 in IPv4 (`sit`).
    Sit,
    /// IPv4 or IPv6 in IPv6 (`ip6tnl`, mode any).
    Ip6tnl,
    /// WireGuard (UDP 51820 + tunnel index), IPv4 and IPv6 inside.
    Wireguard,
}

/// Bytes of an outer IPv4 / IPv6 header.
const IPV4_HEADER: u32 = 20;
const IPV6_HEADER: u32 = 40;
const UDP_HEADER: u32 = 8;
const ETHERNET_HEADER: u32 = 14;
const VXLAN_HEADER: u32 = 8;
const GENEVE_HEADER: u32 = 8;
const GRE_HEADER: u32 = 4;
/// IPv6 destination options header with the tunnel encapsulation limit option.
const ENCAP_LIMIT_OPTION: u32 = 8;
/// WireGuard data message header: type 4 + receiver index 4 + counter 8.
const WIREGUARD_HEADER: u32 = 16;
/// Poly1305 authentication tag.
const WIREGUARD_TAG: u32 = 16;

impl TunnelKind {
    pub const ALL: [TunnelKind; 8] = [
        TunnelKind::Vxlan,
        TunnelKind::Geneve,
        TunnelKind::Gre,
        TunnelKind::Gretap,
        TunnelKind::Ipip,
        TunnelKind::Sit,
        TunnelKind::Ip6tnl,
        TunnelKind::Wireguard,
    ];

    /// The name in topology files (`kind = "…"`).
    pub fn as_str(self) -> &'static str {
        match self {
            TunnelKind::Vxlan => "vxlan",
            TunnelKind::Geneve => "geneve",
            TunnelKind::Gre => "gre",
            TunnelKind::Gretap => "gretap",
            TunnelKind::Ipip => "ipip",
            TunnelKind::Sit => "sit",
            TunnelKind::Ip6tnl => "ip6tnl",
            TunnelKind::Wireguard => "wireguard",
        }
    }

    /// The kind named `s` in a topology file.
    pub fn parse(s: &str) -> Option<TunnelKind> {
        TunnelKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How people write it in prose ("VXLAN", "WireGuard").
    pub fn label(self) -> &'static str {
        match self {
            TunnelKind::Vxlan => "VXLAN",
            TunnelKind::Geneve => "GENEVE",
            TunnelKind::Gre => "GRE",
            TunnelKind::Gretap => "GRETAP",
            TunnelKind::Ipip => "IPIP",
            TunnelKind::Sit => "SIT",
            TunnelKind::Ip6tnl => "ip6tnl",
            TunnelKind::Wireguard => "WireGuard",
        }
    }

    /// Prefix of the default interface names (`vx-PEER`, `wg-PEER`, …).
    pub fn name_prefix(self) -> &'static str {
        match self {
            TunnelKind::Vxlan => "vx-",
            TunnelKind::Geneve => "gnv-",
            TunnelKind::Gre => "gre-",
            TunnelKind::Gretap => "gtap-",
            TunnelKind::Ipip => "ipip-",
            TunnelKind::Sit => "sit-",
            TunnelKind::Ip6tnl => "ip6t-",
            TunnelKind::Wireguard => "wg-",
        }
    }

    /// Underlay families this kind can be carried over.
    pub fn underlays(self) -> &'static [Family] {
        match self {
            TunnelKind::Ipip | TunnelKind::Sit => &[Family::V4],
            TunnelKind::Ip6tnl => &[Family::V6],
            _ => &[Family::V4, Family::V6],
        }
    }

    /// The underlay used when the file names none: IPv4, or IPv6 for ip6tnl.
    pub fn default_underlay(self) -> Family {
        self.underlays()[0]
    }

    /// Whether this kind carries `family` inside.
    pub fn carries(self, family: Family) -> bool {
        match self {
            TunnelKind::Ipip => family == Family::V4,
            TunnelKind::Sit => family == Family::V6,
            _ => true,
        }
    }

    /// Bytes added to an inner packet over an underlay of `underlay` (see
    /// the table in this module); None where the kind cannot use that
    /// underlay.
    pub fn overhead(self, underlay: Family) -> Option<u32> {
        if !self.underlays().contains(&underlay) {
            return None;
        }
        let ip = match underlay {
            Family::V4 => IPV4_HEADER,
            Family::V6 => IPV6_HEADER,
        };
        // The kernel's IP-in-IPv6 tunnels add the encapsulation limit option.
        let encap_limit = match (self, underlay) {
            (TunnelKind::Gre | TunnelKind::Gretap | TunnelKind::Ip6tnl, Family::V6) => {
                ENCAP_LIMIT_OPTION
            }
            _ => 0,
        };
        let rest = match self {
            TunnelKind::Vxlan => UDP_HEADER + VXLAN_HEADER + ETHERNET_HEADER,
            TunnelKind::Geneve => UDP_HEADER + GENEVE_HEADER + ETHERNET_HEADER,
            TunnelKind::Gre => GRE_HEADER,
            TunnelKind::Gretap => GRE_HEADER + ETHERNET_HEADER,
            TunnelKind::Ipip | TunnelKind::Sit | TunnelKind::Ip6tnl => 0,
            TunnelKind::Wireguard => UDP_HEADER + WIREGUARD_HEADER + WIREGUARD_TAG,
        };
        Some(ip + encap_limit + rest)
    }

    /// The inner families in words ("IPv4 and IPv6", "IPv6 only").
    pub fn carries_words(self) -> &'static str {
        match (self.carries(Family::V4), self.carries(Family::V6)) {
            (true, true) => "IPv4 and IPv6",
            (true, false) => "IPv4 only",
            _ => "IPv6 only",
        }
    }
}

impl fmt::Display for TunnelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind's overhead per underlay, the arithmetic of the module
    /// table; None where the kind cannot use the underlay.
    #[test]
    fn overheads() {
        let table = [
            (TunnelKind::Vxlan, Some(50), Some(70)),
            (TunnelKind::Geneve, Some(50), Some(70)),
            (TunnelKind::Gre, Some(24), Some(52)),
            (TunnelKind::Gretap, Some(38), Some(66)),
            (TunnelKind::Ipip, Some(20), None),
            (TunnelKind::Sit, Some(20), None),
            (TunnelKind::Ip6tnl, None, Some(48)),
            (TunnelKind::Wireguard, Some(60), Some(80)),
        ];
        assert_eq!(table.len(), TunnelKind::ALL.len());
        for (kind, v4, v6) in table {
            assert_eq!(kind.overhead(Family::V4), v4, "{kind} over ipv4");
            assert_eq!(kind.overhead(Family::V6), v6, "{kind} over ipv6");
        }
        // The numbers people quote: WireGuard 1440 / 1420 over a 1500 WAN,
        // GRE 1476, VXLAN 1450.
        let over_1500 = |k: TunnelKind, f| 1500 - k.overhead(f).unwrap();
        assert_eq!(over_1500(TunnelKind::Wireguard, Family::V4), 1440);
        assert_eq!(over_1500(TunnelKind::Wireguard, Family::V6), 1420);
        assert_eq!(over_1500(TunnelKind::Gre, Family::V4), 1476);
        assert_eq!(over_1500(TunnelKind::Vxlan, Family::V4), 1450);
        assert_eq!(over_1500(TunnelKind::Ip6tnl, Family::V6), 1452);
    }

    /// Which inner families each kind carries, and over which underlays.
    #[test]
    fn families() {
        use Family::{V4, V6};
        for kind in TunnelKind::ALL {
            let inner: Vec<Family> = [V4, V6].into_iter().filter(|&f| kind.carries(f)).collect();
            let want: &[Family] = match kind {
                TunnelKind::Ipip => &[V4],
                TunnelKind::Sit => &[V6],
                _ => &[V4, V6],
            };
            assert_eq!(inner, want, "{kind} carries");
            let under: &[Family] = match kind {
                TunnelKind::Ipip | TunnelKind::Sit => &[V4],
                TunnelKind::Ip6tnl => &[V6],
                _ => &[V4, V6],
            };
            assert_eq!(kind.underlays(), under, "{kind} underlays");
            assert_eq!(kind.default_underlay(), under[0], "{kind}");
        }
    }

    /// Names round-trip; the default is VXLAN; prefixes are distinct.
    #[test]
    fn names() {
        for kind in TunnelKind::ALL {
            assert_eq!(TunnelKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(TunnelKind::parse("l2tp"), None);
        assert_eq!(TunnelKind::default(), TunnelKind::Vxlan);
        let mut prefixes: Vec<&str> = TunnelKind::ALL.iter().map(|k| k.name_prefix()).collect();
        prefixes.sort();
        prefixes.dedup();
        assert_eq!(prefixes.len(), TunnelKind::ALL.len());
    }
}
