//! Bundled scenarios (tunnels, clamps), sender knobs and anycast.

use super::*;

/// A tunnel is a link with its MTU: the 1446 VXLAN hop is the path MTU,
/// the gateway in front of it reports it, and the appliance that ignores
/// the report (it arrives: icmp-passes holds) blackholes its own uploads,
/// reported in its own words with the fixes that fit a host; the other
/// way works.
#[test]
fn vpn_1446_tunnel_is_the_bottleneck() {
    let m = model_of(&bundled("vpn_1446"));
    assert!(m.link_mismatches.is_empty());
    for family in [V4, V6] {
        let up = path(&m, "appliance", "client", family);
        assert_eq!(up.path_mtu, 1446, "{family}");
        assert_eq!(up.bottleneck.node, "gw-b");
        assert_eq!(up.bottleneck.iface, "vx-gw-a");
        assert_eq!(up.bottleneck.link, 4);
        assert_eq!(up.transfer, Knowable::Known(Verdict::Blackhole));
        assert!(
            matches!(&up.stall, Some(Stall::IcmpDropped { router, mtu: 1446, culprit: Culprit::Ignored { node, mtu: 1446 }, .. }) if router == "gw-b" && node == "appliance"),
            "{:?}",
            up.stall
        );
        let gw_b = up.icmp.iter().find(|i| i.router == "gw-b").unwrap();
        assert_eq!(gw_b.reaches, Knowable::Known(true));
        assert!(gw_b.ignored);
        assert_eq!(gw_b.acted(), Knowable::Known(false));
        assert!(up.icmp_finding("gw-b").is_none(), "the network delivers it");
        let findings = up.findings();
        let tcp = findings
            .iter()
            .find(|f| f.check == CheckId::TcpTransfer)
            .unwrap();
        let what = if family == V4 {
            "frag-needed"
        } else {
            "packet-too-big"
        };
        assert!(
            tcp.seen.contains(&format!("appliance ignores {what}")),
            "{tcp}"
        );
        for f in &findings {
            assert!(!f.fix.contains("let ICMP"), "{f}");
            assert!(
                f.fix.contains("appliance's own interface MTU to 1446"),
                "{f}"
            );
        }
        assert!(
            tcp.fix.contains("clamp MSS to") && tcp.fix.contains("tcp_mtu_probing=1"),
            "{tcp}"
        );
        assert_eq!(up.ping_over_pmtu, Knowable::Known(Ping::Silence));
        assert_eq!(up.learned_pmtu, learned(1500));
        let down = path(&m, "client", "appliance", family);
        assert_eq!(down.learned_pmtu, learned(1446));
        assert_eq!(down.ping_over_pmtu, too_big(1446, "gw-a"));
        assert_eq!(down.transfer, ok());
    }
    // Control: an appliance that obeys PMTU ICMP uploads fine.
    let mut t = bundled("vpn_1446");
    t.nodes.get_mut("appliance").unwrap().pmtu_icmp = PmtuIcmp::Obey;
    let m = model_of(&t);
    let up = path(&m, "appliance", "client", V4);
    assert_eq!(up.transfer, ok());
    assert_eq!(up.learned_pmtu, learned(1446));
}

/// Workaround (b): `mss_clamp = "pmtu"` on the tunnel interfaces: gw-a
/// clamps the client's SYN leaving through vx-gw-b to its route through
/// the 1446 tunnel (1406 / 1386), so the appliance's segments fit and its
/// downloads complete; PMTUD itself stays broken (the appliance still
/// learns 1500 from DF probes).
#[test]
fn vpn_1446_mss_clamp_at_the_gateway() {
    let m = model_of(&bundled("vpn_1446_mss_clamp"));
    for (family, mss) in [(V4, 1406), (V6, 1386)] {
        let up = path(&m, "appliance", "client", family);
        assert_eq!(
            up.mss_clamp,
            Some(ClampPrediction {
                router: "gw-a".into(),
                mss
            }),
            "{family}"
        );
        assert_eq!(up.transfer, ok(), "{family}");
        assert_eq!(up.learned_pmtu, learned(1500));
        assert_eq!(path(&m, "client", "appliance", family).transfer, ok());
    }
    // Control: gw-b's clamp alone (out of vx-gw-a) never sees the
    // client's SYN, so without gw-a's the downloads blackhole.
    let mut t = bundled("vpn_1446_mss_clamp");
    t.nodes.get_mut("gw-a").unwrap().mss_clamp = None;
    let m = model_of(&t);
    let up = path(&m, "appliance", "client", V4);
    assert_eq!(up.mss_clamp, None);
    assert_eq!(up.transfer, Knowable::Known(Verdict::Blackhole));
    // Control: vpn_1446 itself (no clamp) blackholes.
    let m = model_of(&bundled("vpn_1446"));
    let up = path(&m, "appliance", "client", V4);
    assert_eq!(up.mss_clamp, None);
    assert_eq!(up.transfer, Knowable::Known(Verdict::Blackhole));
}

