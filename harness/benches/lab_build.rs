//! Bench: build + teardown of hidden_smaller (4 nodes, 3 links, IPv4 and
//! IPv6) in-process, with the lab's fast timers and with kernel defaults
//! (interleaved, so both see the same machine), against the same lab built
//! and removed by a shell script of `ip` commands, in the same run; then
//! where the build's time goes, and a 64-node chain built and removed.
//! Prints medians and ratios.
//!
//! `cargo bench -p mtulab-harness --bench lab_build` (as root). Set
//! MTULAB_BENCH_ROUNDS to change the number of rounds (default 30).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use harness::timers::Timers;
use harness::Lab;
use mtulab_core::{Plan, Topology};

mod common;
use common::median;

/// The same lab as a plain `ip` script: what an engineer would write.
fn script(plan: &Plan, tag: &str) -> String {
    // Not `mtulab-`: another run's reaper would remove these mid-script.
    let ns = |n: &str| format!("mlh-bench{tag}-{n}");
    let mut s = String::from("set -e\n");
    for n in &plan.nodes {
        let _ = writeln!(s, "ip netns add {}", ns(&n.name));
        for (k, v) in harness::sysctl::base(n.router) {
            let _ = writeln!(s, "ip netns exec {} sysctl -qw {k}='{v}'", ns(&n.name));
        }
        let _ = writeln!(s, "ip -n {} link set lo up", ns(&n.name));
    }
    for n in &plan.nodes {
        for i in n.interfaces.iter().filter(|i| i.end == 0) {
            let peer = plan.node(&i.peer_node).unwrap();
            let pi = peer
                .interfaces
                .iter()
                .find(|p| p.link == i.link && p.end == 1)
                .unwrap();
            let _ = writeln!(
                s,
                "ip -n {} link add {} mtu {} type veth peer name {} mtu {} netns {}",
                ns(&n.name),
                i.name,
                i.mtu,
                pi.name,
                pi.mtu,
                ns(&peer.name)
            );
            let _ = writeln!(s, "ip -n {} link set {} up", ns(&n.name), i.name);
            let _ = writeln!(s, "ip -n {} link set {} up", ns(&peer.name), pi.name);
        }
    }
    for n in &plan.nodes {
        for i in &n.interfaces {
            // IPv6 without DAD, as the lab adds it (IFA_F_NODAD).
            for (addr, flags) in [(&i.ipv4, ""), (&i.ipv6, " nodad")] {
                if let Some(a) = addr {
                    let _ = writeln!(
                        s,
                        "ip -n {} addr add {}/{} dev {}{flags}",
                        ns(&n.name),
                        a.addr,
                        a.prefix_len,
                        i.name
                    );
                }
            }
        }
        for r in &n.routes {
            let _ = writeln!(
                s,
                "ip -n {} route add {}/{} via {} dev {}",
                ns(&n.name),
                r.dst.addr,
                r.dst.prefix_len,
                r.via,
                r.dev
            );
        }
    }
    for n in &plan.nodes {
        let _ = writeln!(s, "ip netns del {}", ns(&n.name));
    }
    s
}

/// Build and drop `topo` once with `timers`: (total, build phases).
fn build_drop(topo: &Topology, timers: Timers) -> (Duration, Vec<(&'static str, Duration)>) {
    let t = Instant::now();
    let lab = Lab::build_with(topo, timers).expect("build");
    let mut phases = lab.phases.clone();
    let t_drop = Instant::now();
    drop(lab);
    phases.push(("teardown", t_drop.elapsed()));
    (t.elapsed(), phases)
}

/// A chain of `n` nodes: two hosts at the ends, routers between, 1500
/// everywhere.
fn chain(n: usize) -> Topology {
    let mut t = String::from("name = \"chain\"\n");
    let name = |i: usize| match i {
        0 => "a".to_string(),
        i if i == n - 1 => "b".to_string(),
        i => format!("r{i}"),
    };
    for i in 0..n {
        let router = i != 0 && i != n - 1;
        let _ = writeln!(t, "[nodes.{}]\nrouter = {router}", name(i));
    }
    for i in 1..n {
        let _ = writeln!(
            t,
            "[[links]]\nbetween = [\"{}\", \"{}\"]\nmtu = 1500",
            name(i - 1),
            name(i)
        );
    }
    Topology::from_str(&t, std::path::Path::new("chain.toml")).expect("chain topology")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    if harness::env::live_unavailable().is_some() {
        eprintln!("lab_build bench: needs root and nft; skipped");
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not run us long.
    let rounds = common::rounds(30);
    let topo = common::topology("hidden_smaller");
    let plan = Plan::new(&topo);

    // Fast timers and kernel defaults in turn, so drift hits both alike.
    let (mut fast, mut stock) = (Vec::new(), Vec::new());
    let mut phases: BTreeMap<(usize, &str), Vec<Duration>> = BTreeMap::new();
    for _ in 0..rounds {
        let (t, ph) = build_drop(&topo, Timers::FAST);
        fast.push(t);
        for (k, (name, d)) in ph.into_iter().enumerate() {
            phases.entry((k, name)).or_default().push(d);
        }
        stock.push(build_drop(&topo, Timers::KERNEL_DEFAULTS).0);
    }
    let mut theirs = Vec::new();
    for r in 0..rounds.clamp(1, 10) {
        let text = script(&plan, &format!("{}x{r}", std::process::id()));
        let t = Instant::now();
        let st = Command::new("sh")
            .arg("-c")
            .arg(&text)
            .status()
            .expect("sh");
        theirs.push(t.elapsed());
        assert!(st.success(), "the ip script failed");
    }
    let (m_fast, m_stock, m_theirs) = (median(fast), median(stock), median(theirs));
    println!(
        "lab build+teardown (hidden_smaller, v4+v6): mtulab {:.2} ms (kernel-default timers {:.2} ms, ratio {:.2}), ip script {:.1} ms, ratio {:.1}x",
        ms(m_fast),
        ms(m_stock),
        m_fast.as_secs_f64() / m_stock.as_secs_f64(),
        ms(m_theirs),
        m_theirs.as_secs_f64() / m_fast.as_secs_f64()
    );
    let shown: Vec<String> = phases
        .into_iter()
        .map(|((_, name), v)| format!("{name} {:.2}", ms(median(v))))
        .collect();
    println!("  phases (median ms, fast timers): {}", shown.join(", "));

    let n = 64;
    let long = chain(n);
    let mut chain_times = Vec::new();
    for _ in 0..rounds.clamp(1, 5) {
        chain_times.push(build_drop(&long, Timers::FAST).0);
    }
    println!(
        "{n}-node chain build+teardown: {:.1} ms (median of {})",
        ms(median(chain_times.clone())),
        chain_times.len()
    );
}
