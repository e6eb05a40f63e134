//! The model on hand-made chains: paths, bottlenecks, filters, pings.

use std::path::{Path, PathBuf};

use crate::topology::Filter;

use super::*;
use Family::{V4, V6};

fn bundled(name: &str) -> Topology {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../topologies")
        .join(format!("{name}.toml"));
    Topology::from_file(&file).unwrap_or_else(|e| panic!("{e}"))
}

fn topo(src: &str) -> Topology {
    Topology::from_str(src, Path::new("test.toml")).unwrap_or_else(|e| panic!("{e}"))
}

fn model_of(t: &Topology) -> Model {
    predict(t, &Plan::new(t))
}

fn model(src: &str) -> Model {
    model_of(&topo(src))
}

fn path<'a>(m: &'a Model, from: &str, to: &str, family: Family) -> &'a PathPrediction {
    m.path(from, to, family)
        .unwrap_or_else(|| panic!("no prediction {from} -> {to} {family}"))
}

fn known<T: Clone + fmt::Debug>(k: &Knowable<T>) -> T {
    match k {
        Knowable::Known(v) => v.clone(),
        Knowable::Unknown(r) => panic!("unknown: {r}"),
    }
}

fn too_big(mtu: u32, node: &str) -> Knowable<Ping> {
    Knowable::Known(Ping::TooBig {
        mtu,
        from_node: node.to_owned(),
    })
}

fn learned(mtu: u32) -> Knowable<Learned> {
    Knowable::Known(Learned { mtu, locked: false })
}

fn ok() -> Knowable<Verdict> {
    Knowable::Known(Verdict::Ok)
}

fn icmp<'a>(p: &'a PathPrediction, router: &str) -> &'a IcmpPrediction {
    p.icmp
        .iter()
        .find(|i| i.router == router)
        .unwrap_or_else(|| panic!("no ICMP prediction for {router}"))
}

fn checks(m: &Model) -> Vec<(&'static str, String)> {
    m.findings()
        .into_iter()
        .map(|f| (f.check.as_str(), f.subject))
        .collect()
}

/// Two hosts on one 1500 link (the bundled direct_1500): path MTU 1500
/// set by the sender itself, MSS 1460 / 1440, nothing to learn,
/// transfer ok, nothing to report.
#[test]
fn direct_1500() {
    let m = model_of(&bundled("direct_1500"));
    assert!(m.link_mismatches.is_empty());
    assert!(m.no_path.is_empty());
    assert_eq!(m.paths.len(), 4);
    let p = path(&m, "client", "server", V4);
    assert_eq!(p.dst, "198.18.0.2".parse::<IpAddr>().unwrap());
    assert_eq!(p.src, "198.18.0.1".parse::<IpAddr>().unwrap());
    assert_eq!(p.path_mtu, 1500);
    assert_eq!(
        p.bottleneck,
        Bottleneck {
            hop: 0,
            link: 0,
            segment: None,
            node: "client".into(),
            iface: "server".into(),
            mtu: 1500,
            kind: BottleneckKind::Egress
        }
    );
    assert_eq!(
        known(&p.mss),
        Mss {
            from: 1460,
            to: 1460
        }
    );
    assert_eq!(known(&p.tcp_packet), 1500);
    assert!(p.icmp.is_empty());
    assert_eq!(p.ping_at_pmtu, Knowable::Known(Ping::Reply));
    assert_eq!(
        p.ping_over_pmtu,
        Knowable::Known(Ping::LocalTooBig { mtu: 1500 })
    );
    assert_eq!(p.learned_pmtu, learned(1500));
    assert_eq!(p.transfer, ok());
    assert_eq!(p.stall, None);
    let p6 = path(&m, "server", "client", V6);
    assert_eq!(
        known(&p6.mss),
        Mss {
            from: 1440,
            to: 1440
        }
    );
    assert_eq!(p6.transfer, ok());
    assert!(m.findings().is_empty(), "{:?}", m.findings());
}

