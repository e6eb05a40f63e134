//! The topology file (TOML, format v1 of `shared/design.md` §3): serde types,
//! validation with file/line errors. Pure code: nothing here touches the kernel.
//!
//! Parsing happens in two steps: `toml` deserialises into private `Raw*`
//! structs that keep byte spans ([`Spanned`]) of everything a later check may
//! complain about, then [`Validator`] turns them into the public [`Topology`],
//! reporting the first problem as a [`TopologyError`] with file and line.
//! No `flatten`/`untagged`: they replace toml's precise messages with vague ones.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::{self, Write as _};
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

/// A validated topology.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Topology {
    pub name: String,
    pub description: String,
    /// Where it was read from (None when parsed from a string); ruleset paths are relative to its directory.
    pub source: Option<PathBuf>,
    /// Sorted by name.
    pub nodes: BTreeMap<String, Node>,
    pub links: Vec<Link>,
    pub filters: Vec<Filter>,
    pub expect: Option<Expect>,
    /// `[[anycast]]`: service addresses shared by several hosts, in file order.
    pub anycast: Vec<Anycast>,
    /// `[[tunnels]]`: VXLAN links over the lab's own links (see [`crate::tunnel`]).
    pub tunnels: Vec<Tunnel>,
}

/// A link carried over VXLAN between two nodes that reach each other over
/// the physical links (the underlay).
#[derive(Debug, Clone, PartialEq)]
pub struct Tunnel {
    pub between: [String; 2],
    /// Family of the outer (encapsulating) packets.
    pub underlay: Family,
    /// Per end, in `between` order; None: the underlay path MTU between the
    /// endpoints minus the encapsulation overhead, on both ends.
    pub mtu: Option<[u32; 2]>,
    /// Interface names per end (default `vx-PEER`, `vx-PEER-2` for a second tunnel to PEER).
    pub names: [String; 2],
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    pub router: bool,
    /// `net.*` sysctls set in this node only, in file order.
    pub sysctl: Vec<(String, String)>,
    /// `mss_clamp` (routers only): rewrite the MSS option of forwarded SYNs.
    pub mss_clamp: Option<MssClamp>,
    /// User-given routes (`routes = [{ to, via }]`), in file order. In each
    /// family it lists any, the node gets exactly these (plus its connected
    /// subnets) instead of automatic routes.
    pub routes: Vec<Route>,
}

/// MSS clamping on a router (`mss_clamp = "pmtu"` or `mss_clamp = 1360`,
/// optionally `mss_clamp_oif = "IFACE"`): the MSS option of every forwarded
/// TCP SYN and SYN-ACK (both families) is lowered, never raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MssClamp {
    pub to: ClampTo,
    /// Only SYNs leaving through this interface of the node; None: all.
    pub oif: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClampTo {
    /// nft `rt mtu`: the smaller route MTU of the router's routes towards
    /// the SYN's destination and back to its source, minus 40 (IPv4) / 60 (IPv6).
    Pmtu,
    /// A fixed MSS (both families).
    Mss(u16),
}

/// Values `mss_clamp = N` accepts: TCP's minimum MSS (`TCP_MIN_MSS`) up to
/// the largest that fits a 65535-byte IPv4 packet.
pub const MSS_CLAMP_RANGE: std::ops::RangeInclusive<u32> = 88..=65495;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Link {
    pub between: [String; 2],
    /// Per end, in `between` order.
    pub mtu: [u32; 2],
    /// Interface names per end (default: the peer node's name, `peer-2` for a second link to it).
    pub names: [String; 2],
    /// User-given IPv4 addresses per end (`addresses = ["198.18.7.1/24", …]`);
    /// None: automatic.
    pub addresses: Option<[Cidr; 2]>,
    /// User-given IPv6 addresses per end (`addresses6`); None: automatic
    /// (where both ends are >= 1280).
    pub addresses6: Option<[Cidr; 2]>,
}

/// An address with a prefix length, as written in the file (`198.18.7.1/24`);
/// for a route destination or a subnet, host bits are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix_len: u8,
}

impl Cidr {
    /// The network: host bits cleared.
    pub fn network(&self) -> Cidr {
        let addr = match self.addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask))
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix_len))
                    .unwrap_or(0);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask))
            }
        };
        Cidr {
            addr,
            prefix_len: self.prefix_len,
        }
    }

    /// Whether `addr` lies in this network.
    pub fn contains(&self, addr: IpAddr) -> bool {
        addr.is_ipv4() == self.addr.is_ipv4()
            && Cidr {
                addr,
                prefix_len: self.prefix_len,
            }
            .network()
                == self.network()
    }

    /// Whether the two networks share any address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        let shorter = self.prefix_len.min(other.prefix_len);
        self.addr.is_ipv4() == other.addr.is_ipv4()
            && Cidr {
                addr: self.addr,
                prefix_len: shorter,
            }
            .network()
                == Cidr {
                    addr: other.addr,
                    prefix_len: shorter,
                }
                .network()
    }

    pub fn family(&self) -> Family {
        if self.addr.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix_len)
    }
}

/// A user-given route: `{ to = "198.18.9.0/24", via = "198.18.7.2" }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// Destination network (host bits zero); `0.0.0.0/0` / `::/0` for a default route.
    pub to: Cidr,
    /// Gateway: an address on a subnet connected to the node.
    pub via: IpAddr,
}

/// `[[anycast]]`: one service address (per family) configured on every
/// member's loopback; routers whose shortest paths to the members split
/// get a multipath route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anycast {
    pub address: Option<Ipv4Addr>,
    pub address6: Option<Ipv6Addr>,
    /// Member hosts, in file order (at least two).
    pub nodes: Vec<String>,
}

impl Anycast {
    pub fn addr(&self, family: Family) -> Option<IpAddr> {
        match family {
            Family::V4 => self.address.map(IpAddr::V4),
            Family::V6 => self.address6.map(IpAddr::V6),
        }
    }
}

/// Where lab addresses must lie (shared/common rules): 198.18.0.0/15 and 2001:db8::/32.
pub const LAB_RANGES: [Cidr; 2] = [
    Cidr {
        addr: IpAddr::V4(Ipv4Addr::new(198, 18, 0, 0)),
        prefix_len: 15,
    },
    Cidr {
        addr: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0)),
        prefix_len: 32,
    },
];