/// Workaround (a), only the appliance's end lowered: TCP fine both ways,
/// but DF packets of 1445..=1446 bytes towards the appliance vanish
/// (beyond veth's 4-byte slack, below the tunnel's 1446) and the client
/// learns 1446, not 1440.
#[test]
fn vpn_1446_appliance_end_lowered() {
    let m = model_of(&bundled("vpn_1446_appliance_mtu"));
    assert_eq!(m.link_mismatches.len(), 1);
    assert_eq!(m.link_mismatches[0].mtu, [1500, 1440]);
    for family in [V4, V6] {
        let down = path(&m, "client", "appliance", family);
        assert_eq!(down.path_mtu, 1440);
        assert_eq!(down.bottleneck.kind, BottleneckKind::IngressOnly);
        assert_eq!(down.learned_pmtu, learned(1446));
        assert_eq!(down.transfer, ok());
        let ping = |size| {
            predict_ping(
                &bundled("vpn_1446_appliance_mtu"),
                &Plan::new(&bundled("vpn_1446_appliance_mtu")),
                "client",
                "appliance",
                family,
                size,
            )
            .unwrap()
        };
        assert_eq!(ping(1444), Knowable::Known(Ping::Reply));
        assert_eq!(ping(1445), Knowable::Known(Ping::Silence));
        assert_eq!(ping(1446), Knowable::Known(Ping::Silence));
        assert_eq!(ping(1447), too_big(1446, "gw-a"));
        let up = path(&m, "appliance", "client", family);
        assert_eq!(up.transfer, ok());
        assert_eq!(up.learned_pmtu, learned(1440));
    }
}

/// A VXLAN end does not check its MTU on receive (measured): with the
/// tunnel's ends at 1450 and 1300, 1450-byte DF packets still cross
/// towards the 1300 end, and the mismatch is reported as a link's.
#[test]
fn tunnel_receiving_end_is_unchecked() {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies/vxlan_1450.toml"),
    )
    .unwrap()
    .replace(
        "underlay = \"ipv4\"\n",
        "underlay = \"ipv4\"\nmtu = [1450, 1300]\n",
    );
    let t = topo(&src);
    let m = model_of(&t);
    assert_eq!(m.link_mismatches.len(), 1);
    assert_eq!(m.link_mismatches[0].link, 4);
    assert_eq!(m.link_mismatches[0].ifaces, ["vx-gw-b", "vx-gw-a"]);
    let p = path(&m, "client", "server", V4);
    assert_eq!(p.path_mtu, 1300);
    assert_eq!(p.learned_pmtu, learned(1450));
    assert_eq!(p.ping_over_pmtu, Knowable::Known(Ping::Reply));
    let back = path(&m, "server", "client", V4);
    assert_eq!(back.learned_pmtu, learned(1300));
    assert_eq!(back.ping_over_pmtu, too_big(1300, "gw-b"));
    let full = predict_ping(&t, &Plan::new(&t), "client", "server", V4, 1450).unwrap();
    assert_eq!(full, Knowable::Known(Ping::Reply));
    // Control: the same 1300 end on a veth link (the tunnel equal again)
    // drops 1450-byte packets.
    let veth = topo(&src.replace("mtu = [1450, 1300]\n", "").replace(
        "between = [\"gw-b\", \"server\"]\nmtu = 1500",
        "between = [\"gw-b\", \"server\"]\nmtu = [1500, 1300]",
    ));
    let full = predict_ping(&veth, &Plan::new(&veth), "client", "server", V4, 1450).unwrap();
    assert_eq!(full, Knowable::Known(Ping::Silence));
}

