//! Validation: the spanned raw file into a [`Topology`], the first problem
//! as a [`TopologyError`] with file and line. One room per part of the
//! file; the order of the checks (and so which error a file with several
//! problems gets) is the order of [`Validator::topology`].

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use toml::Spanned;

use super::raw::*;
use super::sysctl::{key_problem, SysctlNames};
use super::{base_dir, line_of, Loaded};
use crate::plan::tunnel::UnderlayError;
use crate::plan::{subnets, Plan, PlanError};
use crate::topology::*;

mod addresses;
mod anycast;
mod expect;
mod nodes;
mod reachability;
mod routes;
mod segments;
mod tunnels;

use reachability::unreachable_hosts;

pub(super) struct Validator<'a> {
    pub(super) src: &'a str,
    pub(super) path: &'a Path,
    pub(super) sysctls: &'a dyn SysctlNames,
}

impl Validator<'_> {
    fn err<T>(&self, span: std::ops::Range<usize>, message: String) -> Result<T, TopologyError> {
        Err(TopologyError {
            file: self.path.to_path_buf(),
            line: line_of(self.src, span.start),
            message,
        })
    }

    pub(super) fn topology(&self, raw: RawTopology) -> Result<Loaded, TopologyError> {
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
            let pmtu_icmp = self.pmtu_icmp(&name, &raw_node)?;
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
                if let Some(problem) = key_problem(key.get_ref(), &value, self.sysctls) {
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
                    pmtu_icmp,
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
        // (node, iface) → the link, segment or tunnel that claimed it.
        let mut ifaces: HashMap<(String, String), String> = HashMap::new();
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
                if let Some(by) = ifaces.insert((node.clone(), iface.clone()), what.clone()) {
                    return self.err(
                        span,
                        format!(
                            "{what}: interface name {iface:?} on node {node:?} is already used by {by}"
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

        let mut segments = self.segments(&raw.segments, &nodes, &mut ifaces, links.len())?;
        let tunnels = self.tunnels(
            &raw.tunnels,
            &nodes,
            &mut ifaces,
            links.len() + segments.len(),
        )?;
        self.check_clamp_oifs(&nodes, &ifaces, &clamp_spans)?;
        // User-given addresses, anycast groups, then routes (which need every
        // link's final addressing, automatic included).
        let seen = self.given_addresses(&raw.links, &mut links)?;
        self.segment_addresses(&raw.segments, &mut segments, seen)?;
        let anycast = self.anycast(&raw.anycast, &nodes, &links, &segments)?;
        let subnets = match subnets(&links, &segments, &anycast) {
            Ok(s) => s,
            Err(i) => return self.no_subnet(&raw.links, &raw.segments, i),
        };
        for (name, routes) in raw_routes {
            let given = self.routes(&name, routes, &links, &segments, &subnets)?;
            if let Some(n) = nodes.get_mut(&name) {
                n.routes = given;
            }
        }

        // Every pair of hosts must reach each other with only routers forwarding.
        if let Some((a, b)) = unreachable_hosts(&nodes, &links, &segments) {
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
            segments,
        };
        // The plan, once: tunnel endpoints must reach each other over the
        // physical links, and a given MTU must fit the underlay (needs the
        // routing, so last).
        match Plan::try_new(&topology) {
            Ok(plan) => Ok(Loaded { topology, plan }),
            Err(PlanError::Tunnel { tunnel: k, error }) => {
                let t = raw.tunnels[k].get_ref();
                let span = match (&error, &t.mtu) {
                    (UnderlayError::MtuTooBig { .. }, Some(m)) => m.span(),
                    _ => t.between.span(),
                };
                self.err(span, format!("tunnel {}: {error}", k + 1))
            }
            Err(PlanError::NoSubnet { link }) => self.no_subnet(&raw.links, &raw.segments, link),
        }
    }

    /// The error for link or segment `i` (0-based, segments after the
    /// links) when automatic addressing runs out.
    fn no_subnet<T>(
        &self,
        links: &[Spanned<RawLink>],
        segments: &[Spanned<RawSegment>],
        i: usize,
    ) -> Result<T, TopologyError> {
        match links.get(i) {
            Some(l) => self.err(l.get_ref().between.span(), no_subnet_message(i)),
            None => {
                let s = segments[i - links.len()].get_ref();
                self.err(
                    s.name.span(),
                    format!(
                        "segment {}: no free /24 of 198.18.0.0/15 is left for automatic addressing",
                        s.name.get_ref()
                    ),
                )
            }
        }
    }
}

/// The error for link `i` (0-based) when automatic addressing runs out.
fn no_subnet_message(i: usize) -> String {
    format!(
        "link {}: no free /24 of 198.18.0.0/15 is left for automatic addressing",
        i + 1
    )
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
