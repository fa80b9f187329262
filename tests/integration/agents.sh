#!/usr/bin/env bash
# Five `grapevine agent` processes on 127.0.0.1, each with its own ports and TOML config, joined
# through the first. Checks, through the client commands and the RPC protocol (tools/rpc.h):
#   - bad configs fail with one clear line and a non-zero exit; a busy port too;
#   - every agent lists the same five names, all alive; flags override the TOML file;
#   - `send` from one agent is delivered once by every agent (`monitor` output and `info`);
#   - --metrics-addr (flag or TOML) serves Prometheus text with grapevine_members;
#   - SIGKILL: the others report it failed within the detector's bound (from the config);
#   - SIGTERM: the agent exits 0 and the others report it left, never failed;
#   - force-leave of the killed one: left everywhere; `leave` over RPC: left, exit 0.
# Every process started here is killed by PID on exit. Usage: bash agents.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")

source "$(dirname "$0")/lib/common.sh"
scratch_dir agents 30
t_start=$(now_ms)

# ---- timings: memberlist's LAN profile with its durations divided by 4 ----
# (LAN rather than Local: Local's retransmit_mult 2 gives a leave only two transmissions, which
# in a group this small can both go to members that already departed: see
# DISABLED_LeaveReachesTheLiveMembersWhenManyHaveLeft in runtime_cluster_test.cc.)
n=5
probe_ms=250
probe_timeout_ms=125
gossip_ms=50
push_pull_ms=4000
suspicion_mult=4         # lan profile
suspicion_max_mult=6     # MembershipConfig default
slack_ms=1500            # processes, RPC polling, a loaded machine
# Crash -> failed everywhere (tests/integration/live_cluster.h, failure_detection_bound):
# (n-1) probe periods to the first probe, one for the probe to fail, Lifeguard's longest
# suspicion timeout (max_mult x mult x max(1, log10 n) x probe_interval, suspicion.h), and the
# news spreading (spread_bound: a probe period, 2 ceil(log2 n) gossip rounds and one
# push-pull round for a member the few retransmissions missed), plus slack.
detect_bound_ms=$(awk -v n=$n -v p=$probe_ms -v g=$gossip_ms -v m=$suspicion_mult \
  -v x=$suspicion_max_mult -v pp=$push_pull_ms -v s=$slack_ms 'BEGIN {
    l = log(n) / log(10); if (l < 1) l = 1
    c = 0; while (2 ^ c < n) c++
    printf "%d", (n - 1) * p + p + x * m * l * p + p + 2 * c * g + pp + s }')
spread_bound_ms=$((probe_ms + 2 * 3 * gossip_ms + push_pull_ms + slack_ms))
converge_bound_ms=10000

# ---- ports: 20 free ones below the ephemeral range (so no kernel-picked port takes them) ----
free_port_block 20000 600
bind_port() { echo $((base + $1)); }         # agent i (1..5): base+i
rpc_port() { echo $((base + 10 + $1)); }     # agent i: base+10+i
metrics1=$((base + 7))
metrics2=$((base + 8))

rpc_addr() { echo "127.0.0.1:$(rpc_port "$1")"; }

# ---- helpers ----
# One raw RPC request (a JSON line) to agent i; prints the response line.
rpc() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%s\n" "$2" >&3 && head -n 1 <&3' \
    _ "$(rpc_port "$1")" "$2"
}
# "name=state" for every member agent i lists, sorted, on one line.
view() {
  "$grapevine" members --json --rpc-addr "$(rpc_addr "$1")" 2>/dev/null |
    python3 -c 'import json, sys
print(" ".join(sorted(m["name"] + "=" + m["state"] for m in json.load(sys.stdin))))' 2>/dev/null
}
# state of member $2 in agent $1's list ("" if unknown or unreachable)
state_of() { view "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
all_see() {  # all_see STATE SUBJECT OBSERVER...
  local state=$1 subject=$2 o
  shift 2
  for o in "$@"; do [ "$(state_of "$o" "$subject")" = "$state" ] || return 1; done
}
# Prometheus text from IP:PORT (a plain HTTP GET over bash's /dev/tcp).
scrape() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3 && cat <&3' _ "$1"
}

write_config() {  # write_config i [extra lines...]
  local i=$1 f="$work/agent$1.toml"
  shift
  {
    echo "name = \"agent$i\""
    echo "bind = \"127.0.0.1:$(bind_port "$i")\""
    echo "rpc_addr = \"$(rpc_addr "$i")\""
    [ "$i" -eq 1 ] || echo "join = [\"127.0.0.1:$(bind_port 1)\"]"
    echo 'leave_timeout = "1s"'
    for line in "$@"; do echo "$line"; done
    echo '[membership]'
    echo 'profile = "lan"'
    echo 'detector = "lifeguard"'
    echo "probe_interval = \"${probe_ms}ms\""
    echo "probe_timeout = \"${probe_timeout_ms}ms\""
    echo "gossip_interval = \"${gossip_ms}ms\""
    echo "push_pull_interval = \"${push_pull_ms}ms\""
    echo '[multicast]'
    echo 'protocol = "pushpull"'
    echo 'period = "100ms"'
  } >"$f"
  echo "$f"
}

