#!/usr/bin/env bash
# Four `grapevine agent --membership consistent` processes on 127.0.0.1 (the first from a TOML
# file with membership = "consistent"), joined through the first. Checks:
#   - every agent reports the same configuration id with all four members (`members --json`
#     over RPC and the human header of `grapevine members`);
#   - SIGTERM of one agent: the other three install one new configuration of three, the same id
#     everywhere, and `monitor` printed a view_changed event for it.
# Every process started here is killed by PID on exit. Usage: bash consistent_agents.sh GRAPEVINE
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")

source "$(dirname "$0")/lib/common.sh"
scratch_dir consistent 30

free_port_block 20000 600
bind_port() { echo $((base + $1)); }
rpc_addr() { echo "127.0.0.1:$((base + 10 + $1))"; }

# "id size" of agent i's configuration ("" if unreachable).
config_of() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%s\n" "{\"cmd\":\"members\"}" >&3 &&
    head -n 1 <&3' _ "$((base + 10 + $1))" 2>/dev/null |
    python3 -c 'import json, sys
c = json.load(sys.stdin).get("configuration") or {}
print(c.get("id", ""), c.get("size", ""))' 2>/dev/null || true
}
all_in() {  # all_in SIZE AGENT...: the agents report one id and SIZE members
  local size=$1 first="" c
  shift
  for i in "$@"; do
    c=$(config_of "$i")
    [ "${c#* }" = "$size" ] || return 1
    [ -z "$first" ] && first=$c
    [ "$c" = "$first" ] || return 1
  done
}

printf 'bind = "127.0.0.1:%s"\nrpc_addr = "%s"\nmembership = "consistent"\n' \
  "$(bind_port 1)" "$(rpc_addr 1)" > "$work/agent1.toml"
"$grapevine" agent --config "$work/agent1.toml" > "$work/agent1.log" 2>&1 &
pids+=($!)
for i in 2 3 4; do
  "$grapevine" agent --membership consistent --bind "127.0.0.1:$(bind_port "$i")" \
    --rpc-addr "$(rpc_addr "$i")" --join "127.0.0.1:$(bind_port 1)" > "$work/agent$i.log" 2>&1 &
  pids+=($!)
done
victim=${pids[3]}

wait_until 20000 all_in 4 1 2 3 4 || fail "the four agents did not agree on one configuration"
"$grapevine" members --rpc-addr "$(rpc_addr 2)" | head -n 1 | grep -q "^configuration .* 4 members" ||
  fail "grapevine members does not show the configuration"
before=$(config_of 1)

timeout 25 "$grapevine" monitor --rpc-addr "$(rpc_addr 1)" > "$work/monitor.log" 2>&1 &
pids+=($!)
sleep 0.5
kill -TERM "$victim"
wait_until 20000 all_in 3 1 2 3 || fail "the other three did not install one configuration of 3"
after=$(config_of 1)
[ "$before" != "$after" ] || fail "configuration id did not change"
wait_until 5000 grep -q '"kind":"view_changed"' "$work/monitor.log" ||
  fail "monitor printed no view_changed event"
echo "consistent_agents: ok (${before% *} -> ${after% *})"
