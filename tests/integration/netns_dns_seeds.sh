#!/usr/bin/env bash
# Seeds by DNS name, re-resolved on every attempt: a network namespace with dnsmasq (Debian's
# dnsmasq-base) serving a zone on 127.0.0.1:53 (the namespace's /etc/netns/NS/resolv.conf), and
# agents on 10.77.0.N in the same namespace.
#   - seeds.gv.test (A) and _grapevine._udp.gv.test (SRV -> seed-srv.gv.test:7946) point at
#     agent 1; agent 2 joins with --join seeds.gv.test:7946, agent 3 with --retry-join
#     _grapevine._udp.gv.test: all three form one group;
#   - agent 5 starts with --retry-join late.gv.test:7946, a name that does not exist yet: its
#     attempts fail (backoff); a new seed (agent 4, alone) starts, the records move to it
#     (the addn-hosts file rewritten, dnsmasq re-reads it on SIGHUP), and agent 5 joins agent 4.
#   - agent 6 joins through the moved SRV name and lands with agent 4 too.
# Needs root, `ip netns` and dnsmasq; otherwise exits 77. About 15 s.
# Usage: bash netns_dns_seeds.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")
source "$(dirname "$0")/lib/common.sh"
require_netns
dnsmasq=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$dnsmasq" ] || skip "dnsmasq is not installed (apt-get install dnsmasq-base)"
scratch_dir dns_seeds 30

ns="gvdns$$"
ip netns add "$ns" || skip "cannot create a network namespace"
namespaces+=("$ns")
mkdir -p "/etc/netns/$ns"
trap 'r=$?; rm -rf "/etc/netns/$ns"; (exit $r); scratch_cleanup' EXIT
echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
for i in 1 2 3 4 5 6; do in_ns ip addr add "10.77.0.$i/32" dev lo; done

cat >"$work/hosts" <<HOSTS
10.77.0.1 seeds.gv.test
10.77.0.1 seed-srv.gv.test
HOSTS
cat >"$work/dnsmasq.conf" <<CONF
port=53
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
addn-hosts=$work/hosts
local-ttl=0
srv-host=_grapevine._udp.gv.test,seed-srv.gv.test,7946
CONF
ip netns exec "$ns" "$dnsmasq" --keep-in-foreground --user=root --conf-file="$work/dnsmasq.conf" --pid-file="$work/dnsmasq.pid" \
  --log-facility="$work/dnsmasq.log" 2>"$work/dnsmasq.err.log" &
pids+=($!)
dns_pid=$!

agent() {  # agent N [flags...]
  local n=$1
  shift
  ip netns exec "$ns" "$grapevine" agent --name "n$n" --bind "10.77.0.$n:7946" --rpc-addr "127.0.0.1:$((7370 + n))" \
    --insecure --profile local --retry-interval 4s --log-level info "$@" >"$work/a$n.log" 2>&1 &
  pids+=($!)
}
alive_at() {  # alive_at N COUNT: agent N lists COUNT alive members
  [ "$(in_ns "$grapevine" members --rpc-addr "127.0.0.1:$((7370 + $1))" 2>/dev/null | grep -c " alive")" = "$2" ]
}
members_of() { in_ns "$grapevine" members --rpc-addr "127.0.0.1:$((7370 + $1))" 2>&1 || true; }

dns_up() { in_ns getent hosts seeds.gv.test >/dev/null; }
wait_until 3000 dns_up || fail "dnsmasq does not answer"
agent 1
sleep 0.3
agent 2 --join seeds.gv.test:7946
agent 3 --retry-join _grapevine._udp.gv.test
wait_until 8000 alive_at 1 3 || fail "agents 2 and 3 did not join by name: $(members_of 1)"
echo "joined by A and SRV names in ${waited_ms} ms"

agent 5 --retry-join late.gv.test:7946
sleep 1.5
grep -q "late.gv.test" "$work/a5.log" || fail "agent 5 did not try the missing name"
agent 4
cat >"$work/hosts" <<HOSTS
10.77.0.4 seeds.gv.test
10.77.0.4 seed-srv.gv.test
10.77.0.4 late.gv.test
HOSTS
kill -HUP "$dns_pid"
wait_until 12000 alive_at 4 2 || fail "agent 5 did not join the moved seed: $(members_of 4) / $(members_of 5)"
echo "agent 5 joined the moved seed ${waited_ms} ms after the records moved"
agent 6 --join _grapevine._udp.gv.test
wait_until 8000 alive_at 4 3 || fail "agent 6 did not join through the moved SRV name: $(members_of 4)"
alive_at 1 3 || fail "the first group changed: $(members_of 1)"
echo "PASS"
