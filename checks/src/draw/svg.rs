//! The SVG drawing: every box exactly where [`super::layout`] put it.

use std::fmt::Write as _;

use super::diagram::{Diagram, EdgeKind, Role};
use super::layout::{Curve, Layout, MARK_LINE_H};

/// Height of the legend row below the drawing.
pub const LEGEND_H: f64 = 34.0;

pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn path_d(c: &Curve) -> String {
    format!(
        "M{:.1},{:.1} Q{:.1},{:.1} {:.1},{:.1}",
        c.a.0, c.a.1, c.c.0, c.c.1, c.b.0, c.b.1
    )
}

/// The style the drawing needs; the HTML report adds its own around it.
pub const STYLE: &str = r#"
.mtulab-drawing { font-family: "DejaVu Sans Mono", monospace; }
.mtulab-drawing .edge { fill: none; stroke: #555; stroke-width: 2; }
.mtulab-drawing .edge.tunnel { stroke: #6a3d9a; stroke-dasharray: 7 4; }
.mtulab-drawing .edge.mismatch { stroke: #d62728; }
.mtulab-drawing .hl { fill: none; stroke: #ff6b6b; stroke-width: 10; stroke-opacity: 0.45; stroke-linecap: round; }
.mtulab-drawing .node rect { stroke: #333; stroke-width: 1.5; }
.mtulab-drawing .node.host rect { fill: #dbeafe; }
.mtulab-drawing .node.router rect { fill: #fde68a; }
.mtulab-drawing .node.marked rect { stroke: #d62728; stroke-width: 3; }
.mtulab-drawing .node .name { font-size: 13px; font-weight: bold; fill: #111; }
.mtulab-drawing .mark { font-size: 12px; }
.mtulab-drawing .mark.drop { fill: #b91c1c; }
.mtulab-drawing .mark.ruleset { fill: #92400e; }
.mtulab-drawing .mark.clamp { fill: #166534; }
.mtulab-drawing .segment rect { fill: #e5e7eb; stroke: #333; }
.mtulab-drawing .mtu rect { fill: #fff; stroke: #999; stroke-width: 1; }
.mtulab-drawing .mtu.odd rect { fill: #fee2e2; stroke: #d62728; stroke-width: 1.5; }
.mtulab-drawing .mtu text, .mtulab-drawing .legend text { font-size: 12px; fill: #111; }
"#;

/// The drawing alone, as one `<svg>` element (legend below when `legend`).
pub fn svg(d: &Diagram, l: &Layout, legend: bool) -> String {
    let h = l.height + if legend { LEGEND_H } else { 0.0 };
    let w = if legend { l.width.max(780.0) } else { l.width };
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="mtulab-drawing" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" data-topology="{}">"#,
        esc(&d.title)
    );
    let _ = writeln!(s, "<title>{}</title>", esc(&d.title));
    let _ = writeln!(s, "<style>{STYLE}</style>");
    // Failing paths under everything.
    s.push_str("<g class=\"failing\">\n");
    for i in 0..d.edges.len() {
        let on: Vec<String> = d
            .failing
            .iter()
            .enumerate()
            .filter(|(_, p)| p.edges.contains(&i))
            .map(|(k, _)| format!("p{k}"))
            .collect();
        if on.is_empty() {
            continue;
        }
        for c in &l.edges[i].curves {
            let _ = writeln!(
                s,
                r#"<path class="hl {}" d="{}"/>"#,
                on.join(" "),
                path_d(c)
            );
        }
    }
    s.push_str("</g>\n<g class=\"edges\">\n");
    for (i, e) in d.edges.iter().enumerate() {
        let kind = match e.kind {
            EdgeKind::Link => "link",
            EdgeKind::Tunnel => "tunnel",
            EdgeKind::Segment => "segment",
        };
        let mis = if e.mismatched() { " mismatch" } else { "" };
        let ends: Vec<String> = e
            .ends
            .iter()
            .map(|x| format!("{}:{} {}", d.nodes[x.node].name, x.iface, x.mtu))
            .collect();
        let title = format!("{}: {}", e.name, ends.join(" / "));
        for c in &l.edges[i].curves {
            let _ = writeln!(
                s,
                r#"<path class="edge {kind}{mis}" data-edge="{i}" d="{}"><title>{}</title></path>"#,
                path_d(c),
                esc(&title)
            );
        }
        if let Some(hub) = &l.edges[i].hub {
            let _ = writeln!(
                s,
                r#"<g class="segment"><rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" rx="3"/><text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="12">{}</text></g>"#,
                hub.x,
                hub.y,
                hub.w,
                hub.h,
                hub.cx(),
                hub.cy() + 4.0,
                esc(&e.name)
            );
        }
    }
    s.push_str("</g>\n<g class=\"nodes\">\n");
    for (i, n) in d.nodes.iter().enumerate() {
        let r = &l.nodes[i];
        let role = match n.role {
            Role::Host => "host",
            Role::Router => "router",
        };
        let marked = if n.marks.iter().any(|m| m.class() != "clamp") {
            " marked"
        } else {
            ""
        };
        let rx = if n.role == Role::Host { 12 } else { 0 };
        let lines = n.marks.len() as f64;
        let name_y = r.cy() + 4.5 - lines * MARK_LINE_H / 2.0;
        let mut title = format!("{} ({role})", n.name);
        for m in &n.marks {
            title.push_str(&format!("; {}", m.text()));
        }
        let _ = write!(
            s,
            r#"<g class="node {role}{marked}" data-node="{0}"><title>{1}</title><rect x="{2:.1}" y="{3:.1}" width="{4:.1}" height="{5:.1}" rx="{rx}"/><text class="name" x="{6:.1}" y="{7:.1}" text-anchor="middle">{0}</text>"#,
            esc(&n.name),
            esc(&title),
            r.x,
            r.y,
            r.w,
            r.h,
            r.cx(),
            name_y
        );
        for (k, m) in n.marks.iter().enumerate() {
            let _ = write!(
                s,
                r#"<text class="mark {}" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                m.class(),
                r.cx(),
                name_y + (k as f64 + 1.0) * MARK_LINE_H,
                esc(&m.text())
            );
        }
        s.push_str("</g>\n");
    }
    s.push_str("</g>\n<g class=\"labels\">\n");
    for lb in &l.labels {
        let e = &d.edges[lb.edge];
        let end = &e.ends[lb.end];
        let node = &d.nodes[end.node].name;
        let odd = if e.odd_end(lb.end) { " odd" } else { "" };
        let r = &lb.rect;
        let _ = writeln!(
            s,
            r#"<g class="mtu{odd}" data-node="{0}" data-iface="{1}" data-mtu="{2}"><title>{0}:{1} MTU {2} ({3})</title><rect x="{4:.1}" y="{5:.1}" width="{6:.1}" height="{7:.1}" rx="3"/><text x="{8:.1}" y="{9:.1}" text-anchor="middle">{10}</text></g>"#,
            esc(node),
            esc(&end.iface),
            end.mtu,
            esc(&e.name),
            r.x,
            r.y,
            r.w,
            r.h,
            r.cx(),
            r.cy() + 4.0,
            esc(&lb.text)
        );
    }
    s.push_str("</g>\n");
    if legend {
        let _ = writeln!(
            s,
            r#"<g class="legend" transform="translate(16,{:.0})">{}</g>"#,
            l.height + 4.0,
            LEGEND
        );
    }
    s.push_str("</svg>\n");
    s
}

/// One row: host, router, marked node, MTU label, odd end, failing path, tunnel.
const LEGEND: &str = concat!(
    r##"<g class="node host"><rect x="0" y="4" width="40" height="18" rx="8" fill="#dbeafe" stroke="#333"/></g><text x="46" y="18">host</text>"##,
    r##"<g class="node router"><rect x="90" y="4" width="40" height="18" fill="#fde68a" stroke="#333"/></g><text x="136" y="18">router</text>"##,
    r##"<rect x="196" y="4" width="40" height="18" fill="#fff" stroke="#d62728" stroke-width="3"/><text x="242" y="18">drops/filters ICMP</text>"##,
    r##"<rect x="380" y="5" width="34" height="16" rx="3" fill="#fee2e2" stroke="#d62728"/><text x="420" y="18">smaller end</text>"##,
    r##"<path d="M510,13 L550,13" stroke="#ff6b6b" stroke-width="10" stroke-opacity="0.45"/><text x="556" y="18">failing path</text>"##,
    r##"<path d="M660,13 L700,13" stroke="#6a3d9a" stroke-width="2" stroke-dasharray="7 4"/><text x="706" y="18">tunnel</text>"##,
);
