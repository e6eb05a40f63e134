//! Sysctls, written through `/proc/sys` by a thread inside the node's
//! namespace (a `net.*` sysctl file belongs to the namespace of the thread
//! that opens it).

use std::io;
use std::path::{Path, PathBuf};

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
/// - TTL / hop limit 255 (`ip_default_ttl`, `ipv6 … hop_limit`; the
///   kernel's default is 64): a chain of more than 63 routers would
///   otherwise fail every probe with a misleading "unreachable" (time
///   exceeded). The lab then carries paths of up to [`MAX_HOPS`] routers,
///   and refuses longer ones before building.
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
        ("net.ipv4.ip_default_ttl", "255"),
        ("net.ipv6.conf.all.hop_limit", "255"),
        ("net.ipv6.conf.default.hop_limit", "255"),
    ]
}

/// The most routers a lab path may cross: a packet leaves its host with
/// TTL / hop limit 255 ([`base`]) and each router takes one, and the last
/// router must still forward it (its TTL must be above 1 on arrival).
pub const MAX_HOPS: usize = 254;

/// PMTU-relevant sysctls the topology format validates by value: (key,
/// smallest, largest accepted value). The kernel itself accepts more (e.g.
/// `tcp_mtu_probing=3`, `ip_no_pmtu_disc=4`, any `tcp_base_mss`, a
/// `min_pmtu` above 65535: measured on 6.18); these ranges are the values
/// that mean something (ip-sysctl.rst), so a typo is caught before a lab
/// is built.
pub const PMTU_SYSCTLS: [(&str, i64, i64); 8] = [
    ("net.ipv4.tcp_mtu_probing", 0, 2),
    // Probing starts from it; below tcp_mtu_probe_floor (48) it is raised to that.
    ("net.ipv4.tcp_base_mss", 48, 65495),
    ("net.ipv4.ip_no_pmtu_disc", 0, 3),
    // The kernel's own lower bound (IPV4_MIN_MTU); a PMTU is at most 65535.
    ("net.ipv4.route.min_pmtu", 68, 65535),
    // Seconds; the kernel stores jiffies in an int.
    ("net.ipv4.route.mtu_expires", 0, 2_147_483),
    ("net.ipv6.route.mtu_expires", 0, 2_147_483),
    ("net.ipv4.fib_multipath_hash_policy", 0, 3),
    ("net.ipv6.fib_multipath_hash_policy", 0, 3),
];

/// Why a node's `key = value` sysctl is bad input, if it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyProblem {
    pub message: String,
    /// The value is wrong (else the name).
    pub about_value: bool,
}

/// Validate one `net.*` sysctl of a topology (the key's syntax is checked
/// by the topology parser):
/// - a PMTU sysctl ([`PMTU_SYSCTLS`]) needs an integer in its range;
/// - a name that looks like a misspelt PMTU sysctl is rejected with the
///   right name: its last part is one of theirs in the wrong place
///   (`net.ipv6.tcp_mtu_probing`), or, when the name does not exist, within
///   a few edits (two, or one per five characters) of one of theirs, or a
///   prefix of it (`net.ipv4.tcp_mtu_probe`);
/// - any other `net.*` name must exist under `/proc/sys` of the namespace
///   this runs in (only read, never written). Per-interface keys
///   (`net.ipv4.conf.IFACE.x`, `net.ipv6.conf…`, `…neigh.IFACE.x`) are
///   looked up as `default`, since lab interfaces exist only in the lab.
///   Where `/proc/sys/net` cannot be read, nothing is checked.
pub fn key_problem(key: &str, value: &str) -> Option<KeyProblem> {
    let name_problem = |message: String| {
        Some(KeyProblem {
            message,
            about_value: false,
        })
    };
    if let Some((_, lo, hi)) = PMTU_SYSCTLS.iter().find(|(k, _, _)| *k == key) {
        return match value.trim().parse::<i64>() {
            Ok(v) if (*lo..=*hi).contains(&v) => None,
            _ => Some(KeyProblem {
                message: format!(
                    "sysctl {key:?} value {value:?} must be an integer in {lo}..={hi}"
                ),
                about_value: true,
            }),
        };
    }
    let last = key.rsplit('.').next().unwrap_or(key);
    let same_last: Vec<&str> = PMTU_SYSCTLS
        .iter()
        .map(|(k, _, _)| *k)
        .filter(|k| k.rsplit('.').next() == Some(last))
        .collect();
    if !same_last.is_empty() {
        return name_problem(format!(
            "unknown PMTU sysctl {key:?}: it exists as {}",
            same_last.join(" and ")
        ));
    }
    let proc_net = Path::new("/proc/sys/net");
    let lookup = per_device_default(key);
    if !proc_net.is_dir() || path_of(&lookup).is_file() {
        return None;
    }
    if let Some((right, _, _)) = PMTU_SYSCTLS.iter().find(|(k, _, _)| {
        let theirs = k.rsplit('.').next().unwrap_or(k);
        edit_distance(theirs, last) <= (theirs.len() / 5).max(2)
            || (last.len() >= 6 && (theirs.starts_with(last) || last.starts_with(theirs)))
    }) {
        return name_problem(format!(
            "unknown PMTU sysctl {key:?}: did you mean {right:?}?"
        ));
    }
    name_problem(format!(
        "sysctl {key:?} does not exist on this kernel (no {})",
        path_of(&lookup).display()
    ))
}

