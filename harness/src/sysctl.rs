//! Sysctls, written through `/proc/sys` by a thread inside the node's
//! namespace (a `net.*` sysctl file belongs to the namespace of the thread
//! that opens it).

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use mtulab_core::load::sysctl::SysctlNames;
pub use mtulab_core::load::sysctl::{KeyProblem, PMTU_SYSCTLS};

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

/// [`SysctlNames`] as a node will see them: the `net.*` names under
/// `/proc/sys` of a fresh scratch namespace (only read; where no namespace
/// can be made, e.g. without root, those of the namespace the calling
/// thread is in). A name the host's namespace has and a fresh one lacks is
/// host-wide, and so is one a fresh namespace shows read-only (on 6.18,
/// `net.core.rmem_max` is there with mode 0444: the host's value, not the
/// node's to set). Nothing is known where `/proc/sys/net` is missing.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcSysctlNames;

/// Host-wide `net.*` knobs, for when no scratch namespace can be made
/// (without root): absent from a fresh namespace, or (the first four)
/// read-only there. Measured on 6.18 (`find /proc/sys/net` in the host and
/// under `unshare -n`).
const HOST_WIDE: &[&str] = &[
    "net.core.rmem_default",
    "net.core.rmem_max",
    "net.core.wmem_default",
    "net.core.wmem_max",
    "net.core.busy_poll",
    "net.core.busy_read",
    "net.core.default_qdisc",
    "net.core.dev_weight",
    "net.core.message_burst",
    "net.core.message_cost",
    "net.core.netdev_budget",
    "net.core.netdev_budget_usecs",
    "net.core.netdev_max_backlog",
    "net.core.rps_sock_flow_entries",
    "net.ipv4.inet_peer_threshold",
    "net.ipv4.route.error_burst",
    "net.ipv4.route.error_cost",
];

/// The sysctl names (dotted) of a fresh network namespace with whether
/// each is writable there, listed once.
fn scratch_names() -> Option<&'static BTreeMap<String, bool>> {
    static NAMES: OnceLock<Option<BTreeMap<String, bool>>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            crate::netns::in_scratch(|| {
                let mut names = BTreeMap::new();
                walk(Path::new("/proc/sys/net"), "net", &mut names);
                names
            })
            .ok()
            .filter(|n| !n.is_empty())
        })
        .as_ref()
}

fn walk(dir: &Path, prefix: &str, out: &mut BTreeMap<String, bool>) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.filter_map(|e| e.ok()) {
        let name = format!("{prefix}.{}", e.file_name().to_string_lossy());
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&e.path(), &name, out),
            Ok(_) => {
                let writable = e
                    .metadata()
                    .is_ok_and(|m| m.permissions().mode() & 0o222 != 0);
                out.insert(name, writable);
            }
            Err(_) => {}
        }
    }
}

impl SysctlNames for ProcSysctlNames {
    fn exists(&self, key: &str) -> Option<bool> {
        if let Some(names) = scratch_names() {
            return Some(names.get(key) == Some(&true));
        }
        if !Path::new("/proc/sys/net").is_dir() {
            return None;
        }
        Some(path_of(key).is_file() && !HOST_WIDE.contains(&key))
    }

    fn host_wide(&self, key: &str) -> bool {
        match scratch_names() {
            Some(n) => match n.get(key) {
                Some(writable) => !writable,
                None => path_of(key).is_file(),
            },
            None => HOST_WIDE.contains(&key),
        }
    }
}

#[cfg(test)]
mod tests {
    use mtulab_core::load::sysctl::key_problem;

    use super::*;

    /// net.core.rmem_max is host-wide as a node sees it (a scratch
    /// namespace as root, the measured list otherwise); the control,
    /// net.core.somaxconn, is a node's own.
    #[test]
    fn host_wide_sysctls_are_refused() {
        let p = key_problem("net.core.rmem_max", "8388608", &ProcSysctlNames)
            .expect("rmem_max refused");
        assert!(p.message.contains("is host-wide"), "{p:?}");
        assert_eq!(
            key_problem("net.core.somaxconn", "8192", &ProcSysctlNames),
            None
        );
    }

    /// Every PMTU sysctl accepts its bounds and rejects one past each, and
    /// a non-integer.
    #[test]
    fn pmtu_values() {
        for (key, lo, hi) in PMTU_SYSCTLS {
            assert_eq!(
                key_problem(key, &lo.to_string(), &ProcSysctlNames),
                None,
                "{key}={lo}"
            );
            assert_eq!(
                key_problem(key, &hi.to_string(), &ProcSysctlNames),
                None,
                "{key}={hi}"
            );
            for bad in [(lo - 1).to_string(), (hi + 1).to_string(), "on".into()] {
                let p = key_problem(key, &bad, &ProcSysctlNames)
                    .unwrap_or_else(|| panic!("{key}={bad} accepted"));
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
        let p = key_problem("net.ipv6.tcp_mtu_probing", "1", &ProcSysctlNames).unwrap();
        assert!(!p.about_value);
        assert_eq!(
            p.message,
            "unknown PMTU sysctl \"net.ipv6.tcp_mtu_probing\": it exists as net.ipv4.tcp_mtu_probing"
        );
        let p = key_problem("net.ipv4.tcp_mtu_probe", "1", &ProcSysctlNames).unwrap();
        assert!(
            p.message
                .contains("did you mean \"net.ipv4.tcp_mtu_probing\"?"),
            "{p:?}"
        );
        let p = key_problem("net.ipv6.route.min_pmtu", "1280", &ProcSysctlNames).unwrap();
        assert!(
            p.message.contains("it exists as net.ipv4.route.min_pmtu"),
            "{p:?}"
        );
        let p = key_problem("net.ipv4.ip_no_pmtu_dics", "1", &ProcSysctlNames).unwrap();
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
            assert_eq!(key_problem(good, "1", &ProcSysctlNames), None, "{good}");
        }
        let p = key_problem("net.ipv4.tcp_no_such_knob", "1", &ProcSysctlNames).unwrap();
        assert_eq!(
            p.message,
            "sysctl \"net.ipv4.tcp_no_such_knob\" does not exist on this kernel (no /proc/sys/net/ipv4/tcp_no_such_knob)"
        );
        assert!(key_problem("net.ipv4.conf.eth0.no_such", "1", &ProcSysctlNames).is_some());
    }
}
