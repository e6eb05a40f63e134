//! DF ping: one ICMP echo request of an exact IP packet size that must not
//! be fragmented, and what came of it.
//!
//! Uses an ICMP datagram socket ("ping socket": `SOCK_DGRAM`,
//! `IPPROTO_ICMP` / `IPPROTO_ICMPV6`; the lab opens `ping_group_range`) with
//! `IP_PMTUDISC_DO` / `IPV6_PMTUDISC_DO`, so the kernel neither fragments
//! the request nor sends it larger than the path MTU it knows, and
//! `IP_RECVERR` / `IPV6_RECVERR`, so a frag-needed / packet-too-big for it
//! lands on the socket's error queue with the MTU (`ee_info`) and the router
//! that sent it (`SO_EE_OFFENDER`).
//!
//! The probe reads the namespace as it is: a cached PMTU exception towards
//! `dst` turns a too-big request into `local-too-big`. Flush exceptions
//! first ([`super::exceptions::flush`]) to see what the path itself does.
//!
//! Between hosts of a lab ([`df_ping_hosts`]), and for every other
//! host-to-host probe, `ready` first: a small echo warms the path up (a
//! lost first neighbour solicitation must not read as a blackhole), then
//! every exception is flushed.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::{Protocol, Socket};

use super::error::ProbeError;
use super::sock::{self, family_opts, PmtuDisc};
use crate::lab::Lab;
use crate::netns::Netns;
use mtulab_core::Family;

pub use mtulab_core::observe::PingOutcome;

/// The result of [`df_ping`]; JSON fields as in design.md §5.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PingResult {
    pub outcome: PingOutcome,
    /// The MTU the router (too-big) or the local kernel (local-too-big) gave.
    pub mtu: Option<u32>,
    /// Who answered: the destination (reply) or the router (too-big,
    /// unreachable); None for local-too-big and silence.
    pub from: Option<IpAddr>,
    pub dst: IpAddr,
    /// The whole IP packet size that was sent.
    pub size: u32,
    /// ICMP type and code of an `unreachable` answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp: Option<(u8, u8)>,
}

/// Echo request / reply ICMP types per family.
fn echo_types(dst: IpAddr) -> (u8, u8) {
    match dst {
        IpAddr::V4(_) => (8, 0),
        IpAddr::V6(_) => (128, 129),
    }
}

/// Send DF echo requests of `size` bytes (whole IP packet) from `ns` to
/// `dst` until one is answered or `timeout` passes. The request is resent a
/// few times within the timeout (a first packet may wait on neighbour
/// resolution); any answer ends the probe.
pub fn df_ping(
    ns: &Netns,
    dst: IpAddr,
    size: u32,
    timeout: Duration,
) -> Result<PingResult, ProbeError> {
    let node = ns.name();
    let fo = family_opts(dst);
    let min = fo.ip_header + 8;
    if size < min {
        return Err(ProbeError::TooSmall { size, dst, min });
    }
    let io = |what: &str| {
        let what = format!("{what} (ping {dst}, {size} bytes)");
        move |e: io::Error| ProbeError::io(node, what, e)
    };
    let proto = match dst {
        IpAddr::V4(_) => Protocol::ICMPV4,
        IpAddr::V6(_) => Protocol::ICMPV6,
    };
    let socket = sock::probe_socket(
        ns,
        dst,
        proto,
        PmtuDisc::Do,
        &format!("ping {dst}, {size} bytes"),
    )?;
    socket
        .connect(&SocketAddr::new(dst, 0).into())
        .map_err(io("connect"))?;

    let (request, reply) = echo_types(dst);
    let payload = (size - min) as usize;
    let mut packet = vec![0u8; 8 + payload];
    packet[0] = request;
    for (k, b) in packet[8..].iter_mut().enumerate() {
        *b = (k % 251) as u8;
    }
    let result = |outcome, mtu, from, icmp| PingResult {
        outcome,
        mtu,
        from,
        dst,
        size,
        icmp,
    };

    let deadline = Instant::now() + timeout;
    let resend_every = (timeout / 4).max(Duration::from_millis(50));
    let mut seq: u16 = 0;
    let mut buf = vec![0u8; 8 + payload + 64];
    while Instant::now() < deadline {
        seq = seq.wrapping_add(1);
        packet[6..8].copy_from_slice(&seq.to_be_bytes());
        match socket.send(&packet) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                // The connected socket's route carries the MTU the kernel
                // refused against (the interface's or a cached exception).
                let mtu = sock::get_int(&socket, fo.level, fo.mtu)
                    .ok()
                    .map(|m| m as u32);
                let queued = drain(&socket);
                let mtu = mtu.or_else(|| queued.iter().find(|q| q.is_local()).map(|q| q.info));
                return Ok(result(PingOutcome::LocalTooBig, mtu, None, None));
            }
            // A pending error reported by an earlier answer: read it below.
            Err(e) if e.raw_os_error().is_some_and(|c| c != libc::EAGAIN) => {}
            Err(e) => return Err(io("send echo request")(e)),
        }
        let wake = (Instant::now() + resend_every).min(deadline);
        loop {
            let revents = sock::wait(socket.as_raw_fd(), libc::POLLIN, wake).map_err(io("poll"))?;
            if revents == 0 {
                break;
            }
            if revents & libc::POLLERR != 0 {
                for q in drain(&socket) {
                    if sock::is_too_big(&q) {
                        return Ok(result(PingOutcome::TooBig, Some(q.info), q.offender, None));
                    }
                    if q.is_local() && q.errno == libc::EMSGSIZE {
                        return Ok(result(PingOutcome::LocalTooBig, Some(q.info), None, None));
                    }
                    if q.is_icmp() {
                        return Ok(result(
                            PingOutcome::Unreachable,
                            None,
                            q.offender,
                            Some((q.icmp_type, q.icmp_code)),
                        ));
                    }
                }
            }
            if revents & libc::POLLIN != 0 {
                loop {
                    // SAFETY: buf is writable for its length.
                    let n = unsafe {
                        libc::recv(
                            socket.as_raw_fd(),
                            buf.as_mut_ptr().cast(),
                            buf.len(),
                            libc::MSG_DONTWAIT,
                        )
                    };
                    if n < 0 {
                        break;
                    }
                    let got = &buf[..n as usize];
                    // Any of our sequence numbers: a late reply to an
                    // earlier copy is still a reply.
                    if got.len() >= 8 && got[0] == reply {
                        let s = u16::from_be_bytes([got[6], got[7]]);
                        if s >= 1 && s <= seq {
                            return Ok(result(PingOutcome::Reply, None, Some(dst), None));
                        }
                    }
                }
            }
        }
    }
    Ok(result(PingOutcome::Silence, None, None, None))
}

