//! Rulesets, ingress-only links, veth slack, ICMP ways back, serialisation.

use super::*;

//   client --1500-- router-a --1300-- router-b --9000-- server   (IPv6 too)
fn hidden_1300() -> String {
    hidden_smaller_src().replace("mtu = 1200", "mtu = 1300")
}

/// A real ruleset on router-b: whatever crosses router-b is the live
/// probes' to decide. iptables only sees IPv4, so IPv6 stays known.
#[test]
fn ruleset_makes_paths_through_it_unknown() {
    let t = with_filter(
        &hidden_1300(),
        "router-b",
        FilterKind::Nft(PathBuf::from("/x/rulesets/router-b.nft")),
    );
    let m = model_of(&t);
    for family in [V4, V6] {
        for (from, to) in [("server", "client"), ("client", "server")] {
            let p = path(&m, from, to, family);
            assert_eq!(p.path_mtu, 1300, "interfaces are still known");
            assert!(matches!(p.transfer, Knowable::Unknown(_)), "{from}->{to}");
            assert!(matches!(p.ping_over_pmtu, Knowable::Unknown(_)));
            assert!(matches!(p.learned_pmtu, Knowable::Unknown(_)));
            let b = icmp(p, "router-b");
            assert!(matches!(b.reaches, Knowable::Unknown(_)));
            assert_eq!(
                b.culprit,
                Some(Culprit::Ruleset {
                    node: "router-b".into(),
                    tool: "nft".into(),
                    path: "/x/rulesets/router-b.nft".into()
                })
            );
        }
    }
    let Knowable::Unknown(reason) = &path(&m, "server", "client", V4).transfer else {
        unreachable!()
    };
    assert!(
        reason.contains("/x/rulesets/router-b.nft on router-b"),
        "{reason}"
    );

    let t = with_filter(
        &hidden_1300(),
        "router-b",
        FilterKind::Iptables(PathBuf::from("/x/r.rules")),
    );
    let m = model_of(&t);
    assert!(matches!(
        path(&m, "server", "client", V4).transfer,
        Knowable::Unknown(_)
    ));
    let s6 = path(&m, "server", "client", V6);
    assert_eq!(s6.transfer, ok());
    assert_eq!(s6.ping_over_pmtu, too_big(1300, "router-b"));
    // Control: a ruleset on a node off every path changes nothing.
    let src = hidden_1300() + "[nodes.spare]\nrouter = true\n[[links]]\nbetween = [\"router-a\", \"spare\"]\nmtu = 1500\n";
    let t = with_filter(&src, "spare", FilterKind::Nft(PathBuf::from("/x/s.nft")));
    let m = model_of(&t);
    assert_eq!(path(&m, "server", "client", V4).transfer, ok());
}

//   c --1500-- r1 1500 --- 1400 r2 --1500-- s
const INGRESS_BETWEEN_ROUTERS: &str = r#"name = "ingress_only"
[nodes.c]
[nodes.r1]
router = true
[nodes.r2]
router = true
[nodes.s]
[[links]]
between = ["c", "r1"]
mtu = 1500
[[links]]
between = ["r1", "r2"]
mtu = [1500, 1400]
[[links]]
between = ["r2", "s"]
mtu = 1500
"#;

/// r2 receives at 1400 from a 1500 r1 (measured on 6.18): c's DF pings
/// of 1401..=1404 cross, the IPv4 reply is fragmented by r2 and arrives,
/// the first IPv6 reply gets packet-too-big at r2 and is lost (the
/// probe's next one arrives); 1405+ vanish;
/// c learns nothing; TCP depends on GSO luck. The other way r2 sends
/// into 1400 and reports it.
#[test]
fn ingress_only_between_routers() {
    let t = topo(INGRESS_BETWEEN_ROUTERS);
    let m = model_of(&t);
    for family in [V4, V6] {
        let c = path(&m, "c", "s", family);
        assert_eq!(c.path_mtu, 1400);
        assert_eq!(
            c.bottleneck,
            Bottleneck {
                hop: 1,
                link: 1,
                segment: None,
                node: "r2".into(),
                iface: "r1".into(),
                mtu: 1400,
                kind: BottleneckKind::IngressOnly
            }
        );
        assert_eq!(c.ping_at_pmtu, Knowable::Known(Ping::Reply));
        assert_eq!(c.learned_pmtu, learned(1500));
        assert!(
            matches!(c.transfer, Knowable::Unknown(_)),
            "{:?}",
            c.transfer
        );
        assert!(matches!(
            c.stall,
            Some(Stall::IngressDrop {
                gso: true,
                mtu: 1400,
                ..
            })
        ));
        let ping = |size| predict_ping(&t, &Plan::new(&t), "c", "s", family, size).unwrap();
        assert_eq!(ping(1405), Knowable::Known(Ping::Silence));
        let s = path(&m, "s", "c", family);
        assert_eq!(s.path_mtu, 1400);
        assert_eq!(s.bottleneck.kind, BottleneckKind::Egress);
        assert_eq!(s.ping_over_pmtu, too_big(1400, "r2"));
        assert_eq!(s.learned_pmtu, learned(1400));
        assert_eq!(s.transfer, ok());
    }
    assert_eq!(
        path(&m, "c", "s", V4).ping_over_pmtu,
        Knowable::Known(Ping::Reply)
    );
    // IPv6: the first reply meets r2's 1400 egress and is lost, r2's
    // packet-too-big teaches s, the probe's next echo gets a reply.
    assert_eq!(
        path(&m, "c", "s", V6).ping_over_pmtu,
        Knowable::Known(Ping::Reply)
    );
    // The planted bug ignores r2's 1400 ingress: path MTU 1500.
    let bugged = predict_with(&t, &Plan::new(&t), &ModelOptions { planted_bug: true });
    assert_eq!(path(&bugged, "c", "s", V4).path_mtu, 1500);
    assert_eq!(path(&bugged, "s", "c", V4).path_mtu, 1400);
}

