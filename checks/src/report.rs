//! What a check run found, and its three renderings: human (a line per
//! check and path, colour on a TTY, a summary), JSON (design.md §5) and
//! JUnit XML for CI systems.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

pub use mtulab_core::observe::{IcmpReport, PathReport, PingReport};

/// One broken rule or model/kernel disagreement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    /// A stable check id: link-mtu-match, icmp-passes, pmtud, tcp-transfer, model-mismatch.
    pub check: String,
    /// What is wrong and what a user would see.
    pub message: String,
    /// How to fix it, when there is a fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// The link concerned (0-based, file order), for link-mtu-match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<usize>,
}

/// One check on one subject (a link set, or a path in one family).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckLine {
    pub check: String,
    /// "links", or "server -> client ipv4".
    pub subject: String,
    pub holds: bool,
    /// What was measured, in a few words.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub topology: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    pub ok: bool,
    pub violations: Vec<Violation>,
    pub paths: Vec<PathReport>,
    pub checks: Vec<CheckLine>,
    /// Host pairs with no path in a family (not a violation).
    pub no_path: Vec<String>,
    /// With --expect: how the outcome differs from the file's [expect]
    /// (empty: as expected). None without --expect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_mismatches: Option<Vec<String>>,
    pub seconds: f64,
    /// Per-flow tables of downloads from `[[anycast]]` addresses (absent
    /// when the topology has none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anycast: Vec<crate::anycast::AnycastReport>,
    /// Why the topology could not be built on this kernel (a tunnel kind
    /// it lacks): nothing was checked. Neither a pass (`ok` is false) nor
    /// a violation (`violations` is empty). Absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported: Option<String>,
}

impl Report {
    /// The report of a topology this kernel cannot build: no checks ran.
    pub fn unsupported(topology: &str, file: Option<PathBuf>, reason: String) -> Report {
        Report {
            topology: topology.to_owned(),
            file,
            ok: false,
            violations: Vec::new(),
            paths: Vec::new(),
            checks: Vec::new(),
            no_path: Vec::new(),
            expect_mismatches: None,
            seconds: 0.0,
            anycast: Vec::new(),
            unsupported: Some(reason),
        }
    }

