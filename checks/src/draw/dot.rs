//! Graphviz DOT for those who lay drawings out with `dot`/`neato`: the
//! same nodes, marks and per-end MTUs (`taillabel`/`headlabel`).

use std::fmt::Write as _;

use super::diagram::{Diagram, EdgeKind, Role};

fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

pub fn dot(d: &Diagram) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "graph {} {{", q(&d.title));
    s.push_str("  rankdir=LR;\n  node [fontname=\"DejaVu Sans Mono\" shape=box];\n  edge [fontname=\"DejaVu Sans Mono\" labelfontsize=10 labeldistance=2.2];\n");
    for n in &d.nodes {
        let mut label = n.name.clone();
        for m in &n.marks {
            label.push_str("\\n");
            label.push_str(&m.text());
        }
        let (style, fill) = match n.role {
            Role::Host => ("rounded,filled", "#dbeafe"),
            Role::Router => ("filled", "#fde68a"),
        };
        let pen = if n.marks.iter().any(|m| m.class() != "clamp") {
            " color=\"#d62728\" penwidth=3"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  {} [label={} style={} fillcolor=\"{}\"{}];",
            q(&n.name),
            q(&label).replace("\\\\n", "\\n"),
            q(style),
            fill,
            pen
        );
    }
    for (i, e) in d.edges.iter().enumerate() {
        let failing = d.failing.iter().any(|p| p.edges.contains(&i));
        let mut attrs = Vec::new();
        if e.kind == EdgeKind::Tunnel {
            attrs.push("style=dashed color=\"#6a3d9a\"".to_string());
        }
        if e.mismatched() {
            attrs.push("color=\"#d62728\"".into());
        }
        if failing {
            attrs.push("penwidth=3".into());
        }
        if e.ends.len() == 2 {
            let _ = writeln!(
                s,
                "  {} -- {} [taillabel=\"{}\" headlabel=\"{}\" tooltip={} {}];",
                q(&d.nodes[e.ends[0].node].name),
                q(&d.nodes[e.ends[1].node].name),
                e.ends[0].mtu,
                e.ends[1].mtu,
                q(&e.name),
                attrs.join(" ")
            );
        } else {
            // A segment: a point with a spoke per member.
            let hub = q(&format!("segment {}", e.name));
            let _ = writeln!(
                s,
                "  {hub} [shape=box label={} style=filled fillcolor=\"#e5e7eb\"];",
                q(&e.name)
            );
            for end in &e.ends {
                let _ = writeln!(
                    s,
                    "  {hub} -- {} [headlabel=\"{}\" {}];",
                    q(&d.nodes[end.node].name),
                    end.mtu,
                    attrs.join(" ")
                );
            }
        }
    }
    s.push_str("}\n");
    s
}