/// An IPv6 echo reply too big for a router on the way back: the
/// probe's resent request gets a reply once the replier has learned
/// the MTU from that router's packet-too-big — silence when the
/// packet-too-big is dropped on its way to the replier (r2 OUTPUT,
/// s INPUT), a reply again when the drop is elsewhere (c INPUT).
#[test]
fn v6_reply_too_big_on_the_way_back() {
    let t = topo(INGRESS_BETWEEN_ROUTERS);
    let at = |t: &Topology| predict_ping(t, &Plan::new(t), "c", "s", V6, 1401).expect("a path");
    assert_eq!(at(&t), Knowable::Known(Ping::Reply));
    for (node, hook, want) in [
        ("r2", Hook::Output, Ping::Silence),
        ("s", Hook::Input, Ping::Silence),
        ("c", Hook::Input, Ping::Reply),
    ] {
        let f = with_filter(INGRESS_BETWEEN_ROUTERS, node, drop_at(hook));
        assert_eq!(at(&f), Knowable::Known(want), "drop at {node} {hook}");
    }
    // IPv4: r2 fragments the reply, filters or not.
    let f = with_filter(INGRESS_BETWEEN_ROUTERS, "r2", drop_at(Hook::Output));
    assert_eq!(
        predict_ping(&f, &Plan::new(&f), "c", "s", V4, 1401).expect("a path"),
        Knowable::Known(Ping::Reply)
    );
}

//   c --1500-- ra --500-- rb --1500-- s    (IPv4 only)
/// A frag-needed below min_pmtu: c caches a locked 552 (not 500); DF
/// pings of 501 still get frag-needed (500); TCP sends without DF and
/// ra fragments: ok.
#[test]
fn below_min_pmtu_learns_locked_552() {
    let m = model(&hidden_smaller_src().replace("mtu = 1200", "mtu = 500"));
    let c = path(&m, "client", "server", V4);
    assert_eq!(c.path_mtu, 500);
    assert_eq!(
        c.learned_pmtu,
        Knowable::Known(Learned {
            mtu: 552,
            locked: true
        })
    );
    assert_eq!(c.ping_at_pmtu, Knowable::Known(Ping::Reply));
    assert_eq!(c.ping_over_pmtu, too_big(500, "router-a"));
    assert_eq!(c.transfer, ok());
    let f: Vec<_> = m.findings();
    assert!(f.iter().any(|f| f.check == CheckId::Pmtud
        && f.subject == "client -> server (ipv4)"
        && f.seen.contains("learns PMTU 552")));
}

