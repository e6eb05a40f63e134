//! Host-to-host reachability when only routers forward.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::topology::{Link, Node, Segment};

/// The first pair of hosts (sorted) that cannot reach each other when only
/// routers forward. Not a matter of components: with `a - b - c` and `b` a
/// host, a reaches b and b reaches c, but a does not reach c.
pub(super) fn unreachable_hosts(
    nodes: &BTreeMap<String, Node>,
    links: &[Link],
    segments: &[Segment],
) -> Option<(String, String)> {
    let mut adj: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for l in links {
        adj.entry(&l.between[0]).or_default().push(&l.between[1]);
        adj.entry(&l.between[1]).or_default().push(&l.between[0]);
    }
    for s in segments {
        for a in &s.members {
            for b in s.members.iter().filter(|b| *b != a) {
                adj.entry(a).or_default().push(b);
            }
        }
    }
    let hosts: Vec<&str> = nodes
        .iter()
        .filter(|(_, n)| !n.router)
        .map(|(k, _)| k.as_str())
        .collect();
    for (i, &from) in hosts.iter().enumerate() {
        // BFS from this host; only routers are expanded beyond the start.
        let mut seen: BTreeSet<&str> = BTreeSet::from([from]);
        let mut queue = VecDeque::from([from]);
        while let Some(cur) = queue.pop_front() {
            if cur == from || nodes.get(cur).is_some_and(|n| n.router) {
                for next in adj.get(cur).into_iter().flatten() {
                    if seen.insert(next) {
                        queue.push_back(next);
                    }
                }
            }
        }
        if let Some(to) = hosts[i + 1..].iter().find(|h| !seen.contains(*h)) {
            return Some((from.to_owned(), (*to).to_owned()));
        }
    }
    None
}