fn lab_range(family: Family) -> &'static Cidr {
    &LAB_RANGES[usize::from(family == Family::V6)]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hook {
    Input,
    Forward,
    Output,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterKind {
    /// `drop = "pmtu-icmp"`: ICMPv4 type 3 code 4 and ICMPv6 type 2 dropped at `hook`.
    DropPmtuIcmp { hook: Hook },
    /// A real ruleset loaded with `nft -f` (absolute path, resolved against the topology file).
    Nft(PathBuf),
    /// iptables-save format, loaded with iptables-restore.
    Iptables(PathBuf),
    /// ip6tables-save format, loaded with ip6tables-restore.
    Ip6tables(PathBuf),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub node: String,
    pub kind: FilterKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    V4,
    V6,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    Ok,
    Blackhole,
    Recovered,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expect {
    /// Check ids that must fail (exactly these); None = not asserted.
    pub violations: Option<Vec<String>>,
    pub paths: Vec<ExpectPath>,
    /// `[expect.ipv4]`: replaces `violations` for IPv4's per-path checks.
    pub ipv4: Option<ExpectFamily>,
    /// `[expect.ipv6]`: replaces `violations` for IPv6's per-path checks.
    pub ipv6: Option<ExpectFamily>,
}

impl Expect {
    /// The family table for `family`, if the file has one.
    pub fn family(&self, family: Family) -> Option<&ExpectFamily> {
        match family {
            Family::V4 => self.ipv4.as_ref(),
            Family::V6 => self.ipv6.as_ref(),
        }
    }

    /// Whether the file has any `[expect.ipv4]` / `[expect.ipv6]` table, so
    /// that expectations are compared per family.
    pub fn per_family(&self) -> bool {
        self.ipv4.is_some() || self.ipv6.is_some()
    }
}

/// `[expect.ipv4]` / `[expect.ipv6]`: the per-path checks (those in
/// [`FAMILY_CHECK_IDS`]) that fail in this family, exactly these.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExpectFamily {
    pub violations: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExpectPath {
    pub from: String,
    pub to: String,
    /// None: both families.
    pub family: Option<Family>,
    pub pmtu: Option<u32>,
    pub transfer: Option<Verdict>,
}

/// Bad input: which file, which line, what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}:{line}: {message}", file.display())]
pub struct TopologyError {
    pub file: PathBuf,
    /// 1-based; 0 when no line applies.
    pub line: usize,
    pub message: String,
}

/// Check ids `[expect] violations` may name (design §4, plus the model's own).
pub const CHECK_IDS: [&str; 5] = [
    "link-mtu-match",
    "icmp-passes",
    "pmtud",
    "tcp-transfer",
    "model-mismatch",
];

/// Check ids that belong to a family (every violation of them names one),
/// so `[expect.ipv4]` / `[expect.ipv6]` may list them; the rest of
/// [`CHECK_IDS`] (`link-mtu-match`) has no family.
pub const FAMILY_CHECK_IDS: [&str; 4] = ["icmp-passes", "pmtud", "tcp-transfer", "model-mismatch"];

/// Smallest and largest MTU a link end may have (IPv4 minimum; 16-bit total length).
pub const MTU_RANGE: std::ops::RangeInclusive<u32> = 68..=65535;

/// Most links a topology may have: each gets a /24 of 198.18.0.0/15.
pub const MAX_LINKS: usize = 512;

/// Longest topology name (it becomes part of every namespace name).
pub const MAX_NAME_LEN: usize = 24;

impl Hook {
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Family {
    pub fn as_str(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Blackhole => "blackhole",
            Verdict::Recovered => "recovered",
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Topology {
    pub fn from_file(path: &Path) -> Result<Topology, TopologyError> {
        let src = std::fs::read_to_string(path).map_err(|e| TopologyError {
            file: path.to_path_buf(),
            line: 0,
            message: format!("cannot read topology file: {e}"),
        })?;
        let mut topology = Topology::from_str(&src, path)?;
        topology.source = Some(path.to_path_buf());
        Ok(topology)
    }

    /// `path` is used for error messages and to resolve ruleset paths.
    pub fn from_str(src: &str, path: &Path) -> Result<Topology, TopologyError> {
        let raw: RawTopology = toml::from_str(src).map_err(|e| TopologyError {
            file: path.to_path_buf(),
            line: e.span().map_or(0, |s| line_of(src, s.start)),
            message: toml_message(&e),
        })?;
        Validator { src, path }.topology(raw)
    }

    /// Serialise back to the file format (used by proptest round trips and to
    /// print a shrunk failing case as a ready-to-save file).
    ///
    /// Ruleset paths are written relative to `source`'s directory when they
    /// lie under it, absolute otherwise, so the output parses back to an equal
    /// topology when saved next to `source` (or anywhere, for absolute paths).
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let q = quote;
        let _ = writeln!(out, "name = {}", q(&self.name));
        if !self.description.is_empty() {
            let _ = writeln!(out, "description = {}", q(&self.description));
        }
        for (name, node) in &self.nodes {
            let _ = writeln!(out, "\n[nodes.{name}]");
            if node.router {
                out.push_str("router = true\n");
            }
            if !node.sysctl.is_empty() {
                let items: Vec<String> = node
                    .sysctl
                    .iter()
                    .map(|(k, v)| format!("{} = {}", q(k), q(v)))
                    .collect();
                let _ = writeln!(out, "sysctl = {{ {} }}", items.join(", "));
            }
            if let Some(clamp) = &node.mss_clamp {
                match clamp.to {
                    ClampTo::Pmtu => out.push_str("mss_clamp = \"pmtu\"\n"),
                    ClampTo::Mss(v) => {
                        let _ = writeln!(out, "mss_clamp = {v}");
                    }
                }
                if let Some(oif) = &clamp.oif {
                    let _ = writeln!(out, "mss_clamp_oif = {}", q(oif));
                }
            }
            if !node.routes.is_empty() {
                let items: Vec<String> = node
                    .routes
                    .iter()
                    .map(|r| {
                        format!(
                            "{{ to = {}, via = {} }}",
                            q(&r.to.to_string()),
                            q(&r.via.to_string())
                        )
                    })
                    .collect();
                let _ = writeln!(out, "routes = [{}]", items.join(", "));
            }
        }
        let defaults = default_iface_names(self.links.iter().map(|l| &l.between));
        for (link, default) in self.links.iter().zip(&defaults) {
            out.push_str("\n[[links]]\n");
            let _ = writeln!(
                out,
                "between = [{}, {}]",
                q(&link.between[0]),
                q(&link.between[1])
            );
            if link.mtu[0] == link.mtu[1] {
                let _ = writeln!(out, "mtu = {}", link.mtu[0]);
            } else {
                let _ = writeln!(out, "mtu = [{}, {}]", link.mtu[0], link.mtu[1]);
            }
            if &link.names != default {
                let _ = writeln!(
                    out,
                    "names = [{}, {}]",
                    q(&link.names[0]),
                    q(&link.names[1])
                );
            }
            for (key, given) in [
                ("addresses", &link.addresses),
                ("addresses6", &link.addresses6),
            ] {
                if let Some([a, b]) = given {
                    let _ = writeln!(
                        out,
                        "{key} = [{}, {}]",
                        q(&a.to_string()),
                        q(&b.to_string())
                    );
                }
            }
        }
        let base = self.source.as_deref().map(base_dir);
        for filter in &self.filters {
            out.push_str("\n[[filters]]\n");
            let _ = writeln!(out, "node = {}", q(&filter.node));
            let ruleset = |key: &str, path: &Path| {
                let shown = base
                    .as_deref()
                    .and_then(|b| path.strip_prefix(b).ok().map(Path::to_path_buf))
                    .unwrap_or_else(|| path.to_path_buf());
                format!("{key} = {}\n", q(&shown.to_string_lossy()))
            };
            match &filter.kind {
                FilterKind::DropPmtuIcmp { hook } => {
                    out.push_str("drop = \"pmtu-icmp\"\n");
                    let _ = writeln!(out, "hook = {}", q(hook.as_str()));
                }
                FilterKind::Nft(p) => out.push_str(&ruleset("nft", p)),
                FilterKind::Iptables(p) => out.push_str(&ruleset("iptables", p)),
                FilterKind::Ip6tables(p) => out.push_str(&ruleset("ip6tables", p)),
            }
        }
        self.tunnels_toml(&mut out);
        for a in &self.anycast {
            out.push_str("\n[[anycast]]\n");
            if let Some(v4) = a.address {
                let _ = writeln!(out, "address = {}", q(&v4.to_string()));
            }
            if let Some(v6) = a.address6 {
                let _ = writeln!(out, "address6 = {}", q(&v6.to_string()));
            }
            let items: Vec<String> = a.nodes.iter().map(|n| q(n)).collect();
            let _ = writeln!(out, "nodes = [{}]", items.join(", "));
        }
        if let Some(expect) = &self.expect {
            out.push_str("\n[expect]\n");
            if let Some(v) = &expect.violations {
                let items: Vec<String> = v.iter().map(|s| q(s)).collect();
                let _ = writeln!(out, "violations = [{}]", items.join(", "));
            }
            for p in &expect.paths {
                out.push_str("\n[[expect.paths]]\n");
                let _ = writeln!(out, "from = {}", q(&p.from));
                let _ = writeln!(out, "to = {}", q(&p.to));
                if let Some(f) = p.family {
                    let _ = writeln!(out, "family = {}", q(f.as_str()));
                }
                if let Some(m) = p.pmtu {
                    let _ = writeln!(out, "pmtu = {m}");
                }
                if let Some(t) = p.transfer {
                    let _ = writeln!(out, "transfer = {}", q(t.as_str()));
                }
            }
            for family in [Family::V4, Family::V6] {
                if let Some(f) = expect.family(family) {
                    let _ = writeln!(out, "\n[expect.{}]", family.as_str());
                    let items: Vec<String> = f.violations.iter().map(|s| q(s)).collect();
                    let _ = writeln!(out, "violations = [{}]", items.join(", "));
                }
            }
        }
        out
    }

    /// The `[[tunnels]]` part of [`Topology::to_toml`].
    fn tunnels_toml(&self, out: &mut String) {
        let q = quote;
        let defaults = crate::tunnel::default_names(self.tunnels.iter().map(|t| &t.between));
        for (t, default) in self.tunnels.iter().zip(&defaults) {
            out.push_str("\n[[tunnels]]\n");
            let _ = writeln!(
                out,
                "between = [{}, {}]",
                q(&t.between[0]),
                q(&t.between[1])
            );
            let _ = writeln!(out, "underlay = {}", q(t.underlay.as_str()));
            match t.mtu {
                Some([a, b]) if a == b => {
                    let _ = writeln!(out, "mtu = {a}");
                }
                Some([a, b]) => {
                    let _ = writeln!(out, "mtu = [{a}, {b}]");
                }
                None => {}
            }
            if &t.names != default {
                let _ = writeln!(out, "names = [{}, {}]", q(&t.names[0]), q(&t.names[1]));
            }
        }
    }

    /// Host (non-router) names, sorted.
    pub fn hosts(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|(_, n)| !n.router)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Router names, sorted.
    pub fn routers(&self) -> Vec<&str> {
        self.nodes
            .iter()
            .filter(|(_, n)| n.router)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// A TOML basic string literal for `s`.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// The directory ruleset paths are relative to, absolute: canonical when it
/// exists (so errors show `/x/topologies/r.nft`, not `/x/harness/../topologies/r.nft`).
fn base_dir(topology_file: &Path) -> PathBuf {
    let dir = match topology_file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    dir.canonicalize()
        .or_else(|_| std::path::absolute(&dir))
        .unwrap_or(dir)
}

/// 1-based line of byte `offset` in `src`.
fn line_of(src: &str, offset: usize) -> usize {
    let offset = offset.min(src.len());
    src.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// toml's message without its own "TOML parse error at line…" snippet (we
/// print `FILE:LINE:` ourselves), on one line.
fn toml_message(e: &toml::de::Error) -> String {
    let msg = e.message().trim();
    let msg = msg.replace('\n', "; ");
    let mut chars = msg.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => "invalid toml".to_owned(),
    }
}

/// Default interface names for links in file order: on node X the link to Y
/// is `Y`, the second link between X and Y `Y-2`, the third `Y-3`, … (Y
/// truncated so the name fits 15 characters).
pub fn default_iface_names<'a>(
    betweens: impl IntoIterator<Item = &'a [String; 2]>,
) -> Vec<[String; 2]> {
    names_per_pair(betweens, numbered)
}

/// For each `[a, b]` in order, `[name(b, n), name(a, n)]` where `n` counts
/// the entries between the same two nodes so far (1 for the first).
pub(crate) fn names_per_pair<'a>(
    betweens: impl IntoIterator<Item = &'a [String; 2]>,
    name: impl Fn(&str, usize) -> String,
) -> Vec<[String; 2]> {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    betweens
        .into_iter()
        .map(|[a, b]| {
            let key = if a <= b {
                (a.as_str(), b.as_str())
            } else {
                (b.as_str(), a.as_str())
            };
            let count = seen.entry(key).or_insert(0);
            *count += 1;
            [name(b, *count), name(a, *count)]
        })
        .collect()
}

fn numbered(peer: &str, n: usize) -> String {
    if n == 1 {
        return peer.to_owned();
    }
    let suffix = format!("-{n}");
    let keep = IFNAMSIZ_MAX.saturating_sub(suffix.len());
    let mut base: String = peer.chars().take(keep).collect();
    base.push_str(&suffix);
    base
}

/// Longest Linux interface name (IFNAMSIZ - 1).
const IFNAMSIZ_MAX: usize = 15;

/// Why `name` is not a usable Linux interface name, if it is not.
pub fn iface_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > IFNAMSIZ_MAX {
        Some("must be 1 to 15 bytes long")
    } else if name == "." || name == ".." {
        Some("is reserved")
    } else if name == "lo" {
        Some("is the loopback device every namespace already has")
    } else if name.contains('/') || name.contains(':') {
        Some("must not contain '/' or ':'")
    } else if name.chars().any(char::is_whitespace) {
        Some("must not contain whitespace")
    } else {
        None
    }
}

impl std::str::FromStr for Cidr {
    type Err = ();
    /// `ADDR/LEN` with LEN at most 32 (IPv4) or 128 (IPv6).
    fn from_str(s: &str) -> Result<Cidr, ()> {
        let (a, l) = s.split_once('/').ok_or(())?;
        let addr: IpAddr = a.parse().map_err(|_| ())?;
        if l.is_empty() || !l.bytes().all(|b| b.is_ascii_digit()) || l.len() > 3 {
            return Err(());
        }
        let prefix_len: u8 = l.parse().map_err(|_| ())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix_len > max {
            return Err(());
        }
        Ok(Cidr { addr, prefix_len })
    }
}

/// An interface address of `family` with its prefix length.
fn parse_cidr(text: &str, family: Family) -> Result<Cidr, String> {
    match text.parse::<Cidr>() {
        Ok(c) if c.family() == family => Ok(c),
        _ => Err(match family {
            Family::V4 => format!(
                "address {text:?} is not an IPv4 address with a prefix length, like \"198.18.7.1/24\""
            ),
            Family::V6 => format!(
                "address {text:?} is not an IPv6 address with a prefix length, like \"2001:db8:7::1/64\""
            ),
        }),
    }
}

/// `[a-z][a-z0-9-]{0,14}`
fn valid_node_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 15
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '-'))
}

/// `[a-z0-9_-]+`, at most 24 characters.
fn valid_topology_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_' | '-'))
}

/// `net.` followed by at least two dot-separated components of
/// `[A-Za-z0-9_-]` (interface names with `-` appear in per-device keys).
fn valid_sysctl_key(key: &str) -> bool {
    let mut parts = key.split('.');
    parts.next() == Some("net")
        && key.split('.').count() >= 3
        && parts.all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
}