// ----- Mitigations (issue 4). The topology is icmp_blackhole at 1280,
// so both families run:
//   client --1500-- router-a --1280-- router-b --9000-- server
//                                     [drop pmtu-icmp @ output]
fn blackhole_1280(node_extra: &[(&str, &str)]) -> Topology {
    let mut src = hidden_smaller_src().replace("mtu = 1200", "mtu = 1280");
    for (node, extra) in node_extra {
        src = src.replacen(
            &format!(
                "[nodes.{node}]\n{}",
                if node.starts_with("router") {
                    "router = true\n"
                } else {
                    ""
                }
            ),
            &format!(
                "[nodes.{node}]\n{}{extra}\n",
                if node.starts_with("router") {
                    "router = true\n"
                } else {
                    ""
                }
            ),
            1,
        );
    }
    with_filter(&src, "router-b", drop_at(Hook::Output))
}

fn verdict(m: &Model, from: &str, to: &str, f: Family) -> Knowable<Verdict> {
    path(m, from, to, f).transfer.clone()
}

const BLACKHOLE: Knowable<Verdict> = Knowable::Known(Verdict::Blackhole);

/// Control: without a mitigation the download stalls in both families.
#[test]
fn blackhole_1280_control() {
    let m = model_of(&blackhole_1280(&[]));
    for f in [V4, V6] {
        assert_eq!(verdict(&m, "server", "client", f), BLACKHOLE, "{f}");
        assert_eq!(verdict(&m, "client", "server", f), ok(), "{f}");
        assert_eq!(path(&m, "server", "client", f).mss_clamp, None);
    }
}

/// `mss_clamp = "pmtu"` on router-a (before the 1280 link): the client's
/// SYN leaves router-a into 1280, so `rt mtu` is 1280 and the server's
/// segments fit: 1240 (IPv4) / 1220 (IPv6) MSS, transfer ok. ICMP is
/// still dropped: the server still learns 9000 (pmtud keeps failing).
/// Measured: ok in 0.01 s both ways, both families, snd_mss 1228 / 1208
/// (the MSS minus 12 bytes of timestamps).
#[test]
fn clamp_to_pmtu_before_narrow_link_fixes_blackhole() {
    let m = model_of(&blackhole_1280(&[("router-a", "mss_clamp = \"pmtu\"")]));
    for (f, mss) in [(V4, 1240), (V6, 1220)] {
        let s = path(&m, "server", "client", f);
        assert_eq!(
            s.mss_clamp,
            Some(ClampPrediction {
                router: "router-a".into(),
                mss
            })
        );
        assert_eq!(s.tcp_packet, Knowable::Known(1280));
        assert_eq!(s.transfer, ok(), "{f}");
        assert_eq!(s.learned_pmtu, learned(9000));
        assert_eq!(verdict(&m, "client", "server", f), ok());
    }
}

/// `rt mtu` takes the smaller of the routes towards the SYN's
/// destination and back to its source: on router-b (after the narrow
/// link) the route back to the client is 1280, so it fixes the download
/// too (measured: ok). A router beyond both (router-c, 9000 on either
/// side) sees no narrow route and fixes nothing (measured: blackhole).
#[test]
fn clamp_to_pmtu_needs_a_route_through_the_narrow_link() {
    let m = model_of(&blackhole_1280(&[("router-b", "mss_clamp = \"pmtu\"")]));
    assert_eq!(verdict(&m, "server", "client", V4), ok());
    assert_eq!(verdict(&m, "server", "client", V6), ok());

    let src = hidden_smaller_src()
        .replace("mtu = 1200", "mtu = 1280")
        .replace(
            "between = [\"router-b\", \"server\"]",
            "between = [\"router-b\", \"router-c\"]",
        )
        .replace(
            "[nodes.server]",
            "[nodes.server]\n[nodes.router-c]\nrouter = true\nmss_clamp = \"pmtu\"",
        )
        + "[[links]]\nbetween = [\"router-c\", \"server\"]\nmtu = 9000\n";
    let t = with_filter(&src, "router-b", drop_at(Hook::Output));
    let m = model_of(&t);
    for f in [V4, V6] {
        let s = path(&m, "server", "client", f);
        assert_eq!(s.mss_clamp, None, "{f}");
        assert_eq!(s.transfer, BLACKHOLE, "{f}");
    }
}

