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
use crate::check_id::CheckId;
use crate::plan::tunnel::UnderlayError;
use crate::plan::{subnets, Plan, PlanError};
use crate::topology::*;

mod addresses;
mod anycast;
mod expect;
mod filters;
mod links;
mod nodes;
mod reachability;
mod routes;
mod segments;
mod tunnels;

use nodes::Nodes;

/// (node, interface name) → the link, segment or tunnel that claimed it
/// (`link 2`, `segment lan`, `tunnel 1`).
type Ifaces = HashMap<(String, String), String>;
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

        let Nodes {
            mut nodes,
            lines: node_lines,
            clamp_spans,
            routes: raw_routes,
        } = self.nodes(raw.nodes)?;
        // Something to check needs two nodes and a link between them.
        match node_lines.iter().collect::<Vec<_>>().as_slice() {
            [] => {
                return self.err(
                    raw.name.span(),
                    "the topology has no nodes: give at least two ([nodes.NAME]) and a [[links]] between them".into(),
                )
            }
            [(name, span)] => {
                return self.err(
                    (*span).clone(),
                    format!("the topology has one node ({name:?}): give at least two and a [[links]] between them"),
                )
            }
            _ => {}
        }
        let (mut links, mut ifaces) = self.links(&raw.links, &nodes)?;
        let mut segments = self.segments(&raw.segments, &nodes, &mut ifaces, links.len())?;
        let filters = self.filters(&raw.filters, &nodes)?;

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
                    (
                        UnderlayError::MtuTooBig { .. } | UnderlayError::CarriesNothing { .. },
                        Some(m),
                    ) => m.span(),
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

/// `[a-z][a-z0-9-]{0,14}`: node and segment names.
pub(crate) fn valid_node_name(name: &str) -> bool {
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
