//! Where everything goes: a layered layout (breadth-first layers from one
//! end of the longest path, left to right; order inside a layer by the
//! barycentre of the neighbours), straight or gently bent edges, and an
//! MTU label near every end of every edge, slid along its edge until its
//! box touches no node and no other label.
//!
//! Every box here is the box the SVG draws (same numbers, same fonts):
//! the tests that say "no two labels overlap" read them from here.

use std::collections::{BTreeMap, VecDeque};

use super::diagram::{Diagram, EdgeKind};

/// Monospace character width at the label font size (12 px DejaVu Sans
/// Mono: 0.602 em), rounded up so the box holds the text.
pub const CHAR_W: f64 = 7.3;
/// Node name font: 13 px bold monospace.
pub const NAME_CHAR_W: f64 = 8.0;
pub const LABEL_H: f64 = 16.0;
pub const MARK_LINE_H: f64 = 14.0;
const NODE_PAD: f64 = 10.0;
const MARGIN: f64 = 16.0;
/// Vertical gap between nodes of a layer.
const V_GAP: f64 = 46.0;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn centred(cx: f64, cy: f64, w: f64, h: f64) -> Rect {
        Rect {
            x: cx - w / 2.0,
            y: cy - h / 2.0,
            w,
            h,
        }
    }
    pub fn cx(&self) -> f64 {
        self.x + self.w / 2.0
    }
    pub fn cy(&self) -> f64 {
        self.y + self.h / 2.0
    }
    /// Whether the two boxes share any area (touching edges do not count).
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
    fn grown(&self, by: f64) -> Rect {
        Rect {
            x: self.x - by,
            y: self.y - by,
            w: self.w + 2.0 * by,
            h: self.h + 2.0 * by,
        }
    }
    fn shift(&mut self, dx: f64, dy: f64) {
        self.x += dx;
        self.y += dy;
    }
}

/// A quadratic Bézier from `a` to `b` bent towards `c` (straight when `c`
/// is the midpoint).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Curve {
    pub a: (f64, f64),
    pub c: (f64, f64),
    pub b: (f64, f64),
}

impl Curve {
    pub fn point(&self, t: f64) -> (f64, f64) {
        let u = 1.0 - t;
        (
            u * u * self.a.0 + 2.0 * u * t * self.c.0 + t * t * self.b.0,
            u * u * self.a.1 + 2.0 * u * t * self.c.1 + t * t * self.b.1,
        )
    }
    fn shift(&mut self, dx: f64, dy: f64) {
        for p in [&mut self.a, &mut self.c, &mut self.b] {
            p.0 += dx;
            p.1 += dy;
        }
    }
}

/// The MTU label of one end of one edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    pub edge: usize,
    pub end: usize,
    pub text: String,
    pub rect: Rect,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// Per diagram node.
    pub nodes: Vec<Rect>,
    /// Per edge: for two ends, one curve from end 0 to end 1; for a
    /// segment, its box and one curve per member from the box to the member.
    pub edges: Vec<EdgeGeom>,
    pub labels: Vec<Label>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EdgeGeom {
    pub hub: Option<Rect>,
    pub curves: Vec<Curve>,
}

/// The text of a node box: its name, then one line per mark.
pub fn node_size(d: &Diagram) -> (f64, f64) {
    let mut w: f64 = 72.0;
    let mut lines = 0;
    for n in &d.nodes {
        w = w.max(n.name.chars().count() as f64 * NAME_CHAR_W + 2.0 * NODE_PAD);
        for m in &n.marks {
            w = w.max(m.text().chars().count() as f64 * CHAR_W + 2.0 * NODE_PAD);
        }
        lines = lines.max(n.marks.len());
    }
    (w.ceil(), 30.0 + MARK_LINE_H * lines as f64)
}

pub fn label_size(text: &str) -> (f64, f64) {
    (text.chars().count() as f64 * CHAR_W + 8.0, LABEL_H)
}