    /// The distinct check ids that have violations, sorted.
    pub fn violated_checks(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.violations.iter().map(|v| v.check.clone()).collect();
        ids.sort();
        ids.dedup();
        ids
    }
}

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
    fn yellow(&self, s: &str) -> String {
        self.wrap("33", s)
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
    if let Some(why) = &r.unsupported {
        let _ = write!(
            s,
            "  {} {why}\n  summary: unsupported on this kernel, nothing checked\n",
            p.yellow("SKIP")
        );
        return s;
    }
    let width = r.checks.iter().map(|c| c.check.len()).max().unwrap_or(0);
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
            r.violated_checks().join(", ")
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

/// JSON per design.md §5: an object for one report, an array for several.
pub fn json(reports: &[Report]) -> String {
    let v = if reports.len() == 1 {
        serde_json::to_value(&reports[0])
    } else {
        serde_json::to_value(reports)
    };
    serde_json::to_string_pretty(&v.expect("reports serialise")).expect("json")
}

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
    let total: usize = reports.iter().map(|r| r.checks.len().max(1)).sum();
    let skipped = reports.iter().filter(|r| r.unsupported.is_some()).count();
    let failures: usize = reports
        .iter()
        .map(|r| r.checks.iter().filter(|c| !c.holds).count())
        .sum();
    let _ = writeln!(
        s,
        "<testsuites name=\"mtulab\" tests=\"{total}\" failures=\"{failures}\" skipped=\"{skipped}\">"
    );
    for r in reports {
        if let Some(why) = &r.unsupported {
            // Not a pass, not a failure: one skipped test case with the reason.
            let name = xml_escape(&r.topology);
            let _ = writeln!(
                s,
                "  <testsuite name=\"{name}\" tests=\"1\" failures=\"0\" skipped=\"1\" time=\"0.000\">\n    <testcase classname=\"mtulab.{name}\" name=\"unsupported\">\n      <skipped message=\"{}\"/>\n    </testcase>\n  </testsuite>",
                xml_escape(why)
            );
            continue;
        }
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
                xml_escape(&c.check),
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
                xml_escape(&c.check),
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

#[cfg(test)]
mod tests {
    use super::*;
    use mtulab_core::observe::PingOutcome;
    use mtulab_core::topology::{Family, Verdict};

    fn sample() -> Report {
        Report {
            topology: "t<&>".into(),
            file: None,
            ok: false,
            violations: vec![Violation {
                check: "pmtud".into(),
                message: "server learned 9000, expected 1200 \"quoted\"".into(),
                fix: Some("let ICMP out".into()),
                from: Some("server".into()),
                to: Some("client".into()),
                family: Some("ipv4".into()),
                link: None,
            }],
            paths: vec![PathReport {
                from: "server".into(),
                to: "client".into(),
                family: Family::V4,
                expected_pmtu: 1200,
                observed_pmtu: None,
                transfer: Some(Verdict::Blackhole),
                transfer_seconds: Some(0.6),
                ping_at_pmtu: None,
                ping_over_pmtu: Some(PingReport {
                    size: 1201,
                    outcome: PingOutcome::Silence,
                    mtu: None,
                    from: None,
                }),
                icmp: vec![],
            }],
            checks: vec![
                CheckLine {
                    check: "pmtud".into(),
                    subject: "server -> client ipv4".into(),
                    holds: false,
                    detail: "learned 9000".into(),
                },
                CheckLine {
                    check: "link-mtu-match".into(),
                    subject: "links".into(),
                    holds: true,
                    detail: "3 links".into(),
                },
            ],
            no_path: vec![],
            expect_mismatches: None,
            anycast: Vec::new(),
            seconds: 1.0,
            unsupported: None,
        }
    }

    /// A topology this kernel cannot build: JSON says why with `ok` false
    /// and no violation; JUnit has one skipped case (not a failure); the
    /// human form a SKIP line. A report that ran has no such key.
    #[test]
    fn unsupported_is_neither_pass_nor_violation() {
        let why = "the running kernel has no GRE support (ip link add type gre: Operation not supported)";
        let r = Report::unsupported("gre_mismatch", None, why.into());
        let v: serde_json::Value = serde_json::from_str(&json(std::slice::from_ref(&r))).unwrap();
        assert_eq!(v["ok"], false);
        assert_eq!(v["unsupported"], why);
        assert_eq!(v["violations"].as_array().map(Vec::len), Some(0));
        let ran: serde_json::Value = serde_json::from_str(&json(&[sample()])).unwrap();
        assert!(ran.get("unsupported").is_none());
        let x = junit(&[r.clone(), sample()]);
        let doc = roxmltree::Document::parse(&x).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.attribute("tests"), Some("3"));
        assert_eq!(root.attribute("failures"), Some("1"));
        assert_eq!(root.attribute("skipped"), Some("1"));
        let skipped: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("skipped"))
            .collect();
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].attribute("message"), Some(why));
        let h = human(&r, false);
        assert!(h.contains(&format!("SKIP {why}")), "{h}");
        assert!(
            h.contains("unsupported on this kernel, nothing checked"),
            "{h}"
        );
        assert!(!h.contains("all checks hold"), "{h}");
    }

    #[test]
    fn json_has_the_contract_fields() {
        let v: serde_json::Value = serde_json::from_str(&json(&[sample()])).unwrap();
        assert_eq!(v["topology"], "t<&>");
        assert_eq!(v["ok"], false);
        assert_eq!(v["violations"][0]["check"], "pmtud");
        assert!(v["violations"][0]["message"].is_string());
        let p = &v["paths"][0];
        assert_eq!(p["from"], "server");
        assert_eq!(p["family"], "ipv4");
        assert_eq!(p["expected_pmtu"], 1200);
        assert!(p["observed_pmtu"].is_null());
        assert_eq!(p["transfer"], "blackhole");
        assert_eq!(p["ping_over_pmtu"]["outcome"], "silence");
        assert!(p.get("ping_at_pmtu").is_none());
        // Several reports: an array.
        let arr: serde_json::Value = serde_json::from_str(&json(&[sample(), sample()])).unwrap();
        assert_eq!(arr.as_array().map(|a| a.len()), Some(2));
    }

    /// JUnit output parses as XML and counts what failed, with the
    /// violation's text (escaped) inside the failure.
    #[test]
    fn junit_parses_and_counts() {
        let x = junit(&[sample()]);
        let doc = roxmltree::Document::parse(&x).expect("well-formed XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        assert_eq!(root.attribute("tests"), Some("2"));
        assert_eq!(root.attribute("failures"), Some("1"));
        let suite = root.children().find(|n| n.is_element()).unwrap();
        assert_eq!(suite.attribute("name"), Some("t<&>"));
        let failures: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("failure"))
            .collect();
        assert_eq!(failures.len(), 1);
        assert!(failures[0].text().unwrap().contains("\"quoted\""));
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("testcase"))
                .count(),
            2
        );
    }

    #[test]
    fn human_names_failures_and_fix() {
        let h = human(&sample(), false);
        assert!(h.contains("FAIL pmtud"));
        assert!(h.contains("fix: let ICMP out"));
        assert!(h.contains("1 violation (pmtud)"));
        assert!(!h.contains('\x1b'));
        assert!(human(&sample(), true).contains('\x1b'));
    }
}
