# The verdicts of a `mtulab check --format json` report, without timings or
# wording: what must not change when the lab or the checks get faster.
# Used by ci/verdict-stability; `jq -S -f ci/verdicts.jq REPORT.json`.
#
# Anycast flows are reduced to "did any flow stall": which server a flow
# lands on is the kernel's hash of a per-boot random key, so the number of
# stalled flows out of 32 varies from run to run (anycast_flowlabel's
# header lists 13-22 of 32 over 10 runs of the same binary).
(if type == "array" then . else [.] end)
| sort_by(.topology)
| map({
    topology, ok,
    no_path: (.no_path // null),
    violations: ([.violations[]? | .check] | sort),
    paths: [.paths[]? | {from, to, family, expected_pmtu, observed_pmtu, transfer,
             at: .ping_at_pmtu.outcome, over: .ping_over_pmtu.outcome,
             icmp: [.icmp[]? | [.router, .arrived]]}],
    anycast: [.anycast[]? | {address, client, family, ecmp,
             stalled: ([.flows[] | select(.verdict != "ok")] | length > 0)}]
  })
