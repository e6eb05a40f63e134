//! The HTML report: one self-contained page (inline CSS and SVG, no
//! scripts, nothing fetched) with, per topology, the drawing (failing
//! paths highlighted), the failing paths, the violations with their
//! fixes, and every check line. Hovering a failing path in the list
//! darkens it in the drawing (CSS `:has`, no script); the page reads the
//! same printed.

use std::fmt::Write as _;

use mtulab_core::Loaded;

use crate::draw::svg::esc;
use crate::draw::{self, Diagram};
use crate::report::Report;

const PAGE_STYLE: &str = r#"
body { font-family: "DejaVu Sans", sans-serif; margin: 24px; color: #111; background: #fafafa; }
h1 { font-size: 22px; }
section.topology { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 12px 18px; margin-bottom: 24px; }
section.topology h2 { font-size: 18px; margin: 4px 0; }
.ok { color: #166534; } .bad { color: #b91c1c; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.picture { overflow-x: auto; max-width: 100%; }
.side { flex: 1 1 360px; min-width: 320px; }
.side h3 { font-size: 15px; margin: 8px 0 4px; }
ol.paths li, ul.violations li { margin-bottom: 6px; font-size: 14px; }
ol.paths li { cursor: default; }
ol.paths li:hover { background: #fee2e2; }
.fix { color: #166534; }
.check-id { font-family: "DejaVu Sans Mono", monospace; color: #b91c1c; }
table.checks { border-collapse: collapse; font-size: 13px; margin-top: 8px; }
table.checks td, table.checks th { border-bottom: 1px solid #eee; padding: 2px 8px; text-align: left; }
code, .mono { font-family: "DejaVu Sans Mono", monospace; }
"#;

/// The page for `items` (each topology with its report), in order.
pub fn report(items: &[(&Loaded, &Report)]) -> String {
    let mut s = String::from("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n");
    let bad = items.iter().filter(|(_, r)| !r.ok).count();
    let _ = writeln!(
        s,
        "<title>mtulab: {} topologies, {bad} with violations</title>",
        items.len()
    );
    let most = items
        .iter()
        .map(|(l, r)| {
            Diagram::new(&l.topology, &l.plan)
                .with_failing(&l.plan, r)
                .failing
                .len()
        })
        .max()
        .unwrap_or(0);
    s.push_str("<style>");
    s.push_str(PAGE_STYLE);
    for k in 0..most {
        let _ = writeln!(
            s,
            "section.topology:has(li.p{k}:hover) .hl.p{k} {{ stroke: #b91c1c; stroke-opacity: 0.9; }}"
        );
    }
    s.push_str("</style></head><body>\n");
    let _ = writeln!(
        s,
        "<h1>mtulab report: {} topolog{}, {bad} with violations</h1>",
        items.len(),
        if items.len() == 1 { "y" } else { "ies" }
    );
    for (t, r) in items {
        section(&mut s, t, r);
    }
    s.push_str("</body></html>\n");
    s
}

fn section(s: &mut String, loaded: &Loaded, r: &Report) {
    let (t, plan) = (&loaded.topology, &loaded.plan);
    let d = Diagram::new(t, plan).with_failing(plan, r);
    let l = draw::layout(&d);
    let _ = writeln!(
        s,
        "<section class=\"topology\" id=\"t-{0}\" data-topology=\"{0}\">",
        esc(&t.name)
    );
    let verdict = if r.ok {
        "<span class=\"ok\">all checks hold</span>".to_string()
    } else {
        format!(
            "<span class=\"bad\">{} violation{} ({})</span>",
            r.violations.len(),
            if r.violations.len() == 1 { "" } else { "s" },
            esc(&ids(&r.violated_checks()))
        )
    };
    let _ = writeln!(s, "<h2>{}: {verdict}</h2>", esc(&t.name));
    if let Some(line) = crate::report::tcp_fixed_pmtud_not(r) {
        let _ = writeln!(s, "<p class=\"bad\"><strong>{}</strong></p>", esc(&line));
    }
    if !t.description.is_empty() {
        let _ = writeln!(s, "<p>{}</p>", esc(&t.description));
    }
    if let Some(f) = &r.file {
        let _ = writeln!(s, "<p class=\"mono\">{}</p>", esc(&f.display().to_string()));
    }
    s.push_str("<div class=\"row\"><div class=\"picture\">\n");
    s.push_str(&draw::svg::svg(&d, &l, true));
    s.push_str("</div><div class=\"side\">\n");
    if d.failing.is_empty() {
        s.push_str("<h3>Failing paths</h3><p class=\"ok\">none</p>\n");
    } else {
        s.push_str("<h3>Failing paths (highlighted; hover one to single it out)</h3><ol class=\"paths\">\n");
        for (k, p) in d.failing.iter().enumerate() {
            let transfer = r
                .paths
                .iter()
                .find(|x| x.from == p.from && x.to == p.to && x.family == p.family)
                .and_then(|x| x.transfer)
                .map(|v| format!("; transfer {}", v.as_str()))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "<li class=\"path p{k}\"><span class=\"mono\">{}</span> ({}): <span class=\"check-id\">{}</span>{}</li>",
                esc(&p.nodes.join(" → ")),
                p.family,
                esc(&ids(&p.checks)),
                esc(&transfer)
            );
        }
        s.push_str("</ol>\n");
    }
    if !r.violations.is_empty() {
        s.push_str("<h3>Violations and fixes</h3><ul class=\"violations\">\n");
        for v in &r.violations {
            let _ = write!(
                s,
                "<li><span class=\"check-id\">[{}]</span> {}",
                v.check,
                esc(&v.message)
            );
            if let Some(f) = &v.fix {
                let _ = write!(s, "<br><span class=\"fix\">fix: {}</span>", esc(f));
            }
            s.push_str("</li>\n");
        }
        s.push_str("</ul>\n");
    }
    if !r.captures.is_empty() {
        s.push_str("<h3>Packet captures</h3><ul class=\"mono\">\n");
        for c in &r.captures {
            let _ = writeln!(s, "<li>{}</li>", esc(c));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("</div></div>\n<table class=\"checks\"><tr><th></th><th>check</th><th>subject</th><th>measured</th></tr>\n");
    for c in &r.checks {
        let _ = writeln!(
            s,
            "<tr><td class=\"{}\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td></tr>",
            if c.holds { "ok" } else { "bad" },
            if c.holds { "ok" } else { "FAIL" },
            c.check,
            esc(&c.subject),
            esc(&c.detail)
        );
    }
    for n in &r.no_path {
        let _ = writeln!(
            s,
            "<tr><td>--</td><td></td><td>no path: {}</td><td></td></tr>",
            esc(n)
        );
    }
    s.push_str("</table>\n</section>\n");
}

/// Check ids as a comma-separated list.
fn ids(ids: &[mtulab_core::CheckId]) -> String {
    ids.iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
