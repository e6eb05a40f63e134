//! `--expect` against reports of anycast_flowlabel: per-family tables,
//! families and checks not run.

use std::path::Path;

use super::*;
use crate::report::{PathReport, Violation};

/// The bundled anycast_flowlabel scenario with its `[expect]` replaced
/// by `expect` (TOML text from `[expect]` on; empty: none).
fn with_expect(expect: &str) -> Topology {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies/anycast_flowlabel.toml");
    let text = std::fs::read_to_string(&f).unwrap();
    let body = &text[..text
        .find("\n[expect]")
        .expect("[expect] in anycast_flowlabel")];
    Topology::from_str(&format!("{body}\n{expect}"), &f).unwrap()
}

/// A report with one probed path per family in `probed` (client -> s1,
/// nothing else filled in) and one violation per (check, family).
fn report_of(probed: &[&str], violated: &[(CheckId, Option<&str>)]) -> Report {
    Report {
        topology: "anycast_flowlabel".into(),
        file: None,
        ok: violated.is_empty(),
        violations: violated
            .iter()
            .map(|(check, family)| Violation {
                check: *check,
                message: "m".into(),
                fix: None,
                from: None,
                to: None,
                family: family.map(|f| f.parse().unwrap()),
                link: None,
                segment: None,
                tunnel: None,
            })
            .collect(),
        paths: probed
            .iter()
            .map(|f| PathReport::new("client", "s1", f.parse().unwrap(), 1300))
            .collect(),
        checks: Vec::new(),
        no_path: Vec::new(),
        expect_mismatches: None,
        seconds: 0.0,
        anycast: Vec::new(),
        unsupported: None,
        captures: Vec::new(),
        mss_clamps: Vec::new(),
    }
}

const BOTH: &[&str] = &["ipv4", "ipv6"];

/// The scenario's own `[expect]`: tcp-transfer violated in IPv6 only.
const FLOWLABEL: &str =
    "[expect]\nviolations = []\n[expect.ipv6]\nviolations = [\"tcp-transfer\"]\n";

/// Without family tables nothing changed: the checks violated in any
/// family run form one set, compared with `violations`.
#[test]
fn expect_without_family_tables_is_one_set() {
    let t = with_expect("[expect]\nviolations = [\"tcp-transfer\"]\n");
    let opts = CheckOptions::default();
    let r = report_of(BOTH, &[(CheckId::TcpTransfer, Some("ipv6"))]);
    assert_eq!(compare_expect(&t, &r, &opts), Vec::<String>::new());
    assert_eq!(
        compare_expect(&t, &report_of(BOTH, &[]), &opts),
        ["expected tcp-transfer to be violated, but it holds"]
    );
}