# ---- 1. bad configs: one line naming the file and what is wrong, exit code 2 ----
bad_config() {  # bad_config NAME EXPECTED_SUBSTRING CONTENT
  local f="$work/$1.toml" rc=0
  printf '%s\n' "$3" >"$f"
  timeout 10 "$grapevine" agent --config "$f" --bind "127.0.0.1:$(bind_port 9)" \
    --rpc-addr "$(rpc_addr 9)" >"$work/bad.out" 2>"$work/bad.err" || rc=$?
  [ "$rc" -ne 0 ] || fail "$1: exit code 0 for a bad config"
  [ "$rc" -eq 2 ] || fail "$1: exit code $rc, expected 2"
  [ "$(grep -c . "$work/bad.err")" -eq 1 ] || fail "$1: not one line: $(cat "$work/bad.err")"
  grep -qF "$f" "$work/bad.err" || fail "$1: error does not name the file: $(cat "$work/bad.err")"
  grep -qF -- "$2" "$work/bad.err" || fail "$1: expected '$2' in: $(cat "$work/bad.err")"
  [ ! -s "$work/bad.out" ] || fail "$1: printed on stdout: $(cat "$work/bad.out")"
}
bad_config syntax "line 1" 'name = "unterminated'
bad_config unknown_key "unknown key 'bogus'" 'bogus = 1'
bad_config unknown_nested "unknown key 'membership.probe_intervall'" \
  "$(printf '[membership]\nprobe_intervall = "1s"')"
bad_config not_a_string "membership.probe_interval" "$(printf '[membership]\nprobe_interval = 5')"
bad_config bad_duration "membership.probe_interval" \
  "$(printf '[membership]\nprobe_interval = "fast"')"
bad_config bad_address "bind" 'bind = "127.0.0.1:99999"'
bad_config bad_join "join" 'join = "127.0.0.1:1"'
bad_config bad_detector "detector" "$(printf '[membership]\ndetector = "oracle"')"
rc=0
timeout 10 "$grapevine" agent --config "$work/missing.toml" 2>"$work/bad.err" || rc=$?
[ "$rc" -eq 2 ] && [ "$(grep -c . "$work/bad.err")" -eq 1 ] && grep -qF missing.toml "$work/bad.err" ||
  fail "missing config file: exit $rc, $(cat "$work/bad.err")"
echo "ok: bad configs give one line and exit 2"

# ---- 2. start five agents, each from its own TOML file ----
start_agent() {  # start_agent i config [flags...]
  local i=$1 cfg=$2
  shift 2
  "$grapevine" agent --config "$cfg" "$@" >"$work/agent$i.log" 2>&1 &
  pids+=($!)
  eval "pid$i=$!"
}
rpc_up() { rpc "$1" '{"cmd":"info"}' 2>/dev/null | grep -q '"ok":true'; }

start_agent 1 "$(write_config 1)" --metrics-addr "127.0.0.1:$metrics1"
wait_until 5000 rpc_up 1 || fail "agent1's RPC did not come up"
start_agent 2 "$(write_config 2 "metrics_addr = \"127.0.0.1:$metrics2\"")"
start_agent 3 "$(write_config 3)"
start_agent 4 "$(write_config 4)" --log-level debug
# agent5: the file names it "from-toml"; the --name flag must win.
sed 's/^name = .*/name = "from-toml"/' "$(write_config 5)" >"$work/agent5b.toml"
start_agent 5 "$work/agent5b.toml" --name agent5
for i in 2 3 4 5; do wait_until 5000 rpc_up $i || fail "agent$i's RPC did not come up"; done

# A second agent on a busy port: one line, non-zero exit, and it does not disturb the group.
rc=0
timeout 10 "$grapevine" agent --bind "127.0.0.1:$(bind_port 1)" --rpc-addr "$(rpc_addr 9)" \
  >"$work/busy.out" 2>"$work/busy.err" || rc=$?
[ "$rc" -ne 0 ] && [ "$(grep -c . "$work/busy.err")" -eq 1 ] &&
  grep -q "cannot start a node on 127.0.0.1:$(bind_port 1)" "$work/busy.err" ||
  fail "busy port: exit $rc, stderr: $(cat "$work/busy.err")"