/// `net.ipv4.conf.eth0.rp_filter` → `net.ipv4.conf.default.rp_filter` (also
/// ipv6 and `neigh`); anything else unchanged.
fn per_device_default(key: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    match parts.as_slice() {
        ["net", fam @ ("ipv4" | "ipv6"), sub @ ("conf" | "neigh"), dev, rest @ ..]
            if !rest.is_empty() && !matches!(*dev, "all" | "default" | "lo") =>
        {
            let mut out = vec!["net", fam, sub, "default"];
            out.extend(rest);
            out.join(".")
        }
        _ => key.to_string(),
    }
}

/// Levenshtein distance (short ASCII names).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every PMTU sysctl accepts its bounds and rejects one past each, and
    /// a non-integer.
    #[test]
    fn pmtu_values() {
        for (key, lo, hi) in PMTU_SYSCTLS {
            assert_eq!(key_problem(key, &lo.to_string()), None, "{key}={lo}");
            assert_eq!(key_problem(key, &hi.to_string()), None, "{key}={hi}");
            for bad in [(lo - 1).to_string(), (hi + 1).to_string(), "on".into()] {
                let p = key_problem(key, &bad).unwrap_or_else(|| panic!("{key}={bad} accepted"));
                assert!(p.about_value);
                assert_eq!(
                    p.message,
                    format!("sysctl {key:?} value {bad:?} must be an integer in {lo}..={hi}")
                );
            }
        }
    }

    /// Misspelt or wrong-family PMTU names are caught with the right name.
    #[test]
    fn misspelt_pmtu_names() {
        let p = key_problem("net.ipv6.tcp_mtu_probing", "1").unwrap();
        assert!(!p.about_value);
        assert_eq!(
            p.message,
            "unknown PMTU sysctl \"net.ipv6.tcp_mtu_probing\": it exists as net.ipv4.tcp_mtu_probing"
        );
        let p = key_problem("net.ipv4.tcp_mtu_probe", "1").unwrap();
        assert!(
            p.message
                .contains("did you mean \"net.ipv4.tcp_mtu_probing\"?"),
            "{p:?}"
        );
        let p = key_problem("net.ipv6.route.min_pmtu", "1280").unwrap();
        assert!(
            p.message.contains("it exists as net.ipv4.route.min_pmtu"),
            "{p:?}"
        );
        let p = key_problem("net.ipv4.ip_no_pmtu_dics", "1").unwrap();
        assert!(p.message.contains("net.ipv4.ip_no_pmtu_disc"), "{p:?}");
    }

    /// Other net.* names must exist under /proc/sys (per-device keys looked
    /// up as `default`); the control: real names pass.
    #[test]
    fn other_names_exist() {
        if !Path::new("/proc/sys/net/ipv4").is_dir() {
            eprintln!("no /proc/sys/net here: nothing to check");
            return;
        }
        for good in [
            "net.ipv4.conf.router-a.rp_filter",
            "net.ipv4.conf.all.forwarding",
            "net.ipv6.conf.eth0.mtu",
            "net.ipv4.tcp_rmem",
            "net.ipv4.icmp_ratelimit",
        ] {
            assert_eq!(key_problem(good, "1"), None, "{good}");
        }
        let p = key_problem("net.ipv4.tcp_no_such_knob", "1").unwrap();
        assert_eq!(
            p.message,
            "sysctl \"net.ipv4.tcp_no_such_knob\" does not exist on this kernel (no /proc/sys/net/ipv4/tcp_no_such_knob)"
        );
        assert!(key_problem("net.ipv4.conf.eth0.no_such", "1").is_some());
    }

    #[test]
    fn distances() {
        assert_eq!(edit_distance("min_pmtu", "min_pmtu"), 0);
        assert_eq!(edit_distance("mtu_expires", "mtu_expire"), 1);
        assert_eq!(edit_distance("abc", "xyz"), 3);
    }
}
