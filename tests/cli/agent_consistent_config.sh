#!/usr/bin/env bash
# Contract (README, "Consistent membership"): the agent's [membership.consistent] table takes
# Rapid's timings; a misspelt key, a table that is not a table and thresholds out of order
# (low <= high <= rings) are refused with exit 2 and one stderr line naming the key; a valid
# table starts an agent whose members RPC reports a configuration. Usage: bash ... GRAPEVINE
set -uo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
tmp=$(mktemp -d)
agent=
trap '[ -n "$agent" ] && kill -9 "$agent" 2>/dev/null; rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect_refusal() {  # expect_refusal WORD TOML: exit 2, one stderr line containing WORD
  printf '%s\n' "$2" >"$tmp/a.toml"
  timeout 10 "$grapevine" agent --config "$tmp/a.toml" --bind 127.0.0.1:0 --rpc-addr 127.0.0.1:0 \
    >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -ne 2 ]]; then
    fail "[$2]: exit $rc, expected 2: $(cat "$tmp/err")"
  elif [[ $(wc -l <"$tmp/err") -ne 1 ]]; then
    fail "[$2]: expected one stderr line: $(cat "$tmp/err")"
  elif ! grep -q -- "$1" "$tmp/err"; then
    fail "[$2]: stderr does not mention $1: $(cat "$tmp/err")"
  fi
}

expect_refusal "membership.consistent.stall_timout" \
  $'[membership]\nmode = "consistent"\n[membership.consistent]\nstall_timout = "3s"'
expect_refusal "membership.consistent" $'[membership]\nconsistent = 3'
expect_refusal "membership.consistent.high" \
  $'[membership]\nmode = "consistent"\n[membership.consistent]\nrings = 4\nhigh = 9'
expect_refusal "membership.consistent.probe_interval" \
  $'[membership]\nmode = "consistent"\n[membership.consistent]\nprobe_interval = "soon"'

# A valid table: the agent runs in consistent mode (members RPC carries a configuration).
port=$((20000 + (RANDOM % 600) * 20))
cat >"$tmp/ok.toml" <<TOML
bind = "127.0.0.1:$port"
rpc_addr = "127.0.0.1:$((port + 1))"
[membership]
mode = "consistent"
[membership.consistent]
probe_interval = "200ms"
probe_timeout = "150ms"
probe_misses = 5
stall_timeout = "3s"
TOML
"$grapevine" agent --config "$tmp/ok.toml" >"$tmp/agent.log" 2>&1 &
agent=$!
ok=0
for _ in $(seq 1 50); do
  if "$grapevine" members --rpc-addr "127.0.0.1:$((port + 1))" 2>/dev/null | head -n 1 |
    grep -q "^configuration .* 1 members"; then
    ok=1
    break
  fi
  sleep 0.1
done
[[ $ok -eq 1 ]] || fail "valid [membership.consistent]: no configuration: $(tail -n 3 "$tmp/agent.log")"

if [[ $failures -ne 0 ]]; then
  echo "agent_consistent_config: $failures failure(s)"
  exit 1
fi
echo "agent_consistent_config: ok"
