//! Writing a topology back to the file format (proptest round trips, and a
//! shrunk failing case printed as a ready-to-save file).

use std::fmt::Write as _;
use std::path::Path;

use crate::load::base_dir;

use super::{
    default_iface_names, default_tunnel_names, ClampTo, Family, FilterKind, PmtuIcmp, Topology,
    TunnelKind,
};

impl Topology {
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
            if node.pmtu_icmp != PmtuIcmp::Obey {
                let _ = writeln!(out, "pmtu_icmp = {}", q(node.pmtu_icmp.as_str()));
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
        self.segments_toml(&mut out);
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
                let items: Vec<String> = v.iter().map(|s| q(s.as_str())).collect();
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
                    let items: Vec<String> = f.violations.iter().map(|s| q(s.as_str())).collect();
                    let _ = writeln!(out, "violations = [{}]", items.join(", "));
                }
            }
        }
        out
    }

    /// The `[[segments]]` part of [`Topology::to_toml`].
    fn segments_toml(&self, out: &mut String) {
        let q = quote;
        let list = |items: &mut dyn Iterator<Item = String>| {
            items.map(|s| q(&s)).collect::<Vec<_>>().join(", ")
        };
        for s in &self.segments {
            out.push_str("\n[[segments]]\n");
            let _ = writeln!(out, "name = {}", q(&s.name));
            let _ = writeln!(out, "members = [{}]", list(&mut s.members.iter().cloned()));
            if s.mtu.iter().all(|&m| m == s.mtu[0]) {
                let _ = writeln!(out, "mtu = {}", s.mtu[0]);
            } else {
                let items: Vec<String> = s
                    .members
                    .iter()
                    .zip(&s.mtu)
                    .map(|(m, v)| format!("{} = {v}", q(m)))
                    .collect();
                let _ = writeln!(out, "mtu = {{ {} }}", items.join(", "));
            }
            if s.names.iter().any(|n| *n != s.name) {
                let _ = writeln!(out, "names = [{}]", list(&mut s.names.iter().cloned()));
            }
            for (key, given) in [("addresses", &s.addresses), ("addresses6", &s.addresses6)] {
                if let Some(ends) = given {
                    let _ = writeln!(
                        out,
                        "{key} = [{}]",
                        list(&mut ends.iter().map(ToString::to_string))
                    );
                }
            }
        }
    }

    /// The `[[tunnels]]` part of [`Topology::to_toml`].
    fn tunnels_toml(&self, out: &mut String) {
        let q = quote;
        let defaults = default_tunnel_names(self.tunnels.iter().map(|t| (&t.between, t.kind)));
        for (t, default) in self.tunnels.iter().zip(&defaults) {
            out.push_str("\n[[tunnels]]\n");
            let _ = writeln!(
                out,
                "between = [{}, {}]",
                q(&t.between[0]),
                q(&t.between[1])
            );
            if t.kind != TunnelKind::default() {
                let _ = writeln!(out, "kind = {}", q(t.kind.as_str()));
            }
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
}

/// A TOML basic string literal for `s`.
fn quote(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}
