//! The `Lab`: a topology made real. It owns every namespace, netlink socket
//! and child process it creates; dropping it removes all of them, also
//! during a panic. A lab can instead be *kept* (`mtulab up`) and reopened
//! later with [`Lab::attach`].

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard};

use crate::firewall::FirewallError;
use crate::netlink::{NetlinkError, Rtnl};
use crate::netns::{Netns, NetnsError};
use crate::state::{self, LabState, NS_PREFIX};
use crate::sysctl::SysctlError;
use mtulab_core::load::{load_str, Loaded, UncheckedSysctlNames};
use mtulab_core::plan::Plan;
use mtulab_core::topology::{Topology, TopologyError, TunnelKind};

use crate::timers::Timers;

mod build;

#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error(transparent)]
    Topology(#[from] TopologyError),
    #[error(transparent)]
    Netns(#[from] NetnsError),
    #[error("node {node}: {source}")]
    Netlink { node: String, source: NetlinkError },
    #[error("node {node}: {source}")]
    Sysctl { node: String, source: SysctlError },
    #[error(transparent)]
    Firewall(#[from] FirewallError),
    #[error("lab registry: {0}")]
    State(std::io::Error),
    #[error("no kept lab named {0:?}")]
    NoSuchLab(String),
    #[error("no kept lab: build one with `mtulab up FILE`")]
    NoKeptLab,
    #[error("{0}")]
    Ambiguous(String),
    /// A tunnel kind the running kernel lacks: nothing was built.
    #[error("unsupported: {reason}")]
    Unsupported { kind: TunnelKind, reason: String },
    #[error("node {node}: wireguard on {iface}: {source}")]
    Wireguard {
        node: String,
        iface: String,
        source: std::io::Error,
    },
    #[error(
        "node {node}: interface {iface} on {link} is not operationally up {:?} after building",
        build::UP_TIMEOUT
    )]
    LinkDown {
        node: String,
        iface: String,
        /// The link or segment, as messages name it.
        link: String,
    },
    #[error("node {node}: interface {iface} has MTU {found} after building, expected {expected}")]
    MtuReadBack {
        node: String,
        iface: String,
        expected: u32,
        found: u32,
    },
}

/// A node of a running lab.
pub struct LabNode {
    name: String,
    ns: Netns,
    rtnl: Mutex<Rtnl>,
}