expected="agent1=alive agent2=alive agent3=alive agent4=alive agent5=alive"
converged() {
  local i
  for i in 1 2 3 4 5; do [ "$(view $i)" = "$expected" ] || return 1; done
}
wait_until $converge_bound_ms converged ||
  fail "views did not converge: $(for i in 1 2 3 4 5; do echo "[agent$i: $(view $i)]"; done)"
echo "ok: five agents agree on '$expected' (${waited_ms} ms after the last start)"
# The JSON itself: every member has an address on our ports, an id and incarnation 0.
"$grapevine" members --json --rpc-addr "$(rpc_addr 3)" | python3 -c '
import json, sys
base = int(sys.argv[1])
members = json.load(sys.stdin)
assert len(members) == 5, members
for m in members:
    i = int(m["name"][len("agent"):])
    assert m["address"] == "127.0.0.1:%d" % (base + i), m
    assert m["id"] and m["incarnation"] == 0 and m["state"] == "alive", m
' "$base" || fail "members --json content"
"$grapevine" members --rpc-addr "$(rpc_addr 1)" | grep -q '^NAME' || fail "members table header"

# ---- 3. multicast: send through agent2, delivered once everywhere ----
for i in 1 2 3 4 5; do
  "$grapevine" monitor --rpc-addr "$(rpc_addr $i)" >"$work/monitor$i.out" 2>"$work/monitor$i.log" &
  pids+=($!)
