#!/usr/bin/env bash
# Five `grapevine agent` processes, each in its own network namespace, on a bridged private LAN
# (10.77.0.0/24 inside a hub namespace, one veth pair per node) with `tc netem loss 10% delay
# 5ms` on every node's side. Checks that under that loss
#   - the group converges and keeps an accurate list: after a soak, every agent lists all five
#     alive (false suspicions are refuted; nobody is stuck as failed);
#   - a multicast still reaches every agent;
#   - a node cut off (its veth set down) is reported failed by all the others within the
#     detector's bound.
# Needs root, `ip netns` (CAP_SYS_ADMIN) and tc netem (kernel module sch_netem); without them it
# exits 77, which ctest reports as skipped, saying why. On a kernel without netem, iptables'
# statistic match drops the 10% instead (no delay); GRAPEVINE_NETNS_NO_NETEM=1 runs it without
# any loss when neither is there (the accuracy check is then weaker).
# Everything it creates (namespaces, links, processes) is removed on exit.
# Usage: bash netns_lossy.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")

source "$(dirname "$0")/lib/common.sh"
t_start=$(now_ms)

require_netns
command -v tc >/dev/null || skip "tc (iproute2) is not installed"
command -v python3 >/dev/null || skip "python3 is not installed"

n=5
prefix="gv$$"
hub="$prefix-hub"
scratch_dir netns 25  # $work, $pids and $namespaces, ended on exit

if ! ip netns add "$hub" 2>"$work/netns.err"; then
  skip "ip netns add failed (no CAP_SYS_ADMIN?): $(head -n 1 "$work/netns.err")"
fi
namespaces+=("$hub")

# How to lose packets: tc netem (loss 10% delay 5ms; loads sch_netem if it can). Kernels built
# without netem but with iptables' statistic match get 10% loss from iptables instead (no delay),
# so the accuracy check still runs there.
ip -n "$hub" link add probe0 type veth peer name probe1
netem_ok() { ip netns exec "$hub" tc qdisc add dev probe0 root netem loss 10% delay 5ms 2>"$work/netem.err"; }
iptables_cmd=
for c in iptables-legacy iptables; do
  if command -v "$c" >/dev/null; then iptables_cmd=$c; break; fi
done
iptables_ok() {
  [ -n "$iptables_cmd" ] && ip netns exec "$hub" "$iptables_cmd" -A OUTPUT -o probe0 -m statistic \
    --mode random --probability 0.1 -j DROP 2>"$work/iptables.err"
}
loss=
if netem_ok; then
  loss=netem
else
  if command -v modprobe >/dev/null; then modprobe sch_netem 2>/dev/null || true; fi
  if netem_ok; then
    loss=netem
  elif iptables_ok; then
    loss=iptables
    echo "note: tc netem is unavailable ($(head -n 1 "$work/netem.err"));" \
      "10% loss from $iptables_cmd's statistic match instead, without the 5 ms delay"
  elif [ "${GRAPEVINE_NETNS_NO_NETEM:-}" = 1 ]; then
    loss=none
    echo "note: no way to drop packets here; running WITHOUT loss (GRAPEVINE_NETNS_NO_NETEM=1)"
  else
    skip "tc netem is unavailable (kernel module sch_netem not loaded or not built:" \
      "$(head -n 1 "$work/netem.err")), and so is iptables' statistic match"
  fi
fi
ip -n "$hub" link del probe0

# ---- the LAN: a bridge in the hub, one veth pair per node namespace ----
ip -n "$hub" link add br0 type bridge
ip -n "$hub" link set br0 up
ip_of() { echo "10.77.0.$((10 + $1))"; }
for i in $(seq 1 $n); do
  ns="$prefix-n$i"
  ip netns add "$ns"
  namespaces+=("$ns")
  ip -n "$hub" link add "h$i" type veth peer name eth0 netns "$ns"
  ip -n "$hub" link set "h$i" master br0
  ip -n "$hub" link set "h$i" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$(ip_of "$i")/24" dev eth0
  ip -n "$ns" link set eth0 up
  case $loss in
    netem) ip netns exec "$ns" tc qdisc add dev eth0 root netem loss 10% delay 5ms ;;
    iptables)
      ip netns exec "$ns" "$iptables_cmd" -A OUTPUT -o eth0 -m statistic --mode random \
        --probability 0.1 -j DROP
      ;;
  esac
