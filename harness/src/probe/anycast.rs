//! Anycast behind ECMP: which server gets each connection, and which gets
//! the ICMP errors about it.
//!
//! [`anycast_flows`] runs `flows` downloads, one after another, from a
//! client to an anycast address (`[[anycast]]`): every member listens on the
//! address (same port), the client connects from a distinct source port
//! (`first_port + i`), the member that accepts sends `bytes` to the client
//! (the transfer machinery of [`super::transfer`]: content verified,
//! `TCP_INFO`-based blackhole verdict in well under a second). Around each
//! flow every member's ICMP counter is read in its own namespace
//! (`/proc/thread-self/net/snmp` `Icmp: InDestUnreachs` for IPv4,
//! `/proc/thread-self/net/snmp6` `Icmp6InPktTooBigs` for IPv6): the members
//! whose counter rose during the flow received its frag-needed /
//! packet-too-big. Flows are sequential and every PMTU exception in the
//! lab is flushed before each, so each flow needs its own ICMP and the
//! counters cannot mix flows up.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::error::ProbeError;
use super::exceptions;
use super::transfer::{self, TransferOpts, TransferVerdict};
use crate::lab::Lab;
use crate::sysctl;
use mtulab_core::topology::{Anycast, Family};

/// How [`anycast_flows`] runs.
#[derive(Debug, Clone)]
pub struct AnycastOpts {
    /// Number of sequential flows (distinct client source ports).
    pub flows: usize,
    /// Client source port of flow 0; flow `i` uses `first_port + i`.
    pub first_port: u16,
    /// Per flow: bytes (enough to need PMTUD), deadline, stall rule.
    pub transfer: TransferOpts,
    /// How long to wait for some member to accept a connection.
    pub accept_timeout: Duration,
}

impl Default for AnycastOpts {
    fn default() -> Self {
        AnycastOpts {
            flows: 32,
            first_port: 42000,
            transfer: TransferOpts {
                bytes: 256 * 1024,
                deadline: Duration::from_secs(10),
                ..TransferOpts::default()
            },
            accept_timeout: Duration::from_secs(3),
        }
    }
}

/// One download from the anycast address.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AnycastFlow {
    /// The client's source port.
    pub port: u16,
    /// The member that accepted the connection (and sent the data).
    pub server: String,
    /// Members whose ICMP counter rose during the flow: who received its
    /// frag-needed / packet-too-big (empty: none arrived anywhere).
    pub icmp_at: Vec<String>,
    pub verdict: TransferVerdict,
    /// Bytes the client received and verified.
    pub bytes: u64,
    pub seconds: f64,
    /// The server socket's `tcpi_pmtu` at the end.
    pub pmtu: u32,
}

impl AnycastFlow {
    /// The flow's ICMP reached only other members than its own server.
    pub fn icmp_misdelivered(&self) -> bool {
        !self.icmp_at.is_empty() && !self.icmp_at.contains(&self.server)
    }
}

/// The result of [`anycast_flows`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AnycastRun {
    pub client: String,
    pub address: IpAddr,
    pub family: &'static str,
    pub members: Vec<String>,
    pub flows: Vec<AnycastFlow>,
}

impl AnycastRun {
    pub fn stalled(&self) -> impl Iterator<Item = &AnycastFlow> {
        self.flows
            .iter()
            .filter(|f| f.verdict != TransferVerdict::Ok)
    }
}

/// The ICMP counter that counts arriving frag-needed (IPv4: every
/// destination unreachable) / packet-too-big, read in the calling thread's
/// namespace.
fn icmp_counter(family: Family) -> io::Result<u64> {
    match family {
        Family::V4 => {
            let text = std::fs::read_to_string("/proc/thread-self/net/snmp")?;
            let mut icmp = text.lines().filter(|l| l.starts_with("Icmp: "));
            let (names, values) = (icmp.next(), icmp.next());
            let (Some(names), Some(values)) = (names, values) else {
                return Err(io::Error::other("no Icmp lines in /proc/net/snmp"));
            };
            names
                .split_whitespace()
                .zip(values.split_whitespace())
                .find(|(n, _)| *n == "InDestUnreachs")
                .and_then(|(_, v)| v.parse().ok())
                .ok_or_else(|| io::Error::other("no Icmp InDestUnreachs in /proc/net/snmp"))
        }
        Family::V6 => {
            let text = std::fs::read_to_string("/proc/thread-self/net/snmp6")?;
            text.lines()
                .find_map(|l| {
                    let mut it = l.split_whitespace();
                    (it.next() == Some("Icmp6InPktTooBigs")).then(|| it.next()?.parse().ok())?
                })
                .ok_or_else(|| io::Error::other("no Icmp6InPktTooBigs in /proc/net/snmp6"))
        }
    }
}

