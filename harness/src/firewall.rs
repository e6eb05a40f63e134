//! Firewalls inside a node: the declarative `drop = "pmtu-icmp"` filters as
//! an nftables ruleset, and (issue 4) real rulesets loaded with their own
//! tools. Rules are loaded by a child process that entered the node's
//! namespace; nothing runs in the caller's namespace.

use std::io::Write;
use std::process::Stdio;

use crate::netns::Netns;
use crate::topology::Hook;

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
        .command(tool)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
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