//   client 1200 ---- 1500 server    (one link, ends differ; no IPv6: 1200 < 1280)
//
/// The bundled direct_mismatch: one link, client end 1200, server end
/// 1500. DF traffic towards the 1200 end beyond 1204 bytes vanishes
/// (veth's 4-byte slack lets 1201..=1204 through, and the client
/// fragments the reply), so the server never learns 1200; TCP works
/// because the client advertises MSS 1160.
#[test]
fn direct_mismatch() {
    let t = bundled("direct_mismatch");
    let m = model_of(&t);
    assert_eq!(
        link_mismatches(&t),
        [LinkMismatch {
            link: 0,
            nodes: vec!["client".into(), "server".into()],
            ifaces: vec!["server".into(), "client".into()],
            mtu: vec![1200, 1500],
            segment: None,
            tunnel: false,
            name: "link 1".into(),
        }]
    );
    assert_eq!(
        m.link_mismatches[0].to_string(),
        "link 1 (client:server 1200 vs server:client 1500)"
    );
    assert_eq!(
        m.no_path.len(),
        2,
        "no IPv6 on a 1200 link: {:?}",
        m.no_path
    );
    assert!(m.no_path.iter().all(|n| n.family == V6));

    let s = path(&m, "server", "client", V4);
    assert_eq!(s.path_mtu, 1200);
    assert_eq!(s.bottleneck.kind, BottleneckKind::IngressOnly);
    assert_eq!(s.bottleneck.node, "client");
    assert_eq!(s.bottleneck.iface, "server");
    assert_eq!(
        known(&s.mss),
        Mss {
            from: 1460,
            to: 1160
        }
    );
    assert_eq!(known(&s.tcp_packet), 1200);
    assert_eq!(s.ping_at_pmtu, Knowable::Known(Ping::Reply));
    assert_eq!(s.ping_over_pmtu, Knowable::Known(Ping::Reply), "slack");
    let ping = |size| predict_ping(&t, &Plan::new(&t), "server", "client", V4, size);
    assert_eq!(ping(1204), Some(Knowable::Known(Ping::Reply)));
    assert_eq!(ping(1205), Some(Knowable::Known(Ping::Silence)));
    assert_eq!(ping(1500), Some(Knowable::Known(Ping::Silence)));
    assert_eq!(
        ping(1501),
        Some(Knowable::Known(Ping::LocalTooBig { mtu: 1500 }))
    );
    assert_eq!(
        s.learned_pmtu,
        learned(1500),
        "nothing is learned from a silent drop"
    );
    assert_eq!(s.transfer, ok(), "MSS 1160 hides the small end");

    let c = path(&m, "client", "server", V4);
    assert_eq!(c.path_mtu, 1200);
    assert_eq!(c.bottleneck.kind, BottleneckKind::Egress);
    assert_eq!(c.bottleneck.node, "client");
    assert_eq!(
        c.ping_over_pmtu,
        Knowable::Known(Ping::LocalTooBig { mtu: 1200 })
    );
    assert_eq!(c.learned_pmtu, learned(1200));
    assert_eq!(c.transfer, ok());

    assert_eq!(
        checks(&m),
        [
            ("link-mtu-match", "link 1".to_owned()),
            ("pmtud", "server -> client (ipv4)".to_owned()),
        ]
    );
    let f = m.findings();
    assert_eq!(
        f[0].fix,
        "equalise MTU on link 1 (client:server 1200 vs server:client 1500)"
    );
    assert_eq!(
        f[0].seen,
        "packets from server to client of up to 1204 bytes cross, 1205..=1500 bytes vanish without ICMP"
    );
}

