//! Live tests of the lab itself (issue 2): the lab matches its file, it
//! leaves nothing behind, labs do not collide, and the namespace the tests
//! start in is never modified. Root only: without root each trial is
//! reported *ignored* (never passed), and with MTULAB_REQUIRE_ROOT=1 failed.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use harness::timers::Timers;
use harness::Lab;
use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;
use mtulab_core::Topology;
use serde_json::Value;

use crate::common;
use common::{ip_json, live, load};

/// The iputils ping: an independent witness that a host reaches an address.
fn iputils_ping(lab: &Lab, node: &str, dst: IpAddr) -> Result<bool, Failed> {
    let out = lab
        .command(node, "ping")
        .ok_or("no such node")?
        .args(["-c", "1", "-W", "2", "-n", "-q", &dst.to_string()])
        .output()?;
    Ok(out.status.success())
}

/// Per-end MTUs read back, addresses in range, hosts reach every other host
/// in each family they have, routers forward and hosts don't.
fn lab_matches_file() -> Result<(), Failed> {
    let mut topo = load("hidden_smaller");
    // One mismatched link too: per-end MTUs must come back per end.
    topo.links[2].mtu = [9000, 4000];
    let lab = Lab::build(&topo)?;
    for node in &lab.plan().nodes {
        let links = ip_json(&lab, &node.name, &["link", "show"])?;
        for iface in &node.interfaces {
            let l = links
                .as_array()
                .and_then(|a| a.iter().find(|l| l["ifname"] == iface.name.as_str()))
                .ok_or_else(|| format!("{}: no interface {}", node.name, iface.name))?;
            if l["mtu"].as_u64() != Some(iface.mtu as u64) {
                return Err(format!(
                    "{}:{} has mtu {} per ip, expected {}",
                    node.name, iface.name, l["mtu"], iface.mtu
                )
                .into());
            }
            if lab.mtu(&node.name, &iface.name) != Some(iface.mtu) {
                return Err(format!("lab.mtu disagrees for {}:{}", node.name, iface.name).into());
            }
        }
        let addrs = ip_json(&lab, &node.name, &["addr", "show"])?;
        for l in addrs.as_array().into_iter().flatten() {
            for a in l["addr_info"].as_array().into_iter().flatten() {
                let ip: IpAddr = a["local"].as_str().unwrap_or("").parse()?;
                let ok = match ip {
                    IpAddr::V4(v4) => {
                        v4.is_loopback() || (v4.octets()[0] == 198 && (v4.octets()[1] & 0xfe) == 18)
                    }
                    IpAddr::V6(v6) => {
                        v6.is_loopback()
                            || v6.segments()[0] == 0xfe80
                            || (v6.segments()[0] == 0x2001 && v6.segments()[1] == 0xdb8)
                    }
                };
                if !ok {
                    return Err(
                        format!("{}: address {ip} outside the lab ranges", node.name).into(),
                    );
                }
                // The lab's own addresses are added with IFA_F_NODAD and are
                // never tentative. The kernel's link-local ones stay
                // tentative until its addrconf work runs (accept_dad=0 only
                // skips the DAD itself): under load, e.g. sixteen labs
                // building beside this trial, that is after the build.
                let link_local = matches!(ip, IpAddr::V6(v6) if v6.segments()[0] == 0xfe80);
                if !link_local && a["tentative"].as_bool() == Some(true) {
                    return Err(format!("{}: address {ip} is tentative (DAD)", node.name).into());
                }
            }
        }
        let fwd = lab.run_in(&node.name, || {
            (
                harness::sysctl::read("net.ipv4.ip_forward").unwrap_or_default(),
                harness::sysctl::read("net.ipv6.conf.all.forwarding").unwrap_or_default(),
            )
        })?;
        let want = if node.router { "1" } else { "0" };
        if fwd != (want.to_string(), want.to_string()) {
            return Err(format!("{}: forwarding is {fwd:?}, expected {want}", node.name).into());
        }
    }
    let hosts = lab.plan().hosts();
    for from in &hosts {
        for to in &hosts {
            if from == to {
                continue;
            }
            for fam in [Family::V4, Family::V6] {
                let Some(dst) = lab.plan().address_of(to, fam) else {
                    continue;
                };
                if lab.plan().path(from, to, fam).is_none() {
                    continue;
                }
                if !iputils_ping(&lab, from, dst)? {
                    return Err(format!("{from} cannot ping {to} at {dst}").into());
                }
            }
        }
    }
    Ok(())
}