/// Empty the error queue and the pending socket error.
fn drain(socket: &Socket) -> Vec<sock::QueuedError> {
    let mut out = Vec::new();
    while let Ok(Some(q)) = sock::recv_err(socket) {
        out.push(q);
    }
    let _ = socket.take_error();
    out
}

/// [`df_ping`] from host `from` to host `to`'s address in `family`, after
/// checking the path carries a minimal echo (so `silence` can only mean the
/// size) and flushing every PMTU exception in the lab (so the answer is the
/// path's, not an earlier probe's).
pub fn df_ping_hosts(
    lab: &Lab,
    from: &str,
    to: &str,
    family: Family,
    size: u32,
    timeout: Duration,
) -> Result<PingResult, ProbeError> {
    let (node, dst) = ready(lab, from, to, family)?;
    df_ping(node.ns(), dst, size, timeout)
}

/// The address probes use to reach host `host` in `family`.
pub(crate) fn resolve(lab: &Lab, host: &str, family: Family) -> Result<IpAddr, ProbeError> {
    lab.node(host)
        .ok_or_else(|| ProbeError::NoNode(host.to_string()))?;
    lab.plan()
        .address_of(host, family)
        .ok_or_else(|| ProbeError::NoAddress {
            node: host.to_string(),
            family: family.as_str(),
        })
}

/// How long [`warm_up`] waits for its small echo: long enough for a lost
/// first ARP / ND solicitation to be retransmitted (`retrans_time`, 1 s).
pub(crate) const WARM_UP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Make sure host `from` reaches host `to` in `family` with a packet that
/// fits any link (a 28 / 48-byte echo), before a probe whose *silence*
/// means something. It resolves the neighbours on the way both ways: a
/// fresh lab sometimes loses the first solicitation, and a probe with a
/// short deadline would take the 1 s retransmission for a drop.
pub(crate) fn warm_up(lab: &Lab, from: &str, to: &str, family: Family) -> Result<(), ProbeError> {
    let node = lab
        .node(from)
        .ok_or_else(|| ProbeError::NoNode(from.to_string()))?;
    let dst = resolve(lab, to, family)?;
    let size = match family {
        Family::V4 => 28,
        Family::V6 => 48,
    };
    let r = df_ping(node.ns(), dst, size, WARM_UP_TIMEOUT)?;
    if r.outcome != PingOutcome::Reply {
        return Err(ProbeError::PathDown {
            from: from.to_string(),
            to: to.to_string(),
            dst,
            outcome: format!("{:?}", r.outcome),
        });
    }
    Ok(())
}

/// What every lab-level probe between two hosts does first: find `from`
/// and `to`'s address, [`warm_up`] the path, then flush every node's PMTU
/// exceptions so the probe sees the path itself, not what earlier probes
/// taught the kernel.
pub(crate) fn ready<'l>(
    lab: &'l Lab,
    from: &str,
    to: &str,
    family: Family,
) -> Result<(&'l crate::lab::LabNode, IpAddr), ProbeError> {
    let node = lab
        .node(from)
        .ok_or_else(|| ProbeError::NoNode(from.to_string()))?;
    let dst = resolve(lab, to, family)?;
    warm_up(lab, from, to, family)?;
    super::exceptions::flush(lab)?;
    Ok((node, dst))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_serialise_as_the_report_contract() {
        let v = [
            PingOutcome::Reply,
            PingOutcome::TooBig,
            PingOutcome::LocalTooBig,
            PingOutcome::Silence,
        ];
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"["reply","too-big","local-too-big","silence"]"#
        );
        // as_str says what serde says, for every outcome.
        for o in v.into_iter().chain([PingOutcome::Unreachable]) {
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
    }
}
