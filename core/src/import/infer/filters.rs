//! Which rulesets are written beside the file (nft, iptables, ip6tables as found), and hosts that ignore PMTU ICMP.

use super::*;

pub(super) fn rulesets(
    machines: &[Machine],
    opts: &ImportOptions,
    topology: &mut Topology,
    notes: &mut Notes,
) -> Vec<(String, String)> {
    // Rulesets, as found.
    let mut rulesets = Vec::new();
    for m in machines {
        let mut add = |kind: &str, text: &str, note: String| {
            let file = format!("{}{}.{kind}", opts.ruleset_prefix, m.name);
            let path = PathBuf::from(&file);
            topology.filters.push(Filter {
                node: m.name.clone(),
                kind: match kind {
                    "nft" => FilterKind::Nft(path),
                    "iptables" => FilterKind::Iptables(path),
                    _ => FilterKind::Ip6tables(path),
                },
            });
            notes.filters.push(vec![note]);
            rulesets.push((file, text.to_string()));
        };
        let nf_backend = m.snap.iptables_backend.as_deref() == Some("nf_tables");
        // A host that ignores PMTU ICMP, as mtulab builds it: its own table
        // becomes `pmtu_icmp = "ignore"`, the rest stays a ruleset.
        let mut nft_text = m.snap.nft.clone();
        if !m.router {
            if let Some((rest, table)) = nft_text.as_deref().and_then(split_host_table) {
                topology
                    .nodes
                    .get_mut(&m.name)
                    .expect("machine node")
                    .pmtu_icmp = PmtuIcmp::Ignore;
                if let Some(note) = notes.nodes.get_mut(&m.name) {
                    note.push(format!(
                        "pmtu_icmp = \"ignore\": {}'s nft ruleset has table {table} (PMTU ICMP counted and discarded at its entry)",
                        m.label
                    ));
                }
                nft_text = Some(rest);
            }
        }
        if let Some(nft) = nft_text.as_deref().filter(|t| t.contains("table ")) {
            let mut note = format!(
                "{}'s nft ruleset (nft list ruleset), as found in {}",
                m.name, m.label
            );
            if nf_backend && has_rules(m.snap.iptables.as_deref()) {
                note.push_str("; it holds the iptables-nft rules too");
            }
            add("nft", nft, note);
        }
        if !nf_backend {
            for (kind, text) in [
                ("iptables", &m.snap.iptables),
                ("ip6tables", &m.snap.ip6tables),
            ] {
                if let Some(t) = text.as_deref().filter(|t| has_rules(Some(t))) {
                    add(
                        kind,
                        t,
                        format!("{}'s {kind}-save output, as found in {}", m.name, m.label),
                    );
                }
            }
        }
    }
    rulesets
}

/// `text` (an `nft list ruleset`) without the table a host that ignores
/// PMTU ICMP gets from mtulab (`table inet mtulab_host { … }`), and the
/// table's name; None when it has no such table.
pub(super) fn split_host_table(text: &str) -> Option<(String, &'static str)> {
    const TABLE: &str = "inet mtulab_host";
    let head = format!("table {TABLE} {{");
    let start = text.lines().position(|l| l.trim_end() == head)?;
    let lines: Vec<&str> = text.lines().collect();
    let end = start + lines[start..].iter().position(|l| l.trim_end() == "}")?;
    let rest: Vec<&str> = lines[..start]
        .iter()
        .chain(&lines[end + 1..])
        .copied()
        .collect();
    Some((rest.join("\n"), TABLE))
}

/// An iptables-save text with a rule or a policy that is not ACCEPT.
fn has_rules(text: Option<&str>) -> bool {
    text.is_some_and(|t| {
        t.lines().any(|l| {
            l.starts_with("-A ")
                || (l.starts_with(':') && !l.contains(" ACCEPT ") && !l.contains(" - "))
        })
    })
}
