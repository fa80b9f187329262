#!/usr/bin/env bash
# Tags changed while running, between `grapevine agent` processes on 127.0.0.1 (native dialect):
#   - agent 1 starts with TOML [tags] and a --tag flag; agent 2 lists them (members --json tags);
#   - `grapevine tags --set/--delete` on agent 1: agent 2's `members --tag KEY=REGEX` filters by
#     the new tag within a few seconds (anchored regex: a partial match does not count), the
#     deleted tag no longer matches, and agent 2's monitor shows an `updated` event with them;
#   - a bad filter or tag is a usage error;
#   - `grapevine event NAME PAYLOAD` on agent 1 reaches agent 2's monitor once, with its Lamport
#     time; a second event has a higher one; an oversized event is refused.
# Every process started here is killed by PID on exit. Usage: bash tags_agents.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")
source "$(dirname "$0")/lib/common.sh"
scratch_dir tags 30

free_port_block 20000 600
rpc1="127.0.0.1:$((base + 11))"
rpc2="127.0.0.1:$((base + 12))"
cat >"$work/a1.toml" <<CONF
name = "tagged"
bind = "127.0.0.1:$((base + 1))"
rpc_addr = "$rpc1"
[tags]
role = "web"
dc = "east"
[membership]
profile = "local"
CONF
"$grapevine" agent --config "$work/a1.toml" --tag rack=r1 --log-level warn >"$work/a1.log" 2>&1 &
pids+=($!)
"$grapevine" agent --name plain --bind "127.0.0.1:$((base + 2))" --rpc-addr "$rpc2" \
  --join "127.0.0.1:$((base + 1))" --profile local --log-level warn >"$work/a2.log" 2>&1 &
pids+=($!)

names_matching() {  # names_matching RPC FILTER...: sorted names, comma-separated
  local rpc=$1
  shift
  local args=()
  for f in "$@"; do args+=(--tag "$f"); done
  "$grapevine" members --json --rpc-addr "$rpc" "${args[@]}" 2>/dev/null |
    python3 -c 'import json, sys; print(",".join(sorted(m["name"] for m in json.load(sys.stdin))))' 2>/dev/null
}
is() { [ "$(names_matching "${@:2}")" = "$1" ]; }

wait_until 10000 is "plain,tagged" "$rpc2" || fail "agent 2 does not list both: $(names_matching "$rpc2")"
wait_until 5000 is "tagged" "$rpc2" role=web dc=east rack=r1 ||
  fail "start-up tags not seen: $("$grapevine" members --json --rpc-addr "$rpc2")"
is "" "$rpc2" role=we || fail "a partial match passed the filter (serf anchors the regex)"
is "tagged" "$rpc2" "role=w.*" || fail "regex filter"
is "" "$rpc2" role=web nosuch=.* || fail "a missing tag passed the filter"

"$grapevine" monitor --rpc-addr "$rpc2" >"$work/monitor.out" 2>/dev/null &
pids+=($!)
sleep 0.5
out=$("$grapevine" tags --rpc-addr "$rpc1" --set version=2 --set role=db --delete dc)
[ "$(echo "$out" | tr '\n' ' ')" = "rack=r1 role=db version=2 " ] || fail "tags printed: $out"
wait_until 5000 is "tagged" "$rpc2" version=2 role=db ||
  fail "new tags not seen by agent 2 within 5 s: $("$grapevine" members --json --rpc-addr "$rpc2")"
echo "new tags seen by agent 2 after ${waited_ms} ms"
is "" "$rpc2" dc=.* || fail "deleted tag still listed"
wait_until 3000 grep -q '"kind":"updated".*"tags":{"rack":"r1","role":"db","version":"2"}' \
  "$work/monitor.out" || fail "no updated event with the tags: $(cat "$work/monitor.out")"
"$grapevine" members --rpc-addr "$rpc2" | grep -q "rack=r1,role=db,version=2" ||
  fail "TAGS column: $("$grapevine" members --rpc-addr "$rpc2")"

rc=0
"$grapevine" members --rpc-addr "$rpc2" --tag "role=(" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "bad regex: exit $rc, expected 2"
rc=0
"$grapevine" tags --rpc-addr "$rpc1" --set novalue >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--set without '=': exit $rc, expected 2"
big=$(head -c 600 /dev/zero | tr '\0' x)
if "$grapevine" tags --rpc-addr "$rpc1" --set "big=$big" >/dev/null 2>"$work/big.err"; then
  fail "tags over 512 bytes accepted"
fi
grep -q "512" "$work/big.err" || fail "oversized tags: $(cat "$work/big.err")"

"$grapevine" event --rpc-addr "$rpc1" deploy v1.2.3 | grep -q "Lamport time" || fail "event output"
"$grapevine" event --rpc-addr "$rpc1" --coalesce=false deploy v1.2.4 >/dev/null
wait_until 5000 grep -q '"event":"user".*"name":"deploy".*"payload":"v1.2.4"' "$work/monitor.out" ||
  fail "the user events did not reach agent 2: $(cat "$work/monitor.out")"
sleep 1
python3 - "$work/monitor.out" <<'PY' || fail "user events at agent 2: $(grep '"user"' "$work/monitor.out")"
import json, sys
# delivery order is not promised (as serf's); the Lamport times order them
events = sorted((json.loads(l) for l in open(sys.argv[1]) if '"event":"user"' in l),
                key=lambda e: e["ltime"])
assert [e["payload"] for e in events] == ["v1.2.3", "v1.2.4"], events
assert events[0]["ltime"] < events[1]["ltime"], events
assert events[0]["coalesce"] is True and events[1]["coalesce"] is False, events
PY
if "$grapevine" event --rpc-addr "$rpc1" big "$big" >/dev/null 2>"$work/ev.err"; then
  fail "an event over 512 bytes was accepted"
fi
grep -q "512" "$work/ev.err" || fail "oversized event: $(cat "$work/ev.err")"
echo "PASS"