fn counters(lab: &Lab, members: &[String], family: Family) -> Result<Vec<u64>, ProbeError> {
    members
        .iter()
        .map(|m| {
            lab.run_in(m, move || icmp_counter(family))?
                .map_err(|e| ProbeError::io(m, "read ICMP counters", e))
        })
        .collect()
}

/// Run `opts.flows` downloads from `client` to `group`'s address in
/// `family` and report, per flow, who accepted it, who got its ICMP and
/// how the transfer went.
pub fn anycast_flows(
    lab: &Lab,
    client: &str,
    group: &Anycast,
    family: Family,
    opts: &AnycastOpts,
) -> Result<AnycastRun, ProbeError> {
    let client_node = lab
        .node(client)
        .ok_or_else(|| ProbeError::NoNode(client.to_string()))?;
    let addr = group.addr(family).ok_or_else(|| ProbeError::NoAddress {
        node: format!("anycast {}", group.nodes.join("/")),
        family: family.as_str(),
    })?;
    let members = group.nodes.clone();
    // A lost first ARP / ND solicitation must not pass for anything: the
    // path to every member's own address and to the anycast address first.
    for m in &members {
        if lab.plan().path(client, m, family).is_some() {
            super::ping::warm_up(lab, client, m, family)?;
        }
    }
    let echo = super::ping::df_ping(
        client_node.ns(),
        addr,
        if family == Family::V4 { 28 } else { 48 },
        Duration::from_secs(3),
    )?;
    if echo.outcome != super::ping::PingOutcome::Reply {
        return Err(ProbeError::PathDown {
            from: client.to_string(),
            to: format!("anycast {}", members.join("/")),
            dst: addr,
            outcome: format!("{:?}", echo.outcome),
        });
    }
    let domain = match family {
        Family::V4 => Domain::IPV4,
        Family::V6 => Domain::IPV6,
    };
    let mut probing = Vec::new();
    for m in &members {
        let v: u32 = lab
            .run_in(m, || sysctl::read("net.ipv4.tcp_mtu_probing"))?
            .map_err(|e| ProbeError::io(m, "read net.ipv4.tcp_mtu_probing", e))?
            .trim()
            .parse()
            .unwrap_or(0);
        probing.push(v);
    }

    let mut flows = Vec::new();
    for i in 0..opts.flows {
        let port = opts.first_port.wrapping_add(i as u16);
        exceptions::flush(lab)?;
        // Listeners on every member, all on one port.
        let mut listeners: Vec<Socket> = Vec::new();
        let mut service_port = 0;
        for m in &members {
            let l = lab
                .run_in(m, || -> io::Result<Socket> {
                    let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
                    s.set_reuse_address(true)?;
                    s.bind(&SocketAddr::new(addr, service_port).into())?;
                    s.listen(4)?;
                    s.set_nonblocking(true)?;
                    Ok(s)
                })?
                .map_err(|e| ProbeError::io(m, format!("listen on {addr}"), e))?;
            if service_port == 0 {
                service_port = l
                    .local_addr()
                    .ok()
                    .and_then(|a| a.as_socket())
                    .map(|a| a.port())
                    .ok_or_else(|| {
                        ProbeError::io(m, "read listening port", io::Error::other("no address"))
                    })?;
            }
            listeners.push(l);
        }
        let dst = SocketAddr::new(addr, service_port);
        let before = counters(lab, &members, family)?;
        let conn = client_node
            .ns()
            .run(|| -> io::Result<Socket> {
                let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
                s.set_reuse_address(true)?;
                let any: IpAddr = match family {
                    Family::V4 => std::net::Ipv4Addr::UNSPECIFIED.into(),
                    Family::V6 => std::net::Ipv6Addr::UNSPECIFIED.into(),
                };
                s.bind(&SocketAddr::new(any, port).into())?;
                s.set_nonblocking(true)?;
                Ok(s)
            })?
            .map_err(|e| ProbeError::io(client, format!("bind source port {port}"), e))?;
        let started = Instant::now();
        match conn.connect(&SockAddr::from(dst)) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(ProbeError::io(client, format!("connect to {dst}"), e)),
        }
        // Whichever member accepts holds the flow.
        let accept_by = started + opts.accept_timeout;
        let (k, server_sock) = 'accept: loop {
            for (k, l) in listeners.iter().enumerate() {
                match l.accept() {
                    Ok((s, _)) => break 'accept (k, s),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) => return Err(ProbeError::io(&members[k], "accept", e)),
                }
            }
            if let Ok(Some(e)) = conn.take_error() {
                return Err(ProbeError::io(client, format!("connect to {dst}"), e));
            }
            if Instant::now() >= accept_by {
                let _ = conn.set_linger(Some(Duration::ZERO));
                return Err(ProbeError::Transfer {
                    what: "connect",
                    dst: dst.to_string(),
                    detail: format!(
                        "no member of anycast {} accepted flow {i} (port {port}) within {:?}",
                        members.join("/"),
                        opts.accept_timeout
                    ),
                });
            }
            let fds: Vec<libc::pollfd> = listeners
                .iter()
                .map(|l| libc::pollfd {
                    fd: l.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            poll_all(
                fds,
                accept_by.min(Instant::now() + Duration::from_millis(50)),
            );
        };
        drop(listeners);
        server_sock
            .set_nonblocking(true)
            .map_err(|e| ProbeError::io(&members[k], "set nonblocking", e))?;
        let t = transfer::run_connected(
            server_sock,
            conn,
            (&members[k], client),
            dst,
            &opts.transfer,
            (started, started + opts.transfer.deadline),
            probing[k],
        )?;
        let after = counters(lab, &members, family)?;
        let icmp_at = members
            .iter()
            .zip(before.iter().zip(&after))
            .filter(|(_, (b, a))| a > b)
            .map(|(m, _)| m.clone())
            .collect();
        flows.push(AnycastFlow {
            port,
            server: members[k].clone(),
            icmp_at,
            verdict: t.verdict,
            bytes: t.bytes,
            seconds: t.seconds,
            pmtu: t.pmtu,
        });
    }
    exceptions::flush(lab)?;
    Ok(AnycastRun {
        client: client.to_string(),
        address: addr,
        family: family.as_str(),
        members,
        flows,
    })
}

