//! Sysctls in a topology file: the PMTU sysctls' value ranges, misspelt
//! names, and the seam ([`SysctlNames`]) through which the harness says
//! which other `net.*` names exist on the running kernel. Reads nothing.

/// Whether a `net.*` sysctl name exists where the lab will run. The core
/// never reads `/proc/sys` itself; `harness::sysctl::ProcSysctlNames` does.
pub trait SysctlNames {
    /// Whether `key` (dotted, per-device keys already mapped to `default`)
    /// exists; None when this cannot be told.
    fn exists(&self, key: &str) -> Option<bool>;
}

/// Names are not looked up (every name may exist): pure validation, used
/// by [`crate::topology::Topology::from_str`] and tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct UncheckedSysctlNames;

impl SysctlNames for UncheckedSysctlNames {
    fn exists(&self, _key: &str) -> Option<bool> {
        None
    }
}

/// `net.ipv4.tcp_mtu_probing` → `/proc/sys/net/ipv4/tcp_mtu_probing` (for messages).
pub fn proc_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

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
/// - any other `net.*` name must exist, as `names` tells (the harness
///   looks under `/proc/sys` of the namespace it runs in, only reading). Per-interface keys
///   (`net.ipv4.conf.IFACE.x`, `net.ipv6.conf…`, `…neigh.IFACE.x`) are
///   looked up as `default`, since lab interfaces exist only in the lab.
///   Where `names` cannot tell, nothing is checked.
pub fn key_problem(key: &str, value: &str, names: &dyn SysctlNames) -> Option<KeyProblem> {
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
    let lookup = per_device_default(key);
    if names.exists(&lookup) != Some(false) {
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
        proc_path(&lookup)
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

    #[test]
    fn distances() {
        assert_eq!(edit_distance("min_pmtu", "min_pmtu"), 0);
        assert_eq!(edit_distance("mtu_expires", "mtu_expire"), 1);
        assert_eq!(edit_distance("abc", "xyz"), 3);
    }

    /// A name the seam says is missing is rejected (with a suggestion
    /// where it is close to a PMTU sysctl); one it cannot tell passes.
    #[test]
    fn names_through_the_seam() {
        struct Missing;
        impl SysctlNames for Missing {
            fn exists(&self, _key: &str) -> Option<bool> {
                Some(false)
            }
        }
        let p = key_problem("net.ipv4.tcp_no_such_knob", "1", &Missing).unwrap();
        assert_eq!(
            p.message,
            "sysctl \"net.ipv4.tcp_no_such_knob\" does not exist on this kernel (no /proc/sys/net/ipv4/tcp_no_such_knob)"
        );
        let p = key_problem("net.ipv4.tcp_mtu_probe", "1", &Missing).unwrap();
        assert!(
            p.message
                .contains("did you mean \"net.ipv4.tcp_mtu_probing\"?"),
            "{p:?}"
        );
        assert_eq!(
            key_problem("net.ipv4.tcp_no_such_knob", "1", &UncheckedSysctlNames),
            None
        );
    }
}
