//! `mtulab snapshot`: a read-only capture of the network state of the
//! calling thread's namespace (links, addresses, routes of every table,
//! forwarding and the PMTU sysctls, the nft ruleset, iptables rules) as one
//! versioned JSON document, [`Snapshot`] (schema: `docs/snapshot-schema.md`).
//!
//! Everything is read: rtnetlink dumps ([`crate::netlink::Rtnl::dump_links`]
//! and friends), `/proc/sys` files opened by this thread (a `net.*` sysctl
//! belongs to the namespace of the thread that opens it), and `nft list
//! ruleset` / `iptables-save` / `ip6tables-save` run as children, which
//! inherit the calling thread's namespace. Nothing is ever written. What
//! cannot be read is listed in [`Snapshot::unread`] with the reason, never
//! dropped silently.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::Command;

use crate::netlink::{NetlinkError, Rtnl};

/// The document's types live in `mtulab_core::snapshot` (pure: import reads
/// them without the kernel side); re-exported here beside [`capture`].
pub use mtulab_core::snapshot::{
    json_schema, Address, Link, NextHop, Route, Snapshot, SnapshotParseError, Unread, Vxlan,
    FORWARDING_SYSCTLS, SCHEMA,
};

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("read the namespace's links, addresses and routes: {0}")]
    Netlink(#[from] NetlinkError),
}

/// Capture the calling thread's namespace. Fails only when rtnetlink
/// cannot be read at all; every other gap goes into `unread`.
pub fn capture(node: Option<String>) -> Result<Snapshot, SnapshotError> {
    let mut rtnl = Rtnl::open()?;
    let mut unread = Vec::new();
    let raw_links = rtnl.dump_links()?;
    let names: BTreeMap<u32, String> = raw_links
        .iter()
        .map(|l| (l.header.index, name_of(l)))
        .collect();
    let links = raw_links
        .iter()
        .map(|l| decode_link(l, &names))
        .collect::<Vec<_>>();
    let addresses = rtnl
        .dump_addresses()?
        .iter()
        .filter_map(|a| decode_address(a, &names))
        .collect();
    let mut routes = Vec::new();
    for v6 in [false, true] {
        for r in rtnl.dump_routes(v6)? {
            routes.push(decode_route(&r, &names));
        }
    }
    for r in &routes {
        if let Some(id) = r.nhid {
            unread.push(Unread {
                what: format!("nexthop object {id} (route to {} table {})", r.to, r.table),
                reason: "nexthop objects (RTM_GETNEXTHOP) are not decoded by this version; \
                         the route is listed with its nhid only"
                    .into(),
            });
        }
    }
    drop(rtnl);

    let mut sysctl = BTreeMap::new();
    let keys = FORWARDING_SYSCTLS
        .iter()
        .copied()
        .chain(crate::sysctl::PMTU_SYSCTLS.iter().map(|(k, _, _)| *k));
    for key in keys {
        match crate::sysctl::read(key) {
            Ok(v) => {
                sysctl.insert(key.to_string(), v);
            }
            Err(e) => unread.push(Unread {
                what: format!("sysctl {key}"),
                reason: e.to_string(),
            }),
        }
    }

    let nft = run_tool("nft", &["list", "ruleset"], "nft ruleset", &mut unread);
    let iptables = run_tool("iptables-save", &[], "iptables rules", &mut unread);
    let ip6tables = run_tool("ip6tables-save", &[], "ip6tables rules", &mut unread);
    let iptables_backend = Command::new("iptables")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| {
            let s = String::from_utf8_lossy(&o.stdout).to_string();
            if s.contains("nf_tables") {
                Some("nf_tables".to_string())
            } else if s.contains("legacy") {
                Some("legacy".to_string())
            } else {
                None
            }
        });

    Ok(Snapshot {
        schema: SCHEMA.to_string(),
        node,
        hostname: std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string()),
        taken: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        mtulab: env!("CARGO_PKG_VERSION").to_string(),
        links,
        addresses,
        routes,
        sysctl,
        nft,
        iptables,
        ip6tables,
        iptables_backend,
        unread,
    })
}

/// Run a read-only tool; its standard output, or an `unread` entry. A tool
/// that is not installed is listed too (its rules, if any, are unknown).
fn run_tool(tool: &str, args: &[&str], what: &str, unread: &mut Vec<Unread>) -> Option<String> {
    match Command::new(tool).args(args).output() {
        Ok(o) if o.status.success() => Some(String::from_utf8_lossy(&o.stdout).into_owned()),
        Ok(o) => {
            unread.push(Unread {
                what: what.to_string(),
                reason: format!(
                    "{tool} {} failed ({}): {}",
                    args.join(" "),
                    o.status,
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
            });
            None
        }
        Err(e) => {
            unread.push(Unread {
                what: what.to_string(),
                reason: format!("cannot run {tool}: {e}"),
            });
            None
        }
    }
}

use netlink_packet_route::address::{AddressAttribute, AddressMessage};
use netlink_packet_route::link::{
    InfoData, InfoVxlan, LinkAttribute, LinkFlags, LinkInfo, LinkMessage,
};
use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteMetric};
use netlink_packet_route::AddressFamily;

fn name_of(l: &LinkMessage) -> String {
    l.attributes
        .iter()
        .find_map(|a| match a {
            LinkAttribute::IfName(n) => Some(n.clone()),
            _ => None,
        })
        .unwrap_or_else(|| format!("if{}", l.header.index))
}