/// A fixed clamp helps only when MSS + 40 / 60 fits the narrow link:
/// 1200 does (1240 / 1260 <= 1280), 1360 does not (1400 / 1420).
/// Measured: 1200 ok, 1360 blackhole, both families.
#[test]
fn fixed_clamp_must_fit() {
    let m = model_of(&blackhole_1280(&[("router-a", "mss_clamp = 1200")]));
    for f in [V4, V6] {
        assert_eq!(verdict(&m, "server", "client", f), ok(), "{f}");
        assert_eq!(
            path(&m, "server", "client", f)
                .mss_clamp
                .as_ref()
                .unwrap()
                .mss,
            1200
        );
    }
    let m = model_of(&blackhole_1280(&[("router-a", "mss_clamp = 1360")]));
    for f in [V4, V6] {
        let s = path(&m, "server", "client", f);
        assert_eq!(s.transfer, BLACKHOLE, "{f}");
        assert_eq!(
            s.tcp_packet,
            Knowable::Known(1360 + MSS_OVERHEAD[family_index(f)])
        );
    }
}

/// `mss_clamp_oif`: the server's MSS comes from the client's SYN, which
/// leaves router-a through "router-b". Clamping only what leaves
/// through "client" (the server's SYN-ACK) does not help the download
/// (measured: blackhole); through "router-b" it does (measured: ok).
#[test]
fn clamp_oif_must_see_the_receivers_syn() {
    let m = model_of(&blackhole_1280(&[(
        "router-a",
        "mss_clamp = \"pmtu\"\nmss_clamp_oif = \"client\"",
    )]));
    assert_eq!(verdict(&m, "server", "client", V4), BLACKHOLE);
    // The client's own MSS is clamped on the way to it (server's SYN-ACK).
    assert_eq!(
        path(&m, "client", "server", V4)
            .mss_clamp
            .as_ref()
            .unwrap()
            .mss,
        1240
    );
    let m = model_of(&blackhole_1280(&[(
        "router-a",
        "mss_clamp = \"pmtu\"\nmss_clamp_oif = \"router-b\"",
    )]));
    assert_eq!(verdict(&m, "server", "client", V4), ok());
    assert_eq!(verdict(&m, "server", "client", V6), ok());
}

/// `tcp_mtu_probing=2` probes from `tcp_base_mss` (1024: 1064 / 1084
/// bytes fit 1280) from the start: measured ok at once, both families.
/// Mode 1 recovers (measured 6.56 s IPv4, 6.45 s IPv6 for 1 MiB).
#[test]
fn mtu_probing_modes() {
    let m = model_of(&blackhole_1280(&[(
        "server",
        "sysctl = { \"net.ipv4.tcp_mtu_probing\" = \"2\" }",
    )]));
    for f in [V4, V6] {
        assert_eq!(verdict(&m, "server", "client", f), ok(), "{f}");
        assert_eq!(path(&m, "server", "client", f).knobs.mtu_probing, 2);
    }
    let m = model_of(&blackhole_1280(&[(
        "server",
        "sysctl = { \"net.ipv4.tcp_mtu_probing\" = \"1\" }",
    )]));
    for f in [V4, V6] {
        assert_eq!(
            verdict(&m, "server", "client", f),
            Knowable::Known(Verdict::Recovered)
        );
    }
}

/// `ip_no_pmtu_disc` >= 1 on the IPv4 sender: TCP sends without DF and
/// routers fragment, so the blackhole does not stall the transfer
/// (measured: modes 1, 2, 3 ok); IPv6 has no such knob and stalls.
/// With ICMP flowing (no filter), mode 1 learns a locked min_pmtu (552)
/// from the first frag-needed, modes 2 and 3 ignore it (9000).
#[test]
fn no_pmtu_disc() {
    for mode in ["1", "2", "3"] {
        let sys = format!("sysctl = {{ \"net.ipv4.ip_no_pmtu_disc\" = \"{mode}\" }}");
        let m = model_of(&blackhole_1280(&[("server", &sys)]));
        let s = path(&m, "server", "client", V4);
        assert_eq!(s.transfer, ok(), "mode {mode}");
        assert_eq!(s.learned_pmtu, learned(9000), "mode {mode}");
        assert!(matches!(s.ping_over_pmtu, Knowable::Unknown(_)));
        assert_eq!(verdict(&m, "server", "client", V6), BLACKHOLE);

        let src = hidden_smaller_src()
            .replace("mtu = 1200", "mtu = 1280")
            .replace("[nodes.server]", &format!("[nodes.server]\n{sys}"));
        let m = model(&src);
        let s = path(&m, "server", "client", V4);
        assert_eq!(s.transfer, ok());
        let want = if mode == "1" {
            Knowable::Known(Learned {
                mtu: 552,
                locked: true,
            })
        } else {
            learned(9000)
        };
        assert_eq!(s.learned_pmtu, want, "mode {mode}");
        assert_eq!(path(&m, "server", "client", V6).learned_pmtu, learned(1280));
    }
}

