#!/usr/bin/env bash
# Event handler scripts and the snapshot, between `grapevine agent` processes on 127.0.0.1:
#   - agent 1 runs a serf-style handler (--event-handler) that appends SERF_EVENT, the user event's
#     name and Lamport time, and its stdin to a file; it sees member-join, member-leave (a
#     graceful leave) and member-failed (a kill -9), serf's stdin lines, and user events;
#   - three user events sent with coalescing within the period run the handler once, with the
#     latest payload; one sent with --coalesce=false runs it at once;
#   - a filtered handler (user:deploy=...) runs only for that name; a query handler
#     (query:load=...) answers `grapevine query load` with its stdout;
#   - agent 1 (--snapshot) is killed with -9 and restarted without --join: it rejoins the members
#     it knew, its handler does not run again for the user events it already handled, its own
#     next event is stamped after them (restored Lamport clock), and new events are handled;
#   - a joiner with --replay handles the events sent before it joined, once each; one without
#     handles only the new ones.
# Every process started here is killed by PID on exit. Usage: bash event_handlers.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")
source "$(dirname "$0")/lib/common.sh"
scratch_dir handlers 30

free_port_block 20000 600
addr() { echo "127.0.0.1:$((base + $1))"; }
rpc() { echo "127.0.0.1:$((base + 10 + $1))"; }
cat >"$work/handler.sh" <<'SH'
#!/bin/sh
echo "$SERF_EVENT|$SERF_USER_EVENT|$SERF_USER_LTIME|$GRAPEVINE_SELF_NAME|$SERF_TAG_RACK|$(tr '\n' ';')" >>"$OUT"
SH
chmod +x "$work/handler.sh"
start1() {
  OUT="$work/h1.out" "$grapevine" agent --name n1 --bind "$(addr 1)" --rpc-addr "$(rpc 1)" \
    --profile local --tag rack=r1 --event-handler "$work/handler.sh" \
    --event-handler "user:deploy=echo \$SERF_USER_LTIME >>$work/deploy.out" \
    --event-handler "query:load=printf 'load-%s' \"\$(cat)\"" \
    --coalesce-period 1s --quiescent-period 300ms --snapshot "$work/n1.snapshot" \
    --log-level info "$@" >>"$work/a1.log" 2>&1 &
  pids+=($!)
  pid1=$!
}
start() {  # start N
  "$grapevine" agent --name "n$1" --bind "$(addr "$1")" --rpc-addr "$(rpc "$1")" --profile local \
    --join "$(addr 1)" --tag role=r$1 --log-level warn >"$work/a$1.log" 2>&1 &
  pids+=($!)
  eval "pid$1=$!"
}
count() { grep -c "$1" "$2" 2>/dev/null || true; }
has() { grep -q "$1" "$2" 2>/dev/null; }

start1
sleep 0.3
start 2
start 3
start 4
wait_until 10000 has "^member-join|.*n4	127.0.0.1	r4	role=r4;" "$work/h1.out" ||
  fail "no member-join for n4 with serf's stdin line: $(cat "$work/h1.out" 2>/dev/null)"
has "^member-join|||n1|r1|.*n2	127.0.0.1	r2	role=r2;" "$work/h1.out" || fail "member-join n2: $(cat "$work/h1.out")"
echo "member-join seen after ${waited_ms} ms"

# Waits for user events are 20 s: gossip sends an event only twice per holder at the local
# profile, so a member may miss it and get it at the next push-pull (anti-entropy, within the
# 15 s push-pull period); they end as soon as the event is there.
"$grapevine" event --rpc-addr "$(rpc 2)" --coalesce=false deploy v1 >/dev/null
for i in 1 2 3; do "$grapevine" event --rpc-addr "$(rpc 2)" batch "b$i" >/dev/null; done
wait_until 20000 has "^user|deploy|.*|v1$" "$work/h1.out" || fail "user event: $(cat "$work/h1.out")"
wait_until 20000 has "^user|batch|.*|b3$" "$work/h1.out" || fail "coalesced event: $(cat "$work/h1.out")"
# Coalescing is checked when the three arrived at n1 within its 1 s period. Under load each
# `grapevine event` call can take seconds, or one event come by push-pull later: then the
# handler runs once per period that had some (seen here under artificial CPU load).
arrivals_ms() {  # first to last arrival of `batch` at n1, from its log's timestamps
  sed -n 's/^\[[^ ]* \([0-9:.]*\)\] \[info\] user event batch .*/\1/p' "$work/a1.log" |
    awk -F'[:.]' '{t = (($1 * 60 + $2) * 60 + $3) * 1000 + $4; if (NR == 1) a = t; b = t}
                  END {print b - a}'
}
batch_arrived() { [ "$(count '\] user event batch ' "$work/a1.log")" -ge 3 ]; }
wait_until 20000 batch_arrived || fail "n1 did not receive the 3 batch events: $(cat "$work/a1.log")"
sleep 1.2  # the coalescing period of the last one is over
spread=$(arrivals_ms)
if [ "$spread" -lt 900 ]; then
  [ "$(count '^user|batch|' "$work/h1.out")" = 1 ] || fail "batch not coalesced: $(cat "$work/h1.out")"
else
  echo "batch events reached n1 over ${spread} ms (over the 1 s period): coalescing not checked"
  [ "$(count '^user|batch|' "$work/h1.out")" -le 3 ] || fail "batch: $(cat "$work/h1.out")"
