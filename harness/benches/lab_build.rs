//! Bench: build + teardown of hidden_smaller (4 nodes, 3 links, IPv4 and
//! IPv6) in-process, against the same lab built and removed by a shell
//! script of `ip` commands, in the same run. Prints medians and the ratio.
//!
//! `cargo bench -p mtulab-harness --bench lab_build` (as root). Set
//! MTULAB_BENCH_ROUNDS to change the number of rounds (default 30).

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use harness::Lab;
use mtulab_core::Plan;

mod common;
use common::median;

/// The same lab as a plain `ip` script: what an engineer would write.
fn script(plan: &Plan, tag: &str) -> String {
    let ns = |n: &str| format!("mtulab-bench{tag}-{n}");
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

fn main() {
    if harness::env::live_unavailable().is_some() {
        eprintln!("lab_build bench: needs root and nft; skipped");
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not run us long.
    let rounds = common::rounds(30);
    let topo = common::topology("hidden_smaller");
    let plan = Plan::new(&topo);

    let mut ours = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        let lab = Lab::build(&topo).expect("build");
        drop(lab);
        ours.push(t.elapsed());
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
    let (m_ours, m_theirs) = (median(ours), median(theirs));
    println!(
        "lab build+teardown (hidden_smaller, v4+v6): mtulab {:.2} ms, ip script {:.1} ms, ratio {:.1}x",
        m_ours.as_secs_f64() * 1e3,
        m_theirs.as_secs_f64() * 1e3,
        m_theirs.as_secs_f64() / m_ours.as_secs_f64()
    );
}