/// A family table replaces `violations` for its family; the other
/// family follows `violations`; each side can fail on its own.
#[test]
fn family_table_overrides_violations_for_its_family() {
    let t = with_expect(FLOWLABEL);
    let opts = CheckOptions::default();
    // (the violations seen, what compare_expect says)
    type Case<'a> = (&'a [(CheckId, Option<&'a str>)], &'a [&'a str]);
    let cases: [Case; 6] = [
        (&[(CheckId::TcpTransfer, Some("ipv6"))], &[]),
        (
            &[],
            &["ipv6: expected tcp-transfer to be violated, but it holds"],
        ),
        (
            &[
                (CheckId::TcpTransfer, Some("ipv6")),
                (CheckId::TcpTransfer, Some("ipv4")),
            ],
            &["ipv4: tcp-transfer is violated, but [expect] does not list it"],
        ),
        (
            &[
                (CheckId::TcpTransfer, Some("ipv6")),
                (CheckId::Pmtud, Some("ipv6")),
            ],
            &["ipv6: pmtud is violated, but [expect.ipv6] does not list it"],
        ),
        (
            &[
                (CheckId::TcpTransfer, Some("ipv6")),
                (CheckId::ModelMismatch, Some("ipv6")),
            ],
            &["ipv6: model-mismatch is violated, but [expect.ipv6] does not list it"],
        ),
        (
            &[
                (CheckId::TcpTransfer, Some("ipv6")),
                (CheckId::LinkMtuMatch, None),
            ],
            &["link-mtu-match is violated, but [expect] does not list it"],
        ),
    ];
    for (violated, want) in cases {
        let got = compare_expect(&t, &report_of(BOTH, violated), &opts);
        assert_eq!(got, want, "{violated:?}");
    }
    // With the same outcome, a file without the table is not as expected.
    let plain = with_expect("[expect]\nviolations = []\n");
    let r = report_of(BOTH, &[(CheckId::TcpTransfer, Some("ipv6"))]);
    assert_eq!(
        compare_expect(&plain, &r, &opts),
        ["tcp-transfer is violated, but [expect] does not list it"]
    );
}

/// Family-less checks (link-mtu-match) follow the top-level list, also
/// when it names per-path checks for the families without a table.
#[test]
fn family_less_checks_follow_the_top_level_list() {
    let t = with_expect(
        "[expect]\nviolations = [\"link-mtu-match\", \"pmtud\"]\n[expect.ipv6]\nviolations = []\n",
    );
    let opts = CheckOptions::default();
    let ok = [
        (CheckId::LinkMtuMatch, None),
        (CheckId::Pmtud, Some("ipv4")),
    ];
    assert_eq!(
        compare_expect(&t, &report_of(BOTH, &ok), &opts),
        Vec::<String>::new()
    );
    assert_eq!(
        compare_expect(&t, &report_of(BOTH, &ok[1..]), &opts),
        ["expected link-mtu-match to be violated, but it holds"]
    );
    assert_eq!(
        compare_expect(&t, &report_of(BOTH, &ok[..1]), &opts),
        ["ipv4: expected pmtud to be violated, but it holds"]
    );
    let v6 = [ok[0], ok[1], (CheckId::Pmtud, Some("ipv6"))];
    assert_eq!(
        compare_expect(&t, &report_of(BOTH, &v6), &opts),
        ["ipv6: pmtud is violated, but [expect.ipv6] does not list it"]
    );
}

/// Families and checks that were not run, and families with no probed
/// path or anycast download, are not compared; each with its control.
#[test]
fn families_and_checks_not_run_are_not_compared() {
    let t = with_expect(FLOWLABEL);
    let holds = ["ipv6: expected tcp-transfer to be violated, but it holds"];
    let only = |families: Vec<Family>, checks: Vec<CheckId>| CheckOptions {
        families,
        checks,
        ..CheckOptions::default()
    };
    let none = Vec::<String>::new();
    // IPv4 only (a scenario trial): the IPv6 table is not compared.
    let v4 = only(vec![Family::V4], CheckId::LIVE.to_vec());
    assert_eq!(compare_expect(&t, &report_of(&["ipv4"], &[]), &v4), none);
    let v6 = only(vec![Family::V6], CheckId::LIVE.to_vec());
    assert_eq!(compare_expect(&t, &report_of(&["ipv6"], &[]), &v6), holds);
    // Both families run, but IPv6 has no probed path.
    let all = CheckOptions::default();
    assert_eq!(compare_expect(&t, &report_of(&["ipv4"], &[]), &all), none);
    // An anycast download counts as probed.
    let mut r = report_of(&["ipv4"], &[]);
    r.anycast.push(crate::report::AnycastReport {
        address: "2001:db8:fa::1".into(),
        family: Family::V6,
        client: "client".into(),
        members: vec!["s1".into(), "s2".into()],
        ecmp: Vec::new(),
        stalled: 0,
        predicted: serde_json::Value::Null,
        flows: Vec::new(),
    });
    assert_eq!(compare_expect(&t, &r, &all), holds);
    // tcp-transfer not run: its expectation is not compared.
    let pmtud = only(vec![Family::V6], vec![CheckId::Pmtud]);
    assert_eq!(compare_expect(&t, &report_of(&["ipv6"], &[]), &pmtud), none);
    // link-mtu-match not run: not compared even when violated (a stale report).
    let lm = report_of(
        BOTH,
        &[
            (CheckId::TcpTransfer, Some("ipv6")),
            (CheckId::LinkMtuMatch, None),
        ],
    );
    assert_eq!(
        compare_expect(&t, &lm, &only(vec![Family::V6], vec![CheckId::TcpTransfer])),
        none
    );
}

/// An absent list asserts nothing: a table alone asserts its family only.
#[test]
fn absent_lists_assert_nothing() {
    let t = with_expect("[expect]\n[expect.ipv4]\nviolations = []\n");
    let opts = CheckOptions::default();
    let elsewhere = [
        (CheckId::TcpTransfer, Some("ipv6")),
        (CheckId::LinkMtuMatch, None),
    ];
    assert_eq!(
        compare_expect(&t, &report_of(BOTH, &elsewhere), &opts),
        Vec::<String>::new()
    );
    assert_eq!(
        compare_expect(
            &t,
            &report_of(BOTH, &[(CheckId::Pmtud, Some("ipv4"))]),
            &opts
        ),
        ["ipv4: pmtud is violated, but [expect.ipv4] does not list it"]
    );
}
