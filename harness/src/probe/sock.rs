//! What the probes share: socket options by number, readiness with a
//! deadline, the error queue (`IP_RECVERR` / `IPV6_RECVERR`, which is how
//! the kernel hands an application the ICMP errors its packets caused),
//! checksums, and host address lookups in a lab.

use std::io;
use std::mem::{size_of, MaybeUninit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Instant;

use socket2::{Domain, Protocol, Socket, Type};

use super::error::ProbeError;
use crate::netns::Netns;

/// One entry of a socket's error queue (`struct sock_extended_err` plus the
/// addresses that come with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueuedError {
    /// `ee_errno`: EMSGSIZE for too-big, ECONNREFUSED for port unreachable…
    pub errno: i32,
    /// `ee_origin`: local, ICMP or ICMPv6.
    pub origin: u8,
    pub icmp_type: u8,
    pub icmp_code: u8,
    /// `ee_info`: the MTU for too-big errors.
    pub info: u32,
    /// Who sent the ICMP error (`SO_EE_OFFENDER`); None for local errors.
    pub offender: Option<IpAddr>,
    /// The destination of the packet that caused it (`msg_name`), port
    /// included: probes tell their packets apart by destination port.
    pub dest: Option<SocketAddr>,
}

impl QueuedError {
    pub fn is_local(&self) -> bool {
        self.origin == libc::SO_EE_ORIGIN_LOCAL
    }
    pub fn is_icmp(&self) -> bool {
        self.origin == libc::SO_EE_ORIGIN_ICMP || self.origin == libc::SO_EE_ORIGIN_ICMP6
    }
}

fn check(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

pub(crate) fn set_int(fd: &impl AsRawFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    // SAFETY: a c_int option value of the right size.
    check(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const i32).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    })
    .map(drop)
}

pub(crate) fn get_int(fd: &impl AsRawFd, level: i32, name: i32) -> io::Result<i32> {
    let mut value: i32 = 0;
    let mut len = size_of::<i32>() as libc::socklen_t;
    // SAFETY: value is a writable c_int and len says so.
    check(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut i32).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

/// Read a struct-valued option (e.g. `TCP_INFO`); returns how many bytes the
/// kernel filled (older kernels fill less of a newer struct).
pub(crate) fn get_struct<T: Copy>(
    fd: &impl AsRawFd,
    level: i32,
    name: i32,
    out: &mut T,
) -> io::Result<usize> {
    let mut len = size_of::<T>() as libc::socklen_t;
    // SAFETY: out is a writable T of len bytes; T is plain old data.
    check(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (out as *mut T).cast(),
            &mut len,
        )
    })?;
    Ok(len as usize)
}

/// Wait until `fd` is ready for `events` or `deadline` passes; returns the
/// `revents` (0 on timeout). POLLERR is always reported: it is how a
/// pending error-queue entry shows.
pub(crate) fn wait(fd: RawFd, events: i16, deadline: Instant) -> io::Result<i16> {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // Round up so a sub-millisecond remainder still waits.
        let ms = left.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
        let mut pfd = libc::pollfd {
            fd,
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, ms) };
        if r < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        return Ok(if r == 0 { 0 } else { pfd.revents });
    }
}

/// Pop one entry from the error queue; None when it is empty.
pub(crate) fn recv_err(fd: &impl AsRawFd) -> io::Result<Option<QueuedError>> {
    let mut data = [0u8; 2048];
    let mut control = [0u64; 64];
    let mut name = MaybeUninit::<libc::sockaddr_storage>::zeroed();
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // SAFETY: msghdr is plain old data; zero is a valid start.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_name = name.as_mut_ptr().cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 64]>() as _;
    // SAFETY: every buffer msg points to outlives the call.
    let r = unsafe {
        libc::recvmsg(
            fd.as_raw_fd(),
            &mut msg,
            libc::MSG_ERRQUEUE | libc::MSG_DONTWAIT,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::EAGAIN) => Ok(None),
            _ => Err(e),
        };
    }
    let dest = if msg.msg_namelen > 0 {
        // SAFETY: the kernel wrote msg_namelen bytes of a sockaddr.
        unsafe { sockaddr_to_std(name.as_ptr().cast(), msg.msg_namelen as usize) }
    } else {
        None
    };
    // SAFETY: walking the control buffer the kernel filled, with the
    // CMSG_* macros, which stay inside msg_controllen.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let c = &*cmsg;
            let is_err = (c.cmsg_level == libc::SOL_IP && c.cmsg_type == libc::IP_RECVERR)
                || (c.cmsg_level == libc::SOL_IPV6 && c.cmsg_type == libc::IPV6_RECVERR);
            if is_err {
                let ee_ptr = libc::CMSG_DATA(cmsg) as *const libc::sock_extended_err;
                let ee = std::ptr::read_unaligned(ee_ptr);
                let data_len =
                    c.cmsg_len as usize - (libc::CMSG_DATA(cmsg) as usize - cmsg as usize);
                let off_len = data_len.saturating_sub(size_of::<libc::sock_extended_err>());
                let offender = if off_len >= size_of::<libc::sa_family_t>() {
                    sockaddr_to_std(libc::SO_EE_OFFENDER(ee_ptr), off_len).map(|a| a.ip())
                } else {
                    None
                };
                return Ok(Some(QueuedError {
                    errno: ee.ee_errno as i32,
                    origin: ee.ee_origin,
                    icmp_type: ee.ee_type,
                    icmp_code: ee.ee_code,
                    info: ee.ee_info,
                    offender,
                    dest,
                }));
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    // An entry without the extended error (should not happen with RECVERR).
    Ok(None)
}