fi
[ "$(wc -l <"$work/deploy.out")" = 1 ] || fail "user:deploy filter: $(cat "$work/deploy.out")"
[ "$(count '^user|deploy|' "$work/h1.out")" = 1 ] || fail "user events: $(cat "$work/h1.out")"

# n1's query handler answers `grapevine query load 0.5` with its stdout; the catch-all
# handler before it prints nothing, so (as serf's agent) it does not answer with nothing.
"$grapevine" query --rpc-addr "$(rpc 2)" --json --timeout 2s load 0.5 | grep -q '"n1":"load-0.5"' ||
  fail "query handler did not answer"
kill -TERM "$pid3"
wait_until 8000 has "^member-leave|.*n3	" "$work/h1.out" || fail "member-leave: $(cat "$work/h1.out")"
kill -9 "$pid4"
wait "$pid4" 2>/dev/null || true
wait_until 30000 has "^member-failed|.*n4	" "$work/h1.out" || fail "member-failed: $(cat "$work/h1.out")"
echo "member-failed seen ${waited_ms} ms after kill -9"

# Restart from the snapshot: no --join.
kill -9 "$pid1"
wait "$pid1" 2>/dev/null || true
grep -q "^alive	n2	$(addr 2)" "$work/n1.snapshot" || fail "snapshot: $(cat "$work/n1.snapshot")"
: >"$work/h1.out"
start1
members1() { "$grapevine" members --rpc-addr "$(rpc 1)" 2>/dev/null | grep -c " alive" || true; }
n1_alive_at_2() { "$grapevine" members --rpc-addr "$(rpc 2)" 2>/dev/null | grep -q "^n1 .*alive"; }
wait_until 10000 n1_alive_at_2 || fail "n1 did not rejoin: $("$grapevine" members --rpc-addr "$(rpc 2)")"
wait_until 5000 has "^member-join|.*n2	" "$work/h1.out" || fail "n1 does not see n2: $(cat "$work/h1.out")"
echo "restarted n1 rejoined without --join after ${waited_ms} ms"
grep -q "joining through the snapshot" "$work/a1.log" || fail "no snapshot rejoin logged"
sleep 2
[ "$(count '^user|' "$work/h1.out")" = 0 ] || fail "old user events handled again: $(cat "$work/h1.out")"
# The restored clock: n1's own first event after the restart is stamped after the old ones
# (else its own handler would skip it as already handled).
"$grapevine" event --rpc-addr "$(rpc 1)" --coalesce=false deploy v3 >/dev/null
wait_until 20000 has "^user|deploy|[5-9]|.*|v3$" "$work/h1.out" ||
  fail "n1's own event after restart: $(cat "$work/h1.out")"
"$grapevine" event --rpc-addr "$(rpc 2)" --coalesce=false deploy v2 >/dev/null
wait_until 20000 has "^user|deploy|.*|v2$" "$work/h1.out" || fail "new event after restart: $(cat "$work/h1.out")"
[ "$(wc -l <"$work/deploy.out")" = 3 ] || fail "deploy handler runs: $(cat "$work/deploy.out")"

# Replay to joiners (serf's join -replay): n5 joins n2 with --replay and handles the events sent
# before it joined, once each; n6 joins without and never handles them, though it handles new ones.
sleep 3  # the old events' gossip retransmissions are over
joiner() {  # joiner N [--replay]
  local n=$1
  shift
  "$grapevine" agent --name "n$n" --bind "$(addr "$n")" --rpc-addr "$(rpc "$n")" --profile local \
    --join "$(addr 2)" --event-handler "user=echo \"\$SERF_USER_EVENT-\$(cat)\" >>$work/h$n.out" \
    --coalesce-period 0 --log-level warn "$@" >"$work/a$n.log" 2>&1 &
  pids+=($!)
}
joiner 5 --replay
joiner 6
wait_until 20000 has "^deploy-v2$" "$work/h5.out" || fail "n5 did not replay: $(cat "$work/h5.out" 2>/dev/null)"
has "^deploy-v1$" "$work/h5.out" || fail "n5 did not replay deploy v1: $(cat "$work/h5.out")"
[ "$(count "^deploy-v2$" "$work/h5.out")" = 1 ] || fail "n5 handled deploy v2 twice: $(cat "$work/h5.out")"
"$grapevine" event --rpc-addr "$(rpc 2)" --coalesce=false fresh after-join >/dev/null
# In CI's release pass n5 once had not handled the new event 10 s after it was sent (n1 and
# n6 had): gossip had missed it (twice sent per holder at the local profile) and nothing
# repaired it. Push-pulls now carry recent events (anti-entropy): a member that missed one
# gets it within about one push-pull period (15 s), hence 30 s. On a miss, both ends' lists.
missed() {  # missed N: fail, with both ends' member lists
  fail "n$1 missed a new event: $(cat "$work/h$1.out" 2>/dev/null)
n2 lists: $("$grapevine" members --rpc-addr "$(rpc 2)" 2>&1 | tr '\n' ' ')
n$1 lists: $("$grapevine" members --rpc-addr "$(rpc "$1")" 2>&1 | tr '\n' ' ')"
}
wait_until 30000 has "^fresh-after-join$" "$work/h6.out" || missed 6
echo "n6 handled the new event after ${waited_ms} ms"
wait_until 30000 has "^fresh-after-join$" "$work/h5.out" || missed 5
echo "n5 handled the new event after ${waited_ms} ms"
! has "^deploy-" "$work/h6.out" || fail "n6 (no --replay) handled old events: $(cat "$work/h6.out")"
echo "replay: n5 handled $(wc -l <"$work/h5.out") events, n6 only the new one"
echo "PASS"
