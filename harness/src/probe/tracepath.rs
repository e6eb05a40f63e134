//! tracepath: the path hop by hop and the path MTU, by the iputils method,
//! natively.
//!
//! A UDP socket with `IP_PMTUDISC_PROBE` (DF set, but sent at the size asked
//! for, whatever PMTU the kernel has cached: only the interface MTU limits
//! it) and `IP_RECVERR`. For TTL 1, 2, …: send a probe of the current MTU
//! to a port nobody listens on and read the answer from the error queue:
//!
//! - local `EMSGSIZE` (the interface is smaller): lower the MTU, resend;
//! - frag-needed / packet-too-big from a router: lower the MTU to the one it
//!   reports, note it on this hop, resend at the same TTL;
//! - time exceeded: the hop's address; next TTL;
//! - port unreachable from the destination: reached.
//!
//! Unlike iputils it waits only until an answer arrives (a short per-probe
//! deadline, a couple of attempts), and stops after a few silent hops in a
//! row instead of walking to 30. Every probe goes to its own destination
//! port, which the error queue reports back (`msg_name`), so a late answer
//! is never taken for the current probe's.
//!
//! The frag-needed it provokes creates a PMTU exception on the sender, as
//! any real one does.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::{Protocol, Socket};

use super::barrier;
use super::error::ProbeError;
use super::sock::{self, family_opts, PmtuDisc, QueuedError};
use crate::netns::Netns;

/// How a [`tracepath`] runs.
#[derive(Debug, Clone)]
pub struct TraceOpts {
    /// Highest TTL / hop limit tried.
    pub max_hops: u8,
    /// How long to wait for the answer to one probe.
    pub probe_timeout: Duration,
    /// Probes sent per step before calling it silent.
    pub attempts: u32,
    /// Give up after this many silent TTLs in a row.
    pub max_silent_hops: u8,
    /// The first MTU tried (the interface MTU lowers it at once).
    pub initial_mtu: u32,
    /// The first destination port (each probe uses the next).
    pub base_port: u16,
}

impl Default for TraceOpts {
    fn default() -> Self {
        TraceOpts {
            max_hops: 30,
            probe_timeout: Duration::from_millis(200),
            attempts: 2,
            max_silent_hops: 3,
            initial_mtu: 65535,
            base_port: 44444,
        }
    }
}

/// One TTL of a trace.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HopResult {
    pub ttl: u8,
    /// Who answered at this TTL (time exceeded, or the destination); None
    /// when nothing did.
    pub addr: Option<IpAddr>,
    /// The path MTU learned at this TTL (a router's too-big, or the local
    /// interface at TTL 1); None when unchanged.
    pub pmtu: Option<u32>,
    /// The router that reported `pmtu` (None for the local interface).
    pub pmtu_from: Option<IpAddr>,
    /// Round trip of the answer that gave `addr`, in milliseconds.
    pub rtt_ms: Option<f64>,
}

/// The result of [`tracepath`]; JSON fields as in design.md §5.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Trace {
    pub dst: IpAddr,
    /// The path MTU: the size of the probes that made it to the last
    /// answering hop.
    pub pmtu: u32,
    /// The destination answered (port unreachable).
    pub reached: bool,
    pub hops: Vec<HopResult>,
    pub seconds: f64,
}

/// What one probe found.
enum Answer {
    LocalTooBig(u32),
    TooBig {
        mtu: u32,
        from: Option<IpAddr>,
    },
    TimeExceeded(Option<IpAddr>),
    Reached(Option<IpAddr>),
    /// Another ICMP error (unreachable): the trace ends here.
    Unreachable(Option<IpAddr>),
    Silence,
}

/// Trace the path from `ns` to `dst`. Without a lab to vouch for
/// single-path routes this never uses markers; [`tracepath_hosts`] does
/// where it can.
pub fn tracepath(ns: &Netns, dst: IpAddr, opts: &TraceOpts) -> Result<Trace, ProbeError> {
    tracepath_with(ns, dst, opts, false)
}

/// [`tracepath`] from `ns`, a node of `lab`: with markers where the lab
/// allows them (no multipath routes).
pub fn tracepath_in(
    lab: &crate::lab::Lab,
    ns: &Netns,
    dst: IpAddr,
    opts: &TraceOpts,
) -> Result<Trace, ProbeError> {
    tracepath_with(ns, dst, opts, barrier::lab_allows(lab))
}

