#!/usr/bin/env bash
# Topology-aware gossip on real sockets: 3 zones of 4 `grapevine agent` processes, each agent in
# its own network namespace; each zone is a /24 (10.78.Z.0/24) on a bridge in a router namespace
# that routes between the zones (ip_forward, one bridge and address per zone). Every agent runs
# with --zone-prefix 24, so zones come from addresses (GRAPEVINE_ZONES_NAMED=1: --zone zZ
# instead). The same group runs twice, topology awareness off then on (--topology-aware); each
# time the script sends 10 multicasts and counts the multicast datagrams the router forwards
# between zones (iptables: routed packets only, multicast ones picked out by a u32 match on the
# first frame's type; without u32, all routed UDP minus an equal window without multicasts;
# without iptables, the bridges' rx counters). Checks that every agent delivers every multicast
# both times, that every agent lists the others' zones, and that topology awareness cuts the
# cross-zone multicast datagrams at least by half (the 1/n_i rule predicts ~2.9x here:
# b/n_i = 0.5 against b(K-1)/(N-1) = 1.45 per node and round). About 30 s.
# Needs root and `ip netns`; without them it exits 77 (skipped, saying why). Everything it creates
# (namespaces, links, processes) is removed on exit.
# Usage: bash netns_zones.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")

source "$(dirname "$0")/lib/common.sh"
t_start=$(now_ms)

require_netns
command -v python3 >/dev/null || skip "python3 is not installed"

zones=3
per_zone=4
n=$((zones * per_zone))
multicasts=10
prefix="gz$$"
router="$prefix-r"
scratch_dir zones 15  # $work, $pids and $namespaces, ended on exit

if ! ip netns add "$router" 2>"$work/netns.err"; then
  skip "ip netns add failed (no CAP_SYS_ADMIN?): $(head -n 1 "$work/netns.err")"
fi
namespaces+=("$router")
ip netns exec "$router" sysctl -qw net.ipv4.ip_forward=1 ||
  skip "cannot enable IP forwarding in a namespace"

# Counting what the router forwards. Best: iptables' u32 match picks out multicast datagrams
# (the native datagram's second byte, the first frame's type, in 0x10..0x1f) and counts them
# exactly; else all forwarded UDP (an iptables rule), else the bridges' rx counters, and then the
# multicast share is a window with multicasts minus an equal window without.
# Only routed packets count: with br_netfilter loaded the FORWARD chain also sees frames bridged
# inside a zone, so the rules match in/out on different zone bridges, into a chain XZ.
iptables_cmd=
exact=0
for c in iptables-legacy iptables; do
  command -v "$c" >/dev/null || continue
  ip netns exec "$router" "$c" -N XZ 2>/dev/null || continue
  if ip netns exec "$router" "$c" -A XZ -p udp -m u32 \
    --u32 "0>>22&0x3C@8>>16&0xFF=0x10:0x1F" 2>/dev/null; then
    exact=1
  fi
  ip netns exec "$router" "$c" -A XZ -p udp
  for a in $(seq 1 $zones); do
    for b in $(seq 1 $zones); do
      [ "$a" = "$b" ] || ip netns exec "$router" "$c" -A FORWARD -i "br$a" -o "br$b" -j XZ
    done
  done
  iptables_cmd=$c
  break
done
forwarded() {  # forwarded [mcast]: packets counted so far
  if [ -n "$iptables_cmd" ]; then
    # Chain XZ: line 3 is its first rule (the u32 multicast match when exact), line 4 the next.
    local line=3
    [ "$exact" = 1 ] && [ "${1:-}" != mcast ] && line=4
    ip netns exec "$router" "$iptables_cmd" -L XZ -v -x -n | awk -v l=$line 'NR == l {print $1; exit}'
  else
    local z sum=0
    for z in $(seq 1 $zones); do
      sum=$((sum + $(ip netns exec "$router" cat /sys/class/net/br$z/statistics/rx_packets)))
    done
    echo $sum
  fi
}