/// Convert a kernel sockaddr of `len` bytes; None for AF_UNSPEC and others.
///
/// # Safety
/// `sa` must point to at least `len` readable bytes.
unsafe fn sockaddr_to_std(sa: *const libc::sockaddr, len: usize) -> Option<SocketAddr> {
    if len < size_of::<libc::sa_family_t>() {
        return None;
    }
    match (*sa).sa_family as i32 {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            let sin = std::ptr::read_unaligned(sa as *const libc::sockaddr_in);
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            let sin6 = std::ptr::read_unaligned(sa as *const libc::sockaddr_in6);
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Option level and names for a family: (level, MTU_DISCOVER, RECVERR, MTU,
/// TTL / hop limit).
pub(crate) struct FamilyOpts {
    pub level: i32,
    pub mtu_discover: i32,
    pub recverr: i32,
    pub mtu: i32,
    pub ttl: i32,
    /// IP header size.
    pub ip_header: u32,
}

pub(crate) fn family_opts(addr: IpAddr) -> FamilyOpts {
    match addr {
        IpAddr::V4(_) => FamilyOpts {
            level: libc::IPPROTO_IP,
            mtu_discover: libc::IP_MTU_DISCOVER,
            recverr: libc::IP_RECVERR,
            mtu: libc::IP_MTU,
            ttl: libc::IP_TTL,
            ip_header: 20,
        },
        IpAddr::V6(_) => FamilyOpts {
            level: libc::IPPROTO_IPV6,
            mtu_discover: libc::IPV6_MTU_DISCOVER,
            recverr: libc::IPV6_RECVERR,
            mtu: libc::IPV6_MTU,
            ttl: libc::IPV6_UNICAST_HOPS,
            ip_header: 40,
        },
    }
}

/// PMTU discovery mode of a probe socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PmtuDisc {
    /// `IP_PMTUDISC_DO` / `IPV6_PMTUDISC_DO`: never fragment, refuse what
    /// exceeds the known path MTU (EMSGSIZE).
    Do,
    /// `IP_PMTUDISC_PROBE` / `IPV6_PMTUDISC_PROBE`: never fragment, send
    /// whatever size is asked regardless of the known path MTU.
    Probe,
}

/// A nonblocking datagram socket of `protocol` (ICMP echo or UDP) for
/// `dst`'s family, opened in `ns`, with DF as `pmtudisc` says and
/// `IP_RECVERR` / `IPV6_RECVERR` on, so the ICMP errors its packets cause
/// land on its error queue. `what` names the probe in error messages
/// ("ping 198.18.0.1, 1500 bytes").
pub(crate) fn probe_socket(
    ns: &Netns,
    dst: IpAddr,
    protocol: Protocol,
    pmtudisc: PmtuDisc,
    what: &str,
) -> Result<Socket, ProbeError> {
    let node = ns.name();
    let io = |step: &str| {
        let what = format!("{step} ({what})");
        move |e: io::Error| ProbeError::io(node, what, e)
    };
    let fo = family_opts(dst);
    let domain = match dst {
        IpAddr::V4(_) => Domain::IPV4,
        IpAddr::V6(_) => Domain::IPV6,
    };
    let kind = match protocol {
        p if p == Protocol::UDP => "UDP",
        _ => "ICMP datagram",
    };
    let socket = ns
        .run(|| Socket::new(domain, Type::DGRAM, Some(protocol)))?
        .map_err(io(&format!("open {kind} socket")))?;
    socket
        .set_nonblocking(true)
        .map_err(io("set nonblocking"))?;
    let (mode, name) = match (pmtudisc, dst) {
        (PmtuDisc::Do, IpAddr::V4(_)) => (libc::IP_PMTUDISC_DO, "PMTUDISC_DO"),
        (PmtuDisc::Do, IpAddr::V6(_)) => (libc::IPV6_PMTUDISC_DO, "PMTUDISC_DO"),
        (PmtuDisc::Probe, IpAddr::V4(_)) => (libc::IP_PMTUDISC_PROBE, "PMTUDISC_PROBE"),
        (PmtuDisc::Probe, IpAddr::V6(_)) => (libc::IPV6_PMTUDISC_PROBE, "PMTUDISC_PROBE"),
    };
    set_int(&socket, fo.level, fo.mtu_discover, mode).map_err(io(&format!("set {name}")))?;
    set_int(&socket, fo.level, fo.recverr, 1).map_err(io("set RECVERR"))?;
    Ok(socket)
}

/// Is this error-queue entry a "packet too big" from a router
/// (ICMPv4 3/4, ICMPv6 2)?
pub(crate) fn is_too_big(e: &QueuedError) -> bool {
    match e.origin {
        libc::SO_EE_ORIGIN_ICMP => e.icmp_type == 3 && e.icmp_code == 4,
        libc::SO_EE_ORIGIN_ICMP6 => e.icmp_type == 2,
        _ => false,
    }
}

/// Is this a "time exceeded in transit" (ICMPv4 11/0, ICMPv6 3/0)?
pub(crate) fn is_time_exceeded(e: &QueuedError) -> bool {
    match e.origin {
        libc::SO_EE_ORIGIN_ICMP => e.icmp_type == 11,
        libc::SO_EE_ORIGIN_ICMP6 => e.icmp_type == 3,
        _ => false,
    }
}

/// The Internet checksum (RFC 1071) of `data`.
pub(crate) fn inet_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [last] = chunks.remainder() {
        sum += (*last as u32) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_of_rfc1071_example() {
        // RFC 1071 §3: 0001 f203 f4f5 f6f7 sums to ddf2 (complement 220d).
        assert_eq!(
            inet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0x220d
        );
    }

    #[test]
    fn checksum_of_odd_length_pads_with_zero() {
        assert_eq!(inet_checksum(&[0xff]), !0xff00);
    }
}