/// The bundled client_net_smaller: the narrow link is next to the
/// client, whose MSS (1460) keeps the server's segments at 1500 bytes,
/// so no ICMP is needed for TCP either way; the server's PMTUD
/// (9000-byte probes) learns 1500 from the router.
#[test]
fn client_net_smaller() {
    let m = model_of(&bundled("client_net_smaller"));
    for family in [V4, V6] {
        let s = path(&m, "server", "client", family);
        assert_eq!(s.path_mtu, 1500);
        assert_eq!(s.bottleneck.node, "router");
        assert_eq!(s.bottleneck.kind, BottleneckKind::Egress);
        assert_eq!(known(&s.tcp_packet), 1500);
        assert_eq!(s.transfer, ok());
        assert_eq!(s.ping_over_pmtu, too_big(1500, "router"));
        assert_eq!(s.learned_pmtu, learned(1500));
        assert!(icmp(s, "router").needed);
        assert_eq!(icmp(s, "router").reaches, Knowable::Known(true));
        assert_eq!(icmp(s, "router").way_back, ["router", "server"]);

        let c = path(&m, "client", "server", family);
        assert_eq!(c.path_mtu, 1500);
        assert_eq!(c.bottleneck.node, "client");
        assert_eq!(c.transfer, ok());
        assert!(!icmp(c, "router").needed, "router sends into 9000");
    }
    let s = path(&m, "server", "client", V4);
    assert_eq!(
        known(&s.mss),
        Mss {
            from: 8960,
            to: 1460
        }
    );
    assert!(m.findings().is_empty(), "{:?}", m.findings());
}

// The bundled hidden_smaller scenario, cut before its [expect] (whose
// `pmtu = 1200` the tests' `.replace("mtu = 1200", …)` must not touch):
//
//   client --1500-- router-a --1200-- router-b --9000-- server
fn hidden_smaller_src() -> &'static str {
    let file = include_str!("../../../topologies/hidden_smaller.toml");
    file.split_once("\n[expect]").expect("[expect]").0
}

fn with_filter(src: &str, node: &str, kind: FilterKind) -> Topology {
    let mut t = topo(src);
    t.filters.push(Filter {
        node: node.into(),
        kind,
    });
    t
}

fn drop_at(hook: Hook) -> FilterKind {
    FilterKind::DropPmtuIcmp { hook }
}

/// The 1200 link is between routers: neither MSS covers it (client 1460,
/// server 8960), so each direction needs the frag-needed of the router
/// in front of it: router-b's for server -> client, router-a's for
/// client -> server. All arrive: both ok, path MTU 1200 both ways.
#[test]
fn hidden_smaller() {
    let m = model(hidden_smaller_src());
    assert_eq!(m.no_path.len(), 2, "IPv6 does not cross 1200");
    let s = path(&m, "server", "client", V4);
    assert_eq!(s.path_mtu, 1200);
    assert_eq!(
        s.bottleneck,
        Bottleneck {
            hop: 1,
            link: 1,
            segment: None,
            node: "router-b".into(),
            iface: "router-a".into(),
            mtu: 1200,
            kind: BottleneckKind::Egress
        }
    );
    assert_eq!(
        known(&s.mss),
        Mss {
            from: 8960,
            to: 1460
        }
    );
    assert_eq!(known(&s.tcp_packet), 1500);
    assert_eq!(s.ping_at_pmtu, Knowable::Known(Ping::Reply));
    assert_eq!(s.ping_over_pmtu, too_big(1200, "router-b"));
    assert_eq!(s.learned_pmtu, learned(1200));
    assert_eq!(s.transfer, ok());
    assert!(icmp(s, "router-b").needed);
    assert!(!icmp(s, "router-a").needed, "router-a sends into 1500");
    assert_eq!(
        icmp(s, "router-a").way_back,
        ["router-a", "router-b", "server"]
    );

    let c = path(&m, "client", "server", V4);
    assert_eq!(c.path_mtu, 1200);
    assert_eq!(c.bottleneck.node, "router-a");
    assert_eq!(c.ping_over_pmtu, too_big(1200, "router-a"));
    assert_eq!(c.learned_pmtu, learned(1200));
    assert_eq!(c.transfer, ok());
    assert!(icmp(c, "router-a").needed);
    assert!(m.findings().is_empty(), "{:?}", m.findings());
}