impl LabNode {
    /// The node's name in the topology.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's namespace.
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    /// This node's rtnetlink socket (it lives in the node's namespace).
    pub fn rtnl(&self) -> MutexGuard<'_, Rtnl> {
        self.rtnl.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub struct Lab {
    id: String,
    topology: Topology,
    plan: Plan,
    nodes: BTreeMap<String, LabNode>,
    /// The bridge namespace of each `[[segments]]` entry, by segment name.
    segments: BTreeMap<String, LabNode>,
    /// (node, interface) -> MTU as read back from the kernel after building.
    mtus: BTreeMap<(String, String), u32>,
    /// The TCP timer settings the lab gave its nodes (see [`crate::timers`]).
    pub timers: Timers,
    /// How long each step of [`Lab::build`] took (for benches).
    pub phases: Vec<(&'static str, std::time::Duration)>,
    children: Mutex<Vec<Child>>,
    state: LabState,
    owned: bool,
}

static LAB_SEQ: AtomicU32 = AtomicU32::new(0);

fn new_lab_id(topology: &str) -> String {
    let seq = LAB_SEQ.fetch_add(1, Ordering::Relaxed);
    format!("{topology}-{}-{seq}", std::process::id())
}

/// The namespace name of `node` in lab `id`: `mtulab-ID-NODE`.
pub fn ns_name(id: &str, node: &str) -> String {
    format!("{NS_PREFIX}{id}-{node}")
}

/// The namespace name of segment `segment`'s bridge in lab `id`:
/// `mtulab-ID-seg_SEGMENT` (`_` never occurs in a node name, so it cannot
/// collide with a node's namespace).
pub fn segment_ns_name(id: &str, segment: &str) -> String {
    format!("{NS_PREFIX}{id}-seg_{segment}")
}

/// A segment's bridge, and the MTU of the bridge and of every bridge-side
/// port: the largest a veth takes, so that only the members' own MTUs
/// decide which frames cross (a switch with jumbo frames on every port).
pub const SEGMENT_BRIDGE: &str = "br";
pub const SEGMENT_PORT_MTU: u32 = 65535;

impl Lab {
    /// Build a validated topology into a live lab (planning it here: use
    /// [`Lab::build_loaded`] for a topology loaded with its plan).
    /// With this process's timers ([`Timers::current`]: fast unless told
    /// otherwise).
    pub fn build(topology: &Topology) -> Result<Lab, LabError> {
        Lab::build_planned(topology, Plan::new(topology), Timers::current())
    }

    /// [`Lab::build`] with the given timers.
    pub fn build_with(topology: &Topology, timers: Timers) -> Result<Lab, LabError> {
        Lab::build_planned(topology, Plan::new(topology), timers)
    }

    /// Build a loaded topology from the plan it was validated with.
    pub fn build_loaded(loaded: &Loaded) -> Result<Lab, LabError> {
        Lab::build_planned(&loaded.topology, loaded.plan.clone(), Timers::current())
    }

    /// Re-read every interface's MTU from the kernel now.
    pub fn refresh_mtus(&mut self) -> Result<(), LabError> {
        self.mtus.clear();
        self.read_back_mtus()
    }

    /// The lab's id: namespaces are `mtulab-ID-NODE`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The topology it was built from.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// The plan it was built from (interfaces, addresses, routes per node).
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The MTU of `node`'s interface `iface` as read back from the kernel
    /// after building (or the last [`Lab::refresh_mtus`]).
    pub fn mtu(&self, node: &str, iface: &str) -> Option<u32> {
        self.mtus
            .get(&(node.to_string(), iface.to_string()))
            .copied()
    }

    pub fn node(&self, name: &str) -> Option<&LabNode> {
        self.nodes.get(name)
    }

    pub fn nodes(&self) -> impl Iterator<Item = &LabNode> {
        self.nodes.values()
    }

    /// The namespace name of each node.
    pub fn namespaces(&self) -> &BTreeMap<String, String> {
        &self.state.namespaces
    }

    /// The namespace name of each segment's bridge.
    pub fn segment_namespaces(&self) -> &BTreeMap<String, String> {
        &self.state.segments
    }

    /// Run `f` on a thread inside `node`'s namespace.
    pub fn run_in<R: Send>(
        &self,
        node: &str,
        f: impl FnOnce() -> R + Send,
    ) -> Result<R, NetnsError> {
        let n = self.nodes.get(node).ok_or_else(|| NetnsError::Enter {
            name: node.to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such node"),
        })?;
        n.ns.run(f)
    }

    /// A command that runs inside `node`. Spawn it with [`Lab::spawn`] to
    /// have the lab kill and reap it, or run it to completion yourself.
    pub fn command(&self, node: &str, program: &str) -> Option<Command> {
        Some(self.nodes.get(node)?.ns.command(program))
    }

    /// A command that runs inside the namespace of segment `segment`'s
    /// bridge (to inspect it: `ip -d link show br`).
    pub fn segment_command(&self, segment: &str, program: &str) -> Option<Command> {
        Some(self.segments.get(segment)?.ns.command(program))
    }

    /// Spawn a long-running child owned by the lab: killed and reaped on teardown.
    pub fn spawn(&self, mut cmd: Command) -> std::io::Result<u32> {
        let child = cmd.spawn()?;
        let pid = child.id();
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(child);
        Ok(pid)
    }

    /// Keep the lab after this value is dropped (`mtulab up`).
    pub fn keep(mut self) -> Result<(), LabError> {
        self.state.kept = true;
        self.state.write().map_err(LabError::State)?;
        self.owned = false;
        Ok(())
    }

    /// Reopen a kept lab: `name` is a lab id or, when only one kept lab has
    /// it, a topology name; None picks the caller's only kept lab (or,
    /// when the caller has none, the only kept lab).
    pub fn attach(name: Option<&str>) -> Result<Lab, LabError> {
        let kept: Vec<LabState> = state::all_labs().into_iter().filter(|l| l.kept).collect();
        let matching: Vec<&LabState> = match name {
            Some(n) => {
                let exact: Vec<_> = kept.iter().filter(|l| l.id == n).collect();
                if exact.is_empty() {
                    kept.iter().filter(|l| l.topology == n).collect()
                } else {
                    exact
                }
            }
            // The caller's own labs first (as `mtulab down` does), so
            // other users' kept labs do not make the default ambiguous.
            None => {
                let me = state::caller_uid();
                let mine: Vec<_> = kept.iter().filter(|l| l.owner == Some(me)).collect();
                if mine.is_empty() {
                    kept.iter().collect()
                } else {
                    mine
                }
            }
        };
        let st = match matching.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(match name {
                    Some(n) => LabError::NoSuchLab(n.to_string()),
                    None => LabError::NoKeptLab,
                })
            }
            many => {
                return Err(LabError::Ambiguous(format!(
                    "{} kept labs match; pick one with --lab: {}",
                    many.len(),
                    many.iter()
                        .map(|l| l.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        let path = st
            .source
            .clone()
            .unwrap_or_else(|| Path::new(&format!("{}.toml", st.topology)).to_path_buf());
        // Validated when it was built; names are not looked up again.
        let Loaded { topology, plan } = load_str(&st.toml, &path, &UncheckedSysctlNames)?;
        let mut nodes = BTreeMap::new();
        for (node, ns_name) in &st.namespaces {
            let ns = Netns::open(ns_name)?;
            let rtnl = ns.run(Rtnl::open)?.map_err(|source| LabError::Netlink {
                node: node.clone(),
                source,
            })?;
            nodes.insert(
                node.clone(),
                LabNode {
                    name: node.clone(),
                    ns,
                    rtnl: Mutex::new(rtnl),
                },
            );
        }
        let mut segments = BTreeMap::new();
        for (seg, ns_name) in &st.segments {
            let ns = Netns::open(ns_name)?;
            let rtnl = ns.run(Rtnl::open)?.map_err(|source| LabError::Netlink {
                node: format!("segment {seg}"),
                source,
            })?;
            segments.insert(
                seg.clone(),
                LabNode {
                    name: seg.clone(),
                    ns,
                    rtnl: Mutex::new(rtnl),
                },
            );
        }
        let mut lab = Lab {
            id: st.id.clone(),
            topology,
            plan,
            nodes,
            segments,
            mtus: BTreeMap::new(),
            timers: st.timers.unwrap_or(Timers::KERNEL_DEFAULTS),
            phases: Vec::new(),
            children: Mutex::new(Vec::new()),
            state: st,
            owned: false,
        };
        lab.read_back_mtus()?;
        Ok(lab)
    }

    /// Remove the lab now (also what `Drop` does for an owned lab); returns
    /// every error met, having kept going past each.
    pub fn destroy(mut self) -> Vec<std::io::Error> {
        self.owned = false;
        self.teardown()
    }

    fn teardown(&mut self) -> Vec<std::io::Error> {
        let mut errors = Vec::new();
        for mut child in self
            .children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = child.kill();
            let _ = child.wait();
        }
        // Sockets first, then the names: the kernel frees a namespace when
        // its last reference goes.
        let mut nodes = std::mem::take(&mut self.nodes);
        nodes.extend(
            std::mem::take(&mut self.segments)
                .into_iter()
                .map(|(k, v)| (format!("{SEGMENT_KEY}{k}"), v)),
        );
        let mut names = Vec::new();
        for (_, n) in nodes {
            drop(n.rtnl);
            names.push(n.ns);
        }
        for ns in names {
            let name = ns.name().to_string();
            if let Err(e) = ns.remove() {
                errors.push(std::io::Error::new(
                    e.kind(),
                    format!("remove namespace {name}: {e}"),
                ));
            }
        }
        // Anything registered but not opened (a build that failed half way).
        errors.extend(self.state.destroy());
        errors
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.owned {
            for e in self.teardown() {
                eprintln!("mtulab: teardown of lab {}: {e}", self.id);
            }
        }
    }
}

/// Remove a kept lab by its registry entry (`mtulab down`).
pub fn destroy_kept(st: &LabState) -> Vec<std::io::Error> {
    st.destroy()
}

/// Prefix that tells a segment's entry from a node's where both are
/// handled together (not a valid node-name character).
const SEGMENT_KEY: &str = "segment:";
