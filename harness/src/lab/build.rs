//! Building a lab: registering it, then the phases in order (namespaces
//! and their sysctls, links, segments, WireGuard, addresses and routes,
//! filters, MSS clamps, reading back the MTUs), each timed; and the
//! netlink requests a node's links, tunnels and routes need.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use super::{
    new_lab_id, ns_name, segment_ns_name, Lab, LabError, LabNode, SEGMENT_BRIDGE, SEGMENT_KEY,
    SEGMENT_PORT_MTU,
};
use crate::firewall::{self, FirewallError};
use crate::netlink::{self, Request, Rtnl, VethEnd};
use crate::netns::{Netns, NetnsError};
use crate::state::{self, LabState};
use crate::sysctl;
use crate::timers::Timers;
use mtulab_core::plan::{IfacePlan, NodePlan, Plan};
use mtulab_core::topology::{FilterKind, Hook, PmtuIcmp, Topology, TopologyError, TunnelKind};
use netlink_packet_route::route::RouteMetric;

/// What creating one node's namespace gave: the namespace (if made) and
/// the result of setting it up.
type Made = Result<(Netns, Result<Rtnl, LabError>), NetnsError>;

/// First interface index used in each node; `lo` is 1. Choosing indexes
/// ourselves saves a lookup round trip per node when adding addresses.
const FIRST_IFINDEX: u32 = 10;

/// The index of a node's `k`th interface: `FIRST_IFINDEX + 2k`, plus one
/// on end 1 of a link (odd members of a segment), so the two ends of a
/// veth never share an index. They must not: the kernel's link watch
/// treats a carrier change on a device whose index equals its peer's
/// (`dev_get_iflink`) as not urgent and handles it up to a second later,
/// and until then the veth end that came up first drops everything it is
/// given (measured: with both ends at index 10, a lab's first probes lost
/// their first neighbour solicitation and waited a second for the resend).
fn iface_index(node: &NodePlan, k: usize) -> u32 {
    FIRST_IFINDEX + 2 * k as u32 + (node.interfaces[k].end & 1) as u32
}

/// Segment bridge ports' indexes start here, far above any node
/// interface's (see [`iface_index`]) so a port never shares its member's.
const SEGMENT_PORT_INDEX: u32 = 1 << 20;

/// How long a build waits for segment members' interfaces to come up.
pub(super) const UP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

impl Lab {
    pub(super) fn build_planned(
        topology: &Topology,
        plan: Plan,
        timers: Timers,
    ) -> Result<Lab, LabError> {
        let t0 = std::time::Instant::now();
        check_hop_limit(topology, &plan)?;
        // A tunnel kind the kernel lacks: say so before anything is made.
        if let Some((kind, reason)) =
            crate::tunnels::first_unsupported(topology.tunnels.iter().map(|t| (t.kind, t.underlay)))
        {
            return Err(LabError::Unsupported { kind, reason });
        }
        let id = new_lab_id(&topology.name);
        let pid = std::process::id();
        let state = LabState {
            id: id.clone(),
            topology: topology.name.clone(),
            source: topology.source.clone(),
            toml: topology.to_toml(),
            pid,
            start_time: state::process_start_time(pid).unwrap_or(0),
            kept: false,
            owner: Some(state::caller_uid()),
            timers: Some(timers),
            namespaces: plan
                .nodes
                .iter()
                .map(|n| (n.name.clone(), ns_name(&id, &n.name)))
                .collect(),
            segments: topology
                .segments
                .iter()
                .map(|s| (s.name.clone(), segment_ns_name(&id, &s.name)))
                .collect(),
        };
        // Registered before the first namespace exists (see state.rs).
        state.write().map_err(LabError::State)?;
        let mut lab = Lab {
            id,
            topology: topology.clone(),
            plan,
            nodes: BTreeMap::new(),
            segments: BTreeMap::new(),
            mtus: BTreeMap::new(),
            timers,
            phases: Vec::new(),
            children: Mutex::new(Vec::new()),
            state,
            owned: true,
        };
        lab.phases.push(("plan and register", t0.elapsed()));
        // On any error below, dropping `lab` removes what was made so far.
        lab.phase("namespaces and sysctls", Lab::create_nodes)?;
        lab.phase("links", Lab::create_links)?;
        lab.phase("segments", Lab::create_segments)?;
        lab.phase("wireguard", Lab::configure_wireguard)?;
        lab.phase("addresses and routes", Lab::configure_addresses_and_routes)?;
        lab.phase("filters", Lab::install_filters)?;
        lab.phase("mss clamps", Lab::install_mss_clamps)?;
        lab.phase("links up, read back MTUs", Lab::await_links_up)?;
        Ok(lab)
    }

