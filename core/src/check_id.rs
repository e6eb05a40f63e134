//! Check ids (design.md §4, plus the model's own `model-mismatch`): one
//! enum, with its stable string form for files and reports.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A check. Ordered by its string form (reports list ids alphabetically).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckId {
    /// Both ends of every link have the same MTU.
    LinkMtuMatch,
    /// A router's frag-needed / packet-too-big reaches the path's sender.
    IcmpPasses,
    /// The sender learns the path's smallest MTU; a DF packet of it passes.
    Pmtud,
    /// A bulk TCP transfer completes promptly.
    TcpTransfer,
    /// The model's prediction equals what the kernel did.
    ModelMismatch,
}

/// An id no check has (the text as given).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown check id {0:?}")]
pub struct UnknownCheckId(pub String);

impl CheckId {
    /// Every id `[expect] violations` may name, in design order.
    pub const ALL: [CheckId; 5] = [
        CheckId::LinkMtuMatch,
        CheckId::IcmpPasses,
        CheckId::Pmtud,
        CheckId::TcpTransfer,
        CheckId::ModelMismatch,
    ];

    /// The checks `mtulab check` runs (model-mismatch comes with the paths).
    pub const LIVE: [CheckId; 4] = [
        CheckId::LinkMtuMatch,
        CheckId::IcmpPasses,
        CheckId::Pmtud,
        CheckId::TcpTransfer,
    ];

    /// Checks that belong to a family (every violation of them names one),
    /// so `[expect.ipv4]` / `[expect.ipv6]` may list them.
    pub const PER_FAMILY: [CheckId; 4] = [
        CheckId::IcmpPasses,
        CheckId::Pmtud,
        CheckId::TcpTransfer,
        CheckId::ModelMismatch,
    ];

    /// The stable id: `link-mtu-match`, `icmp-passes`, …
    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::LinkMtuMatch => "link-mtu-match",
            CheckId::IcmpPasses => "icmp-passes",
            CheckId::Pmtud => "pmtud",
            CheckId::TcpTransfer => "tcp-transfer",
            CheckId::ModelMismatch => "model-mismatch",
        }
    }

    /// Whether violations of this check name a family.
    pub fn per_family(self) -> bool {
        CheckId::PER_FAMILY.contains(&self)
    }
}

impl PartialOrd for CheckId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for CheckId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for CheckId {
    type Err = UnknownCheckId;
    fn from_str(s: &str) -> Result<CheckId, UnknownCheckId> {
        CheckId::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCheckId(s.to_owned()))
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CheckId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<CheckId, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every id round-trips through its string and serde forms; an unknown
    /// id is refused with its text.
    #[test]
    fn string_forms() {
        for id in CheckId::ALL {
            assert_eq!(id.as_str().parse::<CheckId>(), Ok(id));
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, format!("{:?}", id.as_str()));
            assert_eq!(serde_json::from_str::<CheckId>(&json).unwrap(), id);
        }
        assert_eq!(
            "pmtu".parse::<CheckId>(),
            Err(UnknownCheckId("pmtu".into()))
        );
        assert!(serde_json::from_str::<CheckId>("\"pmtu\"").is_err());
    }

    /// Ordered like their strings, as reports list them.
    #[test]
    fn ordered_by_string() {
        let mut ids = CheckId::ALL.to_vec();
        ids.sort();
        let strs: Vec<&str> = ids.iter().map(|c| c.as_str()).collect();
        let mut sorted = strs.clone();
        sorted.sort();
        assert_eq!(strs, sorted);
    }
}