/// Lay `d` out. Deterministic: the same diagram always gives the same layout.
pub fn layout(d: &Diagram) -> Layout {
    let (nw, nh) = node_size(d);
    let widest_label = d
        .edges
        .iter()
        .flat_map(|e| e.ends.iter())
        .map(|e| label_size(&e.mtu.to_string()).0)
        .fold(0.0, f64::max);
    // Vertices: the nodes, then one hub per segment.
    let n = d.nodes.len();
    let mut hub_of = BTreeMap::new();
    for (i, e) in d.edges.iter().enumerate() {
        if e.kind == EdgeKind::Segment || e.ends.len() > 2 {
            hub_of.insert(i, n + hub_of.len());
        }
    }
    let nv = n + hub_of.len();
    let mut adj: Vec<Vec<usize>> = vec![Vec::new(); nv];
    let connect = |a: usize, b: usize, adj: &mut Vec<Vec<usize>>| {
        if a != b {
            adj[a].push(b);
            adj[b].push(a);
        }
    };
    for (i, e) in d.edges.iter().enumerate() {
        if let Some(&h) = hub_of.get(&i) {
            for end in &e.ends {
                connect(h, end.node, &mut adj);
            }
        } else if e.kind == EdgeKind::Link && e.ends.len() == 2 {
            connect(e.ends[0].node, e.ends[1].node, &mut adj);
        }
    }
    // Tunnels join only what nothing else joins.
    for e in &d.edges {
        if e.kind == EdgeKind::Tunnel && e.ends.len() == 2 {
            let (a, b) = (e.ends[0].node, e.ends[1].node);
            if bfs(&adj, a, nv)[b].is_none() {
                connect(a, b, &mut adj);
            }
        }
    }
    for a in &mut adj {
        a.sort();
        a.dedup();
    }

    // Layers: per component, breadth-first from one end of its longest
    // shortest path (so a chain runs left to right).
    let mut layer = vec![usize::MAX; nv];
    let mut order_seen: Vec<usize> = Vec::new();
    let mut comp_layers: Vec<Vec<Vec<usize>>> = Vec::new();
    for start in 0..nv {
        if layer[start] != usize::MAX {
            continue;
        }
        let far = farthest(&bfs(&adj, start, nv));
        let root = farthest(&bfs(&adj, far, nv));
        let dist = bfs(&adj, root, nv);
        let mut layers: Vec<Vec<usize>> = Vec::new();
        // Discovery order from the root, for a stable first ordering.
        let mut q = VecDeque::from([root]);
        let mut seen = vec![false; nv];
        seen[root] = true;
        while let Some(v) = q.pop_front() {
            let l = dist[v].expect("reached");
            layer[v] = l;
            order_seen.push(v);
            if layers.len() <= l {
                layers.resize(l + 1, Vec::new());
            }
            layers[l].push(v);
            for &w in &adj[v] {
                if !seen[w] {
                    seen[w] = true;
                    q.push_back(w);
                }
            }
        }
        comp_layers.push(layers);
    }
    // Barycentre sweeps.
    for layers in &mut comp_layers {
        for sweep in 0..6 {
            let down = sweep % 2 == 0;
            let idx: Vec<usize> = if down {
                (1..layers.len()).collect()
            } else {
                (0..layers.len().saturating_sub(1)).rev().collect()
            };
            for l in idx {
                let refl = if down { l - 1 } else { l + 1 };
                let pos: BTreeMap<usize, usize> = layers[refl]
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (v, i))
                    .collect();
                let mut keyed: Vec<(f64, usize, usize)> = layers[l]
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let ps: Vec<usize> =
                            adj[v].iter().filter_map(|w| pos.get(w).copied()).collect();
                        let key = if ps.is_empty() {
                            i as f64
                        } else {
                            ps.iter().sum::<usize>() as f64 / ps.len() as f64
                        };
                        (key, i, v)
                    })
                    .collect();
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                layers[l] = keyed.into_iter().map(|k| k.2).collect();
            }
        }
    }

    // Coordinates: layers left to right; a component below the one before.
    let gap_x = nw + 2.0 * widest_label + 84.0;
    let step_y = nh + V_GAP;
    let mut centre = vec![(0.0, 0.0); nv];
    let mut y0 = 0.0;
    for layers in &comp_layers {
        let tallest = layers.iter().map(|l| l.len()).max().unwrap_or(1) as f64;
        for (li, l) in layers.iter().enumerate() {
            let off = (tallest - l.len() as f64) * step_y / 2.0;
            for (k, &v) in l.iter().enumerate() {
                centre[v] = (li as f64 * gap_x, y0 + off + k as f64 * step_y);
            }
        }
        y0 += tallest * step_y + V_GAP;
    }
    let node_rects: Vec<Rect> = (0..n)
        .map(|v| Rect::centred(centre[v].0, centre[v].1, nw, nh))
        .collect();
    let hub_rect = |v: usize| Rect::centred(centre[v].0, centre[v].1, nw, 22.0);

    // Curves. Parallel edges between the same two vertices fan out; an
    // edge inside a layer, or a tunnel, bends to the side.
    let mut parallel: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for e in &d.edges {
        if e.ends.len() == 2 {
            let (a, b) = (e.ends[0].node, e.ends[1].node);
            *parallel.entry((a.min(b), a.max(b))).or_default() += 1;
        }
    }
    let mut seen_pair: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut geoms = Vec::new();
    for (i, e) in d.edges.iter().enumerate() {
        if let Some(&h) = hub_of.get(&i) {
            let c = centre[h];
            let curves = e
                .ends
                .iter()
                .map(|end| straight(c, centre[end.node]))
                .collect();
            geoms.push(EdgeGeom {
                hub: Some(hub_rect(h)),
                curves,
            });
            continue;
        }
        let (a, b) = (e.ends[0].node, e.ends[1].node);
        let key = (a.min(b), a.max(b));
        let m = parallel[&key];
        let k = *seen_pair.entry(key).and_modify(|k| *k += 1).or_insert(0);
        let (pa, pb) = (centre[a], centre[b]);
        let mut bend = (k as f64 - (m as f64 - 1.0) / 2.0) * 30.0;
        let same_layer = layer[a] == layer[b];
        let skips = (layer[a] as i64 - layer[b] as i64).unsigned_abs() > 1;
        if e.kind == EdgeKind::Tunnel || same_layer || skips {
            // Away from the straight line, scaled with the distance so it
            // clears the boxes in between.
            let dist = ((pb.0 - pa.0).powi(2) + (pb.1 - pa.1).powi(2)).sqrt();
            let base = if same_layer && dist <= step_y + 1.0 {
                0.0
            } else {
                (0.18 * dist).max(nh)
            };
            bend += if bend >= 0.0 { base } else { -base };
            if e.kind == EdgeKind::Tunnel && m == 1 {
                bend = bend.abs().max(nh + 20.0);
            }
        }
        geoms.push(EdgeGeom {
            hub: None,
            curves: vec![bent(pa, pb, bend)],
        });
    }

    // Labels: near each end, slid along the curve to a free place.
    let mut obstacles: Vec<Rect> = node_rects.iter().map(|r| r.grown(2.0)).collect();
    obstacles.extend(geoms.iter().filter_map(|g| g.hub.map(|h| h.grown(2.0))));
    let mut labels: Vec<Label> = Vec::new();
    for (i, e) in d.edges.iter().enumerate() {
        for (ei, end) in e.ends.iter().enumerate() {
            let text = end.mtu.to_string();
            let (lw, lh) = label_size(&text);
            // Parametrise from the end's node outwards.
            let (curve, from_b, own) = match geoms[i].hub {
                Some(_) => (geoms[i].curves[ei], true, node_rects[end.node]),
                None => (geoms[i].curves[0], ei == 1, node_rects[end.node]),
            };
            let at = |s: f64| curve.point(if from_b { 1.0 - s } else { s });
            let limit = if geoms[i].hub.is_some() { 0.85 } else { 0.5 };
            let mut s0 = 0.0;
            while s0 < limit {
                let (x, y) = at(s0);
                if !Rect::centred(x, y, lw, lh).overlaps(&own.grown(4.0)) {
                    break;
                }
                s0 += 0.005;
            }
            let free = |r: &Rect, labels: &[Label]| {
                !obstacles.iter().any(|o| o.overlaps(r))
                    && !labels.iter().any(|l| l.rect.grown(1.0).overlaps(r))
            };
            let mut chosen = None;
            // Along the edge first, then beside it, then further along.
            'search: for reach in [limit, 0.95] {
                for nudge in [0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0] {
                    let mut s = s0;
                    while s <= reach {
                        let (x, y) = at(s);
                        let r = Rect::centred(x, y + nudge * (lh + 2.0), lw, lh);
                        if free(&r, &labels) {
                            chosen = Some(r);
                            break 'search;
                        }
                        s += 0.01;
                    }
                }
            }
            let rect = chosen.unwrap_or_else(|| {
                let (x, y) = at(s0);
                Rect::centred(x, y, lw, lh)
            });
            labels.push(Label {
                edge: i,
                end: ei,
                text,
                rect,
            });
        }
    }

    // Translate so everything starts at MARGIN.
    let mut minx = f64::MAX;
    let mut miny = f64::MAX;
    let mut maxx = f64::MIN;
    let mut maxy = f64::MIN;
    let mut take = |r: &Rect| {
        minx = minx.min(r.x);
        miny = miny.min(r.y);
        maxx = maxx.max(r.x + r.w);
        maxy = maxy.max(r.y + r.h);
    };
    node_rects.iter().for_each(&mut take);
    labels.iter().for_each(|l| take(&l.rect));
    for g in &geoms {
        if let Some(h) = &g.hub {
            take(h);
        }
        for c in &g.curves {
            for p in [c.a, c.c, c.b] {
                take(&Rect {
                    x: p.0 - 4.0,
                    y: p.1 - 4.0,
                    w: 8.0,
                    h: 8.0,
                });
            }
        }
    }
    if minx == f64::MAX {
        (minx, miny, maxx, maxy) = (0.0, 0.0, 0.0, 0.0);
    }
    let (dx, dy) = (MARGIN - minx, MARGIN - miny);
    let mut nodes = node_rects;
    nodes.iter_mut().for_each(|r| r.shift(dx, dy));
    for g in &mut geoms {
        if let Some(h) = &mut g.hub {
            h.shift(dx, dy);
        }
        g.curves.iter_mut().for_each(|c| c.shift(dx, dy));
    }
    labels.iter_mut().for_each(|l| l.rect.shift(dx, dy));
    Layout {
        width: (maxx - minx + 2.0 * MARGIN).ceil(),
        height: (maxy - miny + 2.0 * MARGIN).ceil(),
        nodes,
        edges: geoms,
        labels,
    }
}