/// `net.ipv4.route.min_pmtu = 1400` on the sender, 1280 hidden link, no
/// filter: the frag-needed (1280) is below the floor, so the sender
/// caches a locked 1400 and sends without DF; routers fragment and the
/// transfer completes. Measured: learned 1400, ok; IPv6 learns 1280.
#[test]
fn min_pmtu_floor_from_sysctl() {
    let src = hidden_smaller_src()
        .replace("mtu = 1200", "mtu = 1280")
        .replace(
            "[nodes.server]",
            "[nodes.server]\nsysctl = { \"net.ipv4.route.min_pmtu\" = \"1400\" }",
        );
    let m = model(&src);
    let s = path(&m, "server", "client", V4);
    assert_eq!(
        s.learned_pmtu,
        Knowable::Known(Learned {
            mtu: 1400,
            locked: true
        })
    );
    assert_eq!(s.transfer, ok());
    assert_eq!(path(&m, "server", "client", V6).learned_pmtu, learned(1280));
    // Control: the default floor (552) leaves 1280 unlocked.
    let m = model(&hidden_smaller_src().replace("mtu = 1200", "mtu = 1280"));
    assert_eq!(path(&m, "server", "client", V4).learned_pmtu, learned(1280));
}

/// Anycast: L3 hashing (IPv6 with flow labels reflected) predicts every
/// flow ok; L4 hashing, or IPv6 without reflection, is honestly unknown;
/// without ECMP (one member nearer) there is nothing to hash.
#[test]
fn anycast_predictions() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../topologies");
    let load = |name: &str| {
        let src = std::fs::read_to_string(path.join(format!("{name}.toml"))).unwrap();
        topo(&src)
    };
    let l3 = load("anycast_hash_l3");
    let p = predict_anycast(&l3, &Plan::new(&l3));
    assert_eq!(p.len(), 2);
    for a in &p {
        assert_eq!(a.transfer, Knowable::Known(Verdict::Ok), "{a:?}");
        assert_eq!(a.ecmp, [("lb".to_string(), 0)]);
        assert_eq!(a.members, ["s1", "s2"]);
    }
    let l4 = load("anycast_hash_l4");
    for a in predict_anycast(&l4, &Plan::new(&l4)) {
        assert_eq!(a.ecmp, [("lb".to_string(), 1)]);
        match &a.transfer {
            Knowable::Unknown(why) => assert!(why.contains("L4"), "{why}"),
            other => panic!("{other:?}"),
        }
    }
    // IPv6 at policy 0 without flow label reflection: unknown; IPv4 still ok.
    let src = std::fs::read_to_string(path.join("anycast_hash_l3.toml"))
        .unwrap()
        .replace("sysctl = { \"net.ipv6.flowlabel_reflect\" = \"1\" }\n", "");
    let t = topo(&src);
    let p = predict_anycast(&t, &Plan::new(&t));
    assert_eq!(p[0].transfer, Knowable::Known(Verdict::Ok));
    assert!(matches!(&p[1].transfer, Knowable::Unknown(w) if w.contains("flow label")));
    // s2 one hop nearer than s1: no multipath route, nothing to hash.
    let src = std::fs::read_to_string(path.join("anycast_hash_l4.toml"))
        .unwrap()
        .replace("between = [\"lb\", \"s2\"]", "between = [\"r1\", \"s2\"]");
    let t = topo(&src);
    for a in predict_anycast(&t, &Plan::new(&t)) {
        assert!(a.ecmp.is_empty());
        assert_eq!(a.transfer, Knowable::Known(Verdict::Ok));
    }
    // A blackhole on the members' unicast downloads carries over.
    let src = format!(
        "{}\n[[filters]]\nnode = \"r1\"\ndrop = \"pmtu-icmp\"\nhook = \"output\"\n",
        std::fs::read_to_string(path.join("anycast_hash_l3.toml"))
            .unwrap()
            .replace("[expect]\nviolations = []\n", "")
    );
    let t = topo(&src);
    for a in predict_anycast(&t, &Plan::new(&t)) {
        assert_eq!(a.transfer, Knowable::Known(Verdict::Blackhole), "{a:?}");
    }
}