/// A host does not forward: with a router's only route to the far side
/// pointing at a host, packets die at that host.
fn hosts_do_not_forward() -> Result<(), Failed> {
    // a -- r -- b, plus a host h linked to r and b. Routing never uses h as
    // transit; force it: point r's route to b's subnet at h and expect
    // silence, then at b directly (the control) and expect a reply.
    let topo = Topology::from_str(
        r#"
name = "hostfwd"
[nodes.a]
[nodes.r]
router = true
[nodes.b]
[nodes.h]
[[links]]
between = ["a", "r"]
mtu = 1500
[[links]]
between = ["r", "b"]
mtu = 1500
[[links]]
between = ["r", "h"]
mtu = 1500
[[links]]
between = ["h", "b"]
mtu = 1500
"#,
        Path::new("hostfwd.toml"),
    )?;
    let lab = Lab::build(&topo)?;
    let a_to_b = lab
        .plan()
        .address_of("b", Family::V4)
        .ok_or("b has no address")?;
    if !iputils_ping(&lab, "a", a_to_b)? {
        return Err("control: a cannot reach b via r".into());
    }
    // b's address on its link to r is in link 1's subnet; reroute r's
    // traffic for it through h (h's address on link r-h).
    let h_addr = lab
        .plan()
        .node("h")
        .and_then(|n| n.interfaces.iter().find(|i| i.peer_node == "r"))
        .and_then(|i| i.ipv4.clone())
        .ok_or("h has no address towards r")?;
    let st = lab
        .command("r", "ip")
        .ok_or("no r")?
        .args([
            "route",
            "replace",
            &format!("{a_to_b}/32"),
            "via",
            &h_addr.addr.to_string(),
        ])
        .status()?;
    if !st.success() {
        return Err("ip route replace failed".into());
    }
    if iputils_ping(&lab, "a", a_to_b)? {
        return Err("a reached b through host h: h forwards".into());
    }
    Ok(())
}

fn mountinfo_mentions(needle: &str) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .contains(needle)
}

fn assert_gone(id: &str) -> Result<(), Failed> {
    let left = harness::netns::list_named(&format!("mtulab-{id}-"));
    if !left.is_empty() {
        return Err(format!("namespaces left behind: {left:?}").into());
    }
    if mountinfo_mentions(&format!("mtulab-{id}-")) {
        return Err(format!("mounts of lab {id} left behind").into());
    }
    if Path::new(&harness::state::state_path(id)).exists() {
        return Err(format!("registry entry of lab {id} left behind").into());
    }
    Ok(())
}

/// Dropping a lab removes its namespaces, mounts and registry entry.
fn teardown_after_success() -> Result<(), Failed> {
    let lab = Lab::build(&load("icmp_blackhole"))?;
    let id = lab.id().to_string();
    if harness::netns::list_named(&format!("mtulab-{id}-")).len() != 4 {
        return Err("expected 4 namespaces while the lab is up".into());
    }
    drop(lab);
    assert_gone(&id)
}

