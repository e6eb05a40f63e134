#!/bin/sh
# The rollout review of README.md, end to end, on a network built with plain
# ip commands (a stand-in for real routers): snapshot each router, import,
# write the planned change, diff. Run as root from the repository root.
#
#   client --1500-- r1 --1400-- r2 --1500-- server
#           198.18.1.0/24  198.18.2.0/24  198.18.3.0/24
#
# Only r1 and r2 are snapshotted; client and server come back as edge hosts.
set -eu
MTULAB=${MTULAB:-target/release/mtulab}
P=mlh-demo-$$-
OUT=${OUT:-$(mktemp -d)}
cleanup() { for n in client r1 r2 server; do ip netns del $P$n 2>/dev/null || true; done; }
trap cleanup EXIT
for n in client r1 r2 server; do ip netns add $P$n; ip -n $P$n link set lo up; done
link() { # A B MTU NET
    ip link add name $2 netns $P$1 type veth peer name $1 netns $P$2
    ip -n $P$1 link set dev $2 mtu $3 up; ip -n $P$2 link set dev $1 mtu $3 up
    ip -n $P$1 addr add $4.1/24 dev $2; ip -n $P$2 addr add $4.2/24 dev $1
}
link r1 client 1500 198.18.1
link r1 r2 1400 198.18.2
link r2 server 1500 198.18.3
for r in r1 r2; do ip netns exec $P$r sysctl -qw net.ipv4.ip_forward=1; done
ip -n ${P}client route add default via 198.18.1.1
ip -n ${P}server route add default via 198.18.3.1
ip -n ${P}r1 route add 198.18.3.0/24 via 198.18.2.2
ip -n ${P}r2 route add 198.18.1.0/24 via 198.18.2.1

# 1. On each router (here: inside its namespace).
for r in r1 r2; do ip netns exec $P$r "$MTULAB" snapshot -o "$OUT/$r.json"; done
# 2. One topology from the snapshots.
"$MTULAB" import "$OUT/r1.json" "$OUT/r2.json" -o "$OUT/today.toml"
# 3. The planned change: r2 gets the "hardened ICMP" firewall.
cp topologies/rulesets/hardened.nft "$OUT/r2-hardened.nft"
{ cat "$OUT/today.toml"; printf '\n[[filters]]\nnode = "r2"\nnft = "r2-hardened.nft"\n'; } > "$OUT/planned.toml"
# 4. What the change does.
"$MTULAB" diff -4 "$OUT/today.toml" "$OUT/planned.toml" || echo "diff exited $?"
echo "files in $OUT"
