//! `handbuilt::…` trials: a chain, an nft ruleset and a LAN built with plain `ip` / `nft`, snapshotted, imported, checked against what they measure.

use super::kit::*;
use crate::common::*;
use harness::probe::transfer::TransferVerdict;
use libtest_mimic::Failed;
use mtulab_core::{CheckId, Family};

/// ```text
///  client --1500-- r1 --1280-- r2 --9000-- server
///  .1.2         .1.1  .2.1  .2.2  .3.1     .3.2     (198.18.N.x/24, 2001:db8:N::x/64)
/// ```
/// Static routes only; `broken`: r2 drops its own frag-needed /
/// packet-too-big (nft output), so downloads server -> client blackhole.
pub(crate) fn chain(tag: &str, v4: bool, v6: bool, broken: bool) -> Result<(), Failed> {
    let net = Net::new(tag, &["client", "r1", "r2", "server"])?;
    let pair = |n: u32, a: u32, b: u32| -> Vec<[String; 2]> {
        let mut v = Vec::new();
        if v4 {
            v.push([format!("198.18.{n}.{a}/24"), format!("198.18.{n}.{b}/24")]);
        }
        if v6 {
            v.push([
                format!("2001:db8:{n}::{a}/64"),
                format!("2001:db8:{n}::{b}/64"),
            ]);
        }
        v
    };
    let refs = |v: &Vec<[String; 2]>| -> Vec<[String; 2]> { v.clone() };
    for (a, b, mtu, p) in [
        ("client", "r1", [1500, 1500], pair(1, 2, 1)),
        ("r1", "r2", [1280, 1280], pair(2, 1, 2)),
        ("r2", "server", [9000, 9000], pair(3, 1, 2)),
    ] {
        let p = refs(&p);
        let strs: Vec<[&str; 2]> = p.iter().map(|[x, y]| [x.as_str(), y.as_str()]).collect();
        net.link(a, b, mtu, &strs)?;
    }
    net.forward("r1")?;
    net.forward("r2")?;
    if v4 {
        net.exec(
            "client",
            &["ip", "route", "add", "default", "via", "198.18.1.1"],
        )?;
        net.exec(
            "server",
            &["ip", "route", "add", "default", "via", "198.18.3.1"],
        )?;
        net.exec(
            "r1",
            &["ip", "route", "add", "198.18.3.0/24", "via", "198.18.2.2"],
        )?;
        net.exec(
            "r2",
            &["ip", "route", "add", "198.18.1.0/24", "via", "198.18.2.1"],
        )?;
    }
    if v6 {
        net.exec(
            "client",
            &[
                "ip",
                "-6",
                "route",
                "add",
                "default",
                "via",
                "2001:db8:1::1",
            ],
        )?;
        net.exec(
            "server",
            &[
                "ip",
                "-6",
                "route",
                "add",
                "default",
                "via",
                "2001:db8:3::1",
            ],
        )?;
        net.exec(
            "r1",
            &[
                "ip",
                "-6",
                "route",
                "add",
                "2001:db8:3::/64",
                "via",
                "2001:db8:2::2",
            ],
        )?;
        net.exec(
            "r2",
            &[
                "ip",
                "-6",
                "route",
                "add",
                "2001:db8:1::/64",
                "via",
                "2001:db8:2::1",
            ],
        )?;
    }
    if broken {
        net.exec(
            "r2",
            &["nft", "add table inet noicmp; add chain inet noicmp out { type filter hook output priority 0; }; \
               add rule inet noicmp out icmp type destination-unreachable icmp code frag-needed drop; \
               add rule inet noicmp out icmpv6 type packet-too-big drop"],
        )?;
    }
    let scratch = Scratch::new(tag);
    let files = net.snapshot(&["client", "r1", "r2", "server"], &scratch.0)?;
    let mut measured = Vec::new();
    if v4 {
        measured.push((
            Family::V4,
            measure(&net, "server", "client", "198.18.1.2", 1280)?,
        ));
    }
    if v6 {
        measured.push((
            Family::V6,
            measure(&net, "server", "client", "2001:db8:1::2", 1280)?,
        ));
    }
    for (fam, m) in &measured {
        let expect = if broken {
            (None, true, TransferVerdict::Blackhole)
        } else {
            (Some(1280), true, TransferVerdict::Ok)
        };
        if (m.learned, m.delivered, m.transfer) != expect {
            return Err(format!(
                "hand-built network, {fam}: measured {m:?}, the setup means {expect:?}"
            )
            .into());
        }
    }
    drop(net);
    let t = import(&files, &scratch.0)?;
    let r = run_check(&t)?;
    for (fam, m) in measured {
        same_as_measured(&r, "server", "client", fam, &m)?;
    }
    if !broken && !r.ok {
        return Err(format!(
            "control has violations:\n{}",
            mtulab::report::human(&r, false)
        )
        .into());
    }
    Ok(())
}

