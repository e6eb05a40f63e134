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

/// Trace the path from `ns` to `dst`.
pub fn tracepath(ns: &Netns, dst: IpAddr, opts: &TraceOpts) -> Result<Trace, ProbeError> {
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

/// Send one probe to `to` and wait for its answer.
fn probe_once(
    socket: &Socket,
    to: SocketAddr,
    payload: &[u8],
    timeout: Duration,
) -> io::Result<Answer> {
    // Forget answers to earlier probes still queued.
    while sock::recv_err(socket)?.is_some() {}
    let _ = socket.take_error();
    socket.connect(&to.into())?;
    match socket.send(payload) {
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
    loop {
        if sock::wait(socket.as_raw_fd(), 0, deadline)? == 0 {
            return Ok(Answer::Silence);
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
    tracepath(node.ns(), dst, opts)
}
