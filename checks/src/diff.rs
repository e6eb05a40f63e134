//! `mtulab diff BEFORE AFTER`: what a change introduces and fixes. Pure:
//! two check reports in, their difference out, per check and path, in the
//! human, JSON and JUnit renderings.
//!
//! A violation is identified by its check and subject (the path `from ->
//! to family`, or the link for `link-mtu-match`), not by its words: a
//! violation whose message changed is still the same violation.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use mtulab_core::topology::Verdict;
use mtulab_core::{CheckId, Family};
use serde::{Serialize, Serializer};

use crate::report::{Report, Violation};

/// What a violation is about: its identity across two runs, with its check.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// The whole topology (no path, link or family named).
    Topology,
    /// A family, with no path named.
    Family(Family),
    /// A `[[links]]` entry (1-based, file order, as in the messages'
    /// `link N`), for link-mtu-match.
    Link(usize),
    /// A `[[segments]]` entry, by name (`segment NAME`).
    Segment(String),
    /// A `[[tunnels]]` entry (1-based, file order: `tunnel K`).
    Tunnel(usize),
    /// A path in one family.
    Path {
        from: String,
        to: String,
        family: Family,
    },
}

impl Subject {
    /// The subject of `v`: its path when it names one, else its link or
    /// tunnel, else its family.
    pub fn of(v: &Violation) -> Subject {
        match (&v.from, &v.to, v.family) {
            (Some(from), Some(to), Some(family)) => Subject::Path {
                from: from.clone(),
                to: to.clone(),
                family,
            },
            _ => match (v.link, &v.segment, v.tunnel, v.family) {
                (Some(l), _, _, _) => Subject::Link(l),
                (None, Some(s), _, _) => Subject::Segment(s.clone()),
                (None, None, Some(t), _) => Subject::Tunnel(t),
                (None, None, None, Some(f)) => Subject::Family(f),
                (None, None, None, None) => Subject::Topology,
            },
        }
    }
}

/// "server -> client ipv4", "link 2" / "tunnel 1" (1-based, as files
/// count and messages say), "ipv4", or "" (the whole topology).
impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Topology => Ok(()),
            Subject::Family(fam) => write!(f, "{fam}"),
            Subject::Link(l) => write!(f, "link {l}"),
            Subject::Segment(name) => write!(f, "segment {name}"),
            Subject::Tunnel(t) => write!(f, "tunnel {t}"),
            Subject::Path { from, to, family } => write!(f, "{from} -> {to} {family}"),
        }
    }
}

impl Serialize for Subject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The identity of a violation across two runs.
fn key(v: &Violation) -> (CheckId, Subject) {
    (v.check, Subject::of(v))
}

/// One violation in the diff.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    pub check: CheckId,
    /// Serialised as its text: "server -> client ipv4", "link 2", or "".
    pub subject: Subject,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Item {
    fn of(v: &Violation) -> Item {
        let (check, subject) = key(v);
        Item {
            check,
            subject,
            message: v.message.clone(),
            fix: v.fix.clone(),
        }
    }
}

/// A path whose verdict changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathChange {
    pub from: String,
    pub to: String,
    pub family: Family,
    /// None: the path is not in that report (no path, or not probed).
    pub before: Option<PathState>,
    pub after: Option<PathState>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PathState {
    pub expected_pmtu: u32,
    pub observed_pmtu: Option<u32>,
    pub transfer: Option<Verdict>,
}

/// The difference between two reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub before: String,
    pub after: String,
    /// Violations AFTER has and BEFORE had not.
    pub introduced: Vec<Item>,
    /// Violations BEFORE had and AFTER has not.
    pub fixed: Vec<Item>,
    /// Violations in both (possibly reworded).
    pub unchanged: Vec<Item>,
    /// Paths whose PMTU or transfer verdict differ.
    pub paths: Vec<PathChange>,
}

impl Diff {
    /// No violation introduced or fixed, no path changed.
    pub fn is_empty(&self) -> bool {
        self.introduced.is_empty() && self.fixed.is_empty() && self.paths.is_empty()
    }
}

fn index(r: &Report) -> BTreeMap<(CheckId, Subject), &Violation> {
    let mut m = BTreeMap::new();
    for v in &r.violations {
        m.entry(key(v)).or_insert(v);
    }
    m
}

