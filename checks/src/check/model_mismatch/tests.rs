//! The product's model-mismatch on a measured icmp_blackhole path, and
//! how a violation's words join the model's finding with the measurement.

use std::path::Path;

use mtulab_core::model;
use mtulab_core::observe::{IcmpReport, PingOutcome, PingReport};
use mtulab_core::plan::Plan;
use mtulab_core::topology::Verdict;
use mtulab_core::{Family, Topology};

use super::super::words::explain;
use super::*;

/// The bundled icmp_blackhole scenario.
fn blackhole() -> Topology {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies/icmp_blackhole.toml");
    Topology::from_file(&f).unwrap()
}

fn ping(size: u32, outcome: PingOutcome, mtu: Option<u32>, from: Option<&str>) -> PingReport {
    PingReport {
        size,
        outcome,
        mtu,
        from: from.map(String::from),
    }
}

/// What the kernel did on icmp_blackhole, server -> client (measured).
fn seen_download() -> PathReport {
    PathReport {
        from: "server".into(),
        to: "client".into(),
        family: Family::V4,
        expected_pmtu: 1200,
        observed_pmtu: Some(9000),
        transfer: Some(Verdict::Blackhole),
        transfer_seconds: Some(0.65),
        ping_at_pmtu: Some(ping(1200, PingOutcome::Reply, None, Some("client"))),
        ping_over_pmtu: Some(ping(1201, PingOutcome::Silence, None, None)),
        icmp: vec![
            IcmpReport {
                router: "router-b".into(),
                arrived: false,
            },
            IcmpReport {
                router: "router-a".into(),
                arrived: true,
            },
        ],
    }
}

fn compare(seen: &PathReport) -> (Tally, Vec<Violation>) {
    let t = blackhole();
    let model = model::predict(&t, &Plan::new(&t));
    let pred = model.path("server", "client", Family::V4).unwrap();
    let mut tally = Tally::default();
    let mut out = Vec::new();
    super::compare(pred, seen, &mut tally, &mut out);
    (tally, out)
}

/// The model agrees with what the kernel did: every value compared, none differ.
#[test]
fn agreeing_kernel_gives_no_mismatch() {
    let (tally, out) = compare(&seen_download());
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(tally.differ, 0);
    // path MTU, learned, 2 pings, transfer, 2 routers' ICMP.
    assert_eq!(tally.compared, 7);
}

/// Each disagreement is a model-mismatch carrying both values.
#[test]
fn each_disagreement_is_reported_with_both_values() {
    let mut seen = seen_download();
    seen.ping_over_pmtu = Some(ping(
        1201,
        PingOutcome::TooBig,
        Some(1200),
        Some("router-b"),
    ));
    seen.transfer = Some(Verdict::Ok);
    seen.icmp[0].arrived = true;
    let (tally, out) = compare(&seen);
    assert_eq!(tally.differ, 3);
    let msgs: Vec<&str> = out.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "server -> client ipv4: DF ping one byte over (1201 bytes): model 1201: silence, kernel 1201: too-big 1200 from router-b",
            "server -> client ipv4: transfer: model blackhole, kernel ok",
            "server -> client ipv4: frag-needed from router-b: model dropped, kernel arrives",
        ]
    );
    assert!(out.iter().all(|v| v.check == CheckId::ModelMismatch));
}

/// A violated check takes the model's words (naming the router and
/// hook) and the measurement; without a model finding, the measurement.
#[test]
fn explain_prefers_the_models_words() {
    let t = blackhole();
    let model = model::predict(&t, &Plan::new(&t));
    let pred = model.path("server", "client", Family::V4);
    let (msg, fix) = explain(
        pred.and_then(|p| p.finding(CheckId::TcpTransfer)),
        "0 of 1 bytes".into(),
        |m| (m, "x".into()),
    );
    assert!(
        msg.contains("router-b drops its own frag-needed on output")
            && msg.ends_with("(measured: 0 of 1 bytes)"),
        "{msg}"
    );
    assert!(fix.unwrap().contains("out of router-b"));
    let up = model.path("client", "server", Family::V4);
    let (msg, fix) = explain(
        up.and_then(|p| p.finding(CheckId::TcpTransfer)),
        "measured".into(),
        |m| (m, "fallback".into()),
    );
    assert_eq!(
        (msg.as_str(), fix.as_deref()),
        ("measured", Some("fallback"))
    );
}