    /// Run one build step and record how long it took.
    fn phase(
        &mut self,
        name: &'static str,
        step: fn(&mut Lab) -> Result<(), LabError>,
    ) -> Result<(), LabError> {
        let t = std::time::Instant::now();
        let r = step(self);
        self.phases.push((name, t.elapsed()));
        r
    }

    fn create_nodes(&mut self) -> Result<(), LabError> {
        // Namespace creation dominates build time (the kernel initialises
        // every per-namespace subsystem) and copy_net_ns only takes the
        // pernet lock for reading: create them in parallel.
        let made: Vec<(String, Made)> = std::thread::scope(|s| {
            let handles: Vec<_> = self
                .plan
                .nodes
                .iter()
                .map(|node| {
                    let ns_name = &self.state.namespaces[&node.name];
                    let timers = &self.timers;
                    let h =
                        s.spawn(move || Netns::create_with(ns_name, || setup_node(node, timers)));
                    (node.name.clone(), h)
                })
                .collect();
            // Segment bridges' namespaces in the same round.
            let segment_handles: Vec<_> = self
                .state
                .segments
                .iter()
                .map(|(seg, ns_name)| {
                    let h = s.spawn(move || Netns::create_with(ns_name, || setup_segment(seg)));
                    (format!("{SEGMENT_KEY}{seg}"), h)
                })
                .collect();
            handles
                .into_iter()
                .chain(segment_handles)
                .map(|(n, h)| {
                    let r = h
                        .join()
                        .unwrap_or_else(|_| Err(NetnsError::Panicked { name: n.clone() }));
                    (n, r)
                })
                .collect()
        });
        // Track every namespace that was made before reporting any error, so
        // that dropping the lab removes them all.
        let mut first_err = None;
        for (name, r) in made {
            match r {
                Ok((ns, Ok(rtnl))) if name.starts_with(SEGMENT_KEY) => {
                    let seg = name[SEGMENT_KEY.len()..].to_owned();
                    self.segments.insert(
                        seg.clone(),
                        LabNode {
                            name: seg,
                            ns,
                            rtnl: Mutex::new(rtnl),
                        },
                    );
                }
                Ok((ns, Ok(rtnl))) => {
                    self.nodes.insert(
                        name.clone(),
                        LabNode {
                            name,
                            ns,
                            rtnl: Mutex::new(rtnl),
                        },
                    );
                }
                Ok((ns, Err(e))) => {
                    let _ = ns.remove();
                    first_err.get_or_insert(e);
                }
                Err(e) => {
                    first_err.get_or_insert(e.into());
                }
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        // lo up everywhere: a node must reach its own addresses.
        for node in self.nodes.values() {
            node.rtnl()
                .execute(vec![Request::plain("bring lo up", netlink::set_up(1))])
                .map_err(|source| LabError::Netlink {
                    node: node.name.clone(),
                    source,
                })?;
        }
        Ok(())
    }

    /// Send one pipelined batch over `node`'s rtnetlink socket.
    fn execute(&self, node: &str, batch: Vec<Request>) -> Result<(), LabError> {
        self.nodes[node]
            .rtnl()
            .execute(batch)
            .map_err(|source| LabError::Netlink {
                node: node.to_string(),
                source,
            })
    }

    /// The kernel index of `node`'s interface `iface` (as planned).
    pub fn ifindex(&self, node: &str, iface: &str) -> Option<u32> {
        let n = self.plan.node(node)?;
        let k = n.interfaces.iter().position(|i| i.name == iface)?;
        Some(iface_index(n, k))
    }

    fn create_links(&mut self) -> Result<(), LabError> {
        // One batch per namespace holding end 0 of its links.
        let mut batches: BTreeMap<String, Vec<Request>> = BTreeMap::new();
        for node in &self.plan.nodes {
            for (k, iface) in node.interfaces.iter().enumerate() {
                // Tunnel ends are made with the second batch (below),
                // segment members' veths by `create_segments`.
                let link = &self.plan.links[iface.link];
                if iface.end != 0 || link.tunnel.is_some() || link.segment.is_some() {
                    continue;
                }
                let peer = &self.nodes[&iface.peer_node];
                let a = VethEnd {
                    name: iface.name.clone(),
                    index: iface_index(node, k),
                    mtu: iface.mtu,
                };
                let peer_plan = self.plan.node(&iface.peer_node).expect("planned peer");
                let (pk, piface) = peer_plan
                    .interfaces
                    .iter()
                    .enumerate()
                    .find(|(_, i)| i.link == iface.link && i.end == 1)
                    .expect("planned peer end");
                let b = VethEnd {
                    name: piface.name.clone(),
                    index: iface_index(peer_plan, pk),
                    mtu: piface.mtu,
                };
                use std::os::fd::AsRawFd;
                let msg = netlink::new_veth(&a, &b, peer.ns.fd().as_raw_fd());
                batches
                    .entry(node.name.clone())
                    .or_default()
                    .push(Request::create(
                        format!(
                            "create veth {}:{} (mtu {}) <-> {}:{} (mtu {})",
                            node.name, a.name, a.mtu, iface.peer_node, b.name, b.mtu
                        ),
                        msg,
                    ));
            }
        }
        for (node, batch) in batches {
            self.execute(&node, batch)?;
        }
        // Then the peer ends up, in every namespace, before any address: an
        // IPv6 address added without carrier would stay tentative.
        for node in &self.plan.nodes {
            let mut batch: Vec<Request> = node
                .interfaces
                .iter()
                .enumerate()
                .filter(|(_, i)| {
                    let link = &self.plan.links[i.link];
                    i.end == 1 && link.tunnel.is_none() && link.segment.is_none()
                })
                .map(|(k, i)| {
                    Request::plain(
                        format!("bring {} up", i.name),
                        netlink::set_up(iface_index(node, k)),
                    )
                })
                .collect();
            // VXLAN ends (created up) in the same round trip.
            batch.extend(tunnel_requests(&self.plan, node));
            self.execute(&node.name, batch)?;
        }
        Ok(())
    }

    /// WireGuard tunnels: each end's lab key and port, then the other end
    /// as its only peer (see [`crate::wireguard`]).
    fn configure_wireguard(&mut self) -> Result<(), LabError> {
        let tunnels: Vec<(usize, usize)> = self
            .plan
            .links
            .iter()
            .enumerate()
            .filter_map(|(i, l)| Some((i, l.tunnel.as_ref()?)))
            .filter(|(_, t)| t.kind == TunnelKind::Wireguard)
            .enumerate()
            .map(|(k, (i, _))| (k, i))
            .collect();
        for (k, link) in tunnels {
            let l = &self.plan.links[link];
            let t = l.tunnel.as_ref().expect("a tunnel");
            let port = t.wireguard_port();
            let mut public = Vec::new();
            for end in 0..2 {
                let (node, iface) = (&l.between[end], &l.names[end]);
                let wg_err = |source| LabError::Wireguard {
                    node: node.clone(),
                    iface: iface.clone(),
                    source,
                };
                let index = self.ifindex(node, iface).expect("planned interface");
                let private = crate::wireguard::lab_key(&self.id, k, end);
                let key = self.nodes[node]
                    .ns
                    .run(move || -> std::io::Result<_> {
                        let mut g = crate::wireguard::Genl::open()?;
                        let family = g.wireguard_family()?;
                        g.set_identity(family, index, private, port)
                    })?
                    .map_err(wg_err)?;
                public.push(key);
            }
            for end in 0..2 {
                let (node, iface) = (&l.between[end], &l.names[end]);
                let index = self.ifindex(node, iface).expect("planned interface");
                let peer = public[1 - end];
                let endpoint = std::net::SocketAddr::new(t.local[1 - end], port);
                self.nodes[node]
                    .ns
                    .run(move || -> std::io::Result<()> {
                        let mut g = crate::wireguard::Genl::open()?;
                        let family = g.wireguard_family()?;
                        g.set_peer(family, index, peer, endpoint)
                    })?
                    .map_err(|source| LabError::Wireguard {
                        node: node.clone(),
                        iface: iface.clone(),
                        source,
                    })?;
            }
        }
        Ok(())
    }

    /// Each segment: a bridge in its own namespace (see [`new_bridge`]),
    /// then per member a veth from the member's namespace (its end at the
    /// member's MTU, created up) to a bridge port named after the member
    /// (at [`SEGMENT_PORT_MTU`]), brought up, and — once every end is
    /// operationally up — enslaved: a port that is up when it joins a
    /// bridge without STP forwards at once, so the segment carries
    /// traffic as soon as the build returns, before any address exists.
    ///
    /// [`new_bridge`]: netlink::new_bridge
    fn create_segments(&mut self) -> Result<(), LabError> {
        use std::os::fd::AsRawFd;
        let bridge_index = FIRST_IFINDEX;
        for (li, link) in self.plan.links.iter().enumerate() {
            let Some(seg) = &link.segment else { continue };
            let seg_node = &self.segments[seg];
            let seg_err = |source| LabError::Netlink {
                node: format!("segment {seg}"),
                source,
            };
            seg_node
                .rtnl()
                .execute(vec![Request::create(
                    format!("create bridge {SEGMENT_BRIDGE} of segment {seg}"),
                    netlink::new_bridge(bridge_index, SEGMENT_BRIDGE, SEGMENT_PORT_MTU),
                )])
                .map_err(seg_err)?;
            let mut up = Vec::new();
            let mut enslave = Vec::new();
            for (m, member) in link.between.iter().enumerate() {
                let plan = self.plan.node(member).expect("planned member");
                let k = plan
                    .interfaces
                    .iter()
                    .position(|i| i.link == li && i.end == m)
                    .expect("planned member interface");
                let a = VethEnd {
                    name: link.names[m].clone(),
                    index: iface_index(plan, k),
                    mtu: link.mtu[m],
                };
                let port = SEGMENT_PORT_INDEX + m as u32;
                let b = VethEnd {
                    name: member.clone(),
                    index: port,
                    mtu: SEGMENT_PORT_MTU,
                };
                let msg = netlink::new_veth(&a, &b, seg_node.ns.fd().as_raw_fd());
                self.execute(
                    member,
                    vec![Request::create(
                        format!(
                            "create veth {member}:{} (mtu {}) <-> segment {seg} port {member} (mtu {SEGMENT_PORT_MTU})",
                            a.name, a.mtu
                        ),
                        msg,
                    )],
                )?;
                up.push(Request::plain(
                    format!("bring port {member} of segment {seg} up"),
                    netlink::set_up(port),
                ));
                enslave.push(Request::plain(
                    format!("enslave port {member} to bridge {SEGMENT_BRIDGE} of segment {seg}"),
                    netlink::set_master_up(port, bridge_index),
                ));
            }
            seg_node.rtnl().execute(up).map_err(seg_err)?;
            // Every member's end and every port operationally up (the
            // kernel's link watch turns carriers on asynchronously) …
            let deadline = std::time::Instant::now() + UP_TIMEOUT;
            let name = mtulab_core::plan::link_name(li, &self.topology);
            for (m, member) in link.between.iter().enumerate() {
                self.await_oper_up(&self.nodes[member], &link.names[m], deadline, &name)?;
                self.await_oper_up(seg_node, member, deadline, &name)?;
            }
            // … then into the bridge: forwarding from here on.
            seg_node.rtnl().execute(enslave).map_err(seg_err)?;
        }
        Ok(())
    }

    /// Wait (bounded) until `iface` in `node`'s namespace is operationally
    /// up. Measured: without it, the first IPv6 ping right after building
    /// sometimes waited 1 s for its neighbour solicitation to be resent.
    fn await_oper_up(
        &self,
        node: &LabNode,
        iface: &str,
        deadline: std::time::Instant,
        segment: &str,
    ) -> Result<(), LabError> {
        loop {
            let links = node.rtnl().links().map_err(|source| LabError::Netlink {
                node: node.name.clone(),
                source,
            })?;
            if links.iter().any(|l| l.name == iface && l.oper_up) {
                return Ok(());
            }
            if std::time::Instant::now() >= deadline {
                return Err(LabError::LinkDown {
                    node: node.name.clone(),
                    iface: iface.to_owned(),
                    link: segment.to_owned(),
                });
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    fn configure_addresses_and_routes(&mut self) -> Result<(), LabError> {
        let metrics = self.timers.route_metrics();
        for node in &self.plan.nodes {
            self.execute(&node.name, node_requests(node, &metrics))?;
        }
        Ok(())
    }

    fn install_filters(&mut self) -> Result<(), LabError> {
        let mut hooks: BTreeMap<&str, Vec<Hook>> = BTreeMap::new();
        for f in &self.topology.filters {
            match &f.kind {
                FilterKind::DropPmtuIcmp { hook } => {
                    let hs = hooks.entry(f.node.as_str()).or_default();
                    if !hs.contains(hook) {
                        hs.push(*hook);
                    }
                }
                FilterKind::Nft(path) => {
                    // Read first: a missing file is our error, not nft's.
                    read_ruleset(path)?;
                    // By path, so nft's errors say FILE:LINE:COLUMN.
                    let shown = path.display().to_string();
                    firewall::load(
                        &self.nodes[&f.node].ns,
                        &f.node,
                        "nft",
                        &["-f", &shown],
                        "",
                        Some(shown.clone()),
                    )?;
                }
                FilterKind::Iptables(path) | FilterKind::Ip6tables(path) => {
                    let tool = if matches!(f.kind, FilterKind::Iptables(_)) {
                        "iptables-restore"
                    } else {
                        "ip6tables-restore"
                    };
                    let text = read_ruleset(path)?;
                    firewall::load(
                        &self.nodes[&f.node].ns,
                        &f.node,
                        tool,
                        &[],
                        &text,
                        Some(path.display().to_string()),
                    )?;
                }
            }
        }
        for (node, hs) in hooks {
            self.load_nft_script(node, &firewall::pmtu_icmp_drop_script(&hs))?;
        }
        // Hosts whose stack ignores PMTU ICMP (`pmtu_icmp = "ignore"`).
        for (name, node) in &self.topology.nodes {
            if node.pmtu_icmp == PmtuIcmp::Ignore {
                self.load_nft_script(name, &firewall::pmtu_icmp_ignore_script())?;
            }
        }
        Ok(())
    }

    /// Each node's `mss_clamp`, as its own nft table (after the filters, so
    /// a user ruleset that flushes everything cannot remove it).
    fn install_mss_clamps(&mut self) -> Result<(), LabError> {
        for (name, node) in &self.topology.nodes {
            let Some(clamp) = &node.mss_clamp else {
                continue;
            };
            self.load_nft_script(name, &firewall::mss_clamp_script(clamp))?;
        }
        Ok(())
    }

    /// Load an nft script of ours (not a user's file) into `node`, on stdin.
    fn load_nft_script(&self, node: &str, script: &str) -> Result<(), LabError> {
        firewall::load(
            &self.nodes[node].ns,
            node,
            "nft",
            &["-f", "-"],
            script,
            None,
        )?;
        Ok(())
    }

    /// The last build step: wait (bounded) until every veth end, segment
    /// member included, is operationally up, reading the MTUs back on the
    /// way. A veth end brought up before its peer gets its carrier and its
    /// queueing discipline from the kernel's link watch, asynchronously;
    /// until that work runs the end drops what it is given (quick when the
    /// event is urgent, which [`iface_index`] sees to; this wait makes the
    /// build's "ready" mean it). Tunnel devices have no carrier to wait for.
    fn await_links_up(&mut self) -> Result<(), LabError> {
        self.read_links(true)
    }

    pub(super) fn read_back_mtus(&mut self) -> Result<(), LabError> {
        self.read_links(false)
    }

    /// Read every node's interfaces' MTUs; with `wait_up`, first poll
    /// (bounded by [`UP_TIMEOUT`]) until each veth end is operationally up.
    fn read_links(&mut self, wait_up: bool) -> Result<(), LabError> {
        let deadline = std::time::Instant::now() + UP_TIMEOUT;
        for node in &self.plan.nodes {
            let wanted: Vec<&IfacePlan> = node
                .interfaces
                .iter()
                .filter(|i| wait_up && self.plan.links[i.link].tunnel.is_none())
                .collect();
            let lab_node = &self.nodes[&node.name];
            loop {
                let links = lab_node
                    .rtnl()
                    .links()
                    .map_err(|source| LabError::Netlink {
                        node: node.name.clone(),
                        source,
                    })?;
                let down = wanted
                    .iter()
                    .find(|i| !links.iter().any(|l| l.name == i.name && l.oper_up));
                let Some(down) = down else {
                    for l in links {
                        if l.name != "lo" {
                            self.mtus.insert((node.name.clone(), l.name), l.mtu);
                        }
                    }
                    break;
                };
                if std::time::Instant::now() >= deadline {
                    return Err(LabError::LinkDown {
                        node: node.name.clone(),
                        iface: down.name.clone(),
                        link: mtulab_core::plan::link_name(down.link, &self.topology),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
        Ok(())
    }
}

/// Refuse, before anything is created, a topology with two hosts more than
/// [`sysctl::MAX_HOPS`] routers apart: no packet could cross. (Only
/// topologies of more nodes than that can: breadth-first from each host
/// over the links.)
fn check_hop_limit(topology: &Topology, plan: &Plan) -> Result<(), LabError> {
    if plan.nodes.len() <= sysctl::MAX_HOPS + 1 {
        return Ok(());
    }
    let index: BTreeMap<&str, usize> = plan
        .nodes
        .iter()
        .enumerate()
        .map(|(k, n)| (n.name.as_str(), k))
        .collect();
    let neighbours: Vec<Vec<usize>> = plan
        .nodes
        .iter()
        .map(|n| {
            n.interfaces
                .iter()
                .filter_map(|i| index.get(i.peer_node.as_str()).copied())
                .collect()
        })
        .collect();
    for from in plan.hosts() {
        let start = index[from];
        let mut dist = vec![usize::MAX; plan.nodes.len()];
        dist[start] = 0;
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(k) = queue.pop_front() {
            for &m in &neighbours[k] {
                if dist[m] == usize::MAX {
                    dist[m] = dist[k] + 1;
                    queue.push_back(m);
                }
            }
        }
        for to in plan.hosts() {
            let d = dist[index[to]];
            // d links: d - 1 routers between the two hosts.
            if d != usize::MAX && d > sysctl::MAX_HOPS + 1 {
                return Err(LabError::Topology(TopologyError {
                    file: topology.source.clone().unwrap_or_default(),
                    line: 0,
                    message: format!(
                        "hosts {from} and {to} are {} routers apart; the lab raises the TTL / hop limit from the kernel's 64 to 255, so a path may cross at most {} routers",
                        d - 1,
                        sysctl::MAX_HOPS
                    ),
                }));
            }
        }
    }
    Ok(())
}

fn read_ruleset(path: &Path) -> Result<String, LabError> {
    std::fs::read_to_string(path).map_err(|e| {
        LabError::Firewall(FirewallError::Load {
            tool: "mtulab".into(),
            node: String::new(),
            file: Some(path.display().to_string()),
            stderr: e.to_string(),
        })
    })
}

/// Runs on the thread that created `node`'s namespace, inside it: sysctls
/// (before any interface exists, so `default` values apply to all; the
/// lab's timers before the topology's own, which win), then the node's
/// rtnetlink socket.
fn setup_node(node: &NodePlan, timers: &Timers) -> Result<Rtnl, LabError> {
    let sysctl_err = |source| LabError::Sysctl {
        node: node.name.clone(),
        source,
    };
    let ours = sysctl::base(node.router)
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .chain(timers.sysctls());
    for (k, v) in ours {
        match sysctl::write(k, &v) {
            // Older kernels lack some knobs (tcp_rto_min_us is 6.11+); the
            // route metrics cover the RTO there, and no other is essential.
            Err(e) if e.source.kind() == std::io::ErrorKind::NotFound => {}
            r => r.map_err(sysctl_err)?,
        }
    }
    for (k, v) in &node.sysctl {
        sysctl::write(k, v).map_err(sysctl_err)?;
    }
    Rtnl::open().map_err(|source| LabError::Netlink {
        node: node.name.clone(),
        source,
    })
}

/// Runs inside a segment's new namespace: no IPv6 on the bridge or its
/// ports (the bridge only forwards; it must not take part in ND or send
/// anything of its own), then its rtnetlink socket.
fn setup_segment(segment: &str) -> Result<Rtnl, LabError> {
    for k in [
        "net.ipv6.conf.all.disable_ipv6",
        "net.ipv6.conf.default.disable_ipv6",
    ] {
        sysctl::write(k, "1").map_err(|source| LabError::Sysctl {
            node: format!("segment {segment}"),
            source,
        })?;
    }
    Rtnl::open().map_err(|source| LabError::Netlink {
        node: format!("segment {segment}"),
        source,
    })
}

/// The tunnel devices of `node`'s tunnel ends (see [`crate::tunnels`]).
fn tunnel_requests(plan: &Plan, node: &NodePlan) -> Vec<Request> {
    node.interfaces
        .iter()
        .enumerate()
        .filter_map(|(k, iface)| {
            let t = plan.links[iface.link].tunnel.as_ref()?;
            let v = crate::tunnels::TunnelEnd {
                kind: t.kind,
                name: iface.name.clone(),
                index: iface_index(node, k),
                mtu: iface.mtu,
                vni: t.vni,
                local: t.local[iface.end],
                remote: t.local[1 - iface.end],
            };
            Some(Request::create(
                format!(
                    "create {} {}:{} (vni {}, {} -> {}, mtu {})",
                    v.kind, node.name, v.name, v.vni, v.local, v.remote, v.mtu
                ),
                crate::tunnels::new_tunnel(&v),
            ))
        })
        .collect()
}

/// Addresses, then routes, for one node: one pipelined batch. With
/// `metrics` (the lab's timers), every route carries them: addresses are
/// added without their kernel-made prefix route, which is added here
/// instead, as the kernel would, plus the metrics.
fn node_requests(node: &NodePlan, metrics: &[RouteMetric]) -> Vec<Request> {
    let mut out = Vec::new();
    // Anycast addresses on lo (index 1), which is already up.
    for a in &node.loopback {
        out.push(Request::create(
            format!("add address {}/{} to lo", a.addr, a.prefix_len),
            netlink::new_address(1, a),
        ));
    }
    let mut prefix_routes = Vec::new();
    for (k, iface) in node.interfaces.iter().enumerate() {
        let index = iface_index(node, k);
        for a in [&iface.ipv4, &iface.ipv6].into_iter().flatten() {
            let what = format!("add address {}/{} to {}", a.addr, a.prefix_len, iface.name);
            if metrics.is_empty() {
                out.push(Request::create(what, netlink::new_address(index, a)));
                continue;
            }
            out.push(Request::create(
                what,
                netlink::new_address_noprefixroute(index, a),
            ));
            prefix_routes.push(Request::create(
                format!(
                    "add connected route for {}/{} dev {}",
                    a.addr, a.prefix_len, iface.name
                ),
                netlink::with_metrics(netlink::new_prefix_route(index, a), metrics),
            ));
        }
    }
    // Connected routes first: a gateway must be reachable when a route
    // through it is added.
    out.extend(prefix_routes);
    for r in &node.routes {
        let Some(k) = node.interfaces.iter().position(|i| i.name == r.dev) else {
            continue;
        };
        out.push(Request::create(
            format!(
                "add route {}/{} via {} dev {}",
                r.dst.addr, r.dst.prefix_len, r.via, r.dev
            ),
            netlink::with_metrics(
                netlink::new_route(&r.dst, r.via, iface_index(node, k)),
                metrics,
            ),
        ));
    }
    for r in &node.multipath {
        let hops: Vec<(std::net::IpAddr, u32)> = r
            .nexthops
            .iter()
            .filter_map(|(via, dev)| {
                let k = node.interfaces.iter().position(|i| &i.name == dev)?;
                Some((*via, iface_index(node, k)))
            })
            .collect();
        let shown: Vec<String> = r
            .nexthops
            .iter()
            .map(|(via, dev)| format!("nexthop via {via} dev {dev}"))
            .collect();
        out.push(Request::create(
            format!(
                "add route {}/{} {}",
                r.dst.addr,
                r.dst.prefix_len,
                shown.join(" ")
            ),
            netlink::with_metrics(netlink::new_multipath_route(&r.dst, &hops), metrics),
        ));
    }
    out
}
