//! ICMP delivery: would a frag-needed / packet-too-big that router R sends
//! to host S reach S — whether or not any packet on the path is too big
//! today? A host that cannot receive them is a latent blackhole (check
//! `icmp-passes`).
//!
//! S opens a UDP socket connected to D (port 9, nothing is ever sent) with
//! `IP_RECVERR` and `IP_PMTUDISC_DO`. R crafts, on a raw ICMP / ICMPv6
//! socket inside its own namespace, the error a real packet of that flow
//! would have earned: ICMPv4 type 3 code 4 (or ICMPv6 type 2) with an MTU
//! below the path MTU, quoting an IP + UDP header S:sport → D:dport. The
//! kernel sends it as it sends its own errors: through R's OUTPUT hook, the
//! FORWARD hook of every router on the way back, S's INPUT hook. S's kernel
//! matches the quote to the socket and queues `EMSGSIZE` with the MTU and
//! R's address as offender: that, and only that, counts as arrived. A drop
//! anywhere leaves the queue empty until the deadline (or, at R's OUTPUT
//! hook, makes the send itself fail with `EPERM`).
//!
//! Before crafting anything, S checks with a minimal echo to D that the
//! path is up (neighbours resolved), so a missing error can only mean a
//! drop. Delivery creates a PMTU exception on S towards D, as a real error
//! would: the probe flushes the lab's exceptions before returning.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

use super::barrier;
use super::error::ProbeError;
use super::exceptions;
use super::sock::{self, family_opts};
use crate::firewall;
use crate::lab::Lab;
use mtulab_core::topology::{Family, PmtuIcmp};

/// How long S waits for the error by default: delivery over veth takes
/// well under a millisecond.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(500);

/// The port on D the quoted flow goes to (discard; never contacted).
const DST_PORT: u16 = 9;

/// The result of [`icmp_delivery`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Delivery {
    /// S's error queue got the error, with R as offender and our MTU.
    pub arrived: bool,
    pub router: String,
    pub sender: String,
    pub dst: String,
    pub family: &'static str,
    /// The address R sent from, as S saw it (None: nothing arrived).
    pub from: Option<IpAddr>,
    /// The MTU the crafted error carried.
    pub mtu: u32,
    /// The quoted flow: S's address and port, D's address and port.
    pub flow: (SocketAddr, SocketAddr),
    /// Why R's send failed, when it did (EPERM: R's own OUTPUT hook dropped it).
    pub send_error: Option<String>,
    /// S has `pmtu_icmp = "ignore"`: `arrived` counts the error reaching
    /// S's interface (the counter ahead of the discard at S's entry),
    /// and S's stack did not act on it.
    pub ignored: bool,
    pub seconds: f64,
}

/// [`icmp_delivery_within`] with [`DEFAULT_TIMEOUT`].
pub fn icmp_delivery(
    lab: &Lab,
    router: &str,
    sender: &str,
    dst: &str,
    family: Family,
) -> Result<Delivery, ProbeError> {
    icmp_delivery_within(lab, router, sender, dst, family, DEFAULT_TIMEOUT)
}