/// Wait until any of `fds` is readable or `deadline` passes.
fn poll_all(mut fds: Vec<libc::pollfd>, deadline: Instant) {
    let left = deadline.saturating_duration_since(Instant::now());
    let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
    // SAFETY: `fds` is a valid array of pollfd of the given length.
    unsafe {
        libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flow's ICMP is misdelivered only when it reached other members and not its own.
    #[test]
    fn misdelivery() {
        let flow = |server: &str, icmp: &[&str]| AnycastFlow {
            port: 1,
            server: server.into(),
            icmp_at: icmp.iter().map(|s| s.to_string()).collect(),
            verdict: TransferVerdict::Ok,
            bytes: 0,
            seconds: 0.0,
            pmtu: 0,
        };
        assert!(flow("s1", &["s2"]).icmp_misdelivered());
        assert!(!flow("s1", &["s1"]).icmp_misdelivered());
        assert!(!flow("s1", &["s1", "s2"]).icmp_misdelivered());
        assert!(!flow("s1", &[]).icmp_misdelivered());
    }

    /// The counters this probe reads exist in this kernel's /proc files.
    #[test]
    fn counters_are_readable() {
        assert!(icmp_counter(Family::V4).is_ok());
        assert!(icmp_counter(Family::V6).is_ok());
    }
}