done
ns_of() { echo "$prefix-n$1"; }
# The LAN works: node 1 reaches node n (ping is optional; UDP is what matters, checked below).
if command -v ping >/dev/null; then
  ok=0
  for _ in 1 2 3 4 5; do
    if ip netns exec "$(ns_of 1)" ping -c 1 -W 1 "$(ip_of $n)" >/dev/null 2>&1; then
      ok=1
      break
    fi
  done
  [ $ok -eq 1 ] || fail "the bridged LAN does not carry packets"
fi

# ---- timings: LAN profile, durations divided by 4; detection bound as in live_cluster.h ----
probe_ms=250
probe_timeout_ms=125
gossip_ms=50
push_pull_ms=4000
suspicion_mult=4         # lan profile
suspicion_max_mult=6     # MembershipConfig default
slack_ms=2000            # 5 ms links, 10% loss, processes, RPC polling
detect_bound_ms=$(awk -v n=$n -v p=$probe_ms -v g=$gossip_ms -v m=$suspicion_mult \
  -v x=$suspicion_max_mult -v pp=$push_pull_ms -v s=$slack_ms 'BEGIN {
    l = log(n) / log(10); if (l < 1) l = 1
    c = 0; while (2 ^ c < n) c++
    printf "%d", (n - 1) * p + p + x * m * l * p + p + 2 * c * g + pp + s }')

# The agents bind non-loopback addresses, so they need a key (protected by default): this also
# runs the native seal over lossy links.
key=$("$grapevine" keygen)
config="$work/agent.toml"
cat >"$config" <<EOF
rpc_addr = "127.0.0.1:7373"
leave_timeout = "1s"
[membership]
profile = "lan"
detector = "lifeguard"
encrypt = ["$key"]
probe_interval = "${probe_ms}ms"
probe_timeout = "${probe_timeout_ms}ms"
gossip_interval = "${gossip_ms}ms"
push_pull_interval = "${push_pull_ms}ms"
[multicast]
protocol = "pushpull"
period = "100ms"
EOF

# ---- helpers: every client command runs inside the agent's namespace ----
in_ns() {
  local i=$1
  shift
  ip netns exec "$(ns_of "$i")" "$@"
}
view() {
  in_ns "$1" timeout 5 "$grapevine" members --json --rpc-addr 127.0.0.1:7373 2>/dev/null |
    python3 -c 'import json, sys
print(" ".join(sorted(m["name"] + "=" + m["state"] for m in json.load(sys.stdin))))' 2>/dev/null
}
state_of() { view "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
info() {
  in_ns "$1" timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/7373 &&
    printf "%s\n" "{\"cmd\":\"info\"}" >&3 && head -n 1 <&3' 2>/dev/null
}
stat_of() { info "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['stats']['$2'])"; }
views() { for i in "$@"; do echo "[node$i: $(view "$i")]"; done; }

# ---- start the agents ----
for i in $(seq 1 $n); do
  join=()
  [ "$i" -eq 1 ] || join=(--join "$(ip_of 1):7946")
  ip netns exec "$(ns_of "$i")" "$grapevine" agent --config "$config" --name "node$i" \
    --bind "$(ip_of "$i"):7946" "${join[@]}" >"$work/node$i.log" 2>&1 &
  pids+=($!)
  eval "pid$i=$!"
  if [ "$i" -eq 1 ]; then
    wait_until 5000 info 1 >/dev/null || fail "node1's RPC did not come up"
  fi
done

all_alive() {  # all_alive OBSERVER...: each lists the n members, all alive
  local o expected
  expected=$(for i in $(seq 1 $n); do printf 'node%d=alive ' "$i"; done)
  for o in "$@"; do [ "$(view "$o") " = "$expected" ] || return 1; done
}
wait_until 20000 all_alive $(seq 1 $n) || fail "no convergence under loss: $(views $(seq 1 $n))"
case $loss in
  netem) loss_text="10% loss (netem, 5 ms delay)" ;;
  iptables) loss_text="10% loss (iptables)" ;;
  *) loss_text="no loss" ;;
