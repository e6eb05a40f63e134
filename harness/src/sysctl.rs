//! Sysctls, written through `/proc/sys` by a thread inside the node's
//! namespace (a `net.*` sysctl file belongs to the namespace of the thread
//! that opens it).

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
#[error("set {key}={value}: {source}")]
pub struct SysctlError {
    pub key: String,
    pub value: String,
    pub source: io::Error,
}

fn path_of(key: &str) -> PathBuf {
    // Dots separate levels; an interface name cannot contain '/', and the
    // names we generate never contain dots.
    PathBuf::from("/proc/sys").join(key.replace('.', "/"))
}

/// Write one sysctl in the calling thread's namespace.
pub fn write(key: &str, value: &str) -> Result<(), SysctlError> {
    std::fs::write(path_of(key), value).map_err(|source| SysctlError {
        key: key.to_string(),
        value: value.to_string(),
        source,
    })
}

/// Read one sysctl in the calling thread's namespace (trimmed).
pub fn read(key: &str) -> io::Result<String> {
    Ok(std::fs::read_to_string(path_of(key))?.trim().to_string())
}

/// Sysctls every lab node gets before any link exists, and why.
///
/// - `accept_dad=0` (all, default): no duplicate address detection, so new
///   IPv6 addresses are usable at once (we also add them with IFA_F_NODAD);
///   the link-local address of every new interface is covered by `default`.
/// - `ping_group_range`: fresh namespaces have "1 0", so ICMP datagram
///   sockets fail with EACCES even as root.
/// - ICMP rate limits off (`icmp_ratelimit`, `ipv6.icmp.ratelimit`,
///   `icmp_msgs_per_sec`/`burst`): probes send bursts of errors-provoking
///   packets and must see every frag-needed / packet-too-big.
/// - `rp_filter=0`: IPv4 conf is inherited from the initial namespace by
///   default (net.core.devconf_inherit_init_net=0), and a distribution's
///   strict reverse-path filter would drop asymmetric lab traffic.
/// - `ip_forward` is set explicitly (1 on routers, 0 on hosts) for the same
///   inheritance reason: a host must never forward.
pub fn base(router: bool) -> Vec<(&'static str, &'static str)> {
    let fwd = if router { "1" } else { "0" };
    vec![
        ("net.ipv6.conf.all.accept_dad", "0"),
        ("net.ipv6.conf.default.accept_dad", "0"),
        ("net.ipv6.conf.default.accept_ra", "0"),
        ("net.ipv4.ping_group_range", "0 2147483647"),
        ("net.ipv4.icmp_ratelimit", "0"),
        ("net.ipv6.icmp.ratelimit", "0"),
        ("net.ipv4.icmp_msgs_per_sec", "1000000"),
        ("net.ipv4.icmp_msgs_burst", "1000000"),
        ("net.ipv4.conf.all.rp_filter", "0"),
        ("net.ipv4.conf.default.rp_filter", "0"),
        ("net.ipv4.ip_forward", fwd),
        ("net.ipv6.conf.all.forwarding", fwd),
    ]
}