// ---------------------------------------------------------------------------
// Raw (serde) layer.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopology {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    #[serde(default)]
    nodes: Ordered<RawNode>,
    #[serde(default)]
    links: Vec<Spanned<RawLink>>,
    #[serde(default)]
    filters: Vec<Spanned<RawFilter>>,
    expect: Option<Spanned<RawExpect>>,
    #[serde(default)]
    tunnels: Vec<Spanned<RawTunnel>>,
    #[serde(default)]
    anycast: Vec<Spanned<RawAnycast>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTunnel {
    between: Spanned<Vec<Spanned<String>>>,
    underlay: Option<Spanned<String>>,
    mtu: Option<Spanned<RawMtu>>,
    names: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    to: Spanned<String>,
    via: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnycast {
    address: Option<Spanned<String>>,
    address6: Option<Spanned<String>>,
    nodes: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawNode {
    #[serde(default)]
    router: bool,
    #[serde(default)]
    sysctl: Ordered<SysctlValue>,
    mss_clamp: Option<Spanned<ClampValue>>,
    mss_clamp_oif: Option<Spanned<String>>,
    #[serde(default)]
    routes: Vec<Spanned<RawRoute>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLink {
    between: Spanned<Vec<Spanned<String>>>,
    mtu: Spanned<RawMtu>,
    names: Option<Spanned<Vec<Spanned<String>>>>,
    addresses: Option<Spanned<Vec<Spanned<String>>>>,
    addresses6: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
    node: Spanned<String>,
    drop: Option<Spanned<String>>,
    hook: Option<Spanned<String>>,
    nft: Option<Spanned<String>>,
    iptables: Option<Spanned<String>>,
    ip6tables: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    violations: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    paths: Vec<Spanned<RawExpectPath>>,
    ipv4: Option<Spanned<RawExpectFamily>>,
    ipv6: Option<Spanned<RawExpectFamily>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpectFamily {
    violations: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpectPath {
    from: Spanned<String>,
    to: Spanned<String>,
    family: Option<Spanned<String>>,
    pmtu: Option<Spanned<i64>>,
    transfer: Option<Spanned<String>>,
}

/// A TOML table kept in file order, with each key's span.
struct Ordered<V>(Vec<(Spanned<String>, Spanned<V>)>);

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
struct SysctlValue(String);

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
struct ClampValue(String);

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
enum RawMtu {
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
            if text.starts_with("invalid type") {
                de::Error::custom(format!(
                    "mtu must be an integer or a list of two integers ({text})"
                ))
            } else {
                e
            }
        })
    }
}

struct MtuInt(i64);

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

// ---------------------------------------------------------------------------
// Validation: raw → Topology.

struct Validator<'a> {
    src: &'a str,
    path: &'a Path,
}

impl Validator<'_> {
    fn err<T>(&self, span: std::ops::Range<usize>, message: String) -> Result<T, TopologyError> {
        Err(TopologyError {
            file: self.path.to_path_buf(),
            line: line_of(self.src, span.start),
            message,
        })
    }

    fn topology(&self, raw: RawTopology) -> Result<Topology, TopologyError> {
        if !valid_topology_name(raw.name.get_ref()) {
            return self.err(
                raw.name.span(),
                format!(
                    "topology name {:?} must match [a-z0-9_-]+ and be at most {MAX_NAME_LEN} characters",
                    raw.name.get_ref()
                ),
            );
        }

        // Nodes.
        let mut nodes = BTreeMap::new();
        let mut node_lines: BTreeMap<String, std::ops::Range<usize>> = BTreeMap::new();
        // Where each node's mss_clamp_oif (else mss_clamp) is, for checks after the links.
        let mut clamp_spans: BTreeMap<String, std::ops::Range<usize>> = BTreeMap::new();
        let mut raw_routes = Vec::new();
        for (name, raw_node) in raw.nodes.0 {
            let span = name.span();
            let name = name.into_inner();
            if !valid_node_name(&name) {
                return self.err(
                    span,
                    format!("node name {name:?} must match [a-z][a-z0-9-]{{0,14}}"),
                );
            }
            let raw_node = raw_node.into_inner();
            let mss_clamp = self.mss_clamp(&name, &raw_node)?;
            if let Some(c) = &raw_node.mss_clamp {
                clamp_spans.insert(name.clone(), c.span());
            }
            if let Some(o) = &raw_node.mss_clamp_oif {
                clamp_spans.insert(name.clone(), o.span());
            }
            let mut sysctl = Vec::new();
            for (key, value) in raw_node.sysctl.0 {
                if !valid_sysctl_key(key.get_ref()) {
                    return self.err(
                        key.span(),
                        format!(
                            "node {name:?}: sysctl {:?} must be a net.* key like \"net.ipv4.tcp_mtu_probing\"",
                            key.get_ref()
                        ),
                    );
                }
                let value_span = value.span();
                let value = value.into_inner().0;
                if value.contains('\n') || value.contains('\0') {
                    return self.err(
                        value_span,
                        format!(
                            "node {name:?}: sysctl {:?} value {value:?} must be one line",
                            key.get_ref()
                        ),
                    );
                }
                if let Some(problem) = crate::sysctl::key_problem(key.get_ref(), &value) {
                    let at = if problem.about_value {
                        value_span
                    } else {
                        key.span()
                    };
                    return self.err(at, format!("node {name:?}: {}", problem.message));
                }
                sysctl.push((key.into_inner(), value));
            }
            node_lines.insert(name.clone(), span);
            raw_routes.push((name.clone(), raw_node.routes));
            nodes.insert(
                name,
                Node {
                    router: raw_node.router,
                    sysctl,
                    mss_clamp,
                    routes: Vec::new(),
                },
            );
        }
        let node_list = || nodes.keys().cloned().collect::<Vec<_>>().join(", ");
        let known = |name: &Spanned<String>, what: &str| -> Result<(), TopologyError> {
            if nodes.contains_key(name.get_ref()) {
                Ok(())
            } else {
                self.err(
                    name.span(),
                    format!(
                        "{what}: unknown node {:?} (nodes: {})",
                        name.get_ref(),
                        node_list()
                    ),
                )
            }
        };

        // Links.
        if raw.links.len() > MAX_LINKS {
            return self.err(
                raw.links[MAX_LINKS].span(),
                format!(
                    "too many links: {} (at most {MAX_LINKS}, one /24 of 198.18.0.0/15 each)",
                    raw.links.len()
                ),
            );
        }
        let mut betweens = Vec::new();
        let mut mtus = Vec::new();
        let mut explicit_names = Vec::new();
        for (i, raw_link) in raw.links.iter().enumerate() {
            let what = format!("link {}", i + 1);
            let link = raw_link.get_ref();
            let ends = link.between.get_ref();
            if ends.len() != 2 {
                return self.err(
                    link.between.span(),
                    format!(
                        "{what}: between must name exactly two nodes, found {}",
                        ends.len()
                    ),
                );
            }
            known(&ends[0], &what)?;
            known(&ends[1], &what)?;
            if ends[0].get_ref() == ends[1].get_ref() {
                return self.err(
                    link.between.span(),
                    format!("{what} connects {:?} to itself", ends[0].get_ref()),
                );
            }
            betweens.push([ends[0].get_ref().clone(), ends[1].get_ref().clone()]);

            let mtu_values = match link.mtu.get_ref() {
                RawMtu::One(v) => vec![*v, *v],
                RawMtu::List(v) if v.len() == 2 => v.clone(),
                RawMtu::List(v) => {
                    return self.err(
                        link.mtu.span(),
                        format!(
                            "{what}: mtu list has {} values; expected 2 (one per end, in `between` order)",
                            v.len()
                        ),
                    );
                }
            };
            let mut mtu = [0u32; 2];
            for (slot, v) in mtu.iter_mut().zip(&mtu_values) {
                match u32::try_from(*v) {
                    Ok(m) if MTU_RANGE.contains(&m) => *slot = m,
                    _ => {
                        return self.err(
                            link.mtu.span(),
                            format!("{what}: mtu {v} is outside 68..=65535"),
                        );
                    }
                }
            }
            mtus.push(mtu);

            if let Some(names) = &link.names {
                let list = names.get_ref();
                if list.len() != 2 {
                    return self.err(
                        names.span(),
                        format!(
                            "{what}: names must list exactly two interface names, found {}",
                            list.len()
                        ),
                    );
                }
                explicit_names.push(Some([list[0].clone(), list[1].clone()]));
            } else {
                explicit_names.push(None);
            }
        }
        let defaults = default_iface_names(&betweens);
        let mut links = Vec::new();
        // (node, iface) → link index (0-based) that claimed it.
        let mut ifaces: HashMap<(String, String), usize> = HashMap::new();
        for (i, ((between, mtu), (explicit, default))) in betweens
            .into_iter()
            .zip(mtus)
            .zip(explicit_names.into_iter().zip(defaults))
            .enumerate()
        {
            let what = format!("link {}", i + 1);
            let link_span = raw.links[i].get_ref().between.span();
            let mut names = default;
            for end in 0..2 {
                let span = match &explicit {
                    Some(e) => {
                        names[end] = e[end].get_ref().clone();
                        e[end].span()
                    }
                    None => link_span.clone(),
                };
                let node = &between[end];
                let iface = &names[end];
                if let Some(problem) = iface_name_problem(iface) {
                    let hint = if explicit.is_some() {
                        ""
                    } else {
                        "; set names = [...] on the link"
                    };
                    return self.err(
                        span,
                        format!(
                            "{what}: interface name {iface:?} on node {node:?} {problem}{hint}"
                        ),
                    );
                }
                if let Some(prev) = ifaces.insert((node.clone(), iface.clone()), i) {
                    return self.err(
                        span,
                        format!(
                            "{what}: interface name {iface:?} on node {node:?} is already used by link {}",
                            prev + 1
                        ),
                    );
                }
            }
            links.push(Link {
                between,
                mtu,
                names,
                addresses: None,
                addresses6: None,
            });
        }

        self.check_clamp_oifs(&nodes, &links, &clamp_spans)?;

        // Filters.
        let base = base_dir(self.path);
        let mut filters = Vec::new();
        for (i, raw_filter) in raw.filters.iter().enumerate() {
            let what = format!("filter {}", i + 1);
            let f = raw_filter.get_ref();
            known(&f.node, &what)?;
            let rulesets: Vec<(&str, &Spanned<String>)> = [
                ("nft", &f.nft),
                ("iptables", &f.iptables),
                ("ip6tables", &f.ip6tables),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
            .collect();
            let kind = match (&f.drop, rulesets.as_slice()) {
                (Some(drop), []) => {
                    if drop.get_ref() != "pmtu-icmp" {
                        return self.err(
                            drop.span(),
                            format!(
                                "{what}: unknown drop {:?} (expected \"pmtu-icmp\")",
                                drop.get_ref()
                            ),
                        );
                    }
                    let Some(hook) = &f.hook else {
                        return self.err(
                            raw_filter.span(),
                            format!("{what}: drop needs a hook (output, forward or input)"),
                        );
                    };
                    let hook = match hook.get_ref().as_str() {
                        "output" => Hook::Output,
                        "forward" => Hook::Forward,
                        "input" => Hook::Input,
                        other => {
                            return self.err(
                                hook.span(),
                                format!(
                                    "{what}: unknown hook {other:?} (expected output, forward or input)"
                                ),
                            );
                        }
                    };
                    FilterKind::DropPmtuIcmp { hook }
                }
                (Some(drop), [(key, _), ..]) => {
                    return self.err(
                        drop.span(),
                        format!("{what}: use either drop or {key}, not both"),
                    );
                }
                (None, []) => {
                    return self.err(
                        raw_filter.span(),
                        format!(
                            "{what}: needs drop = \"pmtu-icmp\" with a hook, or one of nft, iptables, ip6tables"
                        ),
                    );
                }
                (None, [(a, _), (b, _), ..]) => {
                    return self.err(
                        raw_filter.span(),
                        format!("{what}: use only one ruleset, not both {a} and {b}"),
                    );
                }
                (None, [(key, file)]) => {
                    if let Some(hook) = &f.hook {
                        return self.err(
                            hook.span(),
                            format!("{what}: hook only applies to drop, not to {key}"),
                        );
                    }
                    let resolved = base.join(file.get_ref());
                    if !resolved.is_file() {
                        return self.err(
                            file.span(),
                            format!(
                                "{what}: {key} ruleset {} does not exist",
                                resolved.display()
                            ),
                        );
                    }
                    match *key {
                        "nft" => FilterKind::Nft(resolved),
                        "iptables" => FilterKind::Iptables(resolved),
                        _ => FilterKind::Ip6tables(resolved),
                    }
                }
            };
            filters.push(Filter {
                node: f.node.get_ref().clone(),
                kind,
            });
        }

        let tunnels = self.tunnels(&raw.tunnels, &nodes, &mut ifaces, links.len())?;
        // User-given addresses, anycast groups, then routes (which need every
        // link's final addressing, automatic included).
        self.given_addresses(&raw.links, &mut links)?;
        let anycast = self.anycast(&raw.anycast, &nodes, &links)?;
        let subnets = match crate::plan::link_subnets(&links, &anycast) {
            Ok(s) => s,
            Err(i) => {
                return self.err(
                    raw.links[i].get_ref().between.span(),
                    format!(
                        "link {}: no free /24 of 198.18.0.0/15 is left for automatic addressing",
                        i + 1
                    ),
                );
            }
        };
        for (name, routes) in raw_routes {
            let given = self.routes(&name, routes, &links, &subnets)?;
            if let Some(n) = nodes.get_mut(&name) {
                n.routes = given;
            }
        }

        // Every pair of hosts must reach each other with only routers forwarding.
        if let Some((a, b)) = unreachable_hosts(&nodes, &links) {
            return self.err(
                node_lines[&b].clone(),
                format!(
                    "hosts {a:?} and {b:?} cannot reach each other (only routers forward; add a link or make a node a router)"
                ),
            );
        }

        // Expectations.
        let expect = match raw.expect {
            None => None,
            Some(e) => Some(self.expect(e.into_inner(), &nodes)?),
        };

        let topology = Topology {
            name: raw.name.into_inner(),
            description: raw.description,
            source: None,
            nodes,
            links,
            filters,
            expect,
            anycast,
            tunnels,
        };
        // Tunnel endpoints must reach each other over the physical links, and
        // a given MTU must fit the underlay (needs the routing, so last).
        if let Err((k, e)) = crate::tunnel::check_underlays(&topology) {
            let t = raw.tunnels[k].get_ref();
            let span = match (&e, &t.mtu) {
                (crate::tunnel::UnderlayError::MtuTooBig { .. }, Some(m)) => m.span(),
                _ => t.between.span(),
            };
            return self.err(span, format!("tunnel {}: {e}", k + 1));
        }
        Ok(topology)
    }

    /// `[[tunnels]]`: nodes, underlay family, MTU, interface names (unique on
    /// each node together with the links' names in `ifaces`).
    fn tunnels(
        &self,
        raw: &[Spanned<RawTunnel>],
        nodes: &BTreeMap<String, Node>,
        ifaces: &mut HashMap<(String, String), usize>,
        link_count: usize,
    ) -> Result<Vec<Tunnel>, TopologyError> {
        if link_count + raw.len() > MAX_LINKS {
            return self.err(
                raw[MAX_LINKS.saturating_sub(link_count).min(raw.len() - 1)].span(),
                format!(
                    "too many links and tunnels: {} (at most {MAX_LINKS}, one /24 of 198.18.0.0/15 each)",
                    link_count + raw.len()
                ),
            );
        }
        let mut betweens = Vec::new();
        for (k, rt) in raw.iter().enumerate() {
            let what = format!("tunnel {}", k + 1);
            let t = rt.get_ref();
            let ends = t.between.get_ref();
            if ends.len() != 2 {
                return self.err(
                    t.between.span(),
                    format!(
                        "{what}: between must name exactly two nodes, found {}",
                        ends.len()
                    ),
                );
            }
            for end in ends {
                if !nodes.contains_key(end.get_ref()) {
                    return self.err(
                        end.span(),
                        format!(
                            "{what}: unknown node {:?} (nodes: {})",
                            end.get_ref(),
                            nodes.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    );
                }
            }
            if ends[0].get_ref() == ends[1].get_ref() {
                return self.err(
                    t.between.span(),
                    format!("{what} connects {:?} to itself", ends[0].get_ref()),
                );
            }
            betweens.push([ends[0].get_ref().clone(), ends[1].get_ref().clone()]);
        }
        let defaults = crate::tunnel::default_names(&betweens);
        let mut out = Vec::new();
        for (k, ((rt, between), default)) in raw.iter().zip(betweens).zip(defaults).enumerate() {
            let what = format!("tunnel {}", k + 1);
            let t = rt.get_ref();
            let underlay = match &t.underlay {
                None => Family::V4,
                Some(u) => match u.get_ref().as_str() {
                    "ipv4" => Family::V4,
                    "ipv6" => Family::V6,
                    other => {
                        return self.err(
                            u.span(),
                            format!("{what}: unknown underlay {other:?} (expected ipv4 or ipv6)"),
                        );
                    }
                },
            };
            let mtu = match &t.mtu {
                None => None,
                Some(m) => {
                    let values = match m.get_ref() {
                        RawMtu::One(v) => vec![*v, *v],
                        RawMtu::List(v) if v.len() == 2 => v.clone(),
                        RawMtu::List(v) => {
                            return self.err(
                                m.span(),
                                format!(
                                    "{what}: mtu list has {} values; expected 2 (one per end, in `between` order)",
                                    v.len()
                                ),
                            );
                        }
                    };
                    let mut mtu = [0u32; 2];
                    for (slot, v) in mtu.iter_mut().zip(&values) {
                        match u32::try_from(*v) {
                            Ok(x) if MTU_RANGE.contains(&x) => *slot = x,
                            _ => {
                                return self.err(
                                    m.span(),
                                    format!("{what}: mtu {v} is outside 68..=65535"),
                                );
                            }
                        }
                    }
                    Some(mtu)
                }
            };
            let mut names = default;
            let explicit = match &t.names {
                Some(n) if n.get_ref().len() != 2 => {
                    return self.err(
                        n.span(),
                        format!(
                            "{what}: names must list exactly two interface names, found {}",
                            n.get_ref().len()
                        ),
                    );
                }
                Some(n) => Some(n.get_ref()),
                None => None,
            };
            for end in 0..2 {
                let span = match explicit {
                    Some(e) => {
                        names[end] = e[end].get_ref().clone();
                        e[end].span()
                    }
                    None => t.between.span(),
                };
                let node = &between[end];
                let iface = &names[end];
                let hint = if explicit.is_some() {
                    ""
                } else {
                    "; set names = [...] on the tunnel"
                };
                if let Some(problem) = iface_name_problem(iface) {
                    return self.err(
                        span,
                        format!(
                            "{what}: interface name {iface:?} on node {node:?} {problem}{hint}"
                        ),
                    );
                }
                // Tunnels are numbered after the links in `ifaces`.
                if let Some(prev) = ifaces.insert((node.clone(), iface.clone()), link_count + k) {
                    let by = if prev < link_count {
                        format!("link {}", prev + 1)
                    } else {
                        format!("tunnel {}", prev - link_count + 1)
                    };
                    return self.err(
                        span,
                        format!("{what}: interface name {iface:?} on node {node:?} is already used by {by}{hint}"),
                    );
                }
            }
            out.push(Tunnel {
                between,
                underlay,
                mtu,
                names,
            });
        }
        Ok(out)
    }

    /// `mss_clamp` / `mss_clamp_oif` of one node (the oif is checked
    /// against the node's interfaces later, in [`Self::check_clamp_oifs`]).
    fn mss_clamp(&self, node: &str, raw: &RawNode) -> Result<Option<MssClamp>, TopologyError> {
        let Some(value) = &raw.mss_clamp else {
            if let Some(oif) = &raw.mss_clamp_oif {
                return self.err(
                    oif.span(),
                    format!("node {node:?}: mss_clamp_oif needs mss_clamp (\"pmtu\" or an MSS)"),
                );
            }
            return Ok(None);
        };
        if !raw.router {
            return self.err(
                value.span(),
                format!(
                    "node {node:?}: mss_clamp needs router = true (it rewrites forwarded SYNs; a host forwards nothing)"
                ),
            );
        }
        let text = &value.get_ref().0;
        let to = if text == "pmtu" {
            ClampTo::Pmtu
        } else {
            match text.parse::<u32>() {
                Ok(v) if MSS_CLAMP_RANGE.contains(&v) => ClampTo::Mss(v as u16),
                _ => {
                    return self.err(
                        value.span(),
                        format!(
                            "node {node:?}: mss_clamp {text:?} must be \"pmtu\" or an MSS in {}..={}",
                            MSS_CLAMP_RANGE.start(),
                            MSS_CLAMP_RANGE.end()
                        ),
                    );
                }
            }
        };
        Ok(Some(MssClamp {
            to,
            oif: raw.mss_clamp_oif.as_ref().map(|o| o.get_ref().clone()),
        }))
    }

    /// Every `mss_clamp_oif` names an interface of its node.
    fn check_clamp_oifs(
        &self,
        nodes: &BTreeMap<String, Node>,
        links: &[Link],
        spans: &BTreeMap<String, std::ops::Range<usize>>,
    ) -> Result<(), TopologyError> {
        for (name, node) in nodes {
            let Some(oif) = node.mss_clamp.as_ref().and_then(|c| c.oif.as_ref()) else {
                continue;
            };
            let ifaces: Vec<&str> = links
                .iter()
                .flat_map(|l| {
                    (0..2)
                        .filter(|&e| l.between[e] == *name)
                        .map(|e| l.names[e].as_str())
                })
                .collect();
            if !ifaces.contains(&oif.as_str()) {
                return self.err(
                    spans[name].clone(),
                    format!(
                        "node {name:?}: mss_clamp_oif {oif:?} is not an interface of this node (interfaces: {})",
                        ifaces.join(", ")
                    ),
                );
            }
        }
        Ok(())
    }

    /// `addresses` / `addresses6` of every link: two addresses on one
    /// subnet inside the lab ranges, distinct, subnets not overlapping.
    fn given_addresses(
        &self,
        raw_links: &[Spanned<RawLink>],
        links: &mut [Link],
    ) -> Result<(), TopologyError> {
        // (subnet, link index, span) of every given subnet so far.
        let mut seen: Vec<(Cidr, usize)> = Vec::new();
        for (i, (raw, link)) in raw_links.iter().zip(links.iter_mut()).enumerate() {
            let what = format!("link {}", i + 1);
            let raw = raw.get_ref();
            for (key, family, given) in [
                ("addresses", Family::V4, &raw.addresses),
                ("addresses6", Family::V6, &raw.addresses6),
            ] {
                let Some(list) = given else { continue };
                let items = list.get_ref();
                if items.len() != 2 {
                    return self.err(
                        list.span(),
                        format!(
                            "{what}: {key} must list exactly two addresses (one per end, in `between` order), found {}",
                            items.len()
                        ),
                    );
                }
                let mut ends = [Cidr {
                    addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    prefix_len: 0,
                }; 2];
                for (slot, item) in ends.iter_mut().zip(items) {
                    *slot = parse_cidr(item.get_ref(), family)
                        .or_else(|m| self.err(item.span(), format!("{what}: {m}")))?;
                    let range = lab_range(family);
                    let net = slot.network();
                    if slot.prefix_len < range.prefix_len || !range.contains(slot.addr) {
                        return self.err(
                            item.span(),
                            format!(
                                "{what}: address {slot} is outside the lab range {range} (lab addresses only)"
                            ),
                        );
                    }
                    let host_len = if family == Family::V4 { 32 } else { 128 };
                    if family == Family::V4 && slot.prefix_len > 31 || slot.prefix_len == host_len {
                        return self.err(
                            item.span(),
                            format!(
                                "{what}: address {slot} leaves no room for the peer (at most /{} on a link)",
                                host_len - 1
                            ),
                        );
                    }
                    if family == Family::V4 && slot.prefix_len < 31 {
                        let bcast = u32::from(match net.addr {
                            IpAddr::V4(a) => a,
                            IpAddr::V6(_) => unreachable!("family checked"),
                        }) | (u32::MAX >> slot.prefix_len);
                        if slot.addr == net.addr || slot.addr == IpAddr::V4(bcast.into()) {
                            return self.err(
                                item.span(),
                                format!(
                                    "{what}: address {slot} is the subnet's {} address",
                                    if slot.addr == net.addr {
                                        "network"
                                    } else {
                                        "broadcast"
                                    }
                                ),
                            );
                        }
                    }
                }
                if ends[0].network() != ends[1].network() {
                    return self.err(
                        list.span(),
                        format!(
                            "{what}: addresses {} and {} are not on the same subnet (the link's two ends share one)",
                            ends[0], ends[1]
                        ),
                    );
                }
                if ends[0].addr == ends[1].addr {
                    return self.err(
                        list.span(),
                        format!("{what}: both ends have address {}", ends[0].addr),
                    );
                }
                if family == Family::V6 && link.mtu.iter().any(|&m| m < 1280) {
                    return self.err(
                        list.span(),
                        format!(
                            "{what}: addresses6 given, but IPv6 needs an MTU of at least 1280 on both ends (mtu {} / {})",
                            link.mtu[0], link.mtu[1]
                        ),
                    );
                }
                let net = ends[0].network();
                if let Some((other, j)) = seen.iter().find(|(s, _)| s.overlaps(&net)) {
                    return self.err(
                        list.span(),
                        format!(
                            "{what}: subnet {net} overlaps link {}'s subnet {other}",
                            j + 1
                        ),
                    );
                }
                seen.push((net, i));
                match family {
                    Family::V4 => link.addresses = Some(ends),
                    Family::V6 => link.addresses6 = Some(ends),
                }
            }
        }
        Ok(())
    }

    /// `[[anycast]]` entries: an address per family (at least one) in the
    /// lab ranges, outside every given subnet, not shared by two entries;
    /// two or more distinct member hosts.
    fn anycast(
        &self,
        raw: &[Spanned<RawAnycast>],
        nodes: &BTreeMap<String, Node>,
        links: &[Link],
    ) -> Result<Vec<Anycast>, TopologyError> {
        let mut out: Vec<Anycast> = Vec::new();
        for (i, entry) in raw.iter().enumerate() {
            let what = format!("anycast {}", i + 1);
            let a = entry.get_ref();
            let mut group = Anycast {
                address: None,
                address6: None,
                nodes: Vec::new(),
            };
            for (key, family, value) in [
                ("address", Family::V4, &a.address),
                ("address6", Family::V6, &a.address6),
            ] {
                let Some(value) = value else { continue };
                let text = value.get_ref();
                let addr: IpAddr = match (text.parse::<IpAddr>(), family) {
                    (Ok(ip @ IpAddr::V4(_)), Family::V4) | (Ok(ip @ IpAddr::V6(_)), Family::V6) => {
                        ip
                    }
                    _ => {
                        return self.err(
                            value.span(),
                            format!(
                                "{what}: {key} {text:?} is not an {} address without a prefix length, like {:?}",
                                if family == Family::V4 { "IPv4" } else { "IPv6" },
                                if family == Family::V4 { "198.18.250.1" } else { "2001:db8:fa::1" }
                            ),
                        );
                    }
                };
                let range = lab_range(family);
                if !range.contains(addr) {
                    return self.err(
                        value.span(),
                        format!("{what}: {key} {addr} is outside the lab range {range} (lab addresses only)"),
                    );
                }
                for (j, l) in links.iter().enumerate() {
                    let given = match family {
                        Family::V4 => &l.addresses,
                        Family::V6 => &l.addresses6,
                    };
                    if let Some(ends) = given {
                        if ends[0].contains(addr) {
                            return self.err(
                                value.span(),
                                format!(
                                    "{what}: {key} {addr} lies in link {}'s subnet {}",
                                    j + 1,
                                    ends[0].network()
                                ),
                            );
                        }
                    }
                }
                if let Some(k) = out.iter().position(|o| o.addr(family) == Some(addr)) {
                    return self.err(
                        value.span(),
                        format!("{what}: {key} {addr} is already anycast {}", k + 1),
                    );
                }
                match addr {
                    IpAddr::V4(v4) => group.address = Some(v4),
                    IpAddr::V6(v6) => group.address6 = Some(v6),
                }
            }
            if group.address.is_none() && group.address6.is_none() {
                return self.err(
                    entry.span(),
                    format!("{what}: needs address (IPv4), address6 (IPv6) or both"),
                );
            }
            let hosts = || {
                nodes
                    .iter()
                    .filter(|(_, n)| !n.router)
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            for member in a.nodes.get_ref() {
                let name = member.get_ref();
                match nodes.get(name) {
                    None => {
                        return self.err(
                            member.span(),
                            format!("{what}: unknown node {name:?} (hosts: {})", hosts()),
                        );
                    }
                    Some(n) if n.router => {
                        return self.err(
                            member.span(),
                            format!(
                                "{what}: {name:?} is a router; anycast members must be hosts (hosts: {})",
                                hosts()
                            ),
                        );
                    }
                    Some(_) => {}
                }
                if group.nodes.contains(name) {
                    return self.err(member.span(), format!("{what}: node {name:?} listed twice"));
                }
                group.nodes.push(name.clone());
            }
            if group.nodes.len() < 2 {
                return self.err(
                    a.nodes.span(),
                    format!(
                        "{what}: needs at least two member nodes, found {}",
                        group.nodes.len()
                    ),
                );
            }
            out.push(group);
        }
        Ok(out)
    }

    /// One node's `routes`: a destination network (host bits zero) and a
    /// gateway of the same family that is the peer's address on one of the
    /// node's links; one route per destination.
    fn routes(
        &self,
        node: &str,
        raw: Vec<Spanned<RawRoute>>,
        links: &[Link],
        subnets: &[(Cidr, Option<Cidr>)],
    ) -> Result<Vec<Route>, TopologyError> {
        let mut out: Vec<Route> = Vec::new();
        for (i, r) in raw.into_iter().enumerate() {
            let what = format!("node {node:?}: route {}", i + 1);
            let r = r.into_inner();
            let to = match r.to.get_ref().parse::<Cidr>() {
                Ok(c) => c,
                Err(()) => {
                    return self.err(
                        r.to.span(),
                        format!(
                            "{what}: to {:?} is not a network with a prefix length, like \"198.18.9.0/24\" or \"0.0.0.0/0\"",
                            r.to.get_ref()
                        ),
                    );
                }
            };
            if to.network() != to {
                return self.err(
                    r.to.span(),
                    format!(
                        "{what}: to {to} has host bits set (did you mean {}?)",
                        to.network()
                    ),
                );
            }
            let via: IpAddr = match r.via.get_ref().parse() {
                Ok(v) => v,
                Err(_) => {
                    return self.err(
                        r.via.span(),
                        format!(
                            "{what}: via {:?} is not an address without a prefix length",
                            r.via.get_ref()
                        ),
                    );
                }
            };
            if via.is_ipv4() != to.addr.is_ipv4() {
                return self.err(
                    r.via.span(),
                    format!("{what}: via {via} is not of the same family as {to}"),
                );
            }
            let family = to.family();
            // The node's links in this family and the peer's address on each.
            let mut found = None;
            let mut connected = Vec::new();
            for (j, l) in links.iter().enumerate() {
                let Some(end) = l.between.iter().position(|n| n == node) else {
                    continue;
                };
                let Some(ends) = crate::plan::link_end_addresses(l, &subnets[j], family) else {
                    continue;
                };
                connected.push(ends[0].network().to_string());
                if ends[0].contains(via) {
                    if ends[end].addr == via {
                        return self.err(
                            r.via.span(),
                            format!(
                                "{what}: via {via} is the node's own address on link {}",
                                j + 1
                            ),
                        );
                    }
                    if ends[1 - end].addr != via {
                        return self.err(
                            r.via.span(),
                            format!(
                                "{what}: via {via} is on link {}'s subnet, but the only other node there, {:?}, has {}",
                                j + 1,
                                l.between[1 - end],
                                ends[1 - end].addr
                            ),
                        );
                    }
                    found = Some(j);
                }
            }
            if found.is_none() {
                return self.err(
                    r.via.span(),
                    format!(
                        "{what}: via {via} is not on a subnet connected to {node:?} (its {} subnets: {})",
                        family,
                        if connected.is_empty() { "none".to_owned() } else { connected.join(", ") }
                    ),
                );
            }
            if let Some(k) = out.iter().position(|o| o.to == to) {
                return self.err(
                    r.to.span(),
                    format!("{what}: a route to {to} is already route {}", k + 1),
                );
            }
            out.push(Route { to, via });
        }
        Ok(out)
    }

    fn expect(
        &self,
        raw: RawExpect,
        nodes: &BTreeMap<String, Node>,
    ) -> Result<Expect, TopologyError> {
        let violations = match raw.violations {
            None => None,
            Some(ids) => {
                let mut out = Vec::new();
                for id in ids {
                    if !CHECK_IDS.contains(&id.get_ref().as_str()) {
                        return self.err(
                            id.span(),
                            format!(
                                "expect: unknown check id {:?} (expected one of {})",
                                id.get_ref(),
                                CHECK_IDS.join(", ")
                            ),
                        );
                    }
                    if out.contains(id.get_ref()) {
                        return self.err(
                            id.span(),
                            format!("expect: check id {:?} listed twice", id.get_ref()),
                        );
                    }
                    out.push(id.into_inner());
                }
                Some(out)
            }
        };
        let ipv4 = match raw.ipv4 {
            None => None,
            Some(f) => Some(self.expect_family(Family::V4, f.into_inner())?),
        };
        let ipv6 = match raw.ipv6 {
            None => None,
            Some(f) => Some(self.expect_family(Family::V6, f.into_inner())?),
        };
        let hosts: Vec<&str> = nodes
            .iter()
            .filter(|(_, n)| !n.router)
            .map(|(k, _)| k.as_str())
            .collect();
        let mut paths = Vec::new();
        for (i, p) in raw.paths.into_iter().enumerate() {
            let what = format!("expect path {}", i + 1);
            let p = p.into_inner();
            for end in [&p.from, &p.to] {
                match nodes.get(end.get_ref()) {
                    None => {
                        return self.err(
                            end.span(),
                            format!(
                                "{what}: unknown node {:?} (hosts: {})",
                                end.get_ref(),
                                hosts.join(", ")
                            ),
                        );
                    }
                    Some(n) if n.router => {
                        return self.err(
                            end.span(),
                            format!(
                                "{what}: {:?} is a router; from and to must be hosts (hosts: {})",
                                end.get_ref(),
                                hosts.join(", ")
                            ),
                        );
                    }
                    Some(_) => {}
                }
            }
            if p.from.get_ref() == p.to.get_ref() {
                return self.err(
                    p.to.span(),
                    format!("{what}: from and to are both {:?}", p.to.get_ref()),
                );
            }
            let family = match &p.family {
                None => None,
                Some(f) => Some(match f.get_ref().as_str() {
                    "ipv4" => Family::V4,
                    "ipv6" => Family::V6,
                    other => {
                        return self.err(
                            f.span(),
                            format!("{what}: unknown family {other:?} (expected ipv4 or ipv6)"),
                        );
                    }
                }),
            };
            let pmtu = match &p.pmtu {
                None => None,
                Some(m) => match u32::try_from(*m.get_ref()) {
                    Ok(v) if MTU_RANGE.contains(&v) => Some(v),
                    _ => {
                        return self.err(
                            m.span(),
                            format!("{what}: pmtu {} is outside 68..=65535", m.get_ref()),
                        );
                    }
                },
            };
            let transfer = match &p.transfer {
                None => None,
                Some(t) => Some(match t.get_ref().as_str() {
                    "ok" => Verdict::Ok,
                    "blackhole" => Verdict::Blackhole,
                    "recovered" => Verdict::Recovered,
                    other => {
                        return self.err(
                            t.span(),
                            format!(
                                "{what}: unknown transfer {other:?} (expected ok, blackhole or recovered)"
                            ),
                        );
                    }
                }),
            };
            paths.push(ExpectPath {
                from: p.from.into_inner(),
                to: p.to.into_inner(),
                family,
                pmtu,
                transfer,
            });
        }
        Ok(Expect {
            violations,
            paths,
            ipv4,
            ipv6,
        })
    }

    /// `[expect.ipv4]` / `[expect.ipv6]`: known per-path check ids, each once.
    fn expect_family(
        &self,
        family: Family,
        raw: RawExpectFamily,
    ) -> Result<ExpectFamily, TopologyError> {
        let what = format!("expect.{}", family.as_str());
        let mut out = Vec::new();
        for id in raw.violations {
            let name = id.get_ref().as_str();
            if CHECK_IDS.contains(&name) && !FAMILY_CHECK_IDS.contains(&name) {
                return self.err(
                    id.span(),
                    format!(
                        "{what}: {name:?} has no family; list it in [expect] violations (a family table takes {})",
                        FAMILY_CHECK_IDS.join(", ")
                    ),
                );
            }
            if !FAMILY_CHECK_IDS.contains(&name) {
                return self.err(
                    id.span(),
                    format!(
                        "{what}: unknown check id {name:?} (expected one of {})",
                        FAMILY_CHECK_IDS.join(", ")
                    ),
                );
            }
            if out.contains(id.get_ref()) {
                return self.err(id.span(), format!("{what}: check id {name:?} listed twice"));
            }
            out.push(id.into_inner());
        }
        Ok(ExpectFamily { violations: out })
    }
}

/// The first pair of hosts (sorted) that cannot reach each other when only
/// routers forward. Not a matter of components: with `a - b - c` and `b` a
/// host, a reaches b and b reaches c, but a does not reach c.
fn unreachable_hosts(nodes: &BTreeMap<String, Node>, links: &[Link]) -> Option<(String, String)> {
    let mut adj: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for l in links {
        adj.entry(&l.between[0]).or_default().push(&l.between[1]);
        adj.entry(&l.between[1]).or_default().push(&l.between[0]);
    }
    let hosts: Vec<&str> = nodes
        .iter()
        .filter(|(_, n)| !n.router)
        .map(|(k, _)| k.as_str())
        .collect();
    for (i, &from) in hosts.iter().enumerate() {
        // BFS from this host; only routers are expanded beyond the start.
        let mut seen: BTreeSet<&str> = BTreeSet::from([from]);
        let mut queue = VecDeque::from([from]);
        while let Some(cur) = queue.pop_front() {
            if cur == from || nodes.get(cur).is_some_and(|n| n.router) {
                for next in adj.get(cur).into_iter().flatten() {
                    if seen.insert(next) {
                        queue.push_back(next);
                    }
                }
            }
        }
        if let Some(to) = hosts[i + 1..].iter().find(|h| !seen.contains(*h)) {
            return Some((from.to_owned(), (*to).to_owned()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"name = "chain"
description = "client, router, server"

[nodes.client]
[nodes.router-a]
router = true
[nodes.server]

[[links]]
between = ["client", "router-a"]
mtu = 1500

[[links]]
between = ["router-a", "server"]
mtu = 1500
"#;

    fn parse(src: &str) -> Result<Topology, TopologyError> {
        Topology::from_str(src, Path::new("test.toml"))
    }

    /// Line (1-based) of the first line that differs between `a` and `b`.
    fn first_diff_line(a: &str, b: &str) -> usize {
        a.lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or_else(|| a.lines().count().min(b.lines().count()))
            + 1
    }

    /// `good` is accepted, `bad` (which differs only in the bad bit) is
    /// rejected with a message containing `needle`, on the first line where
    /// they differ (or on `line`, when given).
    #[track_caller]
    fn twin(good: &str, bad: &str, needle: &str, line: Option<usize>) -> TopologyError {
        if let Err(e) = parse(good) {
            panic!("twin should be accepted, got {e}\n{good}");
        }
        let e = match parse(bad) {
            Ok(_) => panic!("should be rejected (expected {needle:?}):\n{bad}"),
            Err(e) => e,
        };
        assert!(
            e.message.contains(needle),
            "message {:?} lacks {needle:?}",
            e.message
        );
        let want = line.unwrap_or_else(|| first_diff_line(good, bad));
        assert_eq!(e.line, want, "wrong line for {e}");
        assert_eq!(
            e.to_string(),
            format!("test.toml:{}: {}", e.line, e.message)
        );
        e
    }

    fn with(base: &str, from: &str, to: &str) -> String {
        assert!(base.contains(from), "{from:?} not in base");
        base.replacen(from, to, 1)
    }

    /// The base file parses into what it says.
    #[test]
    fn base_parses() {
        let t = parse(BASE).unwrap();
        assert_eq!(t.name, "chain");
        assert_eq!(t.description, "client, router, server");
        assert_eq!(t.source, None);
        assert_eq!(
            t.nodes.keys().collect::<Vec<_>>(),
            ["client", "router-a", "server"]
        );
        assert!(t.nodes["router-a"].router);
        assert!(!t.nodes["client"].router);
        assert_eq!(t.links.len(), 2);
        assert_eq!(t.links[0].between, ["client", "router-a"]);
        assert_eq!(t.links[0].mtu, [1500, 1500]);
        assert_eq!(t.links[0].names, ["router-a", "client"]);
        assert_eq!(t.links[1].names, ["server", "router-a"]);
        assert_eq!(t.hosts(), ["client", "server"]);
        assert_eq!(t.routers(), ["router-a"]);
        assert!(t.filters.is_empty());
        assert_eq!(t.expect, None);
    }

    /// A TOML syntax error is reported on its line.
    #[test]
    fn syntax_error() {
        let bad = with(BASE, "mtu = 1500\n\n[[links]]", "mtu = = 1500\n\n[[links]]");
        twin(BASE, &bad, "", None);
    }

    /// Unknown keys are rejected (deny_unknown_fields), at their line.
    #[test]
    fn unknown_key() {
        let bad = with(BASE, "mtu = 1500\n", "mtu = 1500\nmut = 1500\n");
        let e = twin(BASE, &bad, "unknown field `mut`", Some(12));
        assert!(e.message.contains("expected"), "{e}");
        let bad = with(BASE, "router = true", "router = true\nforward = true");
        twin(BASE, &bad, "unknown field `forward`", Some(7));
        let bad = with(BASE, "name = \"chain\"", "name = \"chain\"\nversion = 2");
        twin(BASE, &bad, "unknown field `version`", Some(2));
    }

    /// A missing required key is rejected with a line.
    #[test]
    fn missing_key() {
        let bad = with(BASE, "between = [\"router-a\", \"server\"]\n", "");
        let e = parse(&bad).unwrap_err();
        assert!(e.message.contains("missing field `between`"), "{e}");
        assert!(e.line > 0, "{e}");
        let bad = with(BASE, "name = \"chain\"\n", "");
        let e = parse(&bad).unwrap_err();
        assert!(e.message.contains("missing field `name`"), "{e}");
    }

    /// Links must name declared nodes; the message lists them.
    #[test]
    fn unknown_node() {
        let bad = with(
            BASE,
            r#"between = ["router-a", "server"]"#,
            r#"between = ["routr-a", "server"]"#,
        );
        let e = twin(BASE, &bad, "", None);
        assert_eq!(
            e.message,
            r#"link 2: unknown node "routr-a" (nodes: client, router-a, server)"#
        );
    }

    /// A link from a node to itself is rejected.
    #[test]
    fn self_link() {
        let bad = with(
            BASE,
            r#"between = ["client", "router-a"]"#,
            r#"between = ["client", "client"]"#,
        );
        let e = twin(BASE, &bad, "", None);
        assert_eq!(e.message, r#"link 1 connects "client" to itself"#);
    }

    /// `between` must have exactly two nodes.
    #[test]
    fn between_len() {
        let bad = with(
            BASE,
            r#"between = ["client", "router-a"]"#,
            r#"between = ["client", "router-a", "server"]"#,
        );
        twin(
            BASE,
            &bad,
            "link 1: between must name exactly two nodes, found 3",
            None,
        );
    }

    /// MTUs outside 68..=65535 are rejected, at both bounds; the bounds are accepted.
    #[test]
    fn mtu_range() {
        let e = twin(BASE, &with(BASE, "mtu = 1500", "mtu = 70000"), "", None);
        assert_eq!(e.message, "link 1: mtu 70000 is outside 68..=65535");
        twin(
            BASE,
            &with(BASE, "mtu = 1500", "mtu = 67"),
            "mtu 67 is outside",
            None,
        );
        twin(
            BASE,
            &with(BASE, "mtu = 1500", "mtu = -1"),
            "mtu -1 is outside",
            None,
        );
        twin(
            BASE,
            &with(BASE, "mtu = 1500", "mtu = [1500, 65536]"),
            "mtu 65536 is outside",
            None,
        );
        let t = parse(&with(BASE, "mtu = 1500", "mtu = [68, 65535]")).unwrap();
        assert_eq!(t.links[0].mtu, [68, 65535]);
    }

    /// An MTU list must have exactly two values; a list of two is per end.
    #[test]
    fn mtu_list_len() {
        let good = with(BASE, "mtu = 1500", "mtu = [1500, 9000]");
        assert_eq!(parse(&good).unwrap().links[0].mtu, [1500, 9000]);
        let bad = with(BASE, "mtu = 1500", "mtu = [1500, 9000, 1400]");
        let e = twin(&good, &bad, "", None);
        assert_eq!(
            e.message,
            "link 1: mtu list has 3 values; expected 2 (one per end, in `between` order)"
        );
        twin(
            &good,
            &with(BASE, "mtu = 1500", "mtu = []"),
            "mtu list has 0 values",
            None,
        );
    }

    /// An MTU of the wrong type names both accepted forms.
    #[test]
    fn mtu_type() {
        let bad = with(BASE, "mtu = 1500", "mtu = \"1500\"");
        twin(
            BASE,
            &bad,
            "mtu must be an integer or a list of two integers",
            None,
        );
        let bad = with(BASE, "mtu = 1500", "mtu = [1500, \"9000\"]");
        twin(BASE, &bad, "an integer mtu", None);
    }

    /// Node names follow [a-z][a-z0-9-]{0,14}.
    #[test]
    fn bad_node_name() {
        let bad = BASE.replace("client", "Client");
        let e = twin(BASE, &bad, "", Some(4));
        assert_eq!(
            e.message,
            r#"node name "Client" must match [a-z][a-z0-9-]{0,14}"#
        );
        let long = BASE.replace("client", "a23456789012345");
        let longer = BASE.replace("client", "a234567890123456");
        twin(&long, &longer, "must match", Some(4));
        twin(
            BASE,
            &BASE.replace("client", "1client"),
            "must match",
            Some(4),
        );
    }

    /// Topology names follow [a-z0-9_-]+, at most 24 characters.
    #[test]
    fn bad_topology_name() {
        let good = with(BASE, "\"chain\"", "\"a_23456789-1234567890123\"");
        let bad = with(BASE, "\"chain\"", "\"a_23456789-12345678901234\"");
        twin(
            &good,
            &bad,
            "must match [a-z0-9_-]+ and be at most 24",
            None,
        );
        twin(
            BASE,
            &with(BASE, "\"chain\"", "\"Chain\""),
            "\"Chain\" must match",
            None,
        );
        twin(BASE, &with(BASE, "\"chain\"", "\"\""), "must match", None);
    }

    /// Filter hooks are output, forward or input.
    #[test]
    fn bad_hook() {
        let good = format!(
            "{BASE}\n[[filters]]\nnode = \"router-a\"\ndrop = \"pmtu-icmp\"\nhook = \"forward\"\n"
        );
        let t = parse(&good).unwrap();
        assert_eq!(
            t.filters,
            [Filter {
                node: "router-a".into(),
                kind: FilterKind::DropPmtuIcmp {
                    hook: Hook::Forward
                }
            }]
        );
        let bad = with(&good, "\"forward\"", "\"prerouting\"");
        let e = twin(&good, &bad, "", None);
        assert_eq!(
            e.message,
            r#"filter 1: unknown hook "prerouting" (expected output, forward or input)"#
        );
    }

    /// drop needs a hook and only knows "pmtu-icmp"; filters need a known node.
    #[test]
    fn bad_filter() {
        let good = format!(
            "{BASE}\n[[filters]]\nnode = \"router-a\"\ndrop = \"pmtu-icmp\"\nhook = \"output\"\n"
        );
        let bad = with(&good, "hook = \"output\"\n", "");
        let e = parse(&bad).unwrap_err();
        assert!(e.message.contains("filter 1: drop needs a hook"), "{e}");
        assert!(e.line > 0);
        twin(
            &good,
            &with(&good, "\"pmtu-icmp\"", "\"icmp\""),
            r#"filter 1: unknown drop "icmp" (expected "pmtu-icmp")"#,
            None,
        );
        twin(
            &good,
            &with(&good, "node = \"router-a\"", "node = \"router-b\""),
            r#"filter 1: unknown node "router-b" (nodes: client, router-a, server)"#,
            None,
        );
        let e = parse(&with(
            &good,
            "drop = \"pmtu-icmp\"\nhook = \"output\"\n",
            "",
        ))
        .unwrap_err();
        assert!(e.message.contains("needs drop"), "{e}");
        assert!(e.line > 0);
    }

    /// A ruleset file must exist (resolved against the topology file's
    /// directory), and cannot be mixed with drop or another ruleset.
    #[test]
    fn ruleset_files() {
        let dir = std::env::temp_dir().join(format!("mtulab-topology-test-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("rulesets")).unwrap();
        let dir = dir.canonicalize().unwrap();
        std::fs::write(dir.join("rulesets/r.nft"), "table inet t {}\n").unwrap();
        let file = dir.join("topo.toml");
        let good = format!("{BASE}\n[[filters]]\nnode = \"router-a\"\nnft = \"rulesets/r.nft\"\n");
        let t = Topology::from_str(&good, &file).unwrap();
        assert_eq!(
            t.filters[0].kind,
            FilterKind::Nft(dir.join("rulesets/r.nft"))
        );

        let bad = with(&good, "r.nft", "missing.nft");
        let e = Topology::from_str(&bad, &file).unwrap_err();
        assert_eq!(e.line, 19, "{e}");
        assert_eq!(
            e.message,
            format!(
                "filter 1: nft ruleset {} does not exist",
                dir.join("rulesets/missing.nft").display()
            )
        );

        let bad = with(
            &good,
            "nft =",
            "drop = \"pmtu-icmp\"\nhook = \"output\"\nnft =",
        );
        let e = Topology::from_str(&bad, &file).unwrap_err();
        assert!(
            e.message.contains("use either drop or nft, not both"),
            "{e}"
        );
        let bad = with(&good, "nft =", "iptables = \"rulesets/r.nft\"\nnft =");
        let e = Topology::from_str(&bad, &file).unwrap_err();
        assert!(e.message.contains("use only one ruleset"), "{e}");

        // Round trip through a saved file keeps the ruleset path.
        std::fs::write(&file, &good).unwrap();
        let t = Topology::from_file(&file).unwrap();
        assert_eq!(t.source.as_deref(), Some(file.as_path()));
        assert!(
            t.to_toml().contains("nft = \"rulesets/r.nft\""),
            "{}",
            t.to_toml()
        );
        let back = Topology::from_str(&t.to_toml(), &file).unwrap();
        assert_eq!(back, Topology { source: None, ..t });
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Hosts never forward: two hosts joined only through a third host are
    /// disconnected; making the middle node a router connects them.
    #[test]
    fn disconnected() {
        let good = BASE.to_owned();
        let bad = with(BASE, "router = true\n", "");
        let e = twin(&good, &bad, "", Some(6));
        assert_eq!(
            e.message,
            r#"hosts "client" and "server" cannot reach each other (only routers forward; add a link or make a node a router)"#
        );
        // A host without links is disconnected too.
        let bad = with(BASE, "[nodes.server]", "[nodes.server]\n[nodes.zed]");
        let e = twin(
            BASE,
            &bad,
            "hosts \"client\" and \"zed\" cannot reach each other",
            Some(8),
        );
        assert!(e.line > 0);
    }

    /// Two links between the same nodes get `peer` and `peer-2`; explicit
    /// names that collide are rejected.
    #[test]
    fn duplicate_iface() {
        let good = format!(
            "{BASE}\n[[links]]\nbetween = [\"client\", \"router-a\"]\nmtu = 1400\nnames = [\"eth0\", \"eth1\"]\n"
        );
        let t = parse(&good).unwrap();
        assert_eq!(t.links[2].names, ["eth0", "eth1"]);
        let bad = with(&good, "\"eth0\", \"eth1\"", "\"router-a\", \"eth1\"");
        let e = twin(&good, &bad, "", None);
        assert_eq!(
            e.message,
            r#"link 3: interface name "router-a" on node "client" is already used by link 1"#
        );
        let bad = with(&good, "\"eth0\", \"eth1\"", "\"eth0\"");
        twin(
            &good,
            &bad,
            "link 3: names must list exactly two interface names, found 1",
            None,
        );
    }

    /// Interface names must be valid Linux names.
    #[test]
    fn bad_iface_name() {
        let good = with(
            BASE,
            "mtu = 1500\n",
            "mtu = 1500\nnames = [\"eth0\", \"a23456789012345\"]\n",
        );
        for name in ["lo", "a/b", "a b", "a234567890123456", "", "a:1"] {
            let bad = with(&good, "\"eth0\"", &format!("{name:?}"));
            twin(
                &good,
                &bad,
                &format!("link 1: interface name {name:?} on node \"client\""),
                None,
            );
        }
    }

    /// Default names: `peer`, `peer-2`, `peer-3`, truncated to 15 characters.
    #[test]
    fn default_names() {
        let long = "r23456789012345".to_owned();
        let b = |x: &str, y: &str| [x.to_owned(), y.to_owned()];
        let names =
            default_iface_names(&[b("a", &long), b(&long, "a"), b("a", &long), b("a", "c")]);
        assert_eq!(names[0], b(&long, "a"));
        assert_eq!(names[1], b("a-2", "r234567890123-2"));
        assert_eq!(names[2], b("r234567890123-3", "a-3"));
        assert_eq!(names[3], b("c", "a"));

        let src = format!("{BASE}\n[[links]]\nbetween = [\"server\", \"router-a\"]\nmtu = 9000\n");
        let t = parse(&src).unwrap();
        assert_eq!(t.links[2].names, ["router-a-2", "server-2"]);
    }

    /// Sysctls: net.* keys, string or integer values, file order kept.
    #[test]
    fn sysctls() {
        let good = with(
            BASE,
            "[nodes.server]",
            "[nodes.server]\nsysctl = { \"net.ipv4.tcp_mtu_probing\" = 1, \"net.ipv4.conf.router-a.rp_filter\" = \"0\", \"net.core.rmem_max\" = \"4096\" }",
        );
        let t = parse(&good).unwrap();
        assert_eq!(
            t.nodes["server"].sysctl,
            [
                ("net.ipv4.tcp_mtu_probing".to_owned(), "1".to_owned()),
                (
                    "net.ipv4.conf.router-a.rp_filter".to_owned(),
                    "0".to_owned()
                ),
                ("net.core.rmem_max".to_owned(), "4096".to_owned()),
            ]
        );
        for key in [
            "kernel.panic",
            "net.ipv4",
            "net..x",
            "net.ipv4/x",
            "net.ipv4.x y",
        ] {
            let bad = with(&good, "net.core.rmem_max", key);
            twin(
                &good,
                &bad,
                &format!("node \"server\": sysctl {key:?} must be a net.* key"),
                None,
            );
        }
        let bad = with(&good, "\"4096\"", "true");
        twin(&good, &bad, "a sysctl value (string or integer)", None);
    }

    /// Expectations: ids, hosts only, family/pmtu/transfer values.
    #[test]
    fn expectations() {
        let good = format!(
            "{BASE}\n[expect]\nviolations = [\"pmtud\", \"tcp-transfer\"]\n\n[[expect.paths]]\nfrom = \"server\"\nto = \"client\"\nfamily = \"ipv4\"\npmtu = 1200\ntransfer = \"blackhole\"\n"
        );
        let t = parse(&good).unwrap();
        assert_eq!(
            t.expect,
            Some(Expect {
                violations: Some(vec!["pmtud".into(), "tcp-transfer".into()]),
                paths: vec![ExpectPath {
                    from: "server".into(),
                    to: "client".into(),
                    family: Some(Family::V4),
                    pmtu: Some(1200),
                    transfer: Some(Verdict::Blackhole),
                }],
                ipv4: None,
                ipv6: None,
            })
        );
        twin(
            &good,
            &with(&good, "\"pmtud\"", "\"pmtu\""),
            "expect: unknown check id \"pmtu\"",
            None,
        );
        twin(
            &good,
            &with(&good, "\"tcp-transfer\"", "\"pmtud\""),
            "listed twice",
            None,
        );
        twin(
            &good,
            &with(&good, "to = \"client\"", "to = \"router-a\""),
            "expect path 1: \"router-a\" is a router",
            None,
        );
        twin(
            &good,
            &with(&good, "to = \"client\"", "to = \"clent\""),
            "expect path 1: unknown node \"clent\" (hosts: client, server)",
            None,
        );
        twin(
            &good,
            &with(&good, "to = \"client\"", "to = \"server\""),
            "from and to are both \"server\"",
            None,
        );
        twin(
            &good,
            &with(&good, "\"ipv4\"", "\"inet\""),
            "unknown family \"inet\"",
            None,
        );
        twin(
            &good,
            &with(&good, "1200", "60"),
            "pmtu 60 is outside",
            None,
        );
        twin(
            &good,
            &with(&good, "\"blackhole\"", "\"stall\""),
            "unknown transfer \"stall\"",
            None,
        );
        let bare = format!("{BASE}\n[expect]\n");
        assert_eq!(parse(&bare).unwrap().expect, Some(Expect::default()));
    }

    /// `[expect.ipv4]` / `[expect.ipv6]`: per-path check ids only, each
    /// once, known families only; each rejection with its line.
    #[test]
    fn family_expectations() {
        let good = format!(
            "{BASE}\n[expect]\nviolations = [\"link-mtu-match\"]\n\n[expect.ipv6]\nviolations = [\"pmtud\", \"tcp-transfer\"]\n\n[expect.ipv4]\nviolations = []\n"
        );
        let t = parse(&good).unwrap();
        let e = t.expect.as_ref().unwrap();
        assert_eq!(e.violations, Some(vec!["link-mtu-match".to_string()]));
        assert_eq!(
            e.ipv6,
            Some(ExpectFamily {
                violations: vec!["pmtud".into(), "tcp-transfer".into()]
            })
        );
        assert_eq!(e.ipv4, Some(ExpectFamily::default()));
        assert!(e.per_family());
        assert_eq!(e.family(Family::V6), e.ipv6.as_ref());
        // Round trip keeps both tables.
        let back = parse(&t.to_toml()).unwrap();
        assert_eq!(back, t, "{}", t.to_toml());
        twin(
            &good,
            &with(&good, "[\"pmtud\", ", "[\"link-mtu-match\", "),
            "expect.ipv6: \"link-mtu-match\" has no family; list it in [expect] violations",
            None,
        );
        twin(
            &good,
            &with(&good, "[\"pmtud\", ", "[\"pmtu\", "),
            "expect.ipv6: unknown check id \"pmtu\" (expected one of icmp-passes, pmtud, tcp-transfer, model-mismatch)",
            None,
        );
        twin(
            &good,
            &with(&good, "\"pmtud\", \"tcp-transfer\"", "\"pmtud\", \"pmtud\""),
            "expect.ipv6: check id \"pmtud\" listed twice",
            None,
        );
        twin(
            &good,
            &with(&good, "[expect.ipv4]", "[expect.inet]"),
            "unknown field `inet`",
            None,
        );
        twin(
            &good,
            &with(
                &good,
                "[expect.ipv4]\nviolations = []",
                "[expect.ipv4]\nviolation = []",
            ),
            "unknown field `violation`",
            None,
        );
        // A family table alone: no top-level list, not per family otherwise.
        let alone = format!("{BASE}\n[expect.ipv4]\nviolations = [\"model-mismatch\"]\n");
        let e = parse(&alone).unwrap().expect.unwrap();
        assert_eq!(e.violations, None);
        assert_eq!(e.ipv6, None);
        assert!(e.per_family());
        assert!(!Expect::default().per_family());
    }

    /// to_toml parses back to an equal topology.
    #[test]
    fn round_trip() {
        let src = format!(
            "{}\n[[links]]\nbetween = [\"server\", \"router-a\"]\nmtu = [9000, 1280]\n\n[[links]]\nbetween = [\"server\", \"router-a\"]\nmtu = 576\nnames = [\"e 0\", \"e\\\"1\"]\n\n[[filters]]\nnode = \"router-a\"\ndrop = \"pmtu-icmp\"\nhook = \"output\"\n\n[[filters]]\nnode = \"client\"\ndrop = \"pmtu-icmp\"\nhook = \"input\"\n\n[expect]\nviolations = []\n[[expect.paths]]\nfrom = \"client\"\nto = \"server\"\ntransfer = \"ok\"\n\n[expect.ipv6]\nviolations = [\"tcp-transfer\", \"model-mismatch\"]\n",
            with(BASE, "[nodes.server]", "[nodes.server]\nsysctl = { \"net.ipv4.tcp_mtu_probing\" = \"1\", \"net.core.rmem_max\" = 8 }")
        );
        // Interface names with a space are invalid; use a valid quoted one.
        let src = src.replace("\"e 0\"", "\"e0\"");
        let t = parse(&src).unwrap();
        let text = t.to_toml();
        let back = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(back, t, "{text}");
        assert_eq!(back.to_toml(), text);
        // Default names are not written out.
        assert!(!text.contains("names = [\"router-a\""), "{text}");
        assert!(text.contains("names = [\"e0\", "), "{text}");
    }

    /// The minimal topology round trips too.
    #[test]
    fn round_trip_minimal() {
        let t = parse("name = \"x\"\n[nodes.a]\n").unwrap();
        assert_eq!(parse(&t.to_toml()).unwrap(), t);
        let t = parse(BASE).unwrap();
        assert_eq!(parse(&t.to_toml()).unwrap(), t);
    }

    /// Given addresses: parsed per end, kept through to_toml, and each bad
    /// form rejected on its line (twins of the fixture files, plus the rest).
    #[test]
    fn given_addresses() {
        let good = with(
            BASE,
            "between = [\"client\", \"router-a\"]\nmtu = 1500\n",
            "between = [\"client\", \"router-a\"]\nmtu = 1500\naddresses = [\"198.18.7.1/30\", \"198.18.7.2/30\"]\naddresses6 = [\"2001:db8:7::1/64\", \"2001:db8:7::2/64\"]\n",
        );
        let t = parse(&good).unwrap();
        let c = |s: &str| s.parse::<Cidr>().unwrap();
        assert_eq!(
            t.links[0].addresses,
            Some([c("198.18.7.1/30"), c("198.18.7.2/30")])
        );
        assert_eq!(
            t.links[0].addresses6,
            Some([c("2001:db8:7::1/64"), c("2001:db8:7::2/64")])
        );
        assert_eq!(t.links[1].addresses, None);
        assert_eq!(parse(&t.to_toml()).unwrap(), t);
        for (bad, needle) in [
            (
                "\"198.18.7.2/30\"]",
                "addresses must list exactly two addresses",
            ),
            (
                "\"198.18.7.2\"",
                "is not an IPv4 address with a prefix length",
            ),
            ("\"2001:db8:7::2/30\"", "is not an IPv4 address"),
            ("\"198.18.7.3/30\"", "is the subnet's broadcast address"),
            ("\"198.18.7.0/30\"", "is the subnet's network address"),
            ("\"198.18.7.2/29\"", "are not on the same subnet"),
            ("\"198.18.7.1/30\"", "both ends have address 198.18.7.1"),
            (
                "\"198.20.7.2/30\"",
                "is outside the lab range 198.18.0.0/15",
            ),
            ("\"198.18.7.2/14\"", "is outside the lab range"),
            ("\"198.18.7.2/32\"", "leaves no room for the peer"),
        ] {
            let from = if bad.ends_with(']') {
                "\"198.18.7.1/30\", \"198.18.7.2/30\"]"
            } else {
                "\"198.18.7.2/30\""
            };
            // A bad value ending in `]` replaces the whole list.
            twin(&good, &with(&good, from, bad), needle, None);
        }
        // /31: both addresses usable (RFC 3021).
        let p2p = with(
            &good,
            "\"198.18.7.1/30\", \"198.18.7.2/30\"",
            "\"198.18.7.0/31\", \"198.18.7.1/31\"",
        );
        assert!(parse(&p2p).is_ok());
        twin(
            &good,
            &with(&good, "\"2001:db8:7::2/64\"", "\"2001:db9:7::2/64\""),
            "outside the lab range 2001:db8::/32",
            None,
        );
        // Overlap with another link's given subnet.
        let two = with(
            &good,
            "between = [\"router-a\", \"server\"]\nmtu = 1500\n",
            "between = [\"router-a\", \"server\"]\nmtu = 1500\naddresses = [\"198.18.8.1/24\", \"198.18.8.2/24\"]\n",
        );
        twin(
            &two,
            &with(
                &two,
                "\"198.18.8.1/24\", \"198.18.8.2/24\"",
                "\"198.18.7.5/24\", \"198.18.7.6/24\"",
            ),
            "link 2: subnet 198.18.7.0/24 overlaps link 1's subnet 198.18.7.0/30",
            None,
        );
    }

    /// Given routes: network destinations, a gateway that is the peer's
    /// address on one of the node's links, one route per destination.
    #[test]
    fn given_routes() {
        let good = with(
            BASE,
            "router = true\n",
            "router = true\nroutes = [{ to = \"0.0.0.0/0\", via = \"198.18.1.2\" }, { to = \"2001:db8:9::/48\", via = \"2001:db8:0:1::2\" }]\n",
        );
        let t = parse(&good).unwrap();
        assert_eq!(
            t.nodes["router-a"].routes,
            [
                Route {
                    to: "0.0.0.0/0".parse().unwrap(),
                    via: "198.18.1.2".parse().unwrap()
                },
                Route {
                    to: "2001:db8:9::/48".parse().unwrap(),
                    via: "2001:db8:0:1::2".parse().unwrap()
                },
            ]
        );
        assert_eq!(parse(&t.to_toml()).unwrap(), t);
        for (from, to, needle) in [
            ("\"0.0.0.0/0\"", "\"0.0.0.1/0\"", "has host bits set (did you mean 0.0.0.0/0?)"),
            ("\"0.0.0.0/0\"", "\"0.0.0.0\"", "is not a network with a prefix length"),
            ("\"198.18.1.2\"", "\"198.18.1.2/24\"", "is not an address without a prefix length"),
            ("\"198.18.1.2\"", "\"2001:db8:0:1::2\"", "is not of the same family"),
            ("\"198.18.1.2\"", "\"198.18.1.1\"", "is the node's own address on link 2"),
            ("\"198.18.1.2\"", "\"198.18.1.7\"", "the only other node there, \"server\", has 198.18.1.2"),
            ("\"198.18.1.2\"", "\"198.18.2.2\"", "is not on a subnet connected to \"router-a\" (its ipv4 subnets: 198.18.0.0/24, 198.18.1.0/24)"),
            ("\"2001:db8:9::/48\"", "\"::/0\", via = \"2001:db8:0:1::2\" }, { to = \"::/0\"", "a route to ::/0 is already route 2"),
            ("to = \"0.0.0.0/0\"", "too = \"0.0.0.0/0\"", "unknown field `too`"),
        ] {
            twin(&good, &with(&good, from, to), needle, None);
        }
    }

    /// Anycast groups: one address per family (at least one), two or more
    /// distinct member hosts, outside given subnets, not shared.
    #[test]
    fn anycast_groups() {
        let good = format!(
            "{BASE}\n[[anycast]]\naddress = \"198.18.250.1\"\naddress6 = \"2001:db8:fa::1\"\nnodes = [\"server\", \"client\"]\n"
        );
        let t = parse(&good).unwrap();
        assert_eq!(
            t.anycast,
            [Anycast {
                address: Some("198.18.250.1".parse().unwrap()),
                address6: Some("2001:db8:fa::1".parse().unwrap()),
                nodes: vec!["server".into(), "client".into()],
            }]
        );
        assert_eq!(parse(&t.to_toml()).unwrap(), t);
        for (from, to, needle) in [
            (
                "\"198.18.250.1\"",
                "\"198.18.250.1/32\"",
                "is not an IPv4 address without a prefix length",
            ),
            (
                "\"198.18.250.1\"",
                "\"2001:db8:fa::2\"",
                "is not an IPv4 address",
            ),
            (
                "\"198.18.250.1\"",
                "\"10.0.0.1\"",
                "address 10.0.0.1 is outside the lab range",
            ),
            (
                "\"2001:db8:fa::1\"",
                "\"2001:db9::1\"",
                "address6 2001:db9::1 is outside the lab range",
            ),
            (
                "\"server\", \"client\"",
                "\"server\", \"router-a\"",
                "\"router-a\" is a router; anycast members must be hosts",
            ),
            (
                "\"server\", \"client\"",
                "\"server\", \"clint\"",
                "unknown node \"clint\" (hosts: client, server)",
            ),
            (
                "\"server\", \"client\"",
                "\"server\", \"server\"",
                "node \"server\" listed twice",
            ),
            (
                "\"server\", \"client\"",
                "\"server\"",
                "needs at least two member nodes, found 1",
            ),
        ] {
            twin(&good, &with(&good, from, to), needle, None);
        }
        let e = parse(&with(
            &good,
            "address = \"198.18.250.1\"\naddress6 = \"2001:db8:fa::1\"\n",
            "",
        ))
        .unwrap_err();
        assert!(
            e.message
                .contains("needs address (IPv4), address6 (IPv6) or both"),
            "{e}"
        );
        assert!(e.line > 0);
        let twice = format!(
            "{good}\n[[anycast]]\naddress = \"198.18.250.1\"\nnodes = [\"server\", \"client\"]\n"
        );
        let e = parse(&twice).unwrap_err();
        assert!(
            e.message
                .contains("anycast 2: address 198.18.250.1 is already anycast 1"),
            "{e}"
        );
    }

    #[test]
    fn cidr_arithmetic() {
        let c = |s: &str| s.parse::<Cidr>().unwrap();
        assert_eq!(c("198.18.7.9/24").network(), c("198.18.7.0/24"));
        assert_eq!(c("2001:db8:7::9/64").network(), c("2001:db8:7::/64"));
        assert!(c("198.18.7.0/24").contains("198.18.7.255".parse().unwrap()));
        assert!(!c("198.18.7.0/24").contains("198.18.8.0".parse().unwrap()));
        assert!(!c("198.18.7.0/24").contains("2001:db8::1".parse().unwrap()));
        assert!(c("198.18.0.0/15").overlaps(&c("198.19.3.0/24")));
        assert!(c("198.18.7.128/25").overlaps(&c("198.18.7.0/24")));
        assert!(!c("198.18.7.128/25").overlaps(&c("198.18.7.0/25")));
        assert!(c("0.0.0.0/0").contains("198.18.1.1".parse().unwrap()));
        for bad in [
            "198.18.7.1",
            "198.18.7.1/33",
            "198.18.7.1/",
            "198.18.7.1/+4",
            "x/4",
            "::/129",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    fn fixtures(kind: &str) -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../topologies")
            .join(kind);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        files
    }

    /// Every topologies/invalid/*.toml is rejected with a line and the message
    /// its `# error: ` comment quotes, and its twin
    /// in topologies/valid/ (same file name) is accepted.
    #[test]
    fn fixture_files() {
        let invalid = fixtures("invalid");
        assert!(invalid.len() >= 10, "{invalid:?}");
        for path in &invalid {
            let text = std::fs::read_to_string(path).unwrap();
            assert!(
                text.starts_with("# "),
                "{} lacks its opening comment",
                path.display()
            );
            match Topology::from_file(path) {
                Ok(_) => panic!("{} was accepted", path.display()),
                Err(e) => {
                    assert!(e.line > 0, "{e}");
                    let want = text
                        .lines()
                        .find_map(|l| l.strip_prefix("# error: "))
                        .unwrap_or_else(|| panic!("{} lacks an `# error: ` line", path.display()));
                    assert!(e.message.contains(want), "{e}\nexpected: {want}");
                    assert_eq!(e.file, *path);
                }
            }
            let twin = path
                .parent()
                .unwrap()
                .join("../valid")
                .join(path.file_name().unwrap());
            assert!(twin.exists(), "{} has no twin", path.display());
        }
        let valid = fixtures("valid");
        assert!(valid.len() >= invalid.len());
        for path in &valid {
            let text = std::fs::read_to_string(path).unwrap();
            assert!(
                text.starts_with("# "),
                "{} lacks its opening comment",
                path.display()
            );
            let t = Topology::from_file(path).unwrap_or_else(|e| panic!("{e}"));
            let back = Topology::from_str(&t.to_toml(), path).unwrap();
            assert_eq!(back, Topology { source: None, ..t });
        }
    }

    /// mss_clamp: "pmtu" or an MSS, on routers only; mss_clamp_oif names one
    /// of the node's interfaces and needs mss_clamp; both round trip.
    #[test]
    fn mss_clamps() {
        let good = with(
            BASE,
            "router = true\n",
            "router = true\nmss_clamp = \"pmtu\"\nmss_clamp_oif = \"server\"\n",
        );
        let t = parse(&good).unwrap();
        assert_eq!(
            t.nodes["router-a"].mss_clamp,
            Some(MssClamp {
                to: ClampTo::Pmtu,
                oif: Some("server".into())
            })
        );
        assert_eq!(t.nodes["client"].mss_clamp, None);
        assert_eq!(parse(&t.to_toml()).unwrap(), t);

        let fixed = with(&good, "\"pmtu\"", "1360");
        let t = parse(&fixed).unwrap();
        assert_eq!(
            t.nodes["router-a"].mss_clamp.as_ref().unwrap().to,
            ClampTo::Mss(1360)
        );
        assert_eq!(parse(&t.to_toml()).unwrap(), t);
        // A string holding a number is the same number.
        let t2 = parse(&with(&good, "\"pmtu\"", "\"1360\"")).unwrap();
        assert_eq!(t2, t);

        for bad in ["\"auto\"", "87", "65496", "-1"] {
            twin(
                &good,
                &with(&good, "\"pmtu\"", bad),
                "must be \"pmtu\" or an MSS in 88..=65495",
                None,
            );
        }
        parse(&with(&good, "\"pmtu\"", "88")).unwrap();
        parse(&with(&good, "\"pmtu\"", "65495")).unwrap();
        twin(
            &good,
            &with(&good, "\"server\"\n", "\"eth9\"\n"),
            "node \"router-a\": mss_clamp_oif \"eth9\" is not an interface of this node (interfaces: client, server)",
            None,
        );
        twin(
            &good,
            &with(&good, "\"pmtu\"", "true"),
            "expected \"pmtu\" or an MSS (integer)",
            None,
        );
        twin(
            &good,
            &with(&good, "mss_clamp = \"pmtu\"\n", ""),
            "mss_clamp_oif needs mss_clamp",
            None,
        );
        let host = with(
            BASE,
            "[nodes.client]\n",
            "[nodes.client]\nmss_clamp = \"pmtu\"\n",
        );
        twin(
            &good,
            &host,
            "node \"client\": mss_clamp needs router = true",
            None,
        );
    }

    /// PMTU sysctls are validated by value and name at their line; other
    /// net.* names must exist (sysctl::key_problem has the details).
    #[test]
    fn pmtu_sysctls() {
        let good = with(
            BASE,
            "[nodes.server]",
            "[nodes.server]\nsysctl = { \"net.ipv4.tcp_mtu_probing\" = 1, \"net.ipv6.route.mtu_expires\" = 60 }",
        );
        parse(&good).unwrap();
        twin(
            &good,
            &with(&good, "= 1,", "= 3,"),
            "value \"3\" must be an integer in 0..=2",
            None,
        );
        twin(
            &good,
            &with(&good, "= 60", "= -1"),
            "must be an integer in 0..=2147483",
            None,
        );
        twin(
            &good,
            &with(&good, "ipv6.route.mtu_expires", "ipv6.route.mtu_expire"),
            "did you mean \"net.ipv4.route.mtu_expires\"?",
            None,
        );
        twin(
            &good,
            &with(&good, "ipv4.tcp_mtu_probing", "ipv6.tcp_mtu_probing"),
            "it exists as net.ipv4.tcp_mtu_probing",
            None,
        );
    }
}
