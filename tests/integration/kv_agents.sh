#!/usr/bin/env bash
# Three `grapevine agent` processes on 127.0.0.1 joined through the first, and the replicated
# node state through the client: `kv set` on one agent, `kv get --node` on another sees it,
# `kv list` shows it, `kv watch` streams the set, update and delete, `--ttl` expires, limits and
# a missing key fail with a clear message; [state] settings from a TOML file apply, bad ones fail. Every process started here is killed by PID on exit.
# Usage: bash kv_agents.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")

source "$(dirname "$0")/lib/common.sh"
scratch_dir kv 30

free_port_block 20000 600
bind_port() { echo $((base + $1)); }
rpc_port() { echo $((base + 10 + $1)); }
rpc() { echo "--rpc-addr=127.0.0.1:$(rpc_port "$1")"; }

# Agent 3 takes state settings from its TOML file.
cat >"$work/kv3.toml" <<TOML
[state]
key_bytes_max = 100
tombstone_grace = "10m"
TOML
for i in 1 2 3; do
  args=(agent --name "kv$i" --bind "127.0.0.1:$(bind_port "$i")"
        --rpc-addr "127.0.0.1:$(rpc_port "$i")" --log-level warn)
  [ "$i" -gt 1 ] && args+=(--join "127.0.0.1:$(bind_port 1)")
  [ "$i" -eq 3 ] && args+=(--config "$work/kv3.toml")
  "$grapevine" "${args[@]}" >"$work/agent$i.log" 2>&1 &
  pids[$i]=$!
  [ "$i" -eq 1 ] && sleep 0.5
done

members_ok() { [ "$("$grapevine" members "$(rpc 3)" --json 2>/dev/null | grep -o alive | wc -l)" -eq 3 ]; }
wait_until 10000 members_ok || fail "the three agents did not converge"

# A watcher on agent 3, before the change.
"$grapevine" kv watch svc/ "$(rpc 3)" >"$work/watch.out" 2>"$work/watch.log" &
pids+=($!)
sleep 0.5

"$grapevine" kv set svc/web up "$(rpc 1)" | grep -q "set svc/web (version 1)" || fail "kv set"
# seen OWNER AGENT VALUE [KEY]: agent AGENT sees OWNER's KEY (default svc/web) as VALUE.
seen() { [ "$("$grapevine" kv get "${4:-svc/web}" --node "$1" "$(rpc "$2")" 2>/dev/null)" = "$3" ]; }
wait_until 5000 seen kv1 2 up || fail "agent 2 does not see kv1's svc/web=up"
echo "ok: kv set on agent 1 seen by agent 2 in ${waited_ms} ms"
wait_until 5000 seen "127.0.0.1:$(bind_port 1)" 3 up || fail "agent 3 (by address)"
"$grapevine" kv list svc/ "$(rpc 2)" | grep -q "kv1 .*svc/web .*up" || fail "kv list"
"$grapevine" kv list --json "$(rpc 3)" | grep -q '"key":"svc/web"' || fail "kv list --json"

"$grapevine" kv set svc/web down "$(rpc 1)" >/dev/null
# Watchers see states, not every write: a value replaced before it arrived is never shown.
wait_until 5000 seen kv1 3 down || fail "the update did not reach agent 3"
"$grapevine" kv delete svc/web "$(rpc 1)" | grep -q "deleted svc/web" || fail "kv delete"
gone() { ! "$grapevine" kv get svc/web --node kv1 "$(rpc 2)" >/dev/null 2>&1; }
wait_until 5000 gone || fail "the delete did not reach agent 2"
watched() { grep -q "^set kv1 svc/web=up" "$work/watch.out" &&
            grep -q "^update kv1 svc/web=down" "$work/watch.out" &&
            grep -q "^delete kv1 svc/web=" "$work/watch.out"; }
wait_until 5000 watched || fail "kv watch did not show set, update, delete: $(cat "$work/watch.out")"
echo "ok: kv watch streamed set, update and delete"

"$grapevine" kv set lease x --ttl 1s "$(rpc 2)" >/dev/null
wait_until 3000 seen kv2 1 x lease || fail "the TTL'd key did not arrive"
expired() { ! "$grapevine" kv get lease --node kv2 "$(rpc 1)" >/dev/null 2>&1; }
wait_until 5000 expired || fail "the TTL'd key did not expire"
echo "ok: --ttl 1s expired everywhere"

if out=$("$grapevine" kv get nope "$(rpc 1)" 2>&1); then fail "get of a missing key succeeded"; fi
grep -q "no key 'nope'" <<<"$out" || fail "unclear missing-key error: $out"
big=$(head -c 300 /dev/zero | tr '\0' k)
if out=$("$grapevine" kv set "$big" v "$(rpc 1)" 2>&1); then fail "oversized key accepted"; fi
grep -q "key_bytes_max" <<<"$out" || fail "unclear limit error: $out"
if out=$("$grapevine" kv set "${big:0:150}" v "$(rpc 3)" 2>&1); then
  fail "[state] key_bytes_max = 100 from the TOML file not applied"
fi
printf '[state]\nfanout = 0\n' >"$work/bad.toml"
if out=$("$grapevine" agent --config "$work/bad.toml" 2>&1); then
  fail "a bad [state] setting was accepted"
fi
grep -q "state.fanout" <<<"$out" || fail "unclear [state] error: $out"
"$grapevine" kv stats "$(rpc 3)" | grep -q '"refused_key_bytes": 0' || fail "kv stats"
echo "ok: kv errors are clear"