/// [`tracepath`]; with `barrier` (the caller knows the route is
/// single-path), each probe is followed by a minimal echo request to `dst`
/// from a ping socket, the marker (see [`super::barrier`]): the probe's
/// answer, if any, comes from a hop no further than `dst`, so once the
/// marker's reply is back the probe's answer is too or never will be, and
/// a silent probe costs a round trip instead of `probe_timeout`.
fn tracepath_with(
    ns: &Netns,
    dst: IpAddr,
    opts: &TraceOpts,
    barrier: bool,
) -> Result<Trace, ProbeError> {
    let node = ns.name();
    let started = Instant::now();
    let io = |what: &'static str| {
        let what = format!("{what} (tracepath {dst})");
        move |e: io::Error| ProbeError::io(node, what, e)
    };
    let fo = family_opts(dst);
    let socket = sock::probe_socket(
        ns,
        dst,
        Protocol::UDP,
        PmtuDisc::Probe,
        &format!("tracepath {dst}"),
    )?;

    let marker = if barrier && ns.run(barrier::sound)? {
        let proto = if dst.is_ipv4() {
            Protocol::ICMPV4
        } else {
            Protocol::ICMPV6
        };
        let what = format!("tracepath {dst} (marker)");
        let m = sock::probe_socket(ns, dst, proto, PmtuDisc::Do, &what)?;
        m.connect(&SocketAddr::new(dst, 0).into())
            .map_err(io("connect marker"))?;
        Some(m)
    } else {
        None
    };
    let overhead = fo.ip_header + 8;
    let mut mtu = opts.initial_mtu.max(overhead);
    let mut port = opts.base_port;
    let mut hops: Vec<HopResult> = Vec::new();
    let mut reached = false;
    let mut silent_in_a_row = 0;
    let payload = vec![0u8; 65535];

    'ttls: for ttl in 1..=opts.max_hops {
        sock::set_int(&socket, fo.level, fo.ttl, ttl as i32).map_err(io("set TTL"))?;
        let mut hop = HopResult {
            ttl,
            addr: None,
            pmtu: None,
            pmtu_from: None,
            rtt_ms: None,
        };
        let mut attempts_left = opts.attempts;
        loop {
            if attempts_left == 0 {
                break;
            }
            port = port.wrapping_add(1).max(1024);
            let sent_at = Instant::now();
            let answer = probe_once(
                &socket,
                SocketAddr::new(dst, port),
                &payload[..(mtu - overhead) as usize],
                opts.probe_timeout,
                marker.as_ref(),
            )
            .map_err(io("send probe"))?;
            let rtt = sent_at.elapsed().as_secs_f64() * 1000.0;
            match answer {
                Answer::LocalTooBig(m) => {
                    // The interface: not a hop's doing, does not use up an attempt.
                    if m < overhead || m >= mtu {
                        return Err(ProbeError::io(
                            node,
                            format!("tracepath {dst}"),
                            io::Error::other(format!(
                                "local EMSGSIZE reports MTU {m} for a {mtu}-byte probe"
                            )),
                        ));
                    }
                    mtu = m;
                    hop.pmtu = Some(m);
                }
                Answer::TooBig { mtu: m, from } => {
                    if m >= mtu || m < overhead {
                        // A bogus too-big would loop forever: note and move on.
                        hop.pmtu_from = from;
                        attempts_left -= 1;
                        continue;
                    }
                    mtu = m;
                    hop.pmtu = Some(m);
                    hop.pmtu_from = from;
                }
                Answer::TimeExceeded(from) => {
                    hop.addr = from;
                    hop.rtt_ms = Some(rtt);
                    break;
                }
                Answer::Reached(from) => {
                    hop.addr = from;
                    hop.rtt_ms = Some(rtt);
                    reached = true;
                    hops.push(hop);
                    break 'ttls;
                }
                Answer::Unreachable(from) => {
                    hop.addr = from;
                    hop.rtt_ms = Some(rtt);
                    hops.push(hop);
                    break 'ttls;
                }
                Answer::Silence => attempts_left -= 1,
            }
        }
        if hop.addr.is_none() {
            silent_in_a_row += 1;
        } else {
            silent_in_a_row = 0;
        }
        hops.push(hop);
        if silent_in_a_row >= opts.max_silent_hops {
            break;
        }
    }
    Ok(Trace {
        dst,
        pmtu: mtu,
        reached,
        hops,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Send one probe to `to` and wait for its answer; with a `marker` (a ping
/// socket connected to `to`'s address), an echo request right behind it,
/// whose reply ends the wait.
fn probe_once(
    socket: &Socket,
    to: SocketAddr,
    payload: &[u8],
    timeout: Duration,
    marker: Option<&Socket>,
) -> io::Result<Answer> {
    // Forget answers to earlier probes still queued.
    while sock::recv_err(socket)?.is_some() {}
    let _ = socket.take_error();
    if let Some(m) = marker {
        while sock::recv_err(m)?.is_some() {}
        let _ = m.take_error();
    }
    socket.connect(&to.into())?;
    // The probe's port, as the echo's sequence number: a reply to an
    // earlier marker is never taken for this one's.
    let (request, reply) = if to.is_ipv4() { (8, 0) } else { (128, 129) };
    let mut echo = [request, 0, 0, 0, 0, 0, 0, 0];
    echo[6..8].copy_from_slice(&to.port().to_be_bytes());
    let pin = barrier::SameCpu::new();
    let sent = socket.send(payload);
    let marker = match marker {
        // Not after a local EMSGSIZE (nothing went out, the answer is
        // already here). After other errors the marker is harmless, and
        // needed: a veth that drops an oversize packet on transmit makes
        // the send fail with ENOBUFS (IP_RECVERR), and nothing will come.
        Some(m) if pin.pinned() && !is_emsgsize(&sent) => m.send(&echo).is_ok().then_some(m),
        _ => None,
    };
    drop(pin);
    match sent {
        Ok(_) => {}
        Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
            // The local error is queued too, with the interface MTU.
            while let Some(q) = sock::recv_err(socket)? {
                if q.is_local() && q.errno == libc::EMSGSIZE {
                    return Ok(Answer::LocalTooBig(q.info));
                }
            }
            return Err(e);
        }
        // An error of an earlier probe reported late: ours is still out.
        Err(e) if e.raw_os_error() != Some(libc::EAGAIN) => {}
        Err(e) => return Err(e),
    }
    let deadline = Instant::now() + timeout;
    let mut settled = false;
    loop {
        if settled {
            // Read whatever the probe got before the marker's answer.
            while let Some(q) = sock::recv_err(socket)? {
                if q.dest.map(|d| d.port()) != Some(to.port()) {
                    continue;
                }
                if let Some(a) = classify(&q) {
                    let _ = socket.take_error();
                    return Ok(a);
                }
            }
            return Ok(Answer::Silence);
        }
        match marker {
            None => {
                if sock::wait(socket.as_raw_fd(), 0, deadline)? == 0 {
                    return Ok(Answer::Silence);
                }
            }
            Some(m) => {
                let r = barrier::wait_any(&[socket.as_raw_fd(), m.as_raw_fd()], deadline)?;
                if r.iter().all(|&e| e == 0) {
                    return Ok(Answer::Silence);
                }
                if r[1] != 0 {
                    settled = marker_replied(m, reply, to.port());
                }
            }
        }
        while let Some(q) = sock::recv_err(socket)? {
            if q.dest.map(|d| d.port()) != Some(to.port()) {
                continue;
            }
            if let Some(a) = classify(&q) {
                let _ = socket.take_error();
                return Ok(a);
            }
        }
        let _ = socket.take_error();
    }
}

fn is_emsgsize<T>(r: &io::Result<T>) -> bool {
    matches!(r, Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE))
}

/// Read the marker socket: did the echo reply with sequence `seq` come?
/// (Errors it queues, e.g. an unreachable, are dropped: the probe's own
/// answer says what happened.)
fn marker_replied(m: &Socket, reply: u8, seq: u16) -> bool {
    while let Ok(Some(_)) = sock::recv_err(m) {}
    let _ = m.take_error();
    let mut buf = [0u8; 64];
    let mut got_it = false;
    loop {
        // SAFETY: buf is writable for its length.
        let n = unsafe {
            libc::recv(
                m.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n < 0 {
            return got_it;
        }
        let got = &buf[..n as usize];
        if got.len() >= 8 && got[0] == reply && got[6..8] == seq.to_be_bytes() {
            got_it = true;
        }
    }
}

fn classify(q: &QueuedError) -> Option<Answer> {
    if q.is_local() {
        return (q.errno == libc::EMSGSIZE).then_some(Answer::LocalTooBig(q.info));
    }
    if !q.is_icmp() {
        return None;
    }
    if sock::is_too_big(q) {
        return Some(Answer::TooBig {
            mtu: q.info,
            from: q.offender,
        });
    }
    if sock::is_time_exceeded(q) {
        return Some(Answer::TimeExceeded(q.offender));
    }
    // Port unreachable: whoever owns `dst` answered (a router may answer
    // from another of its addresses).
    if q.errno == libc::ECONNREFUSED {
        return Some(Answer::Reached(q.offender));
    }
    Some(Answer::Unreachable(q.offender))
}

/// [`tracepath`] from host `from` to host `to`'s address in `family`, after
/// checking the path carries a minimal echo and flushing every PMTU
/// exception in the lab.
pub fn tracepath_hosts(
    lab: &crate::lab::Lab,
    from: &str,
    to: &str,
    family: mtulab_core::topology::Family,
    opts: &TraceOpts,
) -> Result<Trace, ProbeError> {
    let (node, dst) = super::ping::ready(lab, from, to, family)?;
    tracepath_with(node.ns(), dst, opts, barrier::lab_allows(lab))
}