done
sleep 0.5  # the monitors subscribe
payload="hello-from-agent2-$$"
sent=$("$grapevine" send --rpc-addr "$(rpc_addr 2)" "$payload") || fail "send failed"
id=${sent#sent }
[ "$sent" != "$id" ] && [ -n "$id" ] || fail "send printed '$sent'"
delivered_of() { rpc "$1" '{"cmd":"info"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["stats"]["delivered"])'; }
all_delivered() {
  local i
  for i in 1 2 3 4 5; do
    [ "$(delivered_of $i)" = 1 ] || return 1
    grep -qF "\"payload\":\"$payload\"" "$work/monitor$i.out" || return 1
  done
}
wait_until 5000 all_delivered ||
  fail "not delivered everywhere: $(for i in 1 2 3 4 5; do echo "[agent$i delivered=$(delivered_of $i)]"; done)"
echo "ok: '$payload' ($id) delivered by all five in ${waited_ms} ms"
sleep 0.5  # a duplicate delivery would show now
for i in 1 2 3 4 5; do
  [ "$(grep -c '"event":"delivered"' "$work/monitor$i.out")" -eq 1 ] ||
    fail "agent$i's monitor shows $(grep -c '"event":"delivered"' "$work/monitor$i.out") deliveries"
  grep -F "\"payload\":\"$payload\"" "$work/monitor$i.out" | grep -qF "\"id\":\"$id\"" ||
    fail "agent$i: delivery does not carry id $id"
  [ "$(delivered_of $i)" = 1 ] || fail "agent$i: info.delivered = $(delivered_of $i)"
done
# Unknown commands and malformed requests get an error line, and the agent keeps answering.
rpc 1 '{"cmd":"nope"}' | grep -q '"ok":false' || fail "unknown cmd not refused"
rpc 1 'not json' | grep -q '"ok":false' || fail "malformed request not refused"
rpc_up 1 || fail "agent1 stopped answering after bad requests"

# ---- 4. metrics, from the flag (agent1) and from the TOML file (agent2) ----
for m in $metrics1 $metrics2; do
  text=$(scrape $m) || fail "no metrics on $m"
  grep -q '^HTTP/1.1 200' <<<"$text" || fail "metrics on $m: no 200: $(head -n 3 <<<"$text")"
  grep -q '^# TYPE grapevine_members gauge' <<<"$text" || fail "metrics on $m: no grapevine_members"
  grep -q '^grapevine_members{state="alive"} 5' <<<"$text" || fail "metrics on $m: alive != 5"
  grep -q '^grapevine_multicast_delivered_total 1' <<<"$text" || fail "metrics on $m: delivered"
  grep -q '^# TYPE grapevine_query_reasks_total counter' <<<"$text" || fail "metrics on $m: reasks"
done
# A client that connects and says nothing neither blocks other scrapes nor (below) the exit.
exec 7<>"/dev/tcp/127.0.0.1/$metrics1"
scrape $metrics1 | grep -q '^grapevine_members{state="alive"} 5' ||
  fail "an idle connection blocks the metrics of agent1"
echo "ok: metrics served by flag and by TOML, also beside an idle connection"

# ---- 5. SIGKILL agent3: failed everywhere within the detector's bound ----
t_kill=$(now_ms)
kill -9 "$pid3"
wait "$pid3" 2>/dev/null || true
wait_until "$detect_bound_ms" all_see failed agent3 1 2 4 5 ||
  fail "agent3 not failed everywhere within $detect_bound_ms ms: $(for i in 1 2 4 5; do echo "[agent$i: $(view $i)]"; done)"
echo "ok: SIGKILLed agent3 failed at all four others after $(($(now_ms) - t_kill)) ms (bound $detect_bound_ms ms)"
for i in 1 2 4 5; do
  grep -q '"kind":"failed".*"name":"agent3"' "$work/monitor$i.out" ||
    fail "agent$i's monitor has no failed event for agent3"
done
[ "$(view 1)" = "agent1=alive agent2=alive agent3=failed agent4=alive agent5=alive" ] ||
  fail "agent1's view after the crash: $(view 1)"

# ---- 6. SIGTERM agent4: exits 0 after its leave; left everywhere, never failed ----
t_term=$(now_ms)
kill -TERM "$pid4"
rc=0
timeout 10 tail --pid="$pid4" -f /dev/null || fail "agent4 did not exit within 10 s of SIGTERM"
wait "$pid4" || rc=$?
[ "$rc" -eq 0 ] || fail "agent4 exited with $rc after SIGTERM"
grep -q "graceful leave" "$work/agent4.log" || fail "agent4 did not log its leave"
wait_until "$spread_bound_ms" all_see left agent4 1 2 5 ||
  fail "agent4 not left everywhere: $(for i in 1 2 5; do echo "[agent$i: $(view $i)]"; done)"
echo "ok: SIGTERMed agent4 exited 0 and is left at all three others ($(($(now_ms) - t_term)) ms)"

# ---- 7. force-leave the killed agent3: left everywhere ----
"$grapevine" force-leave --rpc-addr "$(rpc_addr 1)" agent3 | grep -q "agent3 forced to leave" ||
  fail "force-leave agent3"
wait_until "$spread_bound_ms" all_see left agent3 1 2 5 ||
  fail "agent3 not left after force-leave: $(for i in 1 2 5; do echo "[agent$i: $(view $i)]"; done)"
echo "ok: force-leave turned agent3 left at all three others in ${waited_ms} ms"
rc=0
"$grapevine" force-leave --rpc-addr "$(rpc_addr 1)" agent2 2>"$work/fl.err" || rc=$?
[ "$rc" -ne 0 ] && [ "$(grep -c . "$work/fl.err")" -eq 1 ] ||
  fail "force-leave of a live member: exit $rc, $(cat "$work/fl.err")"
[ "$(state_of 1 agent2)" = alive ] || fail "force-leave of a live member changed it"

# ---- 8. `leave` over RPC: agent5 leaves and exits 0 ----
"$grapevine" leave --rpc-addr "$(rpc_addr 5)" | grep -q leaving || fail "leave agent5"
timeout 10 tail --pid="$pid5" -f /dev/null || fail "agent5 did not exit after leave"
rc=0
wait "$pid5" || rc=$?
[ "$rc" -eq 0 ] || fail "agent5 exited with $rc after leave"
wait_until "$spread_bound_ms" all_see left agent5 1 2 ||
  fail "agent5 not left: $(for i in 1 2; do echo "[agent$i: $(view $i)]"; done)"
echo "ok: agent5 left over RPC and exited 0"

# A leave is never a failure: no failed event for agent4 or agent5 in any monitor.
for i in 1 2; do
  if grep -q '"kind":"failed".*"name":"agent[45]"' "$work/monitor$i.out"; then
    fail "agent$i reported a leaver as failed: $(grep '"kind":"failed"' "$work/monitor$i.out")"
  fi
done
expected="agent1=alive agent2=alive agent3=left agent4=left agent5=left"
[ "$(view 1)" = "$expected" ] && [ "$(view 2)" = "$expected" ] ||
  fail "final views: [$(view 1)] [$(view 2)]"

# A client pointed at a stopped agent: one line, exit 1.
rc=0
"$grapevine" members --rpc-addr "$(rpc_addr 5)" >/dev/null 2>"$work/client.err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(grep -c . "$work/client.err")" -eq 1 ] &&
  grep -q "cannot reach the agent" "$work/client.err" ||
  fail "client against a stopped agent: exit $rc, $(cat "$work/client.err")"

# ---- 9. the rest stop cleanly on SIGTERM (agent1 with an idle metrics connection open) ----
exec 7<>"/dev/tcp/127.0.0.1/$metrics1"
kill -TERM "$pid1" "$pid2"
for p in "$pid1" "$pid2"; do
  timeout 10 tail --pid="$p" -f /dev/null || fail "agent (pid $p) did not exit on SIGTERM"
  rc=0
  wait "$p" || rc=$?
  [ "$rc" -eq 0 ] || fail "agent (pid $p) exited with $rc"
done
exec 7>&-
echo "ok: all agents stopped; total $(($(now_ms) - t_start)) ms"
