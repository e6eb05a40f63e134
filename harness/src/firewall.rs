//! Firewalls inside a node: the declarative `drop = "pmtu-icmp"` filters as
//! an nftables ruleset, and (issue 4) real rulesets loaded with their own
//! tools. Rules are loaded by a child process started inside the node's
//! namespace ([`Netns::spawn`]); nothing runs in the caller's namespace.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::netns::Netns;
use mtulab_core::topology::Hook;

#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    #[error("run {tool} in node {node}: {source} (is it installed?)")]
    Spawn {
        tool: String,
        node: String,
        source: std::io::Error,
    },
    #[error("{tool} refused the ruleset{} in node {node}: {stderr}", file.as_ref().map(|f| format!(" {f}")).unwrap_or_default())]
    Load {
        tool: String,
        node: String,
        file: Option<String>,
        stderr: String,
    },
}

/// The table name every declarative rule lives in.
pub const TABLE: &str = "mtulab";

fn hook_name(h: Hook) -> &'static str {
    match h {
        Hook::Input => "input",
        Hook::Forward => "forward",
        Hook::Output => "output",
    }
}

/// An nft script dropping ICMPv4 frag-needed (3/4) and ICMPv6 packet-too-big
/// (2) at each hook given. Counters make the drops visible to `nft list`.
pub fn pmtu_icmp_drop_script(hooks: &[Hook]) -> String {
    let mut s = format!("table inet {TABLE} {{\n");
    for h in hooks {
        let name = hook_name(*h);
        s.push_str(&format!(
            "  chain {name} {{\n    type filter hook {name} priority 0; policy accept;\n    \
             icmp type destination-unreachable icmp code frag-needed counter drop\n    \
             icmpv6 type packet-too-big counter drop\n  }}\n"
        ));
    }
    s.push_str("}\n");
    s
}