/// A panic inside a test still tears the lab down (Drop during unwinding).
/// The panic is planted with `resume_unwind`, which unwinds like `panic!`
/// but skips the panic hook, so a passing run prints no message or
/// backtrace for it.
fn teardown_after_panic() -> Result<(), Failed> {
    let topo = load("hidden_smaller");
    let (tx, rx) = std::sync::mpsc::channel();
    let r = std::thread::spawn(move || {
        let lab = Lab::build(&topo).expect("build");
        tx.send(lab.id().to_string()).unwrap();
        std::panic::resume_unwind(Box::new("planted panic with a live lab"));
    })
    .join();
    if r.is_ok() {
        return Err("the planted panic did not happen".into());
    }
    let id = rx.recv_timeout(Duration::from_secs(5))?;
    assert_gone(&id)
}

/// Two labs from the same file at once get distinct namespaces and both work.
fn two_labs_do_not_collide() -> Result<(), Failed> {
    let topo = load("hidden_smaller");
    let (l1, l2) = std::thread::scope(|s| {
        let a = s.spawn(|| Lab::build(&topo));
        let b = s.spawn(|| Lab::build(&topo));
        (a.join().unwrap(), b.join().unwrap())
    });
    let (l1, l2) = (l1?, l2?);
    let n1: BTreeSet<_> = l1.namespaces().values().collect();
    if l2.namespaces().values().any(|n| n1.contains(n)) {
        return Err("the two labs share a namespace name".into());
    }
    for lab in [&l1, &l2] {
        let dst = lab
            .plan()
            .address_of("server", Family::V4)
            .ok_or("no server address")?;
        if !iputils_ping(lab, "client", dst)? {
            return Err(format!("lab {}: client cannot reach server", lab.id()).into());
        }
    }
    Ok(())
}

/// Sixteen labs of the same file built at once (each thread builds, reads
/// back its MTUs and drops its lab): every build succeeds, no two share a
/// namespace, and nothing of any of them is left.
fn sixteen_labs_build_at_once() -> Result<(), Failed> {
    const LABS: usize = 16;
    let topo = load("hidden_smaller");
    let built: Vec<Result<(String, Vec<String>), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..LABS)
            .map(|_| {
                s.spawn(|| {
                    let lab = Lab::build(&topo).map_err(|e| format!("build: {e}"))?;
                    let read_back = lab
                        .plan()
                        .nodes
                        .iter()
                        .flat_map(|n| n.interfaces.iter().map(move |i| (&n.name, &i.name)))
                        .filter(|(n, i)| lab.mtu(n, i).is_some())
                        .count();
                    if read_back != 6 {
                        return Err(format!(
                            "lab {}: {read_back} interfaces read back",
                            lab.id()
                        ));
                    }
                    let names = lab.namespaces().values().cloned().collect();
                    Ok((lab.id().to_string(), names))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("builder panicked".into())))
            .collect()
    });
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    for r in built {
        let (id, names) = r?;
        for n in names {
            if !seen.insert(n.clone()) {
                return Err(format!("namespace {n} used by two labs").into());
            }
        }
        ids.push(id);
    }
    if seen.len() != LABS * 4 {
        return Err(format!("{} namespaces, expected {}", seen.len(), LABS * 4).into());
    }
    for id in &ids {
        assert_gone(id)?;
    }
    Ok(())
}