/// hidden_smaller with router-b dropping its own frag-needed on OUTPUT:
/// server -> client blackholes (and its DF ping over 1200 is silent, the
/// server learns nothing); client -> server is fine today, but
/// router-b's frag-needed towards the client is dropped as well: latent.
#[test]
fn icmp_blackhole() {
    let t = with_filter(hidden_smaller_src(), "router-b", drop_at(Hook::Output));
    let m = model_of(&t);
    let s = path(&m, "server", "client", V4);
    assert_eq!(s.path_mtu, 1200);
    assert_eq!(s.transfer, Knowable::Known(Verdict::Blackhole));
    assert_eq!(s.ping_at_pmtu, Knowable::Known(Ping::Reply));
    assert_eq!(s.ping_over_pmtu, Knowable::Known(Ping::Silence));
    assert_eq!(s.learned_pmtu, learned(9000));
    let b = icmp(s, "router-b");
    assert!(b.needed);
    assert_eq!(b.reaches, Knowable::Known(false));
    assert_eq!(
        b.culprit,
        Some(Culprit::Filter {
            node: "router-b".into(),
            hook: Hook::Output
        })
    );
    assert_eq!(
        icmp(s, "router-a").reaches,
        Knowable::Known(true),
        "router-a's ICMP crosses router-b's FORWARD, not its OUTPUT"
    );
    assert!(matches!(
        &s.stall,
        Some(Stall::IcmpDropped { router, mtu: 1200, size: 1500, .. }) if router == "router-b"
    ));

    let c = path(&m, "client", "server", V4);
    assert_eq!(c.transfer, ok());
    assert_eq!(c.ping_over_pmtu, too_big(1200, "router-a"));
    let latent = icmp(c, "router-b");
    assert!(!latent.needed);
    assert_eq!(latent.reaches, Knowable::Known(false));

    let f = m.findings();
    let transfer = f.iter().find(|f| f.check == CheckId::TcpTransfer).unwrap();
    assert_eq!(transfer.subject, "server -> client (ipv4)");
    assert_eq!(
        transfer.seen,
        "bulk transfers from server to client stall (small exchanges work): 1500-byte packets do not fit router-b's 1200 towards router-a (link 2) and router-b drops its own frag-needed on output"
    );
    assert_eq!(
        transfer.fix,
        "let ICMP type 3 code 4 (frag-needed) out of router-b, or clamp MSS to 1160 on router-b, or set net.ipv4.tcp_mtu_probing=1 on server"
    );
    assert_eq!(
        checks(&m),
        [
            ("icmp-passes", "client -> server (ipv4)".to_owned()),
            ("tcp-transfer", "server -> client (ipv4)".to_owned()),
            ("icmp-passes", "server -> client (ipv4)".to_owned()),
            ("pmtud", "server -> client (ipv4)".to_owned()),
        ]
    );
}

/// A FORWARD drop on router-b, the bottleneck router for server -> client,
/// blackholes no transfer: its own frag-needed never crosses its FORWARD
/// hook. It does drop router-a's frag-needed towards the server (latent).
#[test]
fn forward_drop_on_bottleneck_router_breaks_no_transfer() {
    let t = with_filter(hidden_smaller_src(), "router-b", drop_at(Hook::Forward));
    let m = model_of(&t);
    let s = path(&m, "server", "client", V4);
    assert_eq!(s.transfer, ok());
    assert_eq!(s.ping_over_pmtu, too_big(1200, "router-b"));
    assert_eq!(icmp(s, "router-b").reaches, Knowable::Known(true));
    let a = icmp(s, "router-a");
    assert!(!a.needed);
    assert_eq!(a.reaches, Knowable::Known(false));
    assert_eq!(
        a.culprit,
        Some(Culprit::Filter {
            node: "router-b".into(),
            hook: Hook::Forward
        })
    );
    let c = path(&m, "client", "server", V4);
    assert_eq!(c.transfer, ok());
    assert!(c.icmp.iter().all(|i| i.reaches == Knowable::Known(true)));
    assert_eq!(
        checks(&m),
        [("icmp-passes", "server -> client (ipv4)".to_owned())]
    );
}

