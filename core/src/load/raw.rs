//! The raw (serde) layer: what `toml` deserialises into, keeping the byte
//! spans ([`Spanned`]) of everything validation may complain about.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTopology {
    pub(crate) name: Spanned<String>,
    #[serde(default)]
    pub(crate) description: String,
    #[serde(default)]
    pub(crate) nodes: Ordered<RawNode>,
    #[serde(default)]
    pub(crate) links: Vec<Spanned<RawLink>>,
    #[serde(default)]
    pub(crate) filters: Vec<Spanned<RawFilter>>,
    pub(crate) expect: Option<Spanned<RawExpect>>,
    #[serde(default)]
    pub(crate) tunnels: Vec<Spanned<RawTunnel>>,
    #[serde(default)]
    pub(crate) anycast: Vec<Spanned<RawAnycast>>,
    #[serde(default)]
    pub(crate) segments: Vec<Spanned<RawSegment>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSegment {
    pub(crate) name: Spanned<String>,
    pub(crate) members: Spanned<Vec<Spanned<String>>>,
    pub(crate) mtu: Spanned<RawSegmentMtu>,
    pub(crate) names: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) addresses: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) addresses6: Option<Spanned<Vec<Spanned<String>>>>,
}

/// `mtu = 1500` or `mtu = { r1 = 1500, r2 = 9000 }` (per member; checked
/// later so the message can name the segment).
pub(crate) enum RawSegmentMtu {
    One(i64),
    PerMember(Vec<(Spanned<String>, Spanned<i64>)>),
}

impl<'de> Deserialize<'de> for RawSegmentMtu {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSegmentMtu;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or a table of member = integer")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawSegmentMtu, E> {
                Ok(RawSegmentMtu::One(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawSegmentMtu, E> {
                Ok(RawSegmentMtu::One(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawSegmentMtu, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<Spanned<String>, Spanned<MtuInt>>()? {
                    let span = v.span();
                    entries.push((k, Spanned::new(span, v.into_inner().0)));
                }
                Ok(RawSegmentMtu::PerMember(entries))
            }
        }
        d.deserialize_any(V).map_err(|e| {
            let text = e.to_string();
            if text.starts_with("invalid type") {
                de::Error::custom(format!(
                    "mtu must be an integer or a table of member = integer ({text})"
                ))
            } else {
                e
            }
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTunnel {
    pub(crate) between: Spanned<Vec<Spanned<String>>>,
    pub(crate) kind: Option<Spanned<String>>,
    pub(crate) underlay: Option<Spanned<String>>,
    pub(crate) mtu: Option<Spanned<RawMtu>>,
    pub(crate) names: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRoute {
    pub(crate) to: Spanned<String>,
    pub(crate) via: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAnycast {
    pub(crate) address: Option<Spanned<String>>,
    pub(crate) address6: Option<Spanned<String>>,
    pub(crate) nodes: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNode {
    #[serde(default)]
    pub(crate) router: bool,
    #[serde(default)]
    pub(crate) sysctl: Ordered<SysctlValue>,
    pub(crate) mss_clamp: Option<Spanned<ClampValue>>,
    pub(crate) mss_clamp_oif: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) routes: Vec<Spanned<RawRoute>>,
    pub(crate) pmtu_icmp: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    pub(crate) between: Spanned<Vec<Spanned<String>>>,
    pub(crate) mtu: Spanned<RawMtu>,
    pub(crate) names: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) addresses: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) addresses6: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFilter {
    pub(crate) node: Spanned<String>,
    pub(crate) drop: Option<Spanned<String>>,
    pub(crate) hook: Option<Spanned<String>>,
    pub(crate) nft: Option<Spanned<String>>,
    pub(crate) iptables: Option<Spanned<String>>,
    pub(crate) ip6tables: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpect {
    pub(crate) violations: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    pub(crate) paths: Vec<Spanned<RawExpectPath>>,
    pub(crate) ipv4: Option<Spanned<RawExpectFamily>>,
    pub(crate) ipv6: Option<Spanned<RawExpectFamily>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpectFamily {
    pub(crate) violations: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpectPath {
    pub(crate) from: Spanned<String>,
    pub(crate) to: Spanned<String>,
    pub(crate) family: Option<Spanned<String>>,
    pub(crate) pmtu: Option<Spanned<i64>>,
    pub(crate) transfer: Option<Spanned<String>>,
}

/// A TOML table kept in file order, with each key's span.
pub(crate) struct Ordered<V>(pub(crate) Vec<(Spanned<String>, Spanned<V>)>);

impl<V> Default for Ordered<V> {
    fn default() -> Self {
        Ordered(Vec::new())
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OrderedVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for OrderedVisitor<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(OrderedVisitor(PhantomData))
    }
}

/// A sysctl value: a string, or an integer taken as its decimal string.
pub(crate) struct SysctlValue(pub(crate) String);

impl<'de> Deserialize<'de> for SysctlValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = SysctlValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sysctl value (string or integer)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<SysctlValue, E> {
                Ok(SysctlValue(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<SysctlValue, E> {
                Ok(SysctlValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<SysctlValue, E> {
                Ok(SysctlValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `mss_clamp = "pmtu"` or `mss_clamp = 1360` (checked later so the
/// message can name the node).
pub(crate) struct ClampValue(pub(crate) String);

impl<'de> Deserialize<'de> for ClampValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ClampValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"pmtu\" or an MSS (integer)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ClampValue, E> {
                Ok(ClampValue(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ClampValue, E> {
                Ok(ClampValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ClampValue, E> {
                Ok(ClampValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `mtu = 1500` or `mtu = [1500, 9000]`; list length is checked later so the
/// message can name the link.
pub(crate) enum RawMtu {
    One(i64),
    List(Vec<i64>),
}

impl<'de> Deserialize<'de> for RawMtu {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawMtu;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer or a list of two integers")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawMtu, E> {
                Ok(RawMtu::One(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawMtu, E> {
                Ok(RawMtu::One(i64::try_from(v).unwrap_or(i64::MAX)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawMtu, A::Error> {
                let mut values = Vec::new();
                while let Some(MtuInt(v)) = seq.next_element()? {
                    values.push(v);
                }
                Ok(RawMtu::List(values))
            }
        }
        d.deserialize_any(V).map_err(|e| {
            // serde's "invalid type: string, expected …" becomes our wording.
            let text = e.to_string();
            match text.trim().strip_prefix("invalid type: ") {
                Some(rest) => {
                    let found = rest.split(", expected").next().unwrap_or(rest);
                    de::Error::custom(format!(
                        "mtu must be an integer or a list of two integers, not {found}"
                    ))
                }
                None => e,
            }
        })
    }
}

pub(crate) struct MtuInt(pub(crate) i64);

impl<'de> Deserialize<'de> for MtuInt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = MtuInt;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an integer mtu")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<MtuInt, E> {
                Ok(MtuInt(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<MtuInt, E> {
                Ok(MtuInt(i64::try_from(v).unwrap_or(i64::MAX)))
            }
        }
        d.deserialize_any(V)
    }
}