/// With fast timers every route the lab installs, connected ones included,
/// carries a locked `rto_min` and `quickack`; with kernel defaults none
/// does and the connected routes are the kernel's own (the control).
fn routes_carry_the_lab_timers() -> Result<(), Failed> {
    let topo = load("hidden_smaller");
    for timers in [Timers::FAST, Timers::KERNEL_DEFAULTS] {
        let lab = Lab::build_with(&topo, timers)?;
        for node in &lab.plan().nodes {
            for v6 in [false, true] {
                let args: &[&str] = if v6 {
                    &["-6", "route", "show"]
                } else {
                    &["route", "show"]
                };
                let routes = ip_json(&lab, &node.name, args)?;
                let ours: Vec<&Value> = routes
                    .as_array()
                    .into_iter()
                    .flatten()
                    // The kernel's link-local and multicast routes are not
                    // the lab's.
                    .filter(|r| {
                        let dst = r["dst"].as_str().unwrap_or("");
                        !dst.starts_with("fe80:") && !dst.starts_with("ff00:")
                    })
                    .collect();
                if ours.is_empty() {
                    return Err(format!("{}: no routes (v6: {v6})", node.name).into());
                }
                let connected = ours.iter().filter(|r| r["protocol"] == "kernel").count();
                let family = if v6 { Family::V6 } else { Family::V4 };
                let ifaces = node
                    .interfaces
                    .iter()
                    .filter(|i| i.addr(family).is_some())
                    .count();
                if connected != ifaces {
                    return Err(format!(
                        "{}: {connected} connected routes (v6: {v6}), expected {ifaces}",
                        node.name
                    )
                    .into());
                }
                for r in ours {
                    let metrics = r["metrics"].to_string();
                    let has = metrics.contains("rto_min") && metrics.contains("quickack");
                    if has != timers.is_fast() {
                        return Err(format!(
                            "{}: route {} has metrics {metrics} with timers {}",
                            node.name,
                            r["dst"],
                            timers.describe()
                        )
                        .into());
                    }
                }
            }
        }
    }
    Ok(())
}

/// A chain of `n` nodes (hosts `a` and `b` at the ends, routers between).
fn chain(n: usize) -> Topology {
    let name = |i: usize| match i {
        0 => "a".to_string(),
        i if i == n - 1 => "b".to_string(),
        i => format!("r{i}"),
    };
    let mut src = format!("name = \"chain{n}\"\n");
    for i in 0..n {
        let router = i != 0 && i != n - 1;
        src.push_str(&format!("[nodes.{}]\nrouter = {router}\n", name(i)));
    }
    for i in 1..n {
        src.push_str(&format!(
            "[[links]]\nbetween = [\"{}\", \"{}\"]\nmtu = 1500\n",
            name(i - 1),
            name(i)
        ));
    }
    Topology::from_str(&src, Path::new("chain.toml")).expect("chain topology")
}

/// 68 routers between two hosts (more than the kernel's TTL of 64 allows):
/// the lab raises the hop limit, so the far host answers in both families.
/// (Control for the refusal below.)
fn long_chain_is_reachable() -> Result<(), Failed> {
    let lab = Lab::build(&chain(70))?;
    for family in [Family::V4, Family::V6] {
        let dst = lab.plan().address_of("b", family).ok_or("no address")?;
        if !iputils_ping(&lab, "a", dst)? {
            return Err(format!("a cannot reach b ({dst}) across 68 routers").into());
        }
    }
    Ok(())
}

/// 255 routers between two hosts: refused before anything is created, and
/// the message says the lab raised the hop limit to 255.
fn too_long_chain_is_refused() -> Result<(), Failed> {
    let before = harness::netns::list_named("mtulab-chain257-");
    let Err(e) = Lab::build(&chain(257)) else {
        return Err("a path of 255 routers was built".into());
    };
    let msg = e.to_string();
    if !msg.contains("255 routers apart") || !msg.contains("raises the TTL / hop limit") {
        return Err(format!("unclear refusal: {msg}").into());
    }
    if harness::netns::list_named("mtulab-chain257-") != before {
        return Err("namespaces were created".into());
    }
    Ok(())
}