//   client --1500-- router-a 1500 --- 1497 router-b --1500-- server
/// Ends 3 bytes apart, within veth's 4-byte slack: nothing is dropped
/// client -> server, so nothing is learned (1500) although router-b
/// receives at 1497; a DF ping of 1498 gets a reply on IPv4 (router-b
/// fragments the reply into 1497) and on IPv6 once the server has
/// learned 1497 from router-b's packet-too-big (the probe resends).
#[test]
fn mismatch_within_slack() {
    let m = model(
        &hidden_smaller_src()
            .replace("mtu = 1200", "mtu = [1500, 1497]")
            .replace("mtu = 9000", "mtu = 1500"),
    );
    for family in [V4, V6] {
        let c = path(&m, "client", "server", family);
        assert_eq!(c.path_mtu, 1497);
        assert_eq!(c.bottleneck.kind, BottleneckKind::IngressOnly);
        assert_eq!(c.bottleneck.node, "router-b");
        assert_eq!(c.ping_at_pmtu, Knowable::Known(Ping::Reply));
        assert_eq!(c.learned_pmtu, learned(1500));
        assert_eq!(c.pmtud_stall, None);
        assert_eq!(c.transfer, ok(), "1500 <= 1497 + 4");
        let s = path(&m, "server", "client", family);
        assert_eq!(s.path_mtu, 1497);
        assert_eq!(s.ping_over_pmtu, too_big(1497, "router-b"));
        assert_eq!(s.learned_pmtu, learned(1497));
    }
    assert_eq!(
        path(&m, "client", "server", V4).ping_over_pmtu,
        Knowable::Known(Ping::Reply)
    );
    // IPv6: the first reply is lost at router-b, whose packet-too-big
    // teaches the server; the probe's next echo gets a reply.
    assert_eq!(
        path(&m, "client", "server", V6).ping_over_pmtu,
        Knowable::Known(Ping::Reply)
    );
    let f = m.findings();
    assert_eq!(f[0].check, CheckId::LinkMtuMatch);
    assert!(
        f[0].seen.contains("within veth's 4-byte slack"),
        "{}",
        f[0].seen
    );
    let pmtud = f
        .iter()
        .find(|f| f.check == CheckId::Pmtud && f.subject == "client -> server (ipv4)")
        .unwrap();
    assert!(
        pmtud.seen.contains("slack lets 1500-byte packets in"),
        "{}",
        pmtud.seen
    );
}

//   c --1500-- r1 --1400-- r2 --1300-- r3 --1500-- s     r2 drops on output
/// Two narrowing steps: c learns 1400 from r1, then r2's frag-needed is
/// dropped: c is stuck at 1400 and its transfer stalls at r2, not r1.
/// s meets r3 (1300) first, whose ICMP arrives; r2 sends s's packets
/// into 1400, which they already fit: its dropped ICMP is latent for s.
#[test]
fn second_narrowing_blackholes() {
    let src = r#"name = "two_narrow"
[nodes.c]
[nodes.r1]
router = true
[nodes.r2]
router = true
[nodes.r3]
router = true
[nodes.s]
[[links]]
between = ["c", "r1"]
mtu = 1500
[[links]]
between = ["r1", "r2"]
mtu = 1400
[[links]]
between = ["r2", "r3"]
mtu = 1300
[[links]]
between = ["r3", "s"]
mtu = 1500
"#;
    let t = with_filter(src, "r2", drop_at(Hook::Output));
    let m = model_of(&t);
    for family in [V4, V6] {
        let c = path(&m, "c", "s", family);
        assert_eq!(c.path_mtu, 1300);
        assert_eq!(c.bottleneck.node, "r2");
        assert_eq!(c.learned_pmtu, learned(1400));
        assert_eq!(c.transfer, Knowable::Known(Verdict::Blackhole));
        assert!(matches!(
            &c.stall,
            Some(Stall::IcmpDropped { router, size: 1400, mtu: 1300, .. }) if router == "r2"
        ));
        assert_eq!(c.ping_over_pmtu, Knowable::Known(Ping::Silence));
        assert_eq!(
            c.icmp.iter().map(|i| i.needed).collect::<Vec<_>>(),
            [true, true, false]
        );
        let s = path(&m, "s", "c", family);
        assert_eq!(s.learned_pmtu, learned(1300));
        assert_eq!(s.ping_over_pmtu, too_big(1300, "r3"));
        assert_eq!(s.transfer, ok());
        let r2 = icmp(s, "r2");
        assert!(!r2.needed);
        assert_eq!(r2.reaches, Knowable::Known(false));
    }
}

// topologies/fixtures/diamond.toml with ra -- r1 -- rb at 1400 (not
// 1300) and the server's link at 1300 (not 1500):
//
//                    link 1 (1400)  r2  link 4 (1400)
//   client -- ra <                                 > rb -- server
//   link 0 (1500)    link 2 (1400)  r1  link 3 (1400)     link 5 (1300)
fn diamond() -> String {
    let server_link = "between = [\"rb\", \"server\"]\nmtu = 1500";
    let src = include_str!("../../../../topologies/fixtures/diamond.toml");
    assert!(src.contains(server_link));
    src.replace("mtu = 1300", "mtu = 1400")
        .replace(server_link, "between = [\"rb\", \"server\"]\nmtu = 1300")
}