esac
echo "ok: $n agents in $n namespaces converged under $loss_text in ${waited_ms} ms"

# ---- soak: the list stays accurate under loss ----
soak_s=8
sleep $soak_s
suspicions=0
refutations=0
for i in $(seq 1 $n); do
  suspicions=$((suspicions + $(stat_of "$i" suspicions)))
  refutations=$((refutations + $(stat_of "$i" refutations)))
done
# The loss is real: about a tenth of what the agents send never arrives.
total_out=0
total_in=0
dropped=0
for i in $(seq 1 $n); do
  total_out=$((total_out + $(stat_of "$i" datagrams_out)))
  total_in=$((total_in + $(stat_of "$i" datagrams_in)))
  if [ "$loss" = iptables ]; then
    # Dropped by OUTPUT before the socket call returns (EPERM): not in datagrams_out.
    d=$(in_ns "$i" "$iptables_cmd" -L OUTPUT -v -x -n | awk '/statistic/ {print $1; exit}')
    dropped=$((dropped + d))
  fi
done
case $loss in
  netem) lost_permille=$(((total_out - total_in) * 1000 / total_out)) ;;
  iptables) lost_permille=$((dropped * 1000 / (dropped + total_out))) ;;
  *) lost_permille=0 ;;
esac
if [ "$loss" != none ] && { [ $lost_permille -lt 50 ] || [ $lost_permille -gt 200 ]; }; then
  fail "expected about 10% loss, measured $lost_permille per mille" \
    "(out $total_out, in $total_in, dropped $dropped)"
fi
# False suspicions may come and go; after the soak every agent must again list everyone alive.
wait_until 10000 all_alive $(seq 1 $n) ||
  fail "after ${soak_s}s under loss the lists are not accurate: $(views $(seq 1 $n))"
for i in $(seq 1 $n); do
  if grep -q "member failed" "$work/node$i.log"; then
    echo "note: node$i declared someone failed during the soak (refuted since):"
    grep "member failed" "$work/node$i.log" | head -n 3
  fi
done
echo "ok: after a ${soak_s}s soak under $loss_text (measured $lost_permille per mille) every" \
  "agent lists all $n alive ($suspicions suspicions, $refutations refutations in total)"

# ---- a multicast under loss reaches everyone ----
payload="under-loss-$$"
in_ns 2 "$grapevine" send --rpc-addr 127.0.0.1:7373 "$payload" >/dev/null || fail "send"
all_delivered() {
  local i
  for i in $(seq 1 $n); do [ "$(stat_of "$i" delivered)" -ge 1 ] || return 1; done
}
wait_until 10000 all_delivered || fail "multicast not delivered everywhere under loss"
for i in $(seq 1 $n); do
  grep -q "delivered" "$work/node$i.log" || fail "node$i did not log the delivery"
done
echo "ok: a multicast from node2 reached all $n under $loss_text in ${waited_ms} ms"

# ---- cut node 4 off: the others report it failed ----
victim=4
t_cut=$(now_ms)
ip -n "$hub" link set "h$victim" down
others=$(seq 1 $n | grep -vx $victim)
all_see_failed() {
  local o
  for o in $others; do [ "$(state_of "$o" node$victim)" = failed ] || return 1; done
}
wait_until "$detect_bound_ms" all_see_failed ||
  fail "node$victim not failed everywhere within $detect_bound_ms ms: $(views $others)"
echo "ok: cut-off node$victim failed at all others after $(($(now_ms) - t_cut)) ms" \
  "(bound $detect_bound_ms ms)"
# The survivors still list each other alive.
for o in $others; do
  for s in $others; do
    [ "$(state_of "$o" "node$s")" = alive ] || fail "node$o lists node$s as $(state_of "$o" "node$s")"
  done
done

# ---- stop: SIGTERM everyone still connected; each exits 0 ----
for o in $others; do kill -TERM "$(eval echo "\$pid$o")"; done
for o in $others; do
  p=$(eval echo "\$pid$o")
  timeout 10 tail --pid="$p" -f /dev/null || fail "node$o did not exit on SIGTERM"
  rc=0
  wait "$p" || rc=$?
  [ "$rc" -eq 0 ] || fail "node$o exited with $rc"
done
echo "ok: done in $(($(now_ms) - t_start)) ms"
