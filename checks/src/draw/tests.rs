//! The drawing's promises, checked on the boxes the SVG draws: every node
//! and every MTU label is there, inside the picture, and no label touches
//! another label or a node — for every bundled topology and for
//! generated trees of 2 to 30 nodes.

use std::path::PathBuf;

use mtulab_core::{Plan, Topology};

use super::diagram::{DNode, Diagram, Edge, EdgeKind, End, Mark, Role};
use super::layout::{layout, Layout, Rect};
use super::{dot::dot, svg::svg};

/// What is wrong with a layout: overlaps and boxes outside the picture.
fn problems(d: &Diagram, l: &Layout) -> Vec<String> {
    let mut out = Vec::new();
    let inside =
        |r: &Rect| r.x >= 0.0 && r.y >= 0.0 && r.x + r.w <= l.width && r.y + r.h <= l.height;
    for (i, r) in l.nodes.iter().enumerate() {
        if !inside(r) {
            out.push(format!("node {} outside the picture", d.nodes[i].name));
        }
        for (j, o) in l.nodes.iter().enumerate().skip(i + 1) {
            if r.overlaps(o) {
                out.push(format!(
                    "nodes {} and {} overlap",
                    d.nodes[i].name, d.nodes[j].name
                ));
            }
        }
    }
    let name = |k: usize| {
        let lb = &l.labels[k];
        let e = &d.edges[lb.edge].ends[lb.end];
        format!("{}:{} {}", d.nodes[e.node].name, e.iface, e.mtu)
    };
    for (k, lb) in l.labels.iter().enumerate() {
        if !inside(&lb.rect) {
            out.push(format!("label {} outside the picture", name(k)));
        }
        for (i, r) in l.nodes.iter().enumerate() {
            if lb.rect.overlaps(r) {
                out.push(format!(
                    "label {} overlaps node {}",
                    name(k),
                    d.nodes[i].name
                ));
            }
        }
        for g in &l.edges {
            if let Some(h) = &g.hub {
                if lb.rect.overlaps(h) {
                    out.push(format!("label {} overlaps a segment box", name(k)));
                }
            }
        }
        for j in k + 1..l.labels.len() {
            if lb.rect.overlaps(&l.labels[j].rect) {
                out.push(format!("labels {} and {} overlap", name(k), name(j)));
            }
        }
    }
    out
}

/// Every node and every end's label is in the SVG, once per end.
fn assert_complete(d: &Diagram, l: &Layout) {
    let s = svg(d, l, true);
    for n in &d.nodes {
        assert!(
            s.contains(&format!("data-node=\"{}\"><title>", n.name)),
            "node {} missing",
            n.name
        );
    }
    let ends: usize = d.edges.iter().map(|e| e.ends.len()).sum();
    assert_eq!(l.labels.len(), ends, "{}: one label per end", d.title);
    for e in &d.edges {
        for end in &e.ends {
            let needle = format!(
                "data-node=\"{}\" data-iface=\"{}\" data-mtu=\"{}\"",
                d.nodes[end.node].name, end.iface, end.mtu
            );
            assert!(s.contains(&needle), "{}: no label {needle}", d.title);
        }
    }
    assert_eq!(s.matches("<g class=\"mtu").count(), ends);
    let g = dot(d);
    for n in &d.nodes {
        assert!(g.contains(&format!("\"{}\"", n.name)));
    }
}