/// The way back is routed, not the forward path reversed: client ->
/// server goes ra, r2, rb, but rb's frag-needed to the client goes rb,
/// r1, ra. A FORWARD drop on r1, a router the client's packets never
/// cross, stops the client's PMTUD at 1400 (ra's report arrives, rb's
/// does not); TCP is unaffected because the server's MSS (1260) covers
/// rb's 1300.
#[test]
fn icmp_way_back_differs_from_forward_path() {
    let t = with_filter(&diamond(), "r1", drop_at(Hook::Forward));
    let m = model_of(&t);
    for family in [V4, V6] {
        let c = path(&m, "client", "server", family);
        assert_eq!(
            c.hops.iter().map(|h| h.node.as_str()).collect::<Vec<_>>(),
            ["client", "ra", "r2", "rb"]
        );
        assert_eq!(c.path_mtu, 1300);
        assert_eq!(c.bottleneck.node, "rb");
        let rb = icmp(c, "rb");
        assert!(rb.needed);
        assert_eq!(rb.way_back, ["rb", "r1", "ra", "client"]);
        assert_eq!(
            rb.culprit,
            Some(Culprit::Filter {
                node: "r1".into(),
                hook: Hook::Forward
            })
        );
        assert_eq!(icmp(c, "ra").reaches, Knowable::Known(true));
        assert_eq!(c.learned_pmtu, learned(1400));
        assert_eq!(c.ping_at_pmtu, Knowable::Known(Ping::Reply));
        assert_eq!(c.ping_over_pmtu, Knowable::Known(Ping::Silence));
        assert_eq!(known(&c.tcp_packet), 1300);
        assert_eq!(c.transfer, ok());
        // The server's path back runs through r1 but r1's own ICMP
        // leaves through its OUTPUT, not FORWARD.
        let s = path(&m, "server", "client", family);
        assert!(s.icmp.iter().all(|i| i.reaches == Knowable::Known(true)));
    }
    // Control: without the filter the client learns 1300 from rb.
    let m = model(&diamond());
    let c = path(&m, "client", "server", V4);
    assert_eq!(c.learned_pmtu, learned(1300));
    assert_eq!(c.ping_over_pmtu, too_big(1300, "rb"));
}

/// Knowable serialises as the value, or {"unknown": reason}; pings and
/// families the way the CLI's JSON spells them.
#[test]
fn serialises() {
    let k: Knowable<u32> = Knowable::Known(3);
    assert_eq!(serde_json::to_string(&k).unwrap(), "3");
    let k: Knowable<u32> = Knowable::Unknown("why".into());
    assert_eq!(serde_json::to_string(&k).unwrap(), r#"{"unknown":"why"}"#);
    assert_eq!(
        serde_json::to_value(too_big(1200, "rb")).unwrap(),
        serde_json::json!({"outcome": "too-big", "mtu": 1200, "from_node": "rb"})
    );
    let m = model(hidden_smaller_src());
    let v = serde_json::to_value(&m).unwrap();
    assert_eq!(v["paths"][0]["family"], "ipv4");
    assert_eq!(v["paths"][0]["transfer"], "ok");
    assert_eq!(v["paths"][0]["ping_at_pmtu"]["outcome"], "reply");
}

/// Asymmetric given routes: downloads return through rc (1400), whose
/// frag-needed is dropped. The fix suggests a clamp where the client's
/// SYN passes (ra), not on rc, which only the SYN-ACK crosses: measured,
/// `mss_clamp = 1360` on ra made the download ok, on rc it stayed a
/// blackhole.
#[test]
fn clamp_advice_follows_the_syn_not_the_stall() {
    let m = model_of(&bundled("given_routes_blackhole"));
    let down = path(&m, "server", "client", V4);
    assert_eq!(down.path_mtu, 1400);
    assert_eq!(down.transfer, Knowable::Known(Verdict::Blackhole));
    let f = down
        .finding(CheckId::TcpTransfer)
        .expect("a tcp-transfer finding");
    assert!(
        f.seen.contains("rc drops its own frag-needed on output"),
        "{}",
        f.seen
    );
    assert!(f.fix.contains("clamp MSS to 1360 on ra"), "{}", f.fix);
    // Control: on the symmetric icmp_blackhole the stalling router is
    // also on the SYN's way, so the clamp goes there.
    let m = model_of(&bundled("icmp_blackhole"));
    let f = path(&m, "server", "client", V4)
        .finding(CheckId::TcpTransfer)
        .unwrap();
    assert!(f.fix.contains("clamp MSS to 1160 on router-b"), "{}", f.fix);
    // Uploads don't cross rc: nothing to say.
    let m = model_of(&bundled("given_routes_blackhole"));
    assert_eq!(
        path(&m, "client", "server", V4).finding(CheckId::TcpTransfer),
        None
    );
}
