//! `kernel::ipv6_min::…` (beyond pmtu.sh): an IPv6 packet-too-big
//! advertising less than 1280 (no IPv6 link can be that small, so r1
//! forges one with a raw ICMPv6 socket, quoting an a → dst1 echo request).
//! RFC 8201 §4 says a node must not lower its PMTU below 1280; measured on
//! 6.18, Linux ignores such a packet-too-big altogether: no exception
//! (older kernels clamped to 1280 and added fragment headers: a kernel
//! that differs is a finding the matrix reports). Control: the same forged
//! packet-too-big at 1300 gives a 1300 exception, so the forgery is
//! honoured and only the advertised value decides.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use libtest_mimic::{Failed, Trial};
use mtulab_core::Family;
use socket2::{Domain, Protocol, Socket, Type};

use super::check::expect;
use super::kit;
use super::labs;

pub fn trials() -> Vec<Trial> {
    let v6 = Family::V6;
    vec![
        kit::trial(
            kit::name("ipv6_min", "ptb_below_1280_ignored", v6),
            &[],
            || forged(1000, None),
        ),
        kit::trial(
            kit::name("ipv6_min", "ptb_below_1280_ignored", v6) + "::control",
            &[],
            || forged(1300, Some(1300)),
        ),
    ]
}

fn v6(a: IpAddr) -> Result<Ipv6Addr, Failed> {
    match a {
        IpAddr::V6(a) => Ok(a),
        IpAddr::V4(a) => Err(format!("{a} is not IPv6").into()),
    }
}

/// A packet-too-big body (type 2; the kernel fills the checksum of a raw
/// ICMPv6 socket) quoting an echo request from `src` to `dst`.
fn packet_too_big(mtu: u32, src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let echo_len: u16 = 8 + 56;
    let mut p = vec![2u8, 0, 0, 0];
    p.extend_from_slice(&mtu.to_be_bytes());
    // Quoted IPv6 header: version 6, payload length, next header ICMPv6, hop limit 64.
    p.extend_from_slice(&[0x60, 0, 0, 0]);
    p.extend_from_slice(&echo_len.to_be_bytes());
    p.extend_from_slice(&[58, 64]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    // Quoted echo request (checksum left zero: nobody verifies a quote).
    p.extend_from_slice(&[128, 0, 0, 0, 0x12, 0x34, 0, 1]);
    p.extend(std::iter::repeat_n(0u8, 56));
    p
}

fn forged(advertised: u32, expected: Option<u32>) -> Result<(), Failed> {
    let r = labs::routing(Family::V6, 1400, 1500)?;
    let a = r.lab.iface_addr("a", "r1", Family::V6)?;
    let body = packet_too_big(advertised, v6(a)?, v6(r.dst1)?);
    r.lab.run_in("r1", || -> std::io::Result<()> {
        let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
        s.send_to(&body, &SocketAddr::new(a, 0).into())?;
        Ok(())
    })??;
    // The forged error is handled in a's softirq after send_to returned:
    // poll (bounded) for its exception. Where none is expected, the poll
    // runs to its deadline, so keep it short; the control proves that
    // deadline is long enough for one to appear.
    let wait = std::time::Duration::from_millis(if expected.is_some() { 2000 } else { 300 });
    let deadline = std::time::Instant::now() + wait;
    let mut got = r.lab.pmtu("a", r.dst1)?;
    while got.is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(5));
        got = r.lab.pmtu("a", r.dst1)?;
    }
    expect(
        "PMTU exception with MTU",
        got,
        expected.map(|m| m.to_string()),
        &format!("a packet-too-big advertising {advertised}"),
    )
}