/// ```text
///  client --1500-- r1 --1400-- r2 --1500-- server
/// ```
/// r2 carries a real nft ruleset (topologies/rulesets/hardened.nft: only
/// ping passes; `control`: hardened-fixed.nft). Only the routers are
/// snapshotted: client and server come back as synthetic edge hosts.
pub(crate) fn ruleset(broken: bool) -> Result<(), Failed> {
    let tag = if broken { "rs-b" } else { "rs-c" };
    let net = Net::new(tag, &["client", "r1", "r2", "server"])?;
    net.link(
        "client",
        "r1",
        [1500, 1500],
        &[["198.18.1.2/24", "198.18.1.1/24"]],
    )?;
    net.link(
        "r1",
        "r2",
        [1400, 1400],
        &[["198.18.2.1/24", "198.18.2.2/24"]],
    )?;
    net.link(
        "r2",
        "server",
        [1500, 1500],
        &[["198.18.3.1/24", "198.18.3.2/24"]],
    )?;
    net.forward("r1")?;
    net.forward("r2")?;
    net.exec(
        "client",
        &["ip", "route", "add", "default", "via", "198.18.1.1"],
    )?;
    net.exec(
        "server",
        &["ip", "route", "add", "default", "via", "198.18.3.1"],
    )?;
    net.exec(
        "r1",
        &["ip", "route", "add", "198.18.3.0/24", "via", "198.18.2.2"],
    )?;
    net.exec(
        "r2",
        &["ip", "route", "add", "198.18.1.0/24", "via", "198.18.2.1"],
    )?;
    let file = topologies_dir().join("rulesets").join(if broken {
        "hardened.nft"
    } else {
        "hardened-fixed.nft"
    });
    net.exec("r2", &["nft", "-f", &file.to_string_lossy()])?;
    let scratch = Scratch::new(tag);
    let files = net.snapshot(&["r1", "r2"], &scratch.0)?;
    let m = measure(&net, "server", "client", "198.18.1.2", 1400)?;
    let expect = if broken {
        (None, true, TransferVerdict::Blackhole)
    } else {
        (Some(1400), true, TransferVerdict::Ok)
    };
    if (m.learned, m.delivered, m.transfer) != expect {
        return Err(
            format!("hand-built network: measured {m:?}, the setup means {expect:?}").into(),
        );
    }
    drop(net);
    let t = import(&files, &scratch.0)?;
    if !t.topology.filters.iter().any(|f| f.node == "r2") {
        return Err("r2's ruleset was not imported".into());
    }
    // The edge hosts standing in for client and server.
    let edge_on = |router: &str, iface: &str| {
        t.topology
            .links
            .iter()
            .find(|l| l.between[0] == router && l.names[0] == iface)
            .map(|l| l.between[1].clone())
    };
    let (Some(client), Some(server)) = (edge_on("r1", "client"), edge_on("r2", "server")) else {
        return Err(format!(
            "no edge hosts on the routers' outer links: {:?}",
            t.topology.links
        )
        .into());
    };
    let r = run_check(&t)?;
    same_as_measured(&r, &server, &client, Family::V4, &m)?;
    if !broken && !r.ok {
        return Err(format!(
            "control has violations:\n{}",
            mtulab::report::human(&r, false)
        )
        .into());
    }
    Ok(())
}

