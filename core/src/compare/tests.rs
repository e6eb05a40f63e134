//! The comparator on predictions of a known blackhole.

use std::path::Path;

use super::*;
use crate::model::predict;
use crate::observe::IcmpReport;
use crate::plan::Plan;
use crate::topology::Topology;

/// client 1500 | router-a 1200 router-b (drops its own frag-needed) | server.
fn blackhole() -> PathPrediction {
    let t = Topology::from_str(
        include_str!("../../../topologies/icmp_blackhole.toml"),
        Path::new("icmp_blackhole.toml"),
    )
    .unwrap();
    predict(&t, &Plan::new(&t))
        .path("server", "client", Family::V4)
        .expect("a path")
        .clone()
}

/// What the kernel does when it agrees with `p` on everything.
fn agreeing(p: &PathPrediction) -> PathReport {
    let mut seen = PathReport::new(&p.from, &p.to, p.family, p.path_mtu);
    seen.observed_pmtu = p.learned_pmtu.known().map(|l| l.mtu);
    seen.ping_at_pmtu = p
        .ping_at_pmtu
        .known()
        .map(|x| predicted_ping(x, p.path_mtu, &p.to));
    seen.ping_over_pmtu = p
        .ping_over_pmtu
        .known()
        .map(|x| predicted_ping(x, p.path_mtu + 1, &p.to));
    seen.transfer = p.transfer.known().copied();
    seen.icmp = p
        .icmp
        .iter()
        .filter_map(|i| {
            Some(IcmpReport {
                router: i.router.clone(),
                arrived: *i.reaches.known()?,
            })
        })
        .collect();
    seen
}

/// A kernel that agrees gives no difference; the control: one changed
/// value gives exactly one, with both values.
#[test]
fn agreeing_and_one_difference() {
    let p = blackhole();
    let seen = agreeing(&p);
    let all = Comparator::default().path(&p, &seen);
    assert!(all.len() >= 6, "{all:?}");
    assert!(all.iter().all(|c| *c == Compared::Same), "{all:?}");

    let mut other = seen.clone();
    other.transfer = Some(Verdict::Ok);
    let diffs: Vec<String> = Comparator::default()
        .path(&p, &other)
        .into_iter()
        .filter_map(|c| match c {
            Compared::Differ(d) => Some(d.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(diffs, ["transfer: model blackhole, kernel ok"]);
}

/// The planted bug compares each ping with the other size's prediction:
/// an agreeing kernel now differs on both pings.
#[test]
fn planted_bug_differs_on_pings() {
    let p = blackhole();
    let seen = agreeing(&p);
    let bugged = Comparator { planted_bug: true }.path(&p, &seen);
    let differ: Vec<&Difference> = bugged
        .iter()
        .filter_map(|c| match c {
            Compared::Differ(d) => Some(d),
            _ => None,
        })
        .collect();
    assert_eq!(differ.len(), 2, "{bugged:?}");
    assert!(differ[0].what.starts_with("DF ping at the path MTU"));
}

/// Learned PMTU: `locked` counts only where the probe read it.
#[test]
fn learned_locked_only_when_read() {
    let p = blackhole();
    let l = *p.learned_pmtu.known().expect("known");
    let c = Comparator::default();
    assert_eq!(c.learned_pmtu(&p, l.mtu, None), Compared::Same);
    assert_eq!(c.learned_pmtu(&p, l.mtu, Some(l.locked)), Compared::Same);
    assert!(matches!(
        c.learned_pmtu(&p, l.mtu, Some(!l.locked)),
        Compared::Differ(_)
    ));
}
