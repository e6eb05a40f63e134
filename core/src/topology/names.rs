//! Interface names: the defaults for links (`PEER`, `PEER-2`) and tunnels
//! (`vx-PEER`, `vx-PEER-2`), and what makes a name unusable on Linux.

use std::collections::HashMap;

/// Default interface names for links in file order: on node X the link to Y
/// is `Y`, the second link between X and Y `Y-2`, the third `Y-3`, … (Y
/// truncated so the name fits 15 characters).
pub fn default_iface_names<'a>(
    betweens: impl IntoIterator<Item = &'a [String; 2]>,
) -> Vec<[String; 2]> {
    names_per_pair(betweens, numbered)
}

/// For each `[a, b]` in order, `[name(b, n), name(a, n)]` where `n` counts
/// the entries between the same two nodes so far (1 for the first).
pub fn names_per_pair<'a>(
    betweens: impl IntoIterator<Item = &'a [String; 2]>,
    name: impl Fn(&str, usize) -> String,
) -> Vec<[String; 2]> {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::new();
    betweens
        .into_iter()
        .map(|[a, b]| {
            let key = if a <= b {
                (a.as_str(), b.as_str())
            } else {
                (b.as_str(), a.as_str())
            };
            let count = seen.entry(key).or_insert(0);
            *count += 1;
            [name(b, *count), name(a, *count)]
        })
        .collect()
}

fn numbered(peer: &str, n: usize) -> String {
    if n == 1 {
        return peer.to_owned();
    }
    let suffix = format!("-{n}");
    let keep = IFNAMSIZ_MAX.saturating_sub(suffix.len());
    let mut base: String = peer.chars().take(keep).collect();
    base.push_str(&suffix);
    base
}

/// Longest Linux interface name (IFNAMSIZ - 1).
const IFNAMSIZ_MAX: usize = 15;

/// Why `name` is not a usable Linux interface name, if it is not.
pub fn iface_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() || name.len() > IFNAMSIZ_MAX {
        Some("must be 1 to 15 bytes long")
    } else if name == "." || name == ".." {
        Some("is reserved")
    } else if name == "lo" {
        Some("is the loopback device every namespace already has")
    } else if name.contains('/') || name.contains(':') {
        Some("must not contain '/' or ':'")
    } else if name.chars().any(char::is_whitespace) {
        Some("must not contain whitespace")
    } else {
        None
    }
}

/// Default interface names for tunnels in file order: on X the tunnel to Y
/// is `vx-Y`, a second one `vx-Y-2`, … (truncated to 15 characters).
pub fn default_tunnel_names<'a>(
    betweens: impl IntoIterator<Item = &'a [String; 2]>,
) -> Vec<[String; 2]> {
    names_per_pair(betweens, name_for)
}

fn name_for(peer: &str, n: usize) -> String {
    let suffix = if n == 1 {
        String::new()
    } else {
        format!("-{n}")
    };
    let base: String = format!("vx-{peer}")
        .chars()
        .take(15 - suffix.len())
        .collect();
    base + &suffix
}
