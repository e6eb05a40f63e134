//! `kernel::tunnel_df::…` (beyond pmtu.sh): over the harness's own VXLAN
//! (`topologies/vxlan_1450.toml`: a 1450 tunnel over a 1500 IPv4
//! underlay), a DF ping of exactly the tunnel MTU is answered end to end,
//! and one byte more gets too-big with MTU 1450 from the tunnel's entry.

use std::time::Duration;

use harness::probe::ping::PingOutcome;
use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;

use super::check::expect;
use super::kit::{self, Cap};

const TUNNEL: u32 = 1450;

pub fn trials() -> Vec<Trial> {
    let mut out = Vec::new();
    for f in [Family::V4, Family::V6] {
        out.push(kit::trial(
            kit::name("tunnel_df", "at_mtu_answered", f),
            &[Cap::Vxlan],
            move || ping(f, TUNNEL),
        ));
        out.push(kit::trial(
            kit::name("tunnel_df", "over_mtu_too_big", f),
            &[Cap::Vxlan],
            move || ping(f, TUNNEL + 1),
        ));
    }
    out
}

fn ping(f: Family, size: u32) -> Result<(), Failed> {
    let (lab, _) = kit::build_bundled("vxlan_1450")?;
    let dst = lab.addr("server", f)?;
    lab.reachable("client", dst, Duration::from_secs(3))?;
    let p = lab.ping("client", dst, size, Duration::from_secs(1))?;
    let step = format!("a DF ping of {size} bytes across the {TUNNEL} tunnel");
    if size <= TUNNEL {
        return expect(
            "DF ping outcome",
            p.outcome.as_str(),
            PingOutcome::Reply.as_str(),
            &step,
        );
    }
    expect(
        "DF ping outcome",
        p.outcome.as_str(),
        PingOutcome::TooBig.as_str(),
        &step,
    )?;
    expect("too-big MTU", p.mtu, Some(TUNNEL), &step)?;
    let gw_a = lab.iface_addr("gw-a", "client", f)?;
    expect("too-big sent by", p.from, Some(gw_a), &step)
}
