//! The snapshot document (`mtulab-snapshot/1`): one namespace's network
//! state as `mtulab snapshot` writes it and `mtulab import` ([`crate::import`])
//! reads it. Pure data, its parser and its JSON Schema (committed as
//! `docs/snapshot-schema.json`, described in `docs/snapshot-schema.md`); the
//! capture itself (rtnetlink, `/proc/sys`, nft/iptables) is
//! `harness::snapshot::capture`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// The `schema` value of this version of the document.
pub const SCHEMA: &str = "mtulab-snapshot/1";

/// Sysctls a snapshot reads besides [`crate::load::sysctl::PMTU_SYSCTLS`]:
/// forwarding, and whether IPv6 replies reflect the flow label (it decides
/// which ECMP path a packet-too-big takes back, design.md §6).
pub const FORWARDING_SYSCTLS: [&str; 3] = [
    "net.ipv4.ip_forward",
    "net.ipv6.conf.all.forwarding",
    "net.ipv6.flowlabel_reflect",
];

/// Why a text is not a snapshot document.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotParseError {
    #[error("not JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("schema {0:?} is not {SCHEMA:?} (a newer or foreign document)")]
    OtherSchema(String),
    #[error("no \"schema\" key: not an mtulab snapshot ({SCHEMA})")]
    NoSchema,
    #[error("not a valid {SCHEMA} document: {0}")]
    Invalid(serde_json::Error),
}

/// One namespace's network state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The node name given with `--node` (import names the node after it;
    /// without it, after the snapshot file's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The UTS host name of the capturing process (`ip netns exec` keeps
    /// the host's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Seconds since the Unix epoch.
    pub taken: u64,
    /// The mtulab version that took it.
    pub mtulab: String,
    pub links: Vec<Link>,
    pub addresses: Vec<Address>,
    /// Routes of every table (main, local, policy tables), both families;
    /// no cached PMTU exceptions.
    pub routes: Vec<Route>,
    /// Forwarding, flow label reflection ([`FORWARDING_SYSCTLS`]) and the
    /// PMTU sysctls, as read.
    pub sysctl: BTreeMap<String, String>,
    /// `nft list ruleset` output (None: not read, see `unread`).
    pub nft: Option<String>,
    /// `iptables-save` output, when the command exists.
    pub iptables: Option<String>,
    /// `ip6tables-save` output, when the command exists.
    pub ip6tables: Option<String>,
    /// `"nf_tables"` (iptables-nft: its rules are also in `nft`) or
    /// `"legacy"`, from `iptables --version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iptables_backend: Option<String>,
    /// What could not be read, and why.
    pub unread: Vec<Unread>,
}

/// A part of the state the snapshot could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Unread {
    pub what: String,
    pub reason: String,
}

/// A network interface (`RTM_GETLINK`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Link {
    pub index: u32,
    pub name: String,
    /// `IFLA_INFO_KIND` (veth, vxlan, bridge, ...); None for a physical
    /// device or loopback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub mtu: u32,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// `IFLA_OPERSTATE`, lowercase (up, down, lowerlayerdown, unknown, ...).
    pub oper_state: String,
    /// `IFLA_LINK`: the peer's index (veth) or the lower device (vlan...),
    /// in the namespace `link_netnsid` names when that is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_netnsid: Option<i32>,
    /// `IFLA_MASTER`: the bridge or bond this port belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vxlan: Option<Vxlan>,
}

/// VXLAN parameters (`IFLA_VXLAN_*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vxlan {
    pub vni: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<IpAddr>,
    /// The remote (or multicast group) address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// The underlay device's name, when one is bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning: Option<bool>,
}

/// An interface address (`RTM_GETADDR`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// The interface's name.
    pub link: String,
    pub address: IpAddr,
    pub prefix_len: u8,
    /// universe | site | link | host
    pub scope: String,
}

/// A route (`RTM_GETROUTE`, every table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// ipv4 | ipv6
    pub family: String,
    /// 254 main, 255 local, 253 default, others: policy tables.
    pub table: u32,
    /// unicast | local | broadcast | anycast | multicast | blackhole |
    /// unreachable | prohibit | throw | nat | other(N)
    #[serde(rename = "type")]
    pub kind: String,
    /// kernel | boot | static | ra | dhcp | bird | ... (rtnetlink's names)
    pub protocol: String,
    /// universe | site | link | host
    pub scope: String,
    /// Destination network, `ADDR/LEN`.
    pub to: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    /// Output interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    /// The route's MTU metric (`ip route ... mtu N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// `RTA_MULTIPATH` next hops (empty for a single-path route).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nexthops: Vec<NextHop>,
    /// `RTA_NH_ID`: the route uses a nexthop object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nhid: Option<u32>,
}

/// One next hop of a multipath route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextHop {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// `ip route`'s weight (rtnh_hops + 1).
    pub weight: u32,
}

impl Snapshot {
    /// Parse a snapshot document; the schema must be [`SCHEMA`].
    pub fn from_json(text: &str) -> Result<Snapshot, SnapshotParseError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(SnapshotParseError::NotJson)?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(SCHEMA) => {}
            Some(other) => return Err(SnapshotParseError::OtherSchema(other.to_string())),
            None => return Err(SnapshotParseError::NoSchema),
        }
        serde_json::from_value(value).map_err(SnapshotParseError::Invalid)
    }

    /// The link named `name`.
    pub fn link(&self, name: &str) -> Option<&Link> {
        self.links.iter().find(|l| l.name == name)
    }
}

/// The JSON Schema of [`Snapshot`] (committed as `docs/snapshot-schema.json`).
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Snapshot);
    serde_json::to_string_pretty(&schema).expect("a schema serialises") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// docs/snapshot-schema.json is the schema of this code; regenerate it
    /// with `MTULAB_BLESS=1 cargo test -p mtulab-core --lib snapshot`.
    #[test]
    fn committed_json_schema_is_current() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/snapshot-schema.json");
        let now = json_schema();
        if std::env::var_os("MTULAB_BLESS").is_some() {
            std::fs::write(&path, &now).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == now,
            "{} is stale: regenerate it with MTULAB_BLESS=1 cargo test -p mtulab-core --lib snapshot",
            path.display()
        );
    }

    /// A document round-trips, and another schema or an unknown key is refused.
    #[test]
    fn parse_checks_schema_and_keys() {
        let s = Snapshot {
            schema: SCHEMA.into(),
            node: Some("r1".into()),
            hostname: None,
            taken: 1,
            mtulab: "t".into(),
            links: vec![],
            addresses: vec![],
            routes: vec![],
            sysctl: BTreeMap::new(),
            nft: None,
            iptables: None,
            ip6tables: None,
            iptables_backend: None,
            unread: vec![],
        };
        let text = serde_json::to_string(&s).unwrap();
        assert_eq!(Snapshot::from_json(&text).unwrap(), s);
        let other = text.replace(SCHEMA, "mtulab-snapshot/2");
        assert!(Snapshot::from_json(&other)
            .unwrap_err()
            .to_string()
            .contains("mtulab-snapshot/2"));
        let extra = text.replacen('{', "{\"extra\":1,", 1);
        assert!(Snapshot::from_json(&extra)
            .unwrap_err()
            .to_string()
            .contains("extra"));
        assert!(Snapshot::from_json("{")
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
    }
}
