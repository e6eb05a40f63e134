//! Generated topologies: chains (format round trips, the two rules) and
//! trees with hosts, filters, clamps and sysctls (the model property).

use super::*;

/// What a generated topology may contain.
#[derive(Clone, Copy)]
pub(crate) struct Allow {
    pub(crate) mismatches: bool,
    pub(crate) filters: bool,
}

/// Common MTUs mostly, any MTU in 552..=9000 sometimes. Listed widest
/// first because `select` shrinks towards the first: a link that plays no
/// part in a failure shrinks to 9000, too wide to matter, and drops out of
/// the picture.
pub(crate) fn mtu() -> impl Strategy<Value = u32> {
    prop_oneof![
        5 => prop::sample::select(vec![9000u32, 4000, 1500, 1450, 1446, 1400, 1280]),
        1 => 552u32..=9000,
    ]
}

/// One link of the chain: its MTU and, maybe, a different MTU on the far end.
pub(crate) fn link_spec(mismatch: bool) -> BoxedStrategy<(u32, Option<u32>)> {
    if mismatch {
        (mtu(), prop::option::weighted(0.5, mtu())).boxed()
    } else {
        mtu().prop_map(|m| (m, None)).boxed()
    }
}

/// The links of a chain with 0–4 routers, in order from h0 to h1. Built as
/// first + router-router links + last so that shrinking removes routers
/// without moving a mismatch onto a host's link.
pub(crate) fn chain(mismatch: bool) -> impl Strategy<Value = Vec<(u32, Option<u32>)>> {
    let spec = || link_spec(mismatch);
    prop_oneof![
        4 => (spec(), prop::collection::vec(spec(), 0..=3), spec()).prop_map(
            |(first, mut middle, last)| {
                middle.insert(0, first);
                middle.push(last);
                middle
            }
        ),
        1 => spec().prop_map(|s| vec![s]),
    ]
}

pub(crate) fn hook() -> impl Strategy<Value = Hook> {
    prop::sample::select(vec![Hook::Input, Hook::Forward, Hook::Output])
}

/// Chain `h0 - r0 - … - r(n-1) - h1`; `links[i]` joins node i and i+1.
/// Mismatches (when `mismatch_anywhere` is false) are kept to router-router
/// links.
pub(crate) fn build(
    name: String,
    description: String,
    links: &[(u32, Option<u32>)],
    filters: &[(usize, Hook)],
    mismatch_anywhere: bool,
) -> Topology {
    let routers = links.len() - 1;
    let mut chain = vec!["h0".to_string()];
    chain.extend((0..routers).map(|i| format!("r{i}")));
    chain.push("h1".to_string());
    let mut nodes = BTreeMap::new();
    for n in &chain {
        nodes.insert(
            n.clone(),
            Node {
                router: n.starts_with('r'),
                sysctl: Vec::new(),
                ..Node::default()
            },
        );
    }
    let betweens: Vec<[String; 2]> = chain
        .windows(2)
        .map(|w| [w[0].clone(), w[1].clone()])
        .collect();
    let names = default_iface_names(&betweens);
    let last = betweens.len() - 1;
    let links = betweens
        .into_iter()
        .zip(names)
        .enumerate()
        .map(|(i, (between, names))| {
            let (a, b) = links[i];
            let between_routers = i != 0 && i != last;
            let b = match b {
                Some(b) if mismatch_anywhere || between_routers => b,
                _ => a,
            };
            Link {
                between,
                mtu: [a, b],
                names,
                ..Link::default()
            }
        })
        .collect();
    assemble(name, description, nodes, links, &chain, filters)
}

/// The topology of `nodes` and `links`, with a `drop = "pmtu-icmp"` filter
/// at `order[at % len]` for each of `filters`.
pub(crate) fn assemble(
    name: String,
    description: String,
    nodes: BTreeMap<String, Node>,
    links: Vec<Link>,
    order: &[String],
    filters: &[(usize, Hook)],
) -> Topology {
    let filters = filters
        .iter()
        .map(|&(at, hook)| Filter {
            node: order[at % order.len()].clone(),
            kind: FilterKind::DropPmtuIcmp { hook },
        })
        .collect();
    Topology {
        name,
        description,
        source: None,
        nodes,
        links,
        filters,
        expect: None,
        ..Topology::default()
    }
}

/// Topologies for the format property: any valid name, description,
/// mismatches and filters as allowed.
pub(crate) fn any_topology(allow: Allow) -> impl Strategy<Value = Topology> {
    (
        "[a-z0-9_-]{1,24}",
        prop_oneof![3 => Just(String::new()), 1 => "[ -~]{0,30}", 1 => "\\PC{0,12}"],
        chain(allow.mismatches),
        if allow.filters {
            prop::collection::vec((0usize..6, hook()), 0..3).boxed()
        } else {
            Just(Vec::new()).boxed()
        },
    )
        .prop_map(|(name, desc, links, filters)| build(name, desc, &links, &filters, true))
}