fn bfs(adj: &[Vec<usize>], from: usize, nv: usize) -> Vec<Option<usize>> {
    let mut dist = vec![None; nv];
    dist[from] = Some(0);
    let mut q = VecDeque::from([from]);
    while let Some(v) = q.pop_front() {
        for &w in &adj[v] {
            if dist[w].is_none() {
                dist[w] = Some(dist[v].unwrap() + 1);
                q.push_back(w);
            }
        }
    }
    dist
}

/// The reached vertex farthest away (lowest index on ties).
fn farthest(dist: &[Option<usize>]) -> usize {
    let mut best: Option<(usize, usize)> = None;
    for (v, d) in dist.iter().enumerate() {
        if let Some(d) = *d {
            if best.is_none_or(|(_, bd)| d > bd) {
                best = Some((v, d));
            }
        }
    }
    best.map(|b| b.0).unwrap_or(0)
}

fn straight(a: (f64, f64), b: (f64, f64)) -> Curve {
    Curve {
        a,
        c: ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0),
        b,
    }
}

/// A curve from `a` to `b` whose middle sits `bend` away from the straight
/// line (to the left of a→b for positive `bend`).
fn bent(a: (f64, f64), b: (f64, f64), bend: f64) -> Curve {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (nx, ny) = (-dy / len, dx / len);
    // The control point sits twice as far as the curve's middle.
    let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    Curve {
        a,
        c: (mid.0 + 2.0 * bend * nx, mid.1 + 2.0 * bend * ny),
        b,
    }
}