/// Compare two reports of the same network, before and after a change.
pub fn compare(before: &Report, after: &Report) -> Diff {
    let (b, a) = (index(before), index(after));
    let introduced = a
        .iter()
        .filter(|(k, _)| !b.contains_key(*k))
        .map(|(_, v)| Item::of(v))
        .collect();
    let fixed = b
        .iter()
        .filter(|(k, _)| !a.contains_key(*k))
        .map(|(_, v)| Item::of(v))
        .collect();
    let unchanged = a
        .iter()
        .filter(|(k, _)| b.contains_key(*k))
        .map(|(_, v)| Item::of(v))
        .collect();

    type PathKey = (String, String, Family);
    let paths_of = |r: &Report| -> BTreeMap<PathKey, PathState> {
        r.paths
            .iter()
            .map(|p| {
                (
                    (p.from.clone(), p.to.clone(), p.family),
                    PathState {
                        expected_pmtu: p.expected_pmtu,
                        observed_pmtu: p.observed_pmtu,
                        transfer: p.transfer,
                    },
                )
            })
            .collect()
    };
    let (pb, pa) = (paths_of(before), paths_of(after));
    let mut keys: Vec<&PathKey> = pb.keys().chain(pa.keys()).collect();
    keys.sort();
    keys.dedup();
    let paths = keys
        .into_iter()
        .filter_map(|k| {
            let (x, y) = (pb.get(k), pa.get(k));
            (x != y).then(|| PathChange {
                from: k.0.clone(),
                to: k.1.clone(),
                family: k.2,
                before: x.cloned(),
                after: y.cloned(),
            })
        })
        .collect();
    Diff {
        before: before.topology.clone(),
        after: after.topology.clone(),
        introduced,
        fixed,
        unchanged,
        paths,
    }
}

fn state(s: &Option<PathState>) -> String {
    match s {
        None => "no path".into(),
        Some(s) => format!(
            "pmtu {} (expected {}), transfer {}",
            s.observed_pmtu
                .map_or("unknown".to_string(), |m| m.to_string()),
            s.expected_pmtu,
            s.transfer.map_or("not run", Verdict::as_str)
        ),
    }
}

/// The human rendering.
pub fn human(d: &Diff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "diff {} -> {}", d.before, d.after);
    let item = |out: &mut String, tag: &str, i: &Item| {
        let subject = match &i.subject {
            Subject::Topology => String::new(),
            s => format!(" {s}"),
        };
        let _ = writeln!(out, "  {tag} {}{subject}: {}", i.check, i.message);
        if let Some(f) = &i.fix {
            let _ = writeln!(out, "      fix: {f}");
        }
    };
    for i in &d.introduced {
        item(&mut out, "INTRODUCED", i);
    }
    for i in &d.fixed {
        item(&mut out, "FIXED     ", i);
    }
    for i in &d.unchanged {
        item(&mut out, "still     ", i);
    }
    for p in &d.paths {
        let _ = writeln!(
            out,
            "  path {} -> {} {}: {} => {}",
            p.from,
            p.to,
            p.family,
            state(&p.before),
            state(&p.after)
        );
    }
    let _ = write!(
        out,
        "{} introduced, {} fixed, {} unchanged violations; {} paths changed",
        d.introduced.len(),
        d.fixed.len(),
        d.unchanged.len(),
        d.paths.len()
    );
    if d.is_empty() {
        out.push_str(" (no change)");
    }
    out
}

