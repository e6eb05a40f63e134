//! The topology file (TOML, format v1 of `shared/design.md` §3): serde types,
//! validation with file/line errors. Pure code: nothing here touches the kernel.
//!
//! SKELETON: the helper fills in parsing + validation; the public types below
//! are the contract the rest of the harness codes against (add fields freely,
//! do not rename).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A validated topology.
#[derive(Debug, Clone, PartialEq)]
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
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    pub router: bool,
    /// `net.*` sysctls set in this node only, in file order.
    pub sysctl: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub between: [String; 2],
    /// Per end, in `between` order.
    pub mtu: [u32; 2],
    /// Interface names per end (default: the peer node's name, `peer-2` for a second link to it).
    pub names: [String; 2],
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

impl Topology {
    pub fn from_file(path: &Path) -> Result<Topology, TopologyError> {
        let _ = path;
        todo!()
    }
    /// `path` is used for error messages and to resolve ruleset paths.
    pub fn from_str(src: &str, path: &Path) -> Result<Topology, TopologyError> {
        let _ = (src, path);
        todo!()
    }
    /// Serialise back to the file format (used by proptest round trips and to
    /// print a shrunk failing case as a ready-to-save file).
    pub fn to_toml(&self) -> String {
        todo!()
    }
}

#[allow(dead_code)]
fn _unused(_: IpAddr) {}