/// Does a too-big error from `router` about the flow `sender` → `dst`
/// reach `sender` within `timeout`?
pub fn icmp_delivery_within(
    lab: &Lab,
    router: &str,
    sender: &str,
    dst: &str,
    family: Family,
    timeout: Duration,
) -> Result<Delivery, ProbeError> {
    let node = |n: &str| lab.node(n).ok_or_else(|| ProbeError::NoNode(n.to_string()));
    let (r_node, s_node) = (node(router)?, node(sender)?);
    node(dst)?;
    let d_addr = super::ping::resolve(lab, dst, family)?;
    // The error travels R -> S; S -> D and back covers those links too.
    super::ping::warm_up(lab, sender, dst, family)?;
    let fo = family_opts(d_addr);
    let floor = match family {
        Family::V4 => 552,
        Family::V6 => 1280,
    };
    // Below the path MTU (as planned), never below what the family allows.
    let pmtu = lab
        .plan()
        .path(sender, dst, family)
        .and_then(|hops| mtulab_core::plan::path_mtu(&hops))
        .unwrap_or(1500);
    let mtu = pmtu.saturating_sub(100).max(floor);

    let s_err = |what: &'static str| move |e: io::Error| ProbeError::io(sender, what, e);
    let domain = match family {
        Family::V4 => Domain::IPV4,
        Family::V6 => Domain::IPV6,
    };
    let s_sock = s_node
        .ns()
        .run(|| Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)))?
        .map_err(s_err("open UDP socket"))?;
    let pmtudisc_do = match family {
        Family::V4 => libc::IP_PMTUDISC_DO,
        Family::V6 => libc::IPV6_PMTUDISC_DO,
    };
    sock::set_int(&s_sock, fo.level, fo.mtu_discover, pmtudisc_do)
        .map_err(s_err("set PMTUDISC_DO"))?;
    sock::set_int(&s_sock, fo.level, fo.recverr, 1).map_err(s_err("set RECVERR"))?;
    let d_sa = SocketAddr::new(d_addr, DST_PORT);
    s_sock
        .connect(&d_sa.into())
        .map_err(s_err("connect UDP socket"))?;
    let s_sa = s_sock
        .local_addr()
        .ok()
        .and_then(|a| a.as_socket())
        .ok_or_else(|| s_err("read local address")(io::Error::other("none")))?;

    let r_err = |what: &'static str| move |e: io::Error| ProbeError::io(router, what, e);
    let (r_domain, r_proto) = match family {
        Family::V4 => (Domain::IPV4, Protocol::ICMPV4),
        Family::V6 => (Domain::IPV6, Protocol::ICMPV6),
    };
    let r_sock = r_node
        .ns()
        .run(|| Socket::new(r_domain, Type::RAW, Some(r_proto)))?
        .map_err(r_err("open raw ICMP socket"))?;
    let message = too_big(s_sa, d_sa, mtu);

    // A host that ignores PMTU ICMP discards it at its entry, after a
    // counter: arrival is the counter moving.
    let ignoring = lab
        .topology()
        .nodes
        .get(sender)
        .is_some_and(|n| n.pmtu_icmp == PmtuIcmp::Ignore);
    let counter = firewall::IGNORED_COUNTERS[usize::from(family == Family::V6)];
    let count = || {
        firewall::ignored_count(s_node.ns(), sender, counter).map_err(|e| {
            ProbeError::io(sender, "read the ignored-ICMP counter", io::Error::other(e))
        })
    };
    let before = if ignoring { count()? } else { 0 };

    let started = Instant::now();
    let to_s = SocketAddr::new(s_sa.ip(), 0).into();
    let use_barrier = barrier::lab_allows(lab) && r_node.ns().run(barrier::sound)?;
    let echo_id = (std::process::id() as u16) ^ s_sa.port();
    let pin = barrier::SameCpu::new();
    let send_error = match r_sock.send_to(&message, &to_s) {
        Ok(_) => None,
        Err(e) => Some(e.to_string()),
    };
    // The marker: an echo request from R to S right behind the error.
    let marker_out = use_barrier
        && pin.pinned()
        && send_error.is_none()
        && r_sock
            .send_to(&echo_request(family, echo_id), &to_s)
            .is_ok();
    drop(pin);

    let mut from = None;
    let mut counted = false;
    if send_error.is_none() && ignoring {
        let deadline = started + timeout;
        loop {
            if count()? > before {
                counted = true;
                break;
            }
            if Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    } else if send_error.is_none() {
        let deadline = started + timeout;
        // Once S has answered the marker, S has handled the error before
        // it (see `barrier`): its error queue holds it or never will, so
        // the wait below ends at once instead of at the deadline.
        let settled = marker_out
            && echo_reply_within(&r_sock, family, echo_id, deadline)
                .map_err(r_err("wait for the marker's reply"))?;
        let deadline = if settled { Instant::now() } else { deadline };
        'wait: loop {
            let revents =
                sock::wait(s_sock.as_raw_fd(), 0, deadline).map_err(s_err("poll error queue"))?;
            if revents == 0 {
                break;
            }
            while let Some(q) = sock::recv_err(&s_sock).map_err(s_err("read error queue"))? {
                if sock::is_too_big(&q) && q.info == mtu {
                    from = q.offender;
                    break 'wait;
                }
            }
            let _ = s_sock.take_error();
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(r_sock);
    drop(s_sock);
    exceptions::flush(lab)?;
    Ok(Delivery {
        arrived: from.is_some() || counted,
        router: router.to_string(),
        sender: sender.to_string(),
        dst: dst.to_string(),
        family: family.as_str(),
        from,
        mtu,
        flow: (s_sa, d_sa),
        send_error,
        ignored: ignoring,
        seconds,
    })
}

/// An ICMP / ICMPv6 echo request (no IP header) with `id`, sequence 1.
fn echo_request(family: Family, id: u16) -> Vec<u8> {
    let mut m = vec![0u8; 8];
    m[0] = match family {
        Family::V4 => 8,
        Family::V6 => 128,
    };
    m[4..6].copy_from_slice(&id.to_be_bytes());
    m[6..8].copy_from_slice(&1u16.to_be_bytes());
    if family == Family::V4 {
        // The kernel computes ICMPv6 checksums on raw sockets, not ICMPv4's.
        let c = sock::inet_checksum(&m);
        m[2..4].copy_from_slice(&c.to_be_bytes());
    }
    m
}

/// Wait on the raw socket `r` for the echo reply to [`echo_request`] with
/// `id`; false at the deadline.
fn echo_reply_within(r: &Socket, family: Family, id: u16, deadline: Instant) -> io::Result<bool> {
    let mut buf = [0u8; 2048];
    loop {
        if sock::wait(r.as_raw_fd(), libc::POLLIN, deadline)? == 0 {
            return Ok(false);
        }
        loop {
            // SAFETY: buf is writable for its length.
            let n = unsafe {
                libc::recv(
                    r.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n < 0 {
                break;
            }
            let got = &buf[..n as usize];
            // Raw ICMPv4 sockets receive the IP header too.
            let icmp = match family {
                Family::V4 if !got.is_empty() => {
                    &got[((got[0] & 0x0f) as usize * 4).min(got.len())..]
                }
                _ => got,
            };
            let reply = match family {
                Family::V4 => 0,
                Family::V6 => 129,
            };
            if icmp.len() >= 8
                && icmp[0] == reply
                && icmp[4..6] == id.to_be_bytes()
                && icmp[6..8] == 1u16.to_be_bytes()
            {
                return Ok(true);
            }
        }
    }
}

/// The ICMP message (no outer IP header: the raw socket adds it) a router
/// sends for a too-big packet of the UDP flow `src` → `dst`.
fn too_big(src: SocketAddr, dst: SocketAddr, mtu: u32) -> Vec<u8> {
    // The packet "was" bigger than the MTU reported.
    let orig_len = (mtu + 100) as u16;
    let mut udp = Vec::with_capacity(8);
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            udp.extend_from_slice(&(orig_len - 20).to_be_bytes());
            udp.extend_from_slice(&[0, 0]);
            let mut ip = vec![
                0x45, 0, 0, 0, // version, IHL, TOS, total length (below)
                0, 0, 0x40, 0, // id, flags: DF
                63, 17, 0, 0, // TTL, UDP, checksum (below)
            ];
            ip[2..4].copy_from_slice(&orig_len.to_be_bytes());
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            let c = sock::inet_checksum(&ip);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            let mut msg = vec![3, 4, 0, 0, 0, 0];
            msg.extend_from_slice(&(mtu as u16).to_be_bytes());
            msg.extend_from_slice(&ip);
            msg.extend_from_slice(&udp);
            let c = sock::inet_checksum(&msg);
            msg[2..4].copy_from_slice(&c.to_be_bytes());
            msg
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            udp.extend_from_slice(&(orig_len - 40).to_be_bytes());
            udp.extend_from_slice(&[0, 0]);
            let mut ip = vec![0x60, 0, 0, 0];
            ip.extend_from_slice(&(orig_len - 40).to_be_bytes());
            ip.extend_from_slice(&[17, 63]); // next header UDP, hop limit
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            // The kernel computes ICMPv6 checksums on raw sockets.
            let mut msg = vec![2, 0, 0, 0];
            msg.extend_from_slice(&mtu.to_be_bytes());
            msg.extend_from_slice(&ip);
            msg.extend_from_slice(&udp);
            msg
        }
        _ => unreachable!("a flow has one family"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v4_message_checksums_verify() {
        let m = too_big(
            "198.18.0.1:40000".parse().unwrap(),
            "198.18.2.2:9".parse().unwrap(),
            1100,
        );
        assert_eq!(m.len(), 8 + 20 + 8);
        assert_eq!((m[0], m[1]), (3, 4));
        assert_eq!(u16::from_be_bytes([m[6], m[7]]), 1100);
        assert_eq!(sock::inet_checksum(&m), 0, "ICMP checksum");
        assert_eq!(
            sock::inet_checksum(&m[8..28]),
            0,
            "quoted IP header checksum"
        );
    }

    #[test]
    fn v6_message_quotes_the_flow() {
        let m = too_big(
            "[2001:db8::1]:40000".parse().unwrap(),
            "[2001:db8:2::2]:9".parse().unwrap(),
            1280,
        );
        assert_eq!(m.len(), 8 + 40 + 8);
        assert_eq!(m[0], 2);
        assert_eq!(u32::from_be_bytes([m[4], m[5], m[6], m[7]]), 1280);
        assert_eq!(m[8 + 6], 17);
        assert_eq!(u16::from_be_bytes([m[48], m[49]]), 40000);
    }
}