/// The client dropping frag-needed on INPUT only hurts paths where the
/// client is the sender that needs one: its uploads to the server stall
/// (router-a's frag-needed is dropped); the server's downloads to it are
/// fine (router-b's frag-needed goes to the server).
#[test]
fn client_input_drop_blackholes_only_client_uploads() {
    let t = with_filter(hidden_smaller_src(), "client", drop_at(Hook::Input));
    let m = model_of(&t);
    let c = path(&m, "client", "server", V4);
    assert_eq!(c.transfer, Knowable::Known(Verdict::Blackhole));
    assert_eq!(c.ping_over_pmtu, Knowable::Known(Ping::Silence));
    assert_eq!(c.learned_pmtu, learned(1500));
    assert_eq!(
        icmp(c, "router-a").culprit,
        Some(Culprit::Filter {
            node: "client".into(),
            hook: Hook::Input
        })
    );
    let s = path(&m, "server", "client", V4);
    assert_eq!(s.transfer, ok());
    assert_eq!(s.ping_over_pmtu, too_big(1200, "router-b"));
    assert!(s.icmp.iter().all(|i| i.reaches == Knowable::Known(true)));
}

/// Control for the blackhole: tcp_mtu_probing=1 on the server (the
/// sender) makes server -> client recover; it changes nothing for the
/// client's uploads, and nothing about what is learned.
#[test]
fn mtu_probing_on_sender_recovers() {
    let src = hidden_smaller_src().replace(
        "[nodes.server]",
        "[nodes.server]\nsysctl = { \"net.ipv4.tcp_mtu_probing\" = \"1\" }",
    );
    let t = with_filter(&src, "router-b", drop_at(Hook::Output));
    let m = model_of(&t);
    let s = path(&m, "server", "client", V4);
    assert!(s.mtu_probing);
    assert_eq!(s.transfer, Knowable::Known(Verdict::Recovered));
    assert_eq!(s.learned_pmtu, learned(9000));
    assert_eq!(s.ping_over_pmtu, Knowable::Known(Ping::Silence));
    let c = path(&m, "client", "server", V4);
    assert!(!c.mtu_probing);
    assert_eq!(c.transfer, ok());
    // Probing on the receiver does not help the sender.
    let src = hidden_smaller_src().replace(
        "[nodes.client]",
        "[nodes.client]\nsysctl = { \"net.ipv4.tcp_mtu_probing\" = \"2\" }",
    );
    let t = with_filter(&src, "router-b", drop_at(Hook::Output));
    let m = model_of(&t);
    assert_eq!(
        path(&m, "server", "client", V4).transfer,
        Knowable::Known(Verdict::Blackhole)
    );
}

mod bundled;
mod rulesets;
mod tunnel_kinds;

/// MTU 68..=87 between two hosts (no router): TCP's minimum MSS (48)
/// makes every segment at least 88 bytes, so the finding names that and
/// the link, never "the router in front"; control: 88 fits.
#[test]
fn below_tcps_minimum_mss() {
    for mtu in [68, 87] {
        let m = model(&format!(
            "name = \"tiny\"\n[nodes.a]\n[nodes.b]\n[[links]]\nbetween = [\"a\", \"b\"]\nmtu = {mtu}\n"
        ));
        let p = path(&m, "a", "b", V4);
        assert!(
            matches!(&p.stall, Some(Stall::BelowMinMss { link: 0, size: 88, mtu: m, .. }) if *m == mtu),
            "{:?}",
            p.stall
        );
        assert!(
            matches!(p.transfer, Knowable::Unknown(_)),
            "{:?}",
            p.transfer
        );
        let f = p
            .finding(CheckId::TcpTransfer)
            .expect("a tcp-transfer finding");
        assert!(f.seen.contains("minimum MSS of 48"), "{}", f.seen);
        assert!(
            !f.seen.contains("router") && !f.fix.contains("router"),
            "{f:?}"
        );
        assert_eq!(f.fix, "raise link 1's MTU to at least 88");
    }
    let m = model(
        "name = \"tiny\"\n[nodes.a]\n[nodes.b]\n[[links]]\nbetween = [\"a\", \"b\"]\nmtu = 88\n",
    );
    let p = path(&m, "a", "b", V4);
    assert_eq!(p.stall, None);
    assert_eq!(p.transfer, ok());
}
mod segments;