/// A router with 300 links: its netlink batch is far larger than one
/// socket buffer, so it goes out in chunks (one `sendmsg` of it failed with
/// ENOBUFS). Every link is there with its MTU, and the last host reaches
/// the first through the hub.
fn big_router_builds_in_chunks() -> Result<(), Failed> {
    const HOSTS: usize = 300;
    let mut src = String::from("name = \"star\"\n[nodes.hub]\nrouter = true\n");
    for i in 0..HOSTS {
        src.push_str(&format!("[nodes.h{i}]\n"));
    }
    for i in 0..HOSTS {
        let mtu = 1280 + i;
        src.push_str(&format!(
            "[[links]]\nbetween = [\"hub\", \"h{i}\"]\nmtu = {mtu}\n"
        ));
    }
    let topo = Topology::from_str(&src, Path::new("star.toml"))?;
    let lab = Lab::build(&topo)?;
    for i in 0..HOSTS {
        let want = 1280 + i as u32;
        for key in [
            ("hub".to_string(), format!("h{i}")),
            (format!("h{i}"), "hub".to_string()),
        ] {
            if lab.mtu(&key.0, &key.1) != Some(want) {
                return Err(
                    format!("{key:?}: MTU {:?}, want {want}", lab.mtu(&key.0, &key.1)).into(),
                );
            }
        }
    }
    let dst = lab
        .plan()
        .address_of("h0", Family::V4)
        .ok_or("no h0 address")?;
    if !iputils_ping(&lab, &format!("h{}", HOSTS - 1), dst)? {
        return Err("the last host cannot reach the first through the hub".into());
    }
    Ok(())
}

/// Everything observable about the namespace the tests run in.
fn host_snapshot() -> Result<Vec<(String, String)>, Failed> {
    let mut out = Vec::new();
    for args in [
        &["-j", "link", "show"][..],
        &["-j", "addr", "show"],
        &["-j", "-4", "route", "show", "table", "all"],
        &["-j", "-6", "route", "show", "table", "all"],
    ] {
        let o = Command::new("ip").args(args).output()?;
        let mut v: Value = serde_json::from_slice(&o.stdout)?;
        // Counters move by themselves; what matters is what exists.
        strip_volatile(&mut v);
        out.push((format!("ip {}", args.join(" ")), v.to_string()));
    }
    let nft = Command::new("nft").args(["list", "ruleset"]).output()?;
    out.push((
        "nft list ruleset".into(),
        String::from_utf8_lossy(&nft.stdout).into(),
    ));
    let mut sysctls = Vec::new();
    walk_sysctls(Path::new("/proc/sys/net"), &mut sysctls);
    out.extend(sysctls);
    Ok(out)
}

fn strip_volatile(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in [
                "stats",
                "stats64",
                "used",
                "valid_life_time",
                "preferred_life_time",
                "expires",
            ] {
                m.remove(k);
            }
            m.values_mut().for_each(strip_volatile);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_volatile),
        _ => {}
    }
}

fn walk_sysctls(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk_sysctls(&p, out);
        } else if let Ok(v) = std::fs::read_to_string(&p) {
            let key = p.display().to_string();
            // Values the kernel changes on its own (hash secrets, counters).
            if key.ends_with("/stable_secret") || key.contains("/neigh/") && key.ends_with("gc_") {
                continue;
            }
            out.push((key, v));
        }
    }
}

/// Building, probing and removing labs (filters included) leaves the
/// starting namespace's links, addresses, routes, nft ruleset and net
/// sysctls exactly as they were.
fn start_namespace_unchanged() -> Result<(), Failed> {
    let before = host_snapshot()?;
    for name in ["hidden_smaller", "icmp_blackhole"] {
        let lab = Lab::build(&load(name))?;
        let dst = lab.plan().address_of("client", Family::V6).ok_or("no v6")?;
        iputils_ping(&lab, "server", dst)?;
        drop(lab);
    }
    let after = host_snapshot()?;
    for (b, a) in before.iter().zip(&after) {
        if b != a {
            return Err(format!("{} changed:\nbefore: {}\nafter:  {}", b.0, b.1, a.1).into());
        }
    }
    if before.len() != after.len() {
        return Err("the set of net sysctls changed".into());
    }
    Ok(())
}

/// The network namespace the calling thread is in (device, inode).
fn thread_netns() -> Result<(u64, u64), Failed> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata("/proc/thread-self/ns/net")?;
    Ok((m.dev(), m.ino()))
}

