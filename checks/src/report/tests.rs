//! The three renderings of one sample report.

use super::*;
use mtulab_core::observe::PingOutcome;
use mtulab_core::topology::Verdict;

fn sample() -> Report {
    Report {
        topology: "t<&>".into(),
        file: None,
        ok: false,
        violations: vec![Violation {
            check: CheckId::Pmtud,
            message: "server learned 9000, expected 1200 \"quoted\"".into(),
            fix: Some("let ICMP out".into()),
            from: Some("server".into()),
            to: Some("client".into()),
            family: Some(Family::V4),
            link: None,
            segment: None,
            tunnel: None,
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
                check: CheckId::Pmtud,
                subject: "server -> client ipv4".into(),
                holds: false,
                detail: "learned 9000".into(),
            },
            CheckLine {
                check: CheckId::LinkMtuMatch,
                subject: "links".into(),
                holds: true,
                detail: "3 links".into(),
            },
        ],
        no_path: vec![],
        expect_mismatches: None,
        anycast: Vec::new(),
        captures: Vec::new(),
        mss_clamps: Vec::new(),
        seconds: 1.0,
        unsupported: None,
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

/// A topology this kernel cannot build: JSON says why with `ok` false
/// and no violation; JUnit has one skipped case (not a failure); the
/// human form a SKIP line. A report that ran has no such key.
#[test]
fn unsupported_is_neither_pass_nor_violation() {
    let why =
        "the running kernel has no GRE support (ip link add type gre: Operation not supported)";
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

/// TCP fixed (every transfer ok, a clamp in place) but PMTUD broken: the
/// summary says so in one line naming the clamp; controls: a blackholed
/// transfer, and everything holding, give no such line.
#[test]
fn summary_tells_a_tcp_fix_from_a_pmtud_fix() {
    let mut r = sample();
    assert_eq!(human::tcp_fixed_pmtud_not(&r), None, "transfer blackholed");
    r.paths[0].transfer = Some(Verdict::Ok);
    r.mss_clamps = vec!["router-a (pmtu)".into()];
    let line = human::tcp_fixed_pmtud_not(&r).expect("a line");
    assert_eq!(
        line,
        "TCP is fixed (MSS clamping on router-a (pmtu)), PMTUD is not (pmtud): bulk transfers complete, but DF traffic above the path MTU (UDP, QUIC, DF pings) still vanishes"
    );
    let text = human(&r, false);
    assert_eq!(text.matches("TCP is fixed").count(), 1, "{text}");
    r.violations.clear();
    r.ok = true;
    assert_eq!(human::tcp_fixed_pmtud_not(&r), None, "nothing broken");
}