fn decode_link(l: &LinkMessage, names: &BTreeMap<u32, String>) -> Link {
    let mut out = Link {
        index: l.header.index,
        name: name_of(l),
        kind: None,
        mtu: 0,
        up: l.header.flags.contains(LinkFlags::Up),
        oper_state: "unknown".into(),
        peer_index: None,
        link_netnsid: None,
        master: None,
        vxlan: None,
    };
    for a in &l.attributes {
        match a {
            LinkAttribute::Mtu(m) => out.mtu = *m,
            LinkAttribute::OperState(s) => out.oper_state = format!("{s:?}").to_lowercase(),
            LinkAttribute::Link(i) => out.peer_index = Some(*i),
            LinkAttribute::LinkNetNsId(i) => out.link_netnsid = Some(*i),
            LinkAttribute::Controller(i) => {
                out.master = Some(names.get(i).cloned().unwrap_or_else(|| format!("if{i}")))
            }
            LinkAttribute::LinkInfo(infos) => {
                for info in infos {
                    match info {
                        LinkInfo::Kind(k) => out.kind = Some(k.to_string()),
                        LinkInfo::Data(InfoData::Vxlan(v)) => {
                            out.vxlan = Some(decode_vxlan(v, names))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn decode_vxlan(attrs: &[InfoVxlan], names: &BTreeMap<u32, String>) -> Vxlan {
    let mut v = Vxlan {
        vni: 0,
        local: None,
        remote: None,
        port: None,
        dev: None,
        learning: None,
    };
    for a in attrs {
        match a {
            InfoVxlan::Id(id) => v.vni = *id,
            InfoVxlan::Local(a) => v.local = Some((*a).into()),
            InfoVxlan::Local6(a) => v.local = Some((*a).into()),
            InfoVxlan::Group(a) => v.remote = Some((*a).into()),
            InfoVxlan::Group6(a) => v.remote = Some((*a).into()),
            InfoVxlan::Port(p) => v.port = Some(*p),
            InfoVxlan::Learning(l) => v.learning = Some(*l),
            InfoVxlan::Link(i) if *i != 0 => {
                v.dev = Some(names.get(i).cloned().unwrap_or_else(|| format!("if{i}")))
            }
            _ => {}
        }
    }
    v
}

fn scope_name(s: u8) -> String {
    match s {
        0 => "universe".into(),
        200 => "site".into(),
        253 => "link".into(),
        254 => "host".into(),
        255 => "nowhere".into(),
        n => format!("other({n})"),
    }
}

fn decode_address(a: &AddressMessage, names: &BTreeMap<u32, String>) -> Option<Address> {
    // IPv4 carries the interface's own address in IFA_LOCAL (IFA_ADDRESS is
    // the peer on point-to-point links); IPv6 only has IFA_ADDRESS.
    let mut local = None;
    let mut address = None;
    for attr in &a.attributes {
        match attr {
            AddressAttribute::Local(x) => local = Some(*x),
            AddressAttribute::Address(x) => address = Some(*x),
            _ => {}
        }
    }
    Some(Address {
        link: names
            .get(&a.header.index)
            .cloned()
            .unwrap_or_else(|| format!("if{}", a.header.index)),
        address: local.or(address)?,
        prefix_len: a.header.prefix_len,
        scope: scope_name(u8::from(a.header.scope)),
    })
}

fn route_type_name(t: u8) -> String {
    [
        "unspec",
        "unicast",
        "local",
        "broadcast",
        "anycast",
        "multicast",
        "blackhole",
        "unreachable",
        "prohibit",
        "throw",
        "nat",
    ]
    .get(usize::from(t))
    .map_or_else(|| format!("other({t})"), |s| s.to_string())
}

fn addr_of(a: &RouteAddress) -> Option<IpAddr> {
    match a {
        RouteAddress::Inet(a) => Some((*a).into()),
        RouteAddress::Inet6(a) => Some((*a).into()),
        _ => None,
    }
}

fn decode_route(r: &RouteMessage, names: &BTreeMap<u32, String>) -> Route {
    let v6 = r.header.address_family == AddressFamily::Inet6;
    let name = |i: &u32| names.get(i).cloned().unwrap_or_else(|| format!("if{i}"));
    let mut table = u32::from(r.header.table);
    let mut dst = None;
    let mut out = Route {
        family: if v6 { "ipv6" } else { "ipv4" }.into(),
        table: 0,
        kind: route_type_name(u8::from(r.header.kind)),
        protocol: r.header.protocol.to_string().to_lowercase(),
        scope: scope_name(u8::from(r.header.scope)),
        to: String::new(),
        via: None,
        dev: None,
        metric: None,
        mtu: None,
        nexthops: Vec::new(),
        nhid: None,
    };
    for a in &r.attributes {
        match a {
            RouteAttribute::Table(t) => table = *t,
            RouteAttribute::Destination(d) => dst = addr_of(d),
            RouteAttribute::Gateway(g) => out.via = addr_of(g),
            RouteAttribute::Oif(i) => out.dev = Some(name(i)),
            RouteAttribute::Priority(p) => out.metric = Some(*p),
            RouteAttribute::NhId(id) => out.nhid = Some(*id),
            RouteAttribute::Metrics(ms) => {
                for m in ms {
                    if let RouteMetric::Mtu(v) = m {
                        out.mtu = Some(*v);
                    }
                }
            }
            RouteAttribute::MultiPath(hops) => {
                for h in hops {
                    out.nexthops.push(NextHop {
                        via: h.attributes.iter().find_map(|a| match a {
                            RouteAttribute::Gateway(g) => addr_of(g),
                            _ => None,
                        }),
                        dev: (h.interface_index != 0).then(|| name(&h.interface_index)),
                        weight: u32::from(h.hops) + 1,
                    });
                }
            }
            _ => {}
        }
    }
    out.table = table;
    let dst = dst.unwrap_or(if v6 {
        IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
    });
    out.to = format!("{dst}/{}", r.header.destination_prefix_length);
    out
}