/// `Netns::run` enters the node's namespace on the calling thread and puts
/// the thread back afterwards, also when the closure panics (which becomes
/// an error) and when runs nest.
fn run_returns_the_thread() -> Result<(), Failed> {
    let lab = Lab::build(&load("hidden_smaller"))?;
    let home = thread_netns()?;
    let client = lab.node("client").ok_or("no client")?;
    let server = lab.node("server").ok_or("no server")?;
    let (inside, nested, back_in_client) = client.ns().run(|| {
        let inside = thread_netns();
        let nested = server.ns().run(thread_netns);
        (inside, nested, thread_netns())
    })?;
    let (inside, nested, back_in_client) = (inside?, nested??, back_in_client?);
    if inside == home || nested == home || nested == inside || back_in_client != inside {
        return Err(format!(
            "namespaces: home {home:?}, in client {inside:?}, nested in server {nested:?}, \
             back in client {back_in_client:?}"
        )
        .into());
    }
    if thread_netns()? != home {
        return Err("the thread did not come back from the client's namespace".into());
    }
    let panicked = std::panic::catch_unwind(|| {
        client
            .ns()
            .run(|| -> () { panic!("planted panic inside Netns::run (expected)") })
    });
    match panicked {
        Ok(Err(harness::netns::NetnsError::Panicked { .. })) => {}
        other => return Err(format!("a panicking closure gave {other:?}").into()),
    }
    if thread_netns()? != home {
        return Err("the thread did not come back after a panic".into());
    }
    Ok(())
}

/// When `Lab::build` returns, every veth end (segment members' included)
/// is operationally up, and none shares its index with its peer (the
/// kernel's link watch puts off a carrier change on such a device by up
/// to a second, and the end drops packets until then: see
/// `iface_index` in lab/build.rs). Read with `ip`, not the lab's own
/// netlink code.
fn links_up_when_built() -> Result<(), Failed> {
    for name in ["hidden_smaller", "lan_jumbo_mismatch"] {
        let lab = Lab::build(&load(name))?;
        for node in &lab.plan().nodes {
            let links = ip_json(&lab, &node.name, &["link", "show"])?;
            let links = links.as_array().ok_or("ip -j link: not a list")?;
            for iface in &node.interfaces {
                let l = links
                    .iter()
                    .find(|l| l["ifname"] == iface.name.as_str())
                    .ok_or_else(|| format!("{name}: {}: no {}", node.name, iface.name))?;
                if l["operstate"] != "UP" {
                    return Err(format!(
                        "{name}: {}:{} is {} right after the build",
                        node.name, iface.name, l["operstate"]
                    )
                    .into());
                }
                if l["link_index"].is_null() || l["link_index"] == l["ifindex"] {
                    return Err(format!(
                        "{name}: {}:{} has index {} and its peer {}",
                        node.name, iface.name, l["ifindex"], l["link_index"]
                    )
                    .into());
                }
            }
        }
    }
    Ok(())
}

pub fn trials() -> Vec<Trial> {
    vec![
        live("lab::matches_file", lab_matches_file),
        live("lab::links_up_when_built", links_up_when_built),
        live("lab::hosts_do_not_forward", hosts_do_not_forward),
        live("lab::teardown::after_success", teardown_after_success),
        live("lab::teardown::after_panic", teardown_after_panic),
        live("lab::two_labs_do_not_collide", two_labs_do_not_collide),
        live("lab::start_namespace_unchanged", start_namespace_unchanged),
        live("lab::run_returns_the_thread", run_returns_the_thread),
        live(
            "lab::big_router_builds_in_chunks",
            big_router_builds_in_chunks,
        ),
        live(
            "lab::hop_limit::long_chain_is_reachable",
            long_chain_is_reachable,
        ),
        live(
            "lab::hop_limit::too_long_chain_is_refused",
            too_long_chain_is_refused,
        ),
        live(
            "lab::sixteen_labs_build_at_once",
            sixteen_labs_build_at_once,
        ),
        live(
            "lab::timers::routes_carry_the_lab_timers",
            routes_carry_the_lab_timers,
        ),
    ]
}