# ---- the zones: a bridge per zone in the router, one veth pair per agent ----
ip -n "$router" link set lo up
zone_of() { echo $((($1 - 1) / per_zone + 1)); }
ip_of() { echo "10.78.$(zone_of "$1").$((10 + ($1 - 1) % per_zone))"; }
ns_of() { echo "$prefix-n$1"; }
for z in $(seq 1 $zones); do
  ip -n "$router" link add "br$z" type bridge
  ip -n "$router" addr add "10.78.$z.1/24" dev "br$z"
  ip -n "$router" link set "br$z" up
done
for i in $(seq 1 $n); do
  ns=$(ns_of "$i")
  ip netns add "$ns"
  namespaces+=("$ns")
  ip -n "$router" link add "v$i" type veth peer name eth0 netns "$ns"
  ip -n "$router" link set "v$i" master "br$(zone_of "$i")"
  ip -n "$router" link set "v$i" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$(ip_of "$i")/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route add default via "10.78.$(zone_of "$i").1"
done
if command -v ping >/dev/null; then
  wait_until 5000 ip netns exec "$(ns_of 1)" ping -c 1 -W 1 "$(ip_of $n)" >/dev/null 2>&1 ||
    fail "the router does not forward between zones"
fi

# Agents on non-loopback addresses refuse to start without a key unless told --insecure (not
# detected with `--help | grep -q`: under pipefail grep's early exit can SIGPIPE the help).
insecure=(--insecure)

config="$work/agent.toml"
cat >"$config" <<EOF
rpc_addr = "127.0.0.1:7373"
leave_timeout = "1s"
[membership]
profile = "lan"
probe_interval = "500ms"
probe_timeout = "250ms"
gossip_interval = "100ms"
push_pull_interval = "5s"
[multicast]
protocol = "push"
fanout = 2
stop = "rounds"
stop_rounds = 5
period = "100ms"
EOF

in_ns() {
  local i=$1
  shift
  ip netns exec "$(ns_of "$i")" "$@"
}
info() {
  in_ns "$1" timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/7373 &&
    printf "%s\n" "{\"cmd\":\"info\"}" >&3 && head -n 1 <&3' 2>/dev/null
}
stat_of() { info "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['stats']['$2'])"; }
members_json() { in_ns "$1" timeout 5 "$grapevine" members --json --rpc-addr 127.0.0.1:7373 2>/dev/null; }
alive_count() {
  members_json "$1" | python3 -c 'import json, sys
print(sum(1 for m in json.load(sys.stdin) if m["state"] == "alive"))' 2>/dev/null
}
all_alive() {
  local i
  for i in $(seq 1 $n); do [ "$(alive_count "$i")" = $n ] || return 1; done
}
all_delivered() {  # all_delivered COUNT
  local i
  for i in $(seq 1 $n); do [ "$(stat_of "$i" delivered)" -ge "$1" ] || return 1; done
}

# Zones from addresses (--zone-prefix 24), or named (GRAPEVINE_ZONES_NAMED=1: --zone zZ).
zone_flag() {
  if [ "${GRAPEVINE_ZONES_NAMED:-}" = 1 ]; then echo "--zone z$(zone_of "$1")"; else echo "--zone-prefix 24"; fi
}

