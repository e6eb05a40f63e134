//! The human rendering: a line per check and path, colour on a TTY, a summary.

use std::fmt::Write as _;

use super::Report;

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    fn green(&self, s: &str) -> String {
        self.wrap("32", s)
    }
    fn red(&self, s: &str) -> String {
        self.wrap("31", s)
    }
    fn bold(&self, s: &str) -> String {
        self.wrap("1", s)
    }
    fn dim(&self, s: &str) -> String {
        self.wrap("2", s)
    }
}

/// The human rendering of one report.
pub fn human(r: &Report, colour: bool) -> String {
    let p = Paint { on: colour };
    let mut s = String::new();
    let file = r
        .file
        .as_ref()
        .map(|f| format!("  ({})", f.display()))
        .unwrap_or_default();
    let _ = writeln!(s, "{}{}", p.bold(&r.topology), p.dim(&file));
    let width = r
        .checks
        .iter()
        .map(|c| c.check.as_str().len())
        .max()
        .unwrap_or(0);
    for c in &r.checks {
        let mark = if c.holds {
            p.green("ok  ")
        } else {
            p.red("FAIL")
        };
        let _ = writeln!(
            s,
            "  {mark} {:width$}  {:<24} {}",
            c.check,
            c.subject,
            p.dim(&c.detail)
        );
    }
    for n in &r.no_path {
        let _ = writeln!(s, "  {}", p.dim(&format!("--   no path: {n}")));
    }
    if !r.violations.is_empty() {
        let _ = writeln!(s, "  violations:");
        for v in &r.violations {
            let _ = writeln!(s, "    {} {}", p.red(&format!("[{}]", v.check)), v.message);
            if let Some(fix) = &v.fix {
                let _ = writeln!(s, "      fix: {fix}");
            }
        }
    }
    let verdict = if r.ok {
        p.green("all checks hold")
    } else {
        p.red(&format!(
            "{} violation{} ({})",
            r.violations.len(),
            if r.violations.len() == 1 { "" } else { "s" },
            r.violated_checks()
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    };
    let _ = write!(s, "  summary: {verdict} in {:.1} s", r.seconds);
    if let Some(m) = &r.expect_mismatches {
        if m.is_empty() {
            let _ = write!(s, "; {}", p.green("as expected"));
        } else {
            let _ = write!(s, "; {}", p.red("NOT as expected:"));
            for x in m {
                let _ = write!(s, "\n    - {x}");
            }
        }
    }
    s.push('\n');
    s
}