fn bundled() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../topologies");
    let mut files = Vec::new();
    for dir in [root.clone(), root.join("fixtures")] {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn bundled_topologies_draw_every_label_without_overlap() {
    let files = bundled();
    assert!(files.len() >= 20, "found {} topologies", files.len());
    for f in files {
        let t = Topology::from_file(&f).unwrap();
        let d = Diagram::new(&t, &Plan::new(&t));
        let l = layout(&d);
        assert_complete(&d, &l);
        let p = problems(&d, &l);
        assert!(p.is_empty(), "{}: {p:?}", f.display());
    }
}

/// A small deterministic generator (xorshift), so failures replay.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A random tree of `n` nodes: leaves are hosts, the rest routers; random
/// MTUs, some ends mismatched, some nodes marked, sometimes a tunnel.
fn tree(n: usize, seed: u64) -> Diagram {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mtus = [1280, 1400, 1450, 1500, 9000, 65535, 576];
    let mut edges = Vec::new();
    let mut degree = vec![0; n];
    for v in 1..n {
        // Bias towards stars and long chains alike.
        let parent = if rng.below(3) == 0 {
            v - 1
        } else {
            rng.below(v)
        };
        degree[v] += 1;
        degree[parent] += 1;
        let a = mtus[rng.below(mtus.len())];
        let b = if rng.below(4) == 0 {
            mtus[rng.below(mtus.len())]
        } else {
            a
        };
        edges.push(Edge {
            kind: EdgeKind::Link,
            name: format!("link {v}"),
            ends: vec![
                End {
                    node: parent,
                    iface: format!("n{v}"),
                    mtu: a,
                },
                End {
                    node: v,
                    iface: format!("n{parent}"),
                    mtu: b,
                },
            ],
        });
    }
    if n > 3 && rng.below(3) == 0 {
        let (a, b) = (rng.below(n), rng.below(n));
        if a != b {
            edges.push(Edge {
                kind: EdgeKind::Tunnel,
                name: "tunnel 1".into(),
                ends: vec![
                    End {
                        node: a,
                        iface: format!("vx-n{b}"),
                        mtu: 1450,
                    },
                    End {
                        node: b,
                        iface: format!("vx-n{a}"),
                        mtu: 1450,
                    },
                ],
            });
        }
    }
    let nodes = (0..n)
        .map(|v| DNode {
            name: format!("node-{v}"),
            role: if degree[v] > 1 {
                Role::Router
            } else {
                Role::Host
            },
            marks: if rng.below(5) == 0 {
                vec![Mark::DropsIcmp("output".into())]
            } else {
                vec![]
            },
        })
        .collect();
    Diagram {
        title: format!("tree-{n}-{seed}"),
        nodes,
        edges,
        failing: vec![],
    }
}

#[test]
fn generated_trees_up_to_30_nodes_draw_without_overlap() {
    let mut checked = 0;
    for n in 2..=30 {
        for seed in 0..12 {
            let d = tree(n, seed);
            let l = layout(&d);
            assert_complete(&d, &l);
            let p = problems(&d, &l);
            assert!(p.is_empty(), "{} ({n} nodes, seed {seed}): {p:?}", d.title);
            checked += 1;
        }
    }
    assert_eq!(checked, 29 * 12);
}

/// A segment (an N-ended edge) gets its box and a label per member.
#[test]
fn a_segment_draws_a_box_and_a_label_per_member() {
    let mut d = tree(4, 7);
    d.edges.push(Edge {
        kind: EdgeKind::Segment,
        name: "lan".into(),
        ends: (0..4)
            .map(|v| End {
                node: v,
                iface: "lan".into(),
                mtu: 1500 + v as u32,
            })
            .collect(),
    });
    let l = layout(&d);
    assert_complete(&d, &l);
    assert!(l.edges.last().unwrap().hub.is_some());
    assert!(problems(&d, &l).is_empty(), "{:?}", problems(&d, &l));
}

/// The control: the checker sees a label moved onto another, or onto a
/// node, or out of the picture.
#[test]
fn overlap_checker_catches_a_misplaced_label() {
    let t = Topology::from_file(
        &bundled()
            .into_iter()
            .find(|f| f.ends_with("icmp_blackhole.toml"))
            .unwrap(),
    )
    .unwrap();
    let d = Diagram::new(&t, &Plan::new(&t));
    let good = layout(&d);
    assert!(problems(&d, &good).is_empty());
    let mut onto_label = good.clone();
    onto_label.labels[1].rect = onto_label.labels[0].rect;
    assert!(problems(&d, &onto_label)
        .iter()
        .any(|p| p.contains("labels")));
    let mut onto_node = good.clone();
    let n = onto_node.nodes[0];
    onto_node.labels[2].rect.x = n.x + 2.0;
    onto_node.labels[2].rect.y = n.y + 2.0;
    assert!(problems(&d, &onto_node)
        .iter()
        .any(|p| p.contains("overlaps node")));
    let mut outside = good;
    outside.labels[0].rect.x = outside.width;
    assert!(problems(&d, &outside).iter().any(|p| p.contains("outside")));
}

/// Mismatched ends and marks show: the smaller end's label is `odd`, the
/// dropping router is `marked`, failing paths get a highlight.
#[test]
fn mismatch_marks_and_failing_paths_show() {
    let f = bundled()
        .into_iter()
        .find(|f| f.ends_with("direct_mismatch.toml"))
        .unwrap();
    let t = Topology::from_file(&f).unwrap();
    let d = Diagram::new(&t, &Plan::new(&t));
    let s = svg(&d, &layout(&d), false);
    assert!(s.contains("class=\"mtu odd\""));
    assert!(s.contains("edge link mismatch"));
    let f = bundled()
        .into_iter()
        .find(|f| f.ends_with("icmp_blackhole.toml"))
        .unwrap();
    let t = Topology::from_file(&f).unwrap();
    let d = Diagram::new(&t, &Plan::new(&t));
    let s = svg(&d, &layout(&d), false);
    assert!(s.contains("class=\"node router marked\" data-node=\"router-b\""));
    assert!(!s.contains("class=\"mtu odd\""));
    assert!(!s.contains("class=\"hl"));
    let mut r = crate::report::Report::empty("icmp_blackhole");
    r.violations.push(crate::report::Violation {
        check: mtulab_core::CheckId::TcpTransfer,
        message: "stalls".into(),
        fix: None,
        from: Some("server".into()),
        to: Some("client".into()),
        family: Some(mtulab_core::Family::V4),
        link: None,
        segment: None,
        tunnel: None,
    });
    let plan = Plan::new(&t);
    let d = Diagram::new(&t, &plan).with_failing(&plan, &r);
    assert_eq!(d.failing.len(), 1);
    assert_eq!(
        d.failing[0].nodes,
        ["server", "router-b", "router-a", "client"]
    );
    assert_eq!(d.failing[0].edges, [2, 1, 0]);
    let s = svg(&d, &layout(&d), false);
    assert_eq!(s.matches("class=\"hl p0\"").count(), 3);
}
