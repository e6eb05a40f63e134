//! The JUnit XML rendering for CI systems: a test suite per topology, a
//! test case per check line, failures carrying their violations.

use std::fmt::Write as _;

use super::{Report, Violation};

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a testsuite per topology, a testcase per check line; a
/// failing line carries the violations of that check and subject.
pub fn junit(reports: &[Report]) -> String {
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: usize = reports.iter().map(|r| r.checks.len()).sum();
    let failures: usize = reports
        .iter()
        .map(|r| r.checks.iter().filter(|c| !c.holds).count())
        .sum();
    let _ = writeln!(
        s,
        "<testsuites name=\"mtulab\" tests=\"{total}\" failures=\"{failures}\">"
    );
    for r in reports {
        let fails = r.checks.iter().filter(|c| !c.holds).count();
        let _ = writeln!(
            s,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{fails}\" time=\"{:.3}\">",
            xml_escape(&r.topology),
            r.checks.len(),
            r.seconds
        );
        for c in &r.checks {
            let _ = write!(
                s,
                "    <testcase classname=\"mtulab.{}\" name=\"{} {}\"",
                xml_escape(&r.topology),
                xml_escape(c.check.as_str()),
                xml_escape(&c.subject)
            );
            if c.holds {
                s.push_str("/>\n");
                continue;
            }
            s.push_str(">\n");
            let body: Vec<String> = r
                .violations
                .iter()
                .filter(|v| {
                    // A line about one path carries that path's violations;
                    // a line about the whole topology ("links", "model"), all.
                    v.check == c.check
                        && (!c.subject.contains(" -> ")
                            || subject_of(v).is_none_or(|sub| sub == c.subject))
                })
                .map(|v| match &v.fix {
                    Some(f) => format!("{} (fix: {f})", v.message),
                    None => v.message.clone(),
                })
                .collect();
            let _ = writeln!(
                s,
                "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                xml_escape(&c.detail),
                xml_escape(c.check.as_str()),
                xml_escape(&body.join("\n"))
            );
            s.push_str("    </testcase>\n");
        }
        s.push_str("  </testsuite>\n");
    }
    s.push_str("</testsuites>\n");
    s
}

/// The subject string a path violation belongs to ("from -> to family").
pub fn subject_of(v: &Violation) -> Option<String> {
    Some(format!(
        "{} -> {} {}",
        v.from.as_ref()?,
        v.to.as_ref()?,
        v.family.as_ref()?
    ))
}
