#!/usr/bin/env bash
# Consistent membership (Rapid) across a real partition: 7 `grapevine agent --membership
# consistent` processes, each in its own network namespace on one /24 (10.79.0.0/24). A switch
# namespace holds two bridges, side A (agents 1-5) and side B (agents 6-7), joined by a veth
# pair; setting that pair down cuts side B off (A and B still talk inside themselves), setting
# it up heals. Checks:
#   - all 7 agree on one configuration of 7 (members RPC: same id, size 7);
#   - after the cut, the majority (1-5) installs one new configuration of 5 without 6 and 7;
#   - the minority (6, 7) cannot decide: it keeps its last configuration id, reports stalled on
#     the metrics endpoint (grapevine_consistent_stalled 1), and `grapevine monitor` on agent 6
#     printed a view_stalled event; the members RPC says "stalled": true;
#   - after the heal, with no action on any agent, all 7 end in one configuration of 7 again.
# Rapid's timings are shortened in the agents' TOML ([membership.consistent]) so that this takes
# about 20 s. Each agent's RPC and metrics listen on a second, management link (10.80.0.0/24, a
# third bridge the cut never touches), so one python3 process in the switch namespace reads all
# seven per check (cheap polling: CI runs this beside other tests). Needs root and `ip netns`; without them it exits 77 (skipped, saying why).
# Everything it creates (namespaces, links, processes) is removed on exit.
# Usage: bash netns_consistent_partition.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")

source "$(dirname "$0")/lib/common.sh"
t_start=$(now_ms)

require_netns
command -v python3 >/dev/null || skip "python3 is not installed"

n=7
majority="1 2 3 4 5"
minority="6 7"
prefix="gc$$"
switch="$prefix-sw"
scratch_dir consistent-partition 25  # $work, $pids and $namespaces, ended on exit

if ! ip netns add "$switch" 2>"$work/netns.err"; then
  skip "ip netns add failed (no CAP_SYS_ADMIN?): $(head -n 1 "$work/netns.err")"
fi
namespaces+=("$switch")

# ---- the switch: bridge brA (side A), bridge brB (side B), the link xa <-> xb between them ----
ip -n "$switch" link set lo up
for side in A B; do
  ip -n "$switch" link add "br$side" type bridge
  ip -n "$switch" link set "br$side" up
done
ip -n "$switch" link add brM type bridge
ip -n "$switch" addr add 10.80.0.1/24 dev brM
ip -n "$switch" link set brM up
ip -n "$switch" link add xa type veth peer name xb
ip -n "$switch" link set xa master brA
ip -n "$switch" link set xb master brB
ip -n "$switch" link set xa up
ip -n "$switch" link set xb up
ip_of() { echo "10.79.0.$((10 + $1))"; }
mgmt_of() { echo "10.80.0.$((10 + $1))"; }
ns_of() { echo "$prefix-n$1"; }
side_of() { if [ "$1" -le 5 ]; then echo A; else echo B; fi; }
for i in $(seq 1 $n); do
  ns=$(ns_of "$i")
  ip netns add "$ns"
  namespaces+=("$ns")
  ip -n "$switch" link add "v$i" type veth peer name eth0 netns "$ns"
  ip -n "$switch" link set "v$i" master "br$(side_of "$i")"
  ip -n "$switch" link set "v$i" up
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$(ip_of "$i")/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$switch" link add "m$i" type veth peer name mgmt netns "$ns"
  ip -n "$switch" link set "m$i" master brM
  ip -n "$switch" link set "m$i" up
  ip -n "$ns" addr add "$(mgmt_of "$i")/24" dev mgmt
  ip -n "$ns" link set mgmt up
done
if command -v ping >/dev/null; then
  wait_until 5000 ip netns exec "$(ns_of 1)" ping -c 1 -W 1 "$(ip_of $n)" >/dev/null 2>&1 ||
    fail "the two bridges do not forward to each other"
fi

# Agents on non-loopback addresses refuse to start without a key unless told --insecure. (Not
# detected from `agent --help | grep -q`: under pipefail grep's early exit SIGPIPEs the help and
# the detection failed at random, seen under ASan.)
insecure=(--insecure)

config="$work/agent.toml"
cat >"$config" <<EOF
leave_timeout = "1s"
[membership]
mode = "consistent"
[membership.consistent]
probe_interval = "200ms"
probe_timeout = "150ms"
probe_misses = 5
gossip_interval = "100ms"
propose_delay = "200ms"
unstable_timeout = "2s"
classic_timeout = "1s"
stall_timeout = "3s"
EOF

# One python3 in the switch namespace asks every agent named (RPC `members`, /metrics):
#   check agree SIZE I...   the agents report one configuration id with SIZE members (prints it)
#   check stalled I...      each has grapevine_consistent_stalled 1 and "stalled": true
#   check settled SIZE I... each has grapevine_consistent_stalled 0 and SIZE members (metrics)
#   check config I          prints "id size stalled" of agent I
#   check metric I NAME     prints the sample NAME of agent I
cat >"$work/check.py" <<'PY'
import json, socket, sys, urllib.request

def rpc(i):
    with socket.create_connection(("10.80.0.%d" % (10 + i), 7373), timeout=3) as s:
        s.sendall(b'{"cmd":"members"}\n')
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return json.loads(buf).get("configuration") or {}

