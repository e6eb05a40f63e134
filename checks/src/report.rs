//! What a check run found, and its three renderings: human (a line per
//! check and path, colour on a TTY, a summary), JSON (design.md §5) and
//! JUnit XML for CI systems.

use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

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

/// The per-path summary of §5.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathReport {
    pub from: String,
    pub to: String,
    pub family: String,
    pub expected_pmtu: u32,
    pub observed_pmtu: Option<u32>,
    /// ok | blackhole | recovered; None when the transfer was not run.
    pub transfer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_seconds: Option<f64>,
    /// DF ping of exactly `expected_pmtu` bytes (the pmtud check).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping_at_pmtu: Option<PingReport>,
    /// DF ping of `expected_pmtu + 1` bytes: what PMTUD has to work with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ping_over_pmtu: Option<PingReport>,
    /// Per router on the path: whether its crafted frag-needed /
    /// packet-too-big reached the sender (the icmp-passes check).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub icmp: Vec<IcmpReport>,
}

impl PathReport {
    /// A path about to be probed: nothing observed yet.
    pub fn new(from: &str, to: &str, family: &str, expected_pmtu: u32) -> PathReport {
        PathReport {
            from: from.into(),
            to: to.into(),
            family: family.into(),
            expected_pmtu,
            observed_pmtu: None,
            transfer: None,
            transfer_seconds: None,
            ping_at_pmtu: None,
            ping_over_pmtu: None,
            icmp: Vec::new(),
        }
    }
}

/// One DF ping as the report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PingReport {
    /// Whole IP packet size.
    pub size: u32,
    /// reply | too-big | local-too-big | unreachable | silence
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
    /// The node that answered (its address when it is not a lab node).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

impl std::fmt::Display for PingReport {
    /// `1201: too-big 1200 from router-a`
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.size, self.outcome)?;
        if let Some(m) = self.mtu {
            write!(f, " {m}")?;
        }
        if let (Some(n), true) = (&self.from, self.outcome != "reply") {
            write!(f, " from {n}")?;
        }
        Ok(())
    }
}

/// Whether one router's ICMP error reached the path's sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IcmpReport {
    pub router: String,
    pub arrived: bool,
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
    /// With `--pcap DIR`: the pcapng files written for the failing paths.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub captures: Vec<String>,
}

impl Report {
    /// A report with nothing checked yet.
    pub fn empty(topology: &str) -> Report {
        Report {
            topology: topology.into(),
            file: None,
            ok: true,
            violations: Vec::new(),
            paths: Vec::new(),
            checks: Vec::new(),
            no_path: Vec::new(),
            expect_mismatches: None,
            seconds: 0.0,
            anycast: Vec::new(),
            captures: Vec::new(),
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
                family: "ipv4".into(),
                expected_pmtu: 1200,
                observed_pmtu: None,
                transfer: Some("blackhole".into()),
                transfer_seconds: Some(0.6),
                ping_at_pmtu: None,
                ping_over_pmtu: Some(PingReport {
                    size: 1201,
                    outcome: "silence".into(),
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
            captures: Vec::new(),
            seconds: 1.0,
        }
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