/// The JSON rendering: the [`Diff`] as an object.
pub fn json(d: &Diff) -> String {
    serde_json::to_string_pretty(d).expect("a diff serialises")
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The JUnit rendering: one test case per introduced (failure), fixed and
/// unchanged violation and per changed path (a failure when its transfer
/// got worse than ok).
pub fn junit(d: &Diff) -> String {
    let mut cases = String::new();
    let mut failures = 0;
    let mut n = 0;
    for (tag, items) in [
        ("introduced", &d.introduced),
        ("fixed", &d.fixed),
        ("unchanged", &d.unchanged),
    ] {
        for i in items {
            n += 1;
            let _ = write!(
                cases,
                "    <testcase classname=\"diff.{tag}\" name=\"{}\">",
                xml(&format!("{} {}", i.check, i.subject))
            );
            if tag == "introduced" {
                failures += 1;
                let _ = write!(
                    cases,
                    "<failure message=\"{}\">{}</failure>",
                    xml(&i.message),
                    xml(i.fix.as_deref().unwrap_or(""))
                );
            }
            cases.push_str("</testcase>\n");
        }
    }
    for p in &d.paths {
        n += 1;
        let _ = writeln!(
            cases,
            "    <testcase classname=\"diff.path\" name=\"{}\"><system-out>{}</system-out></testcase>",
            xml(&format!("{} -> {} {}", p.from, p.to, p.family)),
            xml(&format!("{} => {}", state(&p.before), state(&p.after)))
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{failures}\">\n{cases}  </testsuite>\n</testsuites>\n",
        xml(&format!("diff {} -> {}", d.before, d.after))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::PathReport;

    fn v(check: CheckId, from: &str, to: &str, msg: &str) -> Violation {
        Violation {
            check,
            message: msg.into(),
            fix: None,
            from: Some(from.into()),
            to: Some(to.into()),
            family: Some(Family::V4),
            link: None,
            segment: None,
            tunnel: None,
        }
    }

    fn report(name: &str, violations: Vec<Violation>, transfer: Verdict) -> Report {
        let mut p = PathReport::new("server", "client", Family::V4, 1200);
        p.observed_pmtu = Some(1200);
        p.transfer = Some(transfer);
        Report {
            topology: name.into(),
            file: None,
            ok: violations.is_empty(),
            violations,
            paths: vec![p],
            checks: vec![],
            no_path: vec![],
            expect_mismatches: None,
            seconds: 1.0,
            anycast: vec![],
            unsupported: None,
            captures: vec![],
            mss_clamps: vec![],
        }
    }

    /// A violation only AFTER has is introduced; the path's change is listed.
    #[test]
    fn introduced_violation_and_path() {
        let b = report("b", vec![], Verdict::Ok);
        let a = report(
            "a",
            vec![v(CheckId::TcpTransfer, "server", "client", "stalls")],
            Verdict::Blackhole,
        );
        let d = compare(&b, &a);
        assert_eq!(d.introduced.len(), 1);
        assert_eq!(d.introduced[0].subject.to_string(), "server -> client ipv4");
        assert!(d.fixed.is_empty());
        assert_eq!(d.paths.len(), 1);
        assert!(human(&d).contains("INTRODUCED tcp-transfer server -> client ipv4: stalls"));
        assert!(junit(&d).contains("failures=\"1\""));
    }

    /// The reverse is a fix, and nothing is introduced.
    #[test]
    fn fixed_violation() {
        let b = report(
            "b",
            vec![v(CheckId::Pmtud, "server", "client", "x")],
            Verdict::Ok,
        );
        let a = report("a", vec![], Verdict::Ok);
        let d = compare(&b, &a);
        assert!(d.introduced.is_empty());
        assert_eq!(d.fixed[0].check, CheckId::Pmtud);
        assert!(d.paths.is_empty());
        assert!(!d.is_empty());
    }

    /// Reworded messages and timings are not changes.
    #[test]
    fn same_violation_reworded_is_unchanged() {
        let b = report(
            "b",
            vec![v(CheckId::Pmtud, "server", "client", "learned 1500")],
            Verdict::Ok,
        );
        let mut a = report(
            "a",
            vec![v(CheckId::Pmtud, "server", "client", "learned 1400")],
            Verdict::Ok,
        );
        a.seconds = 9.0;
        a.paths[0].transfer_seconds = Some(3.0);
        let d = compare(&b, &a);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.unchanged.len(), 1);
        assert!(human(&d).ends_with("(no change)"));
    }

    /// The same check on another path is a different violation.
    #[test]
    fn subject_distinguishes() {
        let b = report(
            "b",
            vec![v(CheckId::Pmtud, "server", "client", "x")],
            Verdict::Ok,
        );
        let a = report(
            "a",
            vec![v(CheckId::Pmtud, "client", "server", "x")],
            Verdict::Ok,
        );
        let d = compare(&b, &a);
        assert_eq!((d.introduced.len(), d.fixed.len()), (1, 1));
    }

    /// link-mtu-match is keyed by its link.
    #[test]
    fn link_violation_keyed_by_link() {
        let lv = |l| Violation {
            check: CheckId::LinkMtuMatch,
            message: "m".into(),
            fix: None,
            from: None,
            to: None,
            family: None,
            link: Some(l),
            segment: None,
            tunnel: None,
        };
        let d = compare(
            &report("b", vec![lv(1)], Verdict::Ok),
            &report("a", vec![lv(2)], Verdict::Ok),
        );
        assert_eq!(d.introduced[0].subject, Subject::Link(2));
        assert_eq!(d.introduced[0].subject.to_string(), "link 2");
        assert_eq!(d.fixed[0].subject.to_string(), "link 1");
        let parsed: serde_json::Value = serde_json::from_str(&json(&d)).unwrap();
        assert_eq!(parsed["introduced"][0]["check"], "link-mtu-match");
        assert_eq!(parsed["introduced"][0]["subject"], "link 2");
    }
}
