//! The imported topology as TOML text, each part preceded by comments that
//! say which snapshot it came from (what `Topology::to_toml` cannot say).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::topology::{FilterKind, PmtuIcmp, Topology};

/// Comments to write above each part.
#[derive(Debug, Default, Clone)]
pub struct Notes {
    /// At the top of the file.
    pub header: Vec<String>,
    /// Above `[nodes.NAME]`.
    pub nodes: BTreeMap<String, Vec<String>>,
    /// Above each `[[links]]`, in order.
    pub links: Vec<Vec<String>>,
    /// Above each `[[filters]]`, in order.
    pub filters: Vec<Vec<String>>,
    /// Above each `[[tunnels]]`, in order.
    pub tunnels: Vec<Vec<String>>,
    /// Above each `[[segments]]`, in order.
    pub segments: Vec<Vec<String>>,
    /// Above each `[[anycast]]`, in order.
    pub anycast: Vec<Vec<String>>,
}

fn q(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

fn comments(out: &mut String, lines: &[String]) {
    for l in lines {
        for part in l.lines() {
            let _ = writeln!(out, "# {part}");
        }
    }
}

/// The file. Without `filters`, the `[[filters]]` are left out (to
/// validate the rest before any ruleset file exists).
pub fn toml(t: &Topology, notes: &Notes, filters: bool) -> String {
    let mut out = String::new();
    comments(&mut out, &notes.header);
    let _ = writeln!(out, "name = {}", q(&t.name));
    if !t.description.is_empty() {
        let _ = writeln!(out, "description = {}", q(&t.description));
    }
    for (name, node) in &t.nodes {
        out.push('\n');
        comments(
            &mut out,
            notes.nodes.get(name).map(Vec::as_slice).unwrap_or(&[]),
        );
        let _ = writeln!(out, "[nodes.{name}]");
        if node.router {
            out.push_str("router = true\n");
        }
        if node.pmtu_icmp == PmtuIcmp::Ignore {
            out.push_str("pmtu_icmp = \"ignore\"\n");
        }
        if !node.sysctl.is_empty() {
            let items: Vec<String> = node
                .sysctl
                .iter()
                .map(|(k, v)| format!("{} = {}", q(k), q(v)))
                .collect();
            let _ = writeln!(out, "sysctl = {{ {} }}", items.join(", "));
        }
        if !node.routes.is_empty() {
            out.push_str("routes = [\n");
            for r in &node.routes {
                let _ = writeln!(
                    out,
                    "  {{ to = {}, via = {} }},",
                    q(&r.to.to_string()),
                    q(&r.via.to_string())
                );
            }
            out.push_str("]\n");
        }
    }
    for (i, l) in t.links.iter().enumerate() {
        out.push('\n');
        comments(
            &mut out,
            notes.links.get(i).map(Vec::as_slice).unwrap_or(&[]),
        );
        out.push_str("[[links]]\n");
        let _ = writeln!(
            out,
            "between = [{}, {}]",
            q(&l.between[0]),
            q(&l.between[1])
        );
        if l.mtu[0] == l.mtu[1] {
            let _ = writeln!(out, "mtu = {}", l.mtu[0]);
        } else {
            let _ = writeln!(out, "mtu = [{}, {}]", l.mtu[0], l.mtu[1]);
        }
        let _ = writeln!(out, "names = [{}, {}]", q(&l.names[0]), q(&l.names[1]));
        for (key, given) in [("addresses", &l.addresses), ("addresses6", &l.addresses6)] {
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
    for (i, seg) in t.segments.iter().enumerate() {
        out.push('\n');
        comments(
            &mut out,
            notes.segments.get(i).map(Vec::as_slice).unwrap_or(&[]),
        );
        out.push_str("[[segments]]\n");
        let list = |items: Vec<String>| items.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ");
        let _ = writeln!(out, "name = {}", q(&seg.name));
        let _ = writeln!(out, "members = [{}]", list(seg.members.clone()));
        if seg.mtu.iter().all(|&m| m == seg.mtu[0]) {
            let _ = writeln!(out, "mtu = {}", seg.mtu[0]);
        } else {
            let items: Vec<String> = seg
                .members
                .iter()
                .zip(&seg.mtu)
                .map(|(m, v)| format!("{} = {v}", q(m)))
                .collect();
            let _ = writeln!(out, "mtu = {{ {} }}", items.join(", "));
        }
        let _ = writeln!(out, "names = [{}]", list(seg.names.clone()));
        for (key, given) in [
            ("addresses", &seg.addresses),
            ("addresses6", &seg.addresses6),
        ] {
            if let Some(a) = given {
                let _ = writeln!(
                    out,
                    "{key} = [{}]",
                    list(a.iter().map(ToString::to_string).collect())
                );
            }
        }
    }
    for (i, tun) in t.tunnels.iter().enumerate() {
        out.push('\n');
        comments(
            &mut out,
            notes.tunnels.get(i).map(Vec::as_slice).unwrap_or(&[]),
        );
        out.push_str("[[tunnels]]\n");
        let _ = writeln!(
            out,
            "between = [{}, {}]",
            q(&tun.between[0]),
            q(&tun.between[1])
        );
        let _ = writeln!(out, "underlay = {}", q(tun.underlay.as_str()));
        if let Some([a, b]) = tun.mtu {
            if a == b {
                let _ = writeln!(out, "mtu = {a}");
            } else {
                let _ = writeln!(out, "mtu = [{a}, {b}]");
            }
        }
        let _ = writeln!(out, "names = [{}, {}]", q(&tun.names[0]), q(&tun.names[1]));
    }
    for (i, a) in t.anycast.iter().enumerate() {
        out.push('\n');
        comments(
            &mut out,
            notes.anycast.get(i).map(Vec::as_slice).unwrap_or(&[]),
        );
        out.push_str("[[anycast]]\n");
        if let Some(v4) = a.address {
            let _ = writeln!(out, "address = {}", q(&v4.to_string()));
        }
        if let Some(v6) = a.address6 {
            let _ = writeln!(out, "address6 = {}", q(&v6.to_string()));
        }
        let items: Vec<String> = a.nodes.iter().map(|n| q(n)).collect();
        let _ = writeln!(out, "nodes = [{}]", items.join(", "));
    }
    if filters {
        for (i, f) in t.filters.iter().enumerate() {
            out.push('\n');
            comments(
                &mut out,
                notes.filters.get(i).map(Vec::as_slice).unwrap_or(&[]),
            );
            out.push_str("[[filters]]\n");
            let _ = writeln!(out, "node = {}", q(&f.node));
            let (key, path) = match &f.kind {
                FilterKind::Nft(p) => ("nft", p),
                FilterKind::Iptables(p) => ("iptables", p),
                FilterKind::Ip6tables(p) => ("ip6tables", p),
                FilterKind::DropPmtuIcmp { hook } => {
                    let _ = writeln!(out, "drop = \"pmtu-icmp\"\nhook = {}", q(hook.as_str()));
                    continue;
                }
            };
            let _ = writeln!(out, "{key} = {}", q(&path.to_string_lossy()));
        }
    }
    out
}
