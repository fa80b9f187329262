#!/usr/bin/env bash
# A cluster-wide key rotation across three encrypted agents on 127.0.0.1, driven from ONE agent's
# RPC through `grapevine keys` (an internal query every live member answers by changing its own
# keyring; docs/security.md): install K2, use K2, remove K1. Each step reports 3 members, 3
# answers, 0 failures; after each all three still list three alive members; `keys list` counts
# K2 on 3 of 3; every agent's own keyring (--local) ends as [K2]. Refusals are per member and
# reported as failures: removing the primary, using a key not installed. A multicast after the
# rotation reaches all three; an agent holding only K1 can no longer join, and its packets show
# as wrong_key in the metrics.
# Every process started here is killed by PID on exit. Usage: bash keys_rotation.sh GRAPEVINE
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")
source "$(dirname "$0")/lib/common.sh"
scratch_dir keys 30

n=3
free_port_block 26000 300
bind_port() { echo $((base + $1)); }
rpc_addr() { echo "127.0.0.1:$((base + 10 + $1))"; }
metrics_port=$((base + 9))
k1=$("$grapevine" keygen)
k2=$("$grapevine" keygen)

start_agent() {  # start_agent i KEY [flags...]
  local i=$1 key=$2
  shift 2
  "$grapevine" agent --name "agent$i" --bind "127.0.0.1:$(bind_port "$i")" \
    --rpc-addr "$(rpc_addr "$i")" --profile local --encrypt "$key" --leave-timeout 1s \
    "$@" >"$work/agent$i.log" 2>&1 &
  pids+=($!)
}
alive_count() {
  "$grapevine" members --json --rpc-addr "$(rpc_addr "$1")" 2>/dev/null |
    python3 -c 'import json,sys; print(sum(m["state"] == "alive" for m in json.load(sys.stdin)))'
}
all_alive() {
  local i
  for i in $(seq 1 $n); do [ "$(alive_count "$i")" = "$n" ] || return 1; done
}
# Holds all_alive for 2 s (a few probe periods), failing on the first miss.
stays_alive() {
  local end=$(($(now_ms) + 2000))
  while [ "$(now_ms)" -lt "$end" ]; do
    all_alive || fail "$1: a member is missing or not alive"
    sleep 0.3
  done
}

start_agent 1 "$k1" --metrics-addr "127.0.0.1:$metrics_port"
rpc_up() { "$grapevine" keys list --local --rpc-addr "$(rpc_addr 1)" >/dev/null 2>&1; }
wait_until 5000 rpc_up || fail "agent1's RPC did not come up"
for i in 2 3; do start_agent "$i" "$k1" --join "127.0.0.1:$(bind_port 1)"; done
wait_until 15000 all_alive || fail "the encrypted cluster did not converge"
echo "ok: 3 encrypted agents converged"

[ "$("$grapevine" keys list --local --json --rpc-addr "$(rpc_addr 1)")" = "[\"$k1\"]" ] ||
  fail "keys list --local: $("$grapevine" keys list --local --rpc-addr "$(rpc_addr 1)")"
# keys_json OP [KEY]: the cluster-wide answer as JSON (exit status ignored), from agent 1 only.
keys_json() { "$grapevine" keys "$@" --json --rpc-addr "$(rpc_addr 1)" 2>/dev/null || true; }
# check_answer JSON MEMBERS ANSWERED FAILED
check_answer() {
  python3 -c 'import json,sys; r = json.loads(sys.argv[1]); sys.exit(0 if (r["members"], r["responses"], r["failures"]) == tuple(map(int, sys.argv[2:5])) else 1)' "$@"
}
if "$grapevine" keys remove "$k1" --rpc-addr "$(rpc_addr 1)" >"$work/out.txt" 2>&1; then
  fail "removing the primary key was accepted: $(cat "$work/out.txt")"
fi
grep -q "3 failed" "$work/out.txt" && grep -q "primary" "$work/out.txt" ||
  fail "no clear per-member refusal removing the primary: $(cat "$work/out.txt")"
check_answer "$(keys_json use "$k2")" 3 3 3 || fail "using a key not installed was not refused by all"
echo "ok: removing the primary and using a missing key are refused by every member"

for step in "install $k2" "use $k2" "remove $k1"; do
  # shellcheck disable=SC2086
  answer=$(keys_json $step)
  # Run once: a member the query's gossip misses (2 sends per holder with the local profile) is
  # re-asked directly by agent1 (queries.h "re-ask"; sim QueryReach), so no retry is needed.
  check_answer "$answer" 3 3 0 || fail "keys $step from agent1: $answer"
  stays_alive "after 'keys ${step%% *}' from agent1"
  echo "ok: '${step%% *}' answered by all 3 members, nobody lost"
done
answer=$(keys_json list --timeout 10s)
python3 -c 'import json,sys; r = json.loads(sys.argv[1]); assert r["keys"] == {sys.argv[2]: 3} and r["timeout_seconds"] > 9, r' "$answer" "$k2" ||
  fail "keys list after the rotation: $answer"
for i in $(seq 1 $n); do
  [ "$("$grapevine" keys list --local --json --rpc-addr "$(rpc_addr "$i")")" = "[\"$k2\"]" ] ||
    fail "agent$i's keyring after the rotation: $("$grapevine" keys list --local --rpc-addr "$(rpc_addr "$i")")"
done
echo "ok: every agent ends on K2 alone"

"$grapevine" send --rpc-addr "$(rpc_addr 2)" "after rotation" >/dev/null
delivered() {
  local i
  for i in $(seq 1 $n); do
    "$grapevine" members --rpc-addr "$(rpc_addr "$i")" >/dev/null || return 1
    [ "$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%s\n" "{\"cmd\":\"info\"}" >&3 && head -n 1 <&3' _ "$((base + 10 + i))" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["delivered"])')" -ge 1 ] || return 1
  done
}
wait_until 5000 delivered || fail "the multicast after the rotation did not reach everyone"
echo "ok: a multicast after the rotation reached all $n"

start_agent 4 "$k1" --join "127.0.0.1:$(bind_port 1)"
sleep 3
[ "$(alive_count 1)" = "$n" ] || fail "an agent with the retired key was admitted"
metrics=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
  printf "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3 && cat <&3' _ \
  "$metrics_port")
grep -Eq 'grapevine_rejected_packets_total\{reason="wrong_key"\} [1-9]' <<<"$metrics" ||
  fail "no wrong_key refusals in the metrics: $(grep rejected <<<"$metrics")"
echo "ok: the retired key is refused (wrong_key counted)"