# run_group MODE: starts the n agents (MODE aware|oblivious), converges, measures; sets
# $mcast_cross (forwarded UDP with multicasts minus without) and stops them.
run_group() {
  local mode=$1 i flags=() group_pids=() base0 base1 m0 m1 window_ms=3500
  [ "$mode" = aware ] && flags=(--topology-aware)
  local want=false
  [ "$mode" = aware ] && want=true
  for i in $(seq 1 $n); do
    local join=()
    [ "$i" -eq 1 ] || join=(--join "$(ip_of 1):7946")
    # Not through in_ns: `ip netns exec` execs the agent, so $! is the agent's own PID.
    ip netns exec "$(ns_of "$i")" "$grapevine" agent --config "$config" --name "node$i" $(zone_flag "$i") \
      "${flags[@]}" "${insecure[@]}" --bind "$(ip_of "$i"):7946" "${join[@]}" \
      >"$work/$mode-node$i.log" 2>&1 &
    pids+=($!)
    group_pids+=($!)
    if [ "$i" -eq 1 ]; then wait_until 5000 info 1 >/dev/null || fail "node1's RPC did not come up"; fi
  done
  wait_until 20000 all_alive || fail "$mode: the $n agents did not converge"
  for i in 1 $n; do
    [ "$(info "$i" | python3 -c 'import json, sys; print(str(json.load(sys.stdin)["topology_aware"]).lower())')" = $want ] ||
      fail "$mode: node$i does not report topology_aware $want"
  done
  # Every agent lists every member's zone, derived from its address.
  members_json 5 | GRAPEVINE_ZONES_NAMED=${GRAPEVINE_ZONES_NAMED:-} python3 -c '
import json, os, sys
for m in json.load(sys.stdin):
    ip = m["address"].rsplit(":", 1)[0]
    want = ".".join(ip.split(".")[:3]) + ".0/24"
    if os.environ["GRAPEVINE_ZONES_NAMED"] == "1":
        want = "z" + ip.split(".")[2]
    assert m["zone"] == want, (m["name"], m["zone"], want)' || fail "$mode: zones not as derived"
  sleep 1
  base0=$(forwarded)
  sleep "$(awk -v w=$window_ms 'BEGIN { print w / 1000 }')"
  base1=$(forwarded)
  m0=$(forwarded)
  local x0 x1
  x0=$(forwarded mcast)
  local t0
  t0=$(now_ms)
  for i in $(seq 1 $multicasts); do
    in_ns $((1 + (i * 5) % n)) "$grapevine" send --rpc-addr 127.0.0.1:7373 "m$i-$mode" >/dev/null ||
      fail "$mode: send"
    sleep 0.15
  done
  local rest=$((window_ms - ($(now_ms) - t0)))
  [ $rest -gt 0 ] && sleep "$(awk -v w=$rest 'BEGIN { print w / 1000 }')"
  m1=$(forwarded)
  x1=$(forwarded mcast)
  wait_until 5000 all_delivered $multicasts || fail "$mode: not every agent delivered all $multicasts"
  if [ "$exact" = 1 ]; then
    mcast_cross=$((x1 - x0))
    how="counted exactly by $iptables_cmd's u32 match"
  else
    mcast_cross=$(((m1 - m0) - (base1 - base0)))
    [ $mcast_cross -ge 0 ] || mcast_cross=0
    how="estimated: with multicasts minus without"
  fi
  echo "ok: $mode: $n agents in $zones zones delivered all $multicasts multicasts;" \
    "router forwarded $((m1 - m0)) UDP datagrams in ${window_ms} ms with multicasts," \
    "$((base1 - base0)) without; $mcast_cross cross-zone multicast datagrams ($how)"
  for i in "${group_pids[@]}"; do kill -9 "$i" 2>/dev/null || true; done
  for i in "${group_pids[@]}"; do wait "$i" 2>/dev/null || true; done
  # Started again on the same addresses next: make sure these are gone.
  for i in "${group_pids[@]}"; do ! kill -0 "$i" 2>/dev/null || fail "agent $i still running"; done
}

run_group oblivious
oblivious=$mcast_cross
run_group aware
aware=$mcast_cross
[ "$oblivious" -gt 0 ] || fail "no cross-zone multicast traffic measured without topology awareness"
[ $((aware * 2)) -lt "$oblivious" ] ||
  fail "topology awareness did not halve cross-zone multicast datagrams: $aware vs $oblivious"
echo "ok: cross-zone multicast datagrams: $oblivious oblivious, $aware topology-aware" \
  "(counted by ${iptables_cmd:-bridge rx counters}); done in $(($(now_ms) - t_start)) ms"