def metric(i, name):
    url = "http://10.80.0.%d:9100/metrics" % (10 + i)
    for line in urllib.request.urlopen(url, timeout=3).read().decode().splitlines():
        if line.split(" ")[0] == name:
            return line.split(" ")[1]
    return ""

try:
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "agree":
        cs = [rpc(int(i)) for i in args[1:]]
        ids = {c.get("id") for c in cs}
        ok = len(ids) == 1 and all(c.get("size") == int(args[0]) for c in cs)
        print(ids.pop() if ok else "")
        sys.exit(0 if ok else 1)
    if cmd == "stalled":
        for i in map(int, args):
            if metric(i, "grapevine_consistent_stalled") != "1" or rpc(i).get("stalled") is not True:
                sys.exit(1)
        sys.exit(0)
    if cmd == "settled":
        for i in map(int, args[1:]):
            if (metric(i, "grapevine_consistent_stalled") != "0" or
                    metric(i, "grapevine_consistent_members") != args[0]):
                sys.exit(1)
        sys.exit(0)
    if cmd == "config":
        c = rpc(int(args[0]))
        print(c.get("id", ""), c.get("size", ""), str(c.get("stalled", "")).lower())
    if cmd == "metric":
        print(metric(int(args[0]), args[1]))
except (OSError, ValueError):
    sys.exit(1)
PY
check() { ip netns exec "$switch" python3 "$work/check.py" "$@" 2>/dev/null; }
id_of() { local c; c=$(check config "$1") || true; echo "${c%% *}"; }
# all_in SIZE AGENT...: the agents report one id and SIZE members; sets $agreed_id.
all_in() { agreed_id=$(check agree "$@"); }
stalled() { check stalled "$@"; }
mgmt() { ip netns exec "$switch" "$@"; }

monitor_saw() {  # monitor_saw KIND ID: agent 6's monitor printed a KIND event naming ID
  python3 - "$work/monitor6.log" "$1" "$2" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if e.get("kind") == sys.argv[2] and e.get("configuration_id") == sys.argv[3]:
        sys.exit(0)
sys.exit(1)
PY
}

for i in $(seq 1 $n); do
  join=()
  [ "$i" -eq 1 ] || join=(--join "$(ip_of 1):7946")
  # `ip netns exec` execs the agent, so $! is the agent's own PID.
  ip netns exec "$(ns_of "$i")" "$grapevine" agent --config "$config" "${insecure[@]}" \
    --bind "$(ip_of "$i"):7946" --rpc-addr "$(mgmt_of "$i"):7373" \
    --metrics-addr "$(mgmt_of "$i"):9100" "${join[@]}" >"$work/node$i.log" 2>&1 &
  pids+=($!)
  if [ "$i" -eq 1 ]; then wait_until 5000 check config 1 >/dev/null || fail "node1's RPC did not come up"; fi
done
wait_until 15000 all_in $n $(seq 1 $n) || fail "the $n agents did not agree on one configuration"
full=$agreed_id
echo "ok: $n agents in configuration $full after $(($(now_ms) - t_start)) ms"
mgmt "$grapevine" members --rpc-addr "$(mgmt_of 6):7373" | head -n 1 | grep -q "^configuration $full .* $n members" ||
  fail "grapevine members does not show configuration $full"

# The monitor of a minority agent, started before the cut.
ip netns exec "$switch" timeout 60 "$grapevine" monitor --rpc-addr "$(mgmt_of 6):7373" \
  >"$work/monitor6.log" 2>&1 &
pids+=($!)
sleep 0.5

# ---- the cut ----
t_cut=$(now_ms)
ip -n "$switch" link set xa down
wait_until 12000 all_in 5 $majority || fail "the majority did not install a configuration of 5"
major=$agreed_id
[ "$major" != "$full" ] || fail "the majority's configuration id did not change"
echo "ok: majority installed $major (5 members) $(($(now_ms) - t_cut)) ms after the cut"
wait_until 12000 stalled $minority || fail "the minority did not report stalled (metric and RPC)"
echo "ok: minority stalled (grapevine_consistent_stalled 1) $(($(now_ms) - t_cut)) ms after the cut"
for i in $minority; do
  [ "$(id_of "$i")" = "$full" ] || fail "minority agent $i left its last configuration $full"
done
wait_until 3000 monitor_saw view_stalled "$full" ||
  fail "monitor on agent 6 printed no view_stalled event for $full"
mgmt "$grapevine" members --rpc-addr "$(mgmt_of 6):7373" | head -n 1 | grep -q "stalled" ||
  fail "grapevine members does not say stalled"

# ---- the heal: nothing else is done to any agent ----
t_heal=$(now_ms)
ip -n "$switch" link set xa up
wait_until 20000 all_in $n $(seq 1 $n) || fail "the $n agents did not merge into one configuration"
merged=$agreed_id
[ "$merged" != "$full" ] && [ "$merged" != "$major" ] || fail "merged configuration id not new"
merge_ms=$(($(now_ms) - t_heal))
check settled $n $(seq 1 $n) || fail "metrics: some agent still stalled, or not $n members"
wait_until 3000 monitor_saw view_changed "$merged" ||
  fail "monitor on agent 6 printed no view_changed for $merged"
echo "ok: merged into $merged ($n members) $merge_ms ms after the heal;" \
  "done in $(($(now_ms) - t_start)) ms"