/// Topologies for live properties: short unique names, matching ends unless
/// `allow.mismatches` (then only between routers), filters only if allowed.
pub(crate) fn live_topology(prefix: &'static str, allow: Allow) -> impl Strategy<Value = Topology> {
    (
        chain(allow.mismatches),
        if allow.filters {
            prop::collection::vec((0usize..6, hook()), 0..2).boxed()
        } else {
            Just(Vec::new()).boxed()
        },
    )
        .prop_map(move |(links, filters)| {
            // The lab id adds the pid and a sequence number to the name.
            build(prefix.to_string(), String::new(), &links, &filters, false)
        })
}

/// Tree topologies for `model_matches_kernel`: a chain `h0 - r0 … - h1` of
/// 0–4 routers (none: rarely, ~2 %), up to two more hosts hanging off its routers, per-end
/// mismatches on any link now and then, declarative ICMP filters at random
/// nodes and hooks, `tcp_mtu_probing=1` on a random host now and then, an
/// `mss_clamp` on a random router now and then (a second one rarely), a
/// segment `lan` joining some routers (and maybe a host of its own) now and
/// then, with an odd member sometimes, and a host that ignores PMTU ICMP
/// (`pmtu_icmp = "ignore"`) now and then. Every part is a vec or an
/// option, so shrinking removes routers, hosts, filters, clamps, the
/// segment, its odd member and mismatches one at a time.
pub(crate) fn tree_topology(prefix: &'static str) -> impl Strategy<Value = Topology> {
    let spec = || (mtu(), prop::option::weighted(0.2, mtu()));
    (
        (
            spec(),
            prop::collection::vec(spec(), 0..=3),
            prop::option::weighted(0.8, spec()),
        ),
        prop::collection::vec((0usize..4, spec()), 0..=2),
        prop::collection::vec((0usize..8, hook()), 0..=2),
        prop::option::weighted(0.1, 0usize..4),
        (
            prop::option::weighted(0.35, clamp()),
            prop::option::weighted(0.1, clamp()),
        ),
        (
            prop::option::weighted(0.3, segment()),
            prop::option::weighted(0.2, 0usize..4),
        ),
    )
        .prop_map(
            move |((first, middle, last), extra, filters, probing, clamps, (segment, ignoring))| {
                // No last link: the chain ends with the first extra host's
                // link, else with the last router-router link (h1 takes
                // the far router's place), else h0 - h1 directly. So
                // shrinking that drops the last link keeps a mismatch on
                // any link and can bring it onto a two-link chain.
                let mut chain = vec![first];
                let mut extra = extra;
                chain.extend(middle);
                match last {
                    Some(last) => chain.push(last),
                    None if !extra.is_empty() => chain.push(extra.remove(0).1),
                    None => {}
                }
                if chain.len() == 1 {
                    extra.clear();
                }
                let clamps: Vec<ClampSpec> = [clamps.0, clamps.1].into_iter().flatten().collect();
                let mut t = build_tree(prefix, &chain, &extra, &filters, probing, &clamps);
                if let Some(seg) = segment {
                    add_segment(&mut t, chain.len() - 1, &seg);
                }
                if let Some(i) = ignoring {
                    let hosts: Vec<String> = t.hosts().into_iter().map(String::from).collect();
                    if let Some(n) = t.nodes.get_mut(&hosts[i % hosts.len()]) {
                        n.pmtu_icmp = PmtuIcmp::Ignore;
                    }
                }
                t
            },
        )
}

/// A segment for [`add_segment`]: router indexes (modulo the routers;
/// repeats count once), whether a host of its own joins it, the MTU of its
/// members, and maybe one odd member (index modulo the members, its MTU).
#[derive(Debug, Clone)]
pub(crate) struct SegmentSpec {
    pub(crate) routers: Vec<usize>,
    pub(crate) host: bool,
    pub(crate) mtu: u32,
    pub(crate) odd: Option<(usize, u32)>,
}

pub(crate) fn segment() -> impl Strategy<Value = SegmentSpec> {
    (
        prop::collection::vec(0usize..4, 1..=3),
        prop::bool::weighted(0.5),
        mtu(),
        prop::option::weighted(0.4, (0usize..4, mtu())),
    )
        .prop_map(|(routers, host, mtu, odd)| SegmentSpec {
            routers,
            host,
            mtu,
            odd,
        })
}

