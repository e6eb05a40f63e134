//! Segments in the model: a member's MTU counts on the way in and out, the
//! odd member is named, frames over a receiving member's MTU + 4 vanish.

use super::*;

/// The bundled jumbo LAN: r2's port at 9000, r1 and the NAS at 1500.
#[test]
fn lan_jumbo_mismatch() {
    let t = bundled("lan_jumbo_mismatch");
    let m = model_of(&t);
    assert_eq!(m.link_mismatches.len(), 1);
    let mm = &m.link_mismatches[0];
    assert_eq!((mm.link, mm.segment.as_deref()), (2, Some("lan")));
    assert_eq!(mm.odd_members(), (1500, vec![1]));
    assert_eq!(
        mm.to_string(),
        "segment lan (r2:lan 9000 vs r1:lan 1500, nas:lan 1500)"
    );
    let f = &m.findings()[0];
    assert_eq!(
        (f.check.as_str(), f.subject.as_str()),
        ("link-mtu-match", "segment lan")
    );
    assert!(f.seen.contains("1505..=9000 bytes vanish"), "{f}");
    assert_eq!(
        f.fix,
        "equalise MTU on segment lan: set r2:lan to 1500 like the other members"
    );
    for family in [V4, V6] {
        let p = path(&m, "storage", "nas", family);
        assert_eq!(p.path_mtu, 1500);
        assert_eq!(p.bottleneck.kind, BottleneckKind::IngressOnly);
        assert_eq!(p.bottleneck.segment.as_deref(), Some("lan"));
        assert_eq!(p.learned_pmtu, learned(9000));
        assert_eq!(p.transfer, ok(), "the NAS's MSS hides it");
        let ping = |size| predict_ping(&t, &Plan::new(&t), "storage", "nas", family, size);
        assert_eq!(ping(1500), Some(Knowable::Known(Ping::Reply)));
        assert_eq!(ping(1504), Some(Knowable::Known(Ping::Reply)));
        assert_eq!(ping(1505), Some(Knowable::Known(Ping::Silence)));
        let pmtud = p.finding(CheckId::Pmtud).unwrap();
        assert!(
            pmtud.seen.contains("entering nas:lan (1500, segment lan)"),
            "{pmtud}"
        );
        assert_eq!(pmtud.fix, "equalise MTU on segment lan");
    }
}

/// The fixed twin: every member at 1500, r2 reports the LAN's 1500.
#[test]
fn lan_jumbo_fixed() {
    let m = model_of(&bundled("lan_jumbo_fixed"));
    assert!(m.link_mismatches.is_empty());
    assert!(m.findings().is_empty(), "{:?}", m.findings());
    let p = path(&m, "storage", "h1", V4);
    assert_eq!(p.learned_pmtu, learned(1500));
    assert_eq!(p.ping_over_pmtu, too_big(1500, "r2"));
}

/// Odd members: the most common MTU wins, a tie goes to the smaller.
#[test]
fn odd_members_of_a_segment() {
    assert_eq!(odd_members(&[1500, 9000, 1500]), (1500, vec![1]));
    assert_eq!(odd_members(&[9000, 9000, 1500]), (9000, vec![2]));
    assert_eq!(odd_members(&[9000, 1500]), (1500, vec![0]));
    assert_eq!(odd_members(&[1500, 1500]), (1500, vec![]));
}
