//! The anycast part of `tcp-transfer`: downloads from every `[[anycast]]`
//! address (each family it has and the run covers) to every host that is
//! not a member must complete promptly, like any other bulk transfer.
//! Behind an ECMP router the frag-needed / packet-too-big a router sends
//! towards the anycast address is hashed like any packet; when it lands on
//! another member than the one holding the flow, the flow stalls. The
//! per-flow table (which member accepted, which received the ICMP, the
//! verdict) goes into the JSON report as `anycast`.

use harness::probe::anycast::{anycast_flows, AnycastFlow, AnycastOpts};
use harness::probe::error::ProbeError;
use harness::Lab;
use mtulab_core::topology::Verdict;
use mtulab_core::Topology;

use super::options::CheckOptions;
use crate::report::{AnycastReport, CheckLine, Report, Violation};
use mtulab_core::model::{self, Knowable};
use mtulab_core::CheckId;

/// Run the anycast downloads of `topology` in the families of `opts` and
/// add their check lines, violations and per-flow tables to `report`.
pub(super) fn check(
    lab: &Lab,
    topology: &Topology,
    opts: &CheckOptions,
    report: &mut Report,
) -> Result<(), ProbeError> {
    let predictions = model::predict_anycast(topology, lab.plan());
    for group in &topology.anycast {
        for &family in &opts.families {
            let Some(address) = group.addr(family) else {
                continue;
            };
            let Some(pred) = predictions
                .iter()
                .find(|p| p.address == address && p.family == family)
            else {
                continue;
            };
            let clients: Vec<String> = lab
                .plan()
                .hosts()
                .into_iter()
                .filter(|h| !group.nodes.iter().any(|m| m == h))
                .map(String::from)
                .collect();
            for client in clients {
                // No path to any member in this family: nothing to download.
                if !group
                    .nodes
                    .iter()
                    .any(|m| lab.plan().path(&client, m, family).is_some())
                {
                    report
                        .no_path
                        .push(format!("{client} <- anycast {address} {}", family.as_str()));
                    continue;
                }
                let run = anycast_flows(lab, &client, group, family, &AnycastOpts::default())?;
                let fam = family.as_str();
                let subject = format!("{client} <- anycast {address} {fam}");
                let stalled: Vec<&AnycastFlow> = run.stalled().collect();
                let per_member: Vec<String> = group
                    .nodes
                    .iter()
                    .map(|m| {
                        let held = run.flows.iter().filter(|f| &f.server == m).count();
                        let icmp = run.flows.iter().filter(|f| f.icmp_at.contains(m)).count();
                        format!("{m} held {held}, got ICMP of {icmp}")
                    })
                    .collect();
                report.checks.push(CheckLine {
                    check: CheckId::TcpTransfer,
                    subject: subject.clone(),
                    holds: stalled.is_empty(),
                    detail: format!(
                        "{} of {} flows stalled; {}",
                        stalled.len(),
                        run.flows.len(),
                        per_member.join("; ")
                    ),
                });
                let violation = |check: CheckId, message: String, fix: Option<String>| Violation {
                    check,
                    message,
                    fix,
                    from: Some(format!("anycast {address}")),
                    to: Some(client.clone()),
                    family: Some(family),
                    link: None,
                    segment: None,
                    tunnel: None,
                };
                if !stalled.is_empty() {
                    report.violations.push(violation(
                        CheckId::TcpTransfer,
                        stall_message(&client, &address.to_string(), &run.flows, &stalled),
                        Some(fix(&pred.ecmp, family)),
                    ));
                }
                if pred.transfer.known() == Some(&Verdict::Ok) && !stalled.is_empty() {
                    report.violations.push(violation(
                        CheckId::ModelMismatch,
                        format!(
                            "{client} <- anycast {address} {fam}: model predicts every flow ok, kernel stalled {} of {}",
                            stalled.len(),
                            run.flows.len()
                        ),
                        None,
                    ));
                }
                let predicted = match &pred.transfer {
                    Knowable::Known(v) => serde_json::Value::from(v.as_str()),
                    Knowable::Unknown(why) => serde_json::json!({ "unknown": why }),
                };
                report.anycast.push(AnycastReport {
                    address: address.to_string(),
                    family,
                    client,
                    members: group.nodes.clone(),
                    ecmp: pred.ecmp.clone(),
                    stalled: stalled.len(),
                    predicted,
                    flows: run.flows,
                });
            }
        }
    }
    Ok(())
}

/// "downloads … stall in N of M flows: ports … held by s2, their ICMP reached s1; …"
fn stall_message(
    client: &str,
    address: &str,
    flows: &[AnycastFlow],
    stalled: &[&AnycastFlow],
) -> String {
    let mut groups: Vec<(String, Vec<String>, Vec<u16>)> = Vec::new();
    for f in stalled {
        match groups
            .iter_mut()
            .find(|(s, icmp, _)| *s == f.server && *icmp == f.icmp_at)
        {
            Some((_, _, ports)) => ports.push(f.port),
            None => groups.push((f.server.clone(), f.icmp_at.clone(), vec![f.port])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(server, icmp, ports)| {
            let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
            let went = if icmp.is_empty() {
                "no ICMP reached any member".to_string()
            } else {
                format!("their ICMP reached {}", icmp.join(" and "))
            };
            format!("ports {} held by {server}, {went}", ports.join(", "))
        })
        .collect();
    format!(
        "downloads from anycast {address} to {client} stall in {} of {} flows: {}",
        stalled.len(),
        flows.len(),
        parts.join("; ")
    )
}

fn fix(ecmp: &[(String, u32)], family: mtulab_core::Family) -> String {
    let fam = family.as_str();
    match ecmp.first() {
        Some((router, _)) => format!(
            "hash ICMP errors with their flow: net.{fam}.fib_multipath_hash_policy=0 on {router} (the kernel hashes an ICMP error on the header it quotes){}; or clamp the TCP MSS in front of the narrow hop",
            if family == mtulab_core::Family::V6 {
                ", with net.ipv6.flowlabel_reflect=1 on the members"
            } else {
                ""
            }
        ),
        None => "let the ICMP errors reach the member that holds the flow, or clamp the TCP MSS in front of the narrow hop".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use harness::probe::transfer::TransferVerdict;

    fn flow(port: u16, server: &str, icmp: &[&str], ok: bool) -> AnycastFlow {
        AnycastFlow {
            port,
            server: server.into(),
            icmp_at: icmp.iter().map(|s| s.to_string()).collect(),
            verdict: if ok {
                TransferVerdict::Ok
            } else {
                TransferVerdict::Blackhole
            },
            bytes: 0,
            seconds: 0.0,
            pmtu: 1300,
        }
    }

    /// The message names the stalled flows' ports, their server and where their ICMP went.
    #[test]
    fn message_names_ports_servers_and_icmp() {
        let flows = [
            flow(1, "s1", &["s1"], true),
            flow(2, "s2", &["s1"], false),
            flow(3, "s2", &["s1"], false),
            flow(4, "s1", &[], false),
        ];
        let stalled: Vec<&AnycastFlow> = flows
            .iter()
            .filter(|f| f.verdict != TransferVerdict::Ok)
            .collect();
        assert_eq!(
            stall_message("client", "198.18.250.1", &flows, &stalled),
            "downloads from anycast 198.18.250.1 to client stall in 3 of 4 flows: ports 2, 3 held by s2, their ICMP reached s1; ports 4 held by s1, no ICMP reached any member"
        );
    }
}