/// Segment `lan` on `t` (a tree with `routers` routers r0…): the routers
/// of `spec` and, if it says so, a new host; none when fewer than two
/// members are left.
pub(crate) fn add_segment(t: &mut Topology, routers: usize, spec: &SegmentSpec) {
    if routers == 0 {
        return;
    }
    let mut members: Vec<String> = Vec::new();
    for &i in &spec.routers {
        let r = format!("r{}", i % routers);
        if !members.contains(&r) {
            members.push(r);
        }
    }
    if spec.host {
        let host = format!("h{}", t.hosts().len());
        t.nodes.insert(host.clone(), Node::default());
        members.push(host);
    }
    if members.len() < 2 {
        return;
    }
    let mut mtu = vec![spec.mtu; members.len()];
    if let Some((i, m)) = spec.odd {
        let k = i % mtu.len();
        mtu[k] = m;
    }
    t.segments.push(Segment {
        name: "lan".into(),
        names: vec!["lan".into(); members.len()],
        members,
        mtu,
        addresses: None,
        addresses6: None,
    });
}

/// An `mss_clamp` for `build_tree`: router index (modulo the routers),
/// what to clamp to, and maybe an `mss_clamp_oif` (index, modulo the
/// router's interfaces).
pub(crate) type ClampSpec = (usize, ClampTo, Option<usize>);

/// A router's MSS clamp now and then: `"pmtu"` or a fixed MSS from a
/// meaningful set (what fits 1200, 1280, 1400, 1420, 1500 and 8040-byte
/// packets, IPv4), sometimes limited to one outgoing interface. Listed
/// weakest first (8000 lowers nothing below a 8040-byte path), so that
/// `select` shrinks towards the clamp that changes least; the options
/// around it shrink to no clamp at all.
pub(crate) fn clamp() -> impl Strategy<Value = ClampSpec> {
    (
        0usize..4,
        prop::sample::select(vec![
            ClampTo::Mss(8000),
            ClampTo::Mss(1460),
            ClampTo::Mss(1400),
            ClampTo::Mss(1360),
            ClampTo::Mss(1240),
            ClampTo::Mss(1160),
            ClampTo::Pmtu,
        ]),
        prop::option::weighted(0.3, 0usize..4),
    )
}

/// `chain[i]` joins node i and i+1 of `h0 r0 … h1`; `extra[k]` joins host
/// h(2+k) to router `r(at % routers)`.
pub(crate) fn build_tree(
    name: &str,
    chain: &[(u32, Option<u32>)],
    extra: &[(usize, (u32, Option<u32>))],
    filters: &[(usize, Hook)],
    probing: Option<usize>,
    clamps: &[ClampSpec],
) -> Topology {
    let routers = chain.len() - 1;
    let mut order = vec!["h0".to_string()];
    order.extend((0..routers).map(|i| format!("r{i}")));
    order.push("h1".to_string());
    let mut betweens: Vec<[String; 2]> = order
        .windows(2)
        .map(|w| [w[0].clone(), w[1].clone()])
        .collect();
    let mut specs = chain.to_vec();
    let mut hosts = vec!["h0".to_string(), "h1".to_string()];
    if routers > 0 {
        for (k, &(at, spec)) in extra.iter().enumerate() {
            let host = format!("h{}", k + 2);
            betweens.push([format!("r{}", at % routers), host.clone()]);
            specs.push(spec);
            hosts.push(host.clone());
            order.push(host);
        }
    }
    let probing_host = probing.map(|i| hosts[i % hosts.len()].clone());
    let mut nodes: BTreeMap<String, Node> = order
        .iter()
        .map(|n| {
            let mut sysctl = Vec::new();
            if probing_host.as_deref() == Some(n.as_str()) {
                sysctl.push(("net.ipv4.tcp_mtu_probing".to_string(), "1".to_string()));
            }
            let node = Node {
                router: n.starts_with('r'),
                sysctl,
                ..Node::default()
            };
            (n.clone(), node)
        })
        .collect();
    let names = default_iface_names(&betweens);
    // Each clamp's router and its interfaces (as the router names them).
    let clamps: BTreeMap<String, MssClamp> = if routers == 0 {
        BTreeMap::new()
    } else {
        clamps
            .iter()
            .map(|&(at, to, oif)| {
                let router = format!("r{}", at % routers);
                let ifaces: Vec<&String> = betweens
                    .iter()
                    .zip(&names)
                    .flat_map(|(b, n)| b.iter().zip(n).filter(|(node, _)| **node == router))
                    .map(|(_, name)| name)
                    .collect();
                let oif = oif.map(|i| ifaces[i % ifaces.len()].clone());
                (router, MssClamp { to, oif })
            })
            .collect()
    };
    for (router, clamp) in clamps {
        if let Some(n) = nodes.get_mut(&router) {
            n.mss_clamp = Some(clamp);
        }
    }
    let links = betweens
        .into_iter()
        .zip(names)
        .zip(specs)
        .map(|((between, names), (a, b))| Link {
            between,
            mtu: [a, b.unwrap_or(a)],
            names,
            ..Link::default()
        })
        .collect();
    assemble(
        name.to_string(),
        String::new(),
        nodes,
        links,
        &order,
        filters,
    )
}