/// Run `tool args…` inside `ns` with `input` on stdin; a non-zero exit is a
/// [`FirewallError::Load`] carrying the tool's own message.
pub fn load(
    ns: &Netns,
    node: &str,
    tool: &str,
    args: &[&str],
    input: &str,
    file: Option<String>,
) -> Result<(), FirewallError> {
    let spawn_err = |source| FirewallError::Spawn {
        tool: tool.to_string(),
        node: node.to_string(),
        source,
    };
    let mut child = ns
        .spawn(
            Command::new(tool)
                .args(args)
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped()),
        )
        .map_err(spawn_err)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A write error shows up as the tool's failure below.
        let _ = stdin.write_all(input.as_bytes());
    }
    let out = child.wait_with_output().map_err(spawn_err)?;
    if !out.status.success() {
        return Err(FirewallError::Load {
            tool: tool.to_string(),
            node: node.to_string(),
            file,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(())
}

/// The table MSS clamping lives in (separate from [`TABLE`] and from any
/// user ruleset, so neither can flush the other).
pub const MSS_TABLE: &str = "mtulab_mss";

/// An nft script clamping the MSS option of forwarded SYNs and SYN-ACKs,
/// both families, at the forward hook (priority mangle, before any filter
/// chain at priority 0).
///
/// - `to = Pmtu`: `set rt mtu` — the kernel (nft_rt `get_tcpmss`) takes the
///   smaller of the route MTU towards the packet's destination (its
///   `skb_dst`, a PMTU exception included) and of the route back to its
///   source, minus 40 (IPv4) or 60 (IPv6).
/// - `to = Mss(n)`: `set n` on SYNs that advertise more than `n`.
///
/// The kernel never raises an MSS this way (nft_exthdr skips the write when
/// the new value is not smaller), so a small advertised MSS stays.
pub fn mss_clamp_script(clamp: &mtulab_core::topology::MssClamp) -> String {
    use mtulab_core::topology::ClampTo;
    let oif = clamp
        .oif
        .as_ref()
        .map(|o| format!("oifname {} ", nft_string(o)))
        .unwrap_or_default();
    let rule = match clamp.to {
        ClampTo::Pmtu => {
            format!("{oif}tcp flags & syn == syn tcp option maxseg size set rt mtu counter")
        }
        ClampTo::Mss(n) => format!(
            "{oif}tcp flags & syn == syn tcp option maxseg size > {n} tcp option maxseg size set {n} counter"
        ),
    };
    format!(
        "table inet {MSS_TABLE} {{\n  chain forward {{\n    type filter hook forward priority mangle; policy accept;\n    {rule}\n  }}\n}}\n"
    )
}

/// The table of a host with `pmtu_icmp = "ignore"`.
pub const HOST_TABLE: &str = "mtulab_host";

/// The named counters of [`HOST_TABLE`] (IPv4, IPv6): PMTU ICMP that
/// reached the host's interfaces before its stack discarded it.
pub const IGNORED_COUNTERS: [&str; 2] = ["pmtu_icmp4_ignored", "pmtu_icmp6_ignored"];

/// An nft script that makes a host's stack ignore PMTU ICMP: ICMPv4 type 3
/// code 4 and ICMPv6 type 2 addressed to it are counted, then discarded at
/// prerouting, priority raw (-300): before conntrack and before any filter
/// a user ruleset has, after packet sockets (a capture on the interface
/// still shows them, as on the real appliance) — so nothing in the stack
/// acts on them and TCP keeps sending DF packets of the size it started
/// with. Linux has no switch for that (docs/kernel-behaviour.md, "A host
/// that ignores PMTU ICMP").
pub fn pmtu_icmp_ignore_script() -> String {
    let [c4, c6] = IGNORED_COUNTERS;
    format!(
        "table inet {HOST_TABLE} {{\n  counter {c4} {{ }}\n  counter {c6} {{ }}\n  \
         chain entry {{\n    type filter hook prerouting priority raw; policy accept;\n    \
         icmp type destination-unreachable icmp code frag-needed counter name \"{c4}\" drop\n    \
         icmpv6 type packet-too-big counter name \"{c6}\" drop\n  }}\n}}\n"
    )
}

/// Packets counted so far by `counter` of [`HOST_TABLE`] in `ns`
/// (`nft -j list counter inet mtulab_host NAME`).
pub fn ignored_count(ns: &Netns, node: &str, counter: &str) -> Result<u64, FirewallError> {
    let out = ns
        .output(
            Command::new("nft")
                .args(["-j", "list", "counter", "inet", HOST_TABLE, counter])
                .stdin(Stdio::null()),
        )
        .map_err(|source| FirewallError::Spawn {
            tool: "nft".into(),
            node: node.to_string(),
            source,
        })?;
    let failed = |stderr: String| FirewallError::Load {
        tool: "nft".into(),
        node: node.to_string(),
        file: None,
        stderr,
    };
    if !out.status.success() {
        return Err(failed(
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
        ));
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| failed(format!("unreadable nft -j output: {e}")))?;
    v["nftables"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|o| o["counter"]["packets"].as_u64())
        .ok_or_else(|| failed(format!("no counter {counter} in nft -j output")))
}

/// A quoted nft string (interface names are validated: no quotes, no
/// whitespace, no '/').
fn nft_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mtulab_core::topology::{ClampTo, MssClamp};

    /// The clamp rules name the oif when given, and a fixed value only
    /// lowers bigger MSS options.
    #[test]
    fn clamp_scripts() {
        let s = mss_clamp_script(&MssClamp {
            to: ClampTo::Pmtu,
            oif: Some("router-b".into()),
        });
        assert!(s.contains("table inet mtulab_mss"), "{s}");
        assert!(s.contains("hook forward priority mangle"), "{s}");
        assert!(
            s.contains(
                "oifname \"router-b\" tcp flags & syn == syn tcp option maxseg size set rt mtu"
            ),
            "{s}"
        );
        let s = mss_clamp_script(&MssClamp {
            to: ClampTo::Mss(1360),
            oif: None,
        });
        assert!(!s.contains("oifname"), "{s}");
        assert!(
            s.contains("tcp option maxseg size > 1360 tcp option maxseg size set 1360"),
            "{s}"
        );
    }

    /// A host that ignores PMTU ICMP: counted, then discarded at its entry
    /// (prerouting, priority raw), both families.
    #[test]
    fn ignore_script() {
        let s = pmtu_icmp_ignore_script();
        assert!(s.contains("hook prerouting priority raw"), "{s}");
        assert!(
            s.contains("icmp code frag-needed counter name \"pmtu_icmp4_ignored\" drop")
                && s.contains("packet-too-big counter name \"pmtu_icmp6_ignored\" drop"),
            "{s}"
        );
    }
}
