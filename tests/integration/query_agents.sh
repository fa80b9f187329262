#!/usr/bin/env bash
# `grapevine query` end to end across three `grapevine agent` processes on 127.0.0.1 (native
# dialect): agents 2 and 3 answer queries named "uptime" (--query-response), agent 1 does not.
#   - a query from agent 1 gets 3 acks and 2 responses, node -> payload in --json, and a summary
#     line in text; agent 2's monitor shows the query it received;
#   - --node and --tag filters restrict who acks and answers; --no-ack gets no acks;
#   - an internal name (_grapevine_...) and an oversized payload are refused with a clear error.
# Every process started here is killed by PID on exit. Usage: bash query_agents.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")
source "$(dirname "$0")/lib/common.sh"
scratch_dir query 30

free_port_block 21000 600
rpc() { echo "127.0.0.1:$((base + 10 + $1))"; }
start_agent() {  # start_agent i [flags...]
  local i=$1
  shift
  "$grapevine" agent --name "agent$i" --bind "127.0.0.1:$((base + i))" --rpc-addr "$(rpc "$i")" \
    --profile local --log-level warn "$@" >"$work/agent$i.log" 2>&1 &
  pids+=($!)
}
start_agent 1 --tag role=lb
start_agent 2 --join "127.0.0.1:$((base + 1))" --tag role=web --query-response uptime=up-2
start_agent 3 --join "127.0.0.1:$((base + 1))" --tag role=web --query-response uptime=up-3
alive() {
  [ "$("$grapevine" members --json --rpc-addr "$(rpc "$1")" 2>/dev/null |
    python3 -c 'import json,sys; print(sum(m["state"] == "alive" for m in json.load(sys.stdin)))' 2>/dev/null)" = 3 ]
}
all_alive() { alive 1 && alive 2 && alive 3; }
wait_until 10000 all_alive || fail "the three agents did not converge"

timeout 20 "$grapevine" monitor --rpc-addr "$(rpc 2)" >"$work/monitor2.txt" 2>&1 &
pids+=($!)
sleep 0.3
out=$("$grapevine" query uptime hello --timeout 1500ms --json --rpc-addr "$(rpc 1)")
python3 - "$out" <<'PY' || fail "query --json: $out"
import json, sys
r = json.loads(sys.argv[1])
assert sorted(r["acks"]) == ["agent1", "agent2", "agent3"], r
assert r["responses"] == {"agent2": "up-2", "agent3": "up-3"}, r
assert abs(r["timeout_seconds"] - 1.5) < 0.01, r
PY
echo "ok: 3 acks and 2 responses, node -> payload"
grep -q '"event":"query"' "$work/monitor2.txt" && grep -q '"name":"uptime"' "$work/monitor2.txt" ||
  fail "agent 2's monitor did not show the query: $(cat "$work/monitor2.txt")"
echo "ok: the monitor shows a query received"

text=$("$grapevine" query uptime --timeout 1s --rpc-addr "$(rpc 3)")
grep -q "response from 'agent2'" <<<"$text" && grep -q "total acks: 3, total responses: 2" <<<"$text" ||
  fail "query text output: $text"
out=$("$grapevine" query uptime --node agent3 --node agent1 --timeout 1s --json --rpc-addr "$(rpc 1)")
python3 -c 'import json,sys; r = json.loads(sys.argv[1]); assert sorted(r["acks"]) == ["agent1", "agent3"] and r["responses"] == {"agent3": "up-3"}, r' "$out" ||
  fail "--node filter: $out"
out=$("$grapevine" query uptime --tag 'role=^w' --no-ack --relay-factor 1 --timeout 1s --json --rpc-addr "$(rpc 1)")
python3 -c 'import json,sys; r = json.loads(sys.argv[1]); assert r["acks"] == [] and sorted(r["responses"]) == ["agent2", "agent3"], r' "$out" ||
  fail "--tag / --no-ack: $out"
echo "ok: --node, --tag, --no-ack and --relay-factor"

if "$grapevine" query _grapevine_keys --rpc-addr "$(rpc 1)" 2>"$work/err.txt"; then
  fail "an internal query name was accepted"
fi
grep -q "internal" "$work/err.txt" || fail "no clear error for an internal name: $(cat "$work/err.txt")"
big=$(head -c 1100 /dev/zero | tr '\0' x)
if "$grapevine" query big "$big" --rpc-addr "$(rpc 1)" 2>"$work/err.txt"; then
  fail "an oversized query was accepted"
fi
grep -q "1024" "$work/err.txt" || fail "no clear error for an oversized query: $(cat "$work/err.txt")"
echo "ok: internal names and oversized queries refused"