/// ```text
///  storage --9000-- r1 ---lan---[ sw: bridge ]--- nas, pc     (198.18.1.0/24, 198.18.2.0/24)
/// ```
/// A LAN built with plain `ip` commands: a bridge in its own namespace
/// (not snapshotted, like a switch), r1, the NAS and a PC on it. `broken`:
/// r1's LAN port is 9000 (for storage's jumbo frames), the others 1500;
/// `control`: every member at 1500. Measured on the hand-built network: a
/// DF packet of 1505 bytes from storage to the NAS vanishes without ICMP
/// and nothing is learned (broken), or draws r1's frag-needed and storage
/// learns 1500 (control); one of 1500 is answered either way. The imported
/// topology must say the same: a segment whose odd member is r1 and pmtud
/// violated with 9000 learned, or everything holding with 1500 learned.
pub(crate) fn lan(broken: bool) -> Result<(), Failed> {
    let tag = if broken { "lan-b" } else { "lan-c" };
    let net = Net::new(tag, &["storage", "r1", "nas", "pc", "sw"])?;
    net.link(
        "storage",
        "r1",
        [9000, 9000],
        &[["198.18.1.2/24", "198.18.1.1/24"]],
    )?;
    net.exec(
        "sw",
        &[
            "ip",
            "link",
            "add",
            "name",
            "br",
            "type",
            "bridge",
            "stp_state",
            "0",
            "forward_delay",
            "0",
            "mcast_snooping",
            "0",
        ],
    )?;
    net.exec(
        "sw",
        &["ip", "link", "set", "dev", "br", "mtu", "65535", "up"],
    )?;
    let r1_mtu = if broken { "9000" } else { "1500" };
    for (member, mtu, addr) in [
        ("r1", r1_mtu, "198.18.2.1/24"),
        ("nas", "1500", "198.18.2.2/24"),
        ("pc", "1500", "198.18.2.3/24"),
    ] {
        sh(&[
            "ip",
            "link",
            "add",
            "name",
            "lan",
            "netns",
            &net.ns(member),
            "type",
            "veth",
            "peer",
            "name",
            member,
            "netns",
            &net.ns("sw"),
        ])?;
        net.exec(
            "sw",
            &[
                "ip", "link", "set", member, "mtu", "65535", "master", "br", "up",
            ],
        )?;
        net.exec(member, &["ip", "link", "set", "lan", "mtu", mtu, "up"])?;
        net.exec(member, &["ip", "addr", "add", addr, "dev", "lan"])?;
    }
    net.forward("r1")?;
    net.exec(
        "storage",
        &["ip", "route", "add", "default", "via", "198.18.1.1"],
    )?;
    for host in ["nas", "pc"] {
        net.exec(
            host,
            &["ip", "route", "add", "198.18.1.0/24", "via", "198.18.2.1"],
        )?;
    }
    let scratch = Scratch::new(tag);
    let files = net.snapshot(&["storage", "r1", "nas", "pc"], &scratch.0)?;
    // What the hand-built LAN does.
    let ping = |size: u32| {
        net.exec(
            "storage",
            &[
                "ping",
                "-4",
                "-M",
                "do",
                "-c",
                "2",
                "-i",
                "0.3",
                "-W",
                "1",
                "-s",
                &(size - 28).to_string(),
                "198.18.2.2",
            ],
        )
    };
    net.exec("storage", &["ip", "route", "flush", "cache"])?;
    let at_1500 = ping(1500).is_ok();
    let at_1505 = ping(1505);
    let route = net.exec("storage", &["ip", "-4", "route", "get", "198.18.2.2"])?;
    let learned: Option<u32> = route
        .split_whitespace()
        .skip_while(|w| *w != "mtu")
        .nth(1)
        .and_then(|m| m.parse().ok());
    let silent = match &at_1505 {
        Ok(_) => false,
        Err(e) => {
            let e = format!("{e:?}");
            !e.contains("Frag needed") && !e.contains("mtu")
        }
    };
    let measured = (at_1500, silent, learned);
    let setup_means = if broken {
        (true, true, None)
    } else {
        (true, false, Some(1500))
    };
    if measured != setup_means {
        return Err(format!(
            "hand-built LAN: measured (1500 answered, 1505 silent, learned) = {measured:?}, the setup means {setup_means:?} ({at_1505:?})"
        )
        .into());
    }
    drop(net);
    let t = import(&files, &scratch.0)?;
    if t.topology.segments.len() != 1 {
        return Err(format!("imported {} segments, want 1", t.topology.segments.len()).into());
    }
    let r = run_check(&t)?;
    let human = mtulab::report::human(&r, false);
    let odd_named = r.violations.iter().any(|v| {
        v.check == CheckId::LinkMtuMatch && v.message.contains("segment lan (r1:lan 9000 vs")
    });
    let p = r
        .paths
        .iter()
        .find(|p| p.from == "storage" && p.to == "nas" && p.family == Family::V4)
        .ok_or("no path storage -> nas ipv4 in the report")?;
    let pmtud_violated = r.violations.iter().any(|v| {
        v.check == CheckId::Pmtud
            && v.from.as_deref() == Some("storage")
            && v.to.as_deref() == Some("nas")
            && v.family == Some(Family::V4)
    });
    let agrees = if broken {
        odd_named && pmtud_violated && p.observed_pmtu == Some(9000)
    } else {
        r.ok && p.observed_pmtu == Some(1500)
    };
    if !agrees {
        return Err(format!(
            "measured on the hand-built LAN {measured:?}; the check on the import says otherwise:\n{human}"
        )
        .into());
    }
    Ok(())
}
