//! The bundled scenarios of the tunnel kinds (WireGuard, GRE, GENEVE): the
//! model's verdicts are the files' `[expect]`, so the live scenario trials
//! (in a kernel that has the kinds) judge the model, not a guess.

use super::*;
use crate::CheckId;

/// The violated checks the model predicts for `t`, sorted and deduplicated.
fn predicted_violations(m: &Model) -> Vec<CheckId> {
    let mut ids: Vec<CheckId> = m.findings().into_iter().map(|f| f.check).collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Every `[[expect.paths]]` entry of `t` against the model: the path MTU
/// (smallest MTU on the way) and the transfer verdict, per family.
fn paths_as_expected(t: &Topology, m: &Model) {
    let expect = t.expect.as_ref().expect("[expect]");
    for e in &expect.paths {
        for family in [V4, V6] {
            if e.family.is_some_and(|f| f != family) {
                continue;
            }
            let p = path(m, &e.from, &e.to, family);
            if let Some(pmtu) = e.pmtu {
                assert_eq!(
                    p.path_mtu, pmtu,
                    "{}: {} -> {} {family}",
                    t.name, e.from, e.to
                );
            }
            if let Some(v) = e.transfer {
                assert_eq!(
                    p.transfer,
                    Knowable::Known(v),
                    "{}: {} -> {} {family}",
                    t.name,
                    e.from,
                    e.to
                );
            }
        }
    }
}

fn as_expected(name: &str) -> Model {
    let t = bundled(name);
    let m = model_of(&t);
    let mut want: Vec<CheckId> = t
        .expect
        .as_ref()
        .expect("[expect]")
        .violations
        .as_ref()
        .expect("violations")
        .to_vec();
    want.sort();
    assert_eq!(
        predicted_violations(&m),
        want,
        "{name}: {:#?}",
        m.findings()
    );
    paths_as_expected(&t, &m);
    m
}

/// The VPN story over WireGuard: 1500 - 60 = 1440 is the bottleneck, the
/// appliance's downloads stall; uploads learn 1440 from gw-a.
#[test]
fn vpn_wireguard_blackhole() {
    let m = as_expected("vpn_wireguard");
    for family in [V4, V6] {
        let down = path(&m, "appliance", "client", family);
        assert_eq!(down.path_mtu, 1440);
        assert_eq!(known(&down.transfer), Verdict::Blackhole);
        let up = path(&m, "client", "appliance", family);
        assert_eq!(up.learned_pmtu, learned(1440));
    }
}

/// Its controls: ICMP allowed (both rules hold), and the MSS clamped on
/// the tunnel interface (TCP ok both ways, ICMP still dropped).
#[test]
fn vpn_wireguard_controls() {
    let m = as_expected("vpn_wireguard_icmp");
    assert!(m.findings().is_empty(), "{:#?}", m.findings());
    let m = as_expected("vpn_wireguard_mss_clamp");
    for family in [V4, V6] {
        assert_eq!(path(&m, "appliance", "client", family).transfer, ok());
    }
}

/// GRE with hand-set unequal ends (1476 | 1400), and GENEVE over IPv6
/// (1430) in front of a server whose own end is 1400.
#[test]
fn gre_and_geneve_mismatches() {
    as_expected("gre_mismatch");
    as_expected("geneve_v6_lan_mismatch");
    let t = bundled("geneve_v6_lan_mismatch");
    assert_eq!(Plan::new(&t).links[4].mtu, [1430, 1430]);
}

/// Control for the expectations above: the same scenario with one number
/// changed no longer matches (the test can fail).
#[test]
fn a_changed_tunnel_changes_the_verdict() {
    let src = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../topologies/vpn_wireguard.toml"),
    )
    .unwrap();
    // A VXLAN tunnel instead: 1450, not 1440.
    let t = topo(&src.replace("kind = \"wireguard\"\n", ""));
    let m = model_of(&t);
    assert_eq!(path(&m, "appliance", "client", V4).path_mtu, 1450);
}
