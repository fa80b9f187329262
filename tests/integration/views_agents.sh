#!/usr/bin/env bash
# Five `grapevine agent --view hyparview` processes on 127.0.0.1, joined through the first.
# Checks, over the RPC protocol (tools/rpc.h):
#   - every agent's HyParView active view (`view` RPC) is non-empty, bounded and symmetric;
#   - `send` from one agent is delivered once by every agent (Plumtree over the active views);
#   - after a SIGKILL the others drop the dead agent from their active views (keepalive: 3
#     silent 1 s periods) and a later `send` still reaches every live agent.
# Every process started here is killed by PID on exit. Usage: bash views_agents.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")

source "$(dirname "$0")/lib/common.sh"
scratch_dir views 20

n=5
free_port_block 20000 600
bind_port() { echo $((base + $1)); }
rpc_port() { echo $((base + 10 + $1)); }

rpc() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "%s\n" "$2" >&3 && head -n 1 <&3' \
    _ "$(rpc_port "$1")" "$2"
}
# Agent i's active view, one address per line, sorted ("" if unreachable).
active() {
  rpc "$1" '{"cmd":"view"}' 2>/dev/null |
    python3 -c 'import json, sys
r = json.load(sys.stdin)
print("\n".join(sorted(r["active"])))' 2>/dev/null || true
}
delivered() {
  rpc "$1" '{"cmd":"info"}' 2>/dev/null |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["delivered"])' 2>/dev/null || echo -1
}

start_agent() {
  local i=$1
  local args=(agent --name "v$i" --bind "127.0.0.1:$(bind_port "$i")"
              --rpc-addr "127.0.0.1:$(rpc_port "$i")" --log-level info)
  # The last agent takes the view from its TOML file (view = "hyparview"), the others by flag.
  if [ "$i" -eq "$n" ]; then
    printf 'view = "hyparview"\n' >"$work/agent$i.toml"
    args+=(--config "$work/agent$i.toml")
  else
    args+=(--view hyparview)
  fi
  if [ "$i" -gt 1 ]; then args+=(--join "127.0.0.1:$(bind_port 1)"); fi
  "$grapevine" "${args[@]}" >"$work/agent$i.log" 2>&1 &
  pids[$i]=$!
}

# Views hold IPv4 peers only: an IPv6 bind is refused with one clear line, not run half-working.
if out=$("$grapevine" agent --name v6 --bind "[::1]:0" --rpc-addr "127.0.0.1:$(rpc_port 1)" \
  --view hyparview 2>&1); then
  fail "an IPv6 bind with --view hyparview was accepted"
fi
grep -q "IPv4" <<<"$out" || fail "no clear error for an IPv6 bind with --view: $out"

for i in $(seq 1 $n); do
  start_agent "$i"
  sleep 0.2
done
live=(1 2 3 4 5)

# Symmetric, bounded, non-empty active views over the live agents; no dead agent in them.
views_ok() {
  local i p j
  for i in "${live[@]}"; do
    local a
    a=$(active "$i")
    [ -n "$a" ] || return 1
    [ "$(wc -l <<<"$a")" -le 5 ] || return 1
    while read -r p; do
      j=$(( ${p##*:} - base ))
      [[ " ${live[*]} " == *" $j "* ]] || return 1
      active "$j" | grep -qx "127.0.0.1:$(bind_port "$i")" || return 1
    done <<<"$a"
  done
}
wait_until 15000 views_ok || fail "active views not symmetric/non-empty within 15 s"
echo "ok: symmetric active views on ${#live[@]} agents"

all_delivered() {
  local want=$1 i
  for i in "${live[@]}"; do [ "$(delivered "$i")" = "$want" ] || return 1; done
}
rpc 3 '{"cmd":"send","payload":"hello views"}' | grep -q '"ok":true' || fail "send refused"
wait_until 10000 all_delivered 1 || fail "not every agent delivered the first send"
echo "ok: one send delivered once by all ${#live[@]} agents"

kill -9 "${pids[2]}"
{ wait "${pids[2]}"; } 2>/dev/null || true
live=(1 3 4 5)
wait_until 20000 views_ok || fail "dead agent 2 still in active views after 20 s"
echo "ok: dead agent dropped from every active view"
rpc 4 '{"cmd":"send","payload":"after the crash"}' | grep -q '"ok":true' || fail "send refused"
wait_until 10000 all_delivered 2 || fail "not every live agent delivered the second send"
echo "ok: send after a crash delivered by all ${#live[@]} live agents"
