//! Anycast downloads behind ECMP routers: whether a frag-needed /
//! packet-too-big lands on the member holding the flow.
//! Facts: design.md §6 (ECMP + anycast), docs/kernel-behaviour.md#ecmp-and-anycast.

use super::*;

/// What the model says about downloads from one anycast address.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnycastPrediction {
    /// The anycast address.
    pub address: IpAddr,
    pub family: Family,
    pub members: Vec<String>,
    /// Routers with a multipath route to the address, with their
    /// `fib_multipath_hash_policy` (0 unless set).
    pub ecmp: Vec<(String, u32)>,
    /// Every download from the address, per flow: `Known(Ok)` when ICMP
    /// errors follow their flow (no ECMP, or L3 hashing, IPv6 with the
    /// members reflecting flow labels) and the unicast downloads from the
    /// members are predicted ok; `Unknown` when some flows may stall (an L4
    /// or custom hash: which ones is a coin toss per flow).
    pub transfer: Knowable<Verdict>,
}

/// Predict downloads from every anycast address (each family it has) to
/// any host that is not a member.
///
/// Measured on 6.18 (client -1500- r0 -1300- r1 -9000- lb -9000- s1 / s2,
/// both serving one anycast address, lb with a two-way multipath route; 32
/// sequential 1 MiB / 256 KiB downloads per run, exceptions flushed before each):
/// - IPv4, fib_multipath_hash_policy=0 on lb: 32 of 32 completed, every
///   flow on the same server (L3 hash: one address pair), the frag-needed
///   from r1 at that server (the kernel hashes an ICMP error on the header
///   it quotes, and the L3 hash is symmetric).
/// - IPv4, policy 1: 17, 12, 18, 18 of 32 stalled (shell runs), 14, 17, 15
///   (the probe); every frag-needed at one server, the stalled flows held by
///   the other. The ICMP's own header (r1 -> anycast, no ports) is hashed,
///   the TCP flows by their ports; and the forwarded SYN's hash is the
///   client's random socket txhash, so which flows stall changes from run
///   to run even with fixed ports. Each flow is a coin toss: all 32 on the
///   ICMP's server has probability 2^-32.
/// - IPv6, policy 0: the L3 hash includes the flow label. With auto flow
///   labels the server labels its segments differently from the client, so
///   the packet-too-big (quoting the server's label) went to a random
///   server: 4 and 3 of 32 never completed (shell); in 10 runs of the
///   check (scenario anycast_flowlabel) 13-22 of 32 were not prompt, 2-7 of
///   them never completed, the rest recovered after an RTO. With
///   net.ipv6.flowlabel_reflect=1 on the
///   servers (set before their sockets exist) 32 of 32 completed, flows
///   spread 16/16, each packet-too-big at its flow's server.
/// - IPv6, policy 1: 15, 13 of 32 stalled (shell), 13, 10, 17 (the probe).
pub fn predict_anycast(topology: &Topology, plan: &Plan) -> Vec<AnycastPrediction> {
    let model = predict(topology, plan);
    let mut out = Vec::new();
    for group in &topology.anycast {
        for family in [Family::V4, Family::V6] {
            let Some(address) = group.addr(family) else {
                continue;
            };
            let fam = if family == Family::V4 { "ipv4" } else { "ipv6" };
            let ecmp: Vec<(String, u32)> = plan
                .nodes
                .iter()
                .filter(|n| n.multipath.iter().any(|m| m.dst.addr == address))
                .map(|n| {
                    let key = format!("net.{fam}.fib_multipath_hash_policy");
                    let policy = sysctl_of(topology, &n.name, &key)
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    (n.name.clone(), policy)
                })
                .collect();
            let reflect = group.nodes.iter().all(|m| {
                sysctl_of(topology, m, "net.ipv6.flowlabel_reflect")
                    .and_then(|v| v.trim().parse::<u32>().ok())
                    .is_some_and(|v| v & 1 != 0)
            });
            let mut transfer = Knowable::Known(Verdict::Ok);
            for (router, policy) in &ecmp {
                let why = match (policy, family) {
                    (0, Family::V4) => continue,
                    (0, Family::V6) if reflect => continue,
                    (0, Family::V6) => format!(
                        "{router} hashes IPv6 on the flow label too, and the members do not reflect the client's (net.ipv6.flowlabel_reflect): a packet-too-big quoting a member's own label may reach another member"
                    ),
                    (1, _) => format!(
                        "{router} hashes on L4 (fib_multipath_hash_policy=1): an ICMP error is hashed on its own header, not its flow's, so flows held by other members than the one it hashes to may stall"
                    ),
                    (p, _) => format!(
                        "{router} uses fib_multipath_hash_policy={p}: not modelled"
                    ),
                };
                transfer = Knowable::Unknown(why);
                break;
            }
            // The downloads themselves, as the unicast paths from the members.
            if transfer.known().is_some() {
                for m in &group.nodes {
                    for client in plan.hosts() {
                        if group.nodes.iter().any(|g| g == client) {
                            continue;
                        }
                        match model.path(m, client, family).map(|p| &p.transfer) {
                            Some(Knowable::Known(Verdict::Ok)) | None => {}
                            Some(other) => {
                                transfer = other.clone();
                            }
                        }
                    }
                }
            }
            out.push(AnycastPrediction {
                address,
                family,
                members: group.nodes.clone(),
                ecmp,
                transfer,
            });
        }
    }
    out
}
