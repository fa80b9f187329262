#!/usr/bin/env bash
# The stream flood (issue 9): one `grapevine agent` on 127.0.0.1, and 1,000 TCP streams to it that
# each announce an 18 MB native stream (a 4-byte length header), send up to 2 MiB and stall
# (lib/stream_flood.py). Checks, with the default limits (inbound_streams_max 128,
# inbound_stream_bytes_max 64 MiB):
#   - the agent's peak RSS (VmHWM) stays under 256 MB (main before the limits: ~1.5 GB);
#   - it keeps answering `grapevine members` during the flood;
#   - the refusals show in /metrics (streams refused at the cap, streams over the byte budget),
#     and once the flood is over no inbound stream or buffered byte is left.
# Every process started here is killed by PID on exit. Usage: bash stream_flood.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")
here=$(cd "$(dirname "$0")" && pwd)

source "$here/lib/common.sh"
scratch_dir stream_flood 30
hwm_limit_kb=$((256 * 1024))
# Under AddressSanitizer (the CI's first pass) shadow memory and the free quarantine (256 MB by
# default) make RSS meaningless; the bound is checked in the release build only, the rest in both.
if grep -qa __asan_init "$grapevine"; then
  hwm_limit_kb=$((2048 * 1024))
  echo "note: AddressSanitizer build, peak RSS bound relaxed to 2 GB"
fi

free_port_block 20000 600
port=$((base + 1))
rpc=127.0.0.1:$((base + 2))
metrics=127.0.0.1:$((base + 3))

scrape() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3 && cat <&3' _ "$1"
}
metric() { scrape "${metrics##*:}" | awk -v m="$1" '$1 == m { print $2 }'; }

"$grapevine" agent --name flooded --bind "127.0.0.1:$port" --rpc-addr "$rpc" \
  --metrics-addr "$metrics" --log-level warn >"$work/agent.log" 2>&1 &
agent=$!
pids+=($agent)
wait_until 10000 "$grapevine" members --rpc-addr "$rpc" >/dev/null 2>&1 ||
  fail "the agent did not answer within 10 s"
echo "before: $(grep -E 'VmRSS' /proc/$agent/status | tr -s ' \t' ' ')"

python3 "$here/lib/stream_flood.py" 127.0.0.1 "$port" --streams 1000 --announce 18000000 \
  --send $((2 << 20)) --hold 8 >"$work/flood.out" &
flood=$!
pids+=($flood)

answered=0 missed=0 open_max=0
t0=$(now_ms)
while kill -0 "$flood" 2>/dev/null; do
  if timeout 3 "$grapevine" members --rpc-addr "$rpc" >/dev/null 2>&1; then
    answered=$((answered + 1))
  else
    missed=$((missed + 1))
  fi
  open=$(metric grapevine_inbound_streams)
  [ "${open:-0}" -le "$open_max" ] || open_max=$open
  sleep 0.5
  [ $(($(now_ms) - t0)) -lt 30000 ] || fail "the flood did not end within 30 s"
done
wait "$flood" || fail "the flood helper failed"
echo "flood: $(cat "$work/flood.out")"
hwm_kb=$(awk '/VmHWM/ { print $2 }' /proc/$agent/status)
echo "peak RSS (VmHWM): $((hwm_kb / 1024)) MB; members answered $answered times, missed $missed"

[ "$hwm_kb" -lt "$hwm_limit_kb" ] ||
  fail "peak RSS $((hwm_kb / 1024)) MB >= $((hwm_limit_kb / 1024)) MB"
[ "$answered" -ge 5 ] && [ "$missed" -eq 0 ] ||
  fail "members must answer throughout the flood (answered $answered, missed $missed)"

refused=$(metric grapevine_streams_refused_total)
over=$(metric grapevine_streams_over_budget_total)
timed_out=$(metric grapevine_streams_timed_out_total)
echo "grapevine_streams_refused_total $refused, grapevine_streams_over_budget_total $over," \
  "grapevine_streams_timed_out_total $timed_out; at most $open_max inbound streams open"
# How many are refused depends on the machine's load, not only on the cap: a slow agent reads
# more of each stalled stream (over budget) and reaches stream_timeout sooner relative to the
# flood, which frees slots for later streams (idle: ~800-870 refused; under a loaded CI ~400).
# What must hold at any load: the cap was reached and refused streams, and was never exceeded.
[ "${refused:-0}" -ge 1 ] || fail "expected streams refused at inbound_streams_max"
[ "$open_max" -le 128 ] || fail "$open_max inbound streams open at once (inbound_streams_max 128)"
[ "${over:-0}" -ge 1 ] || fail "expected streams dropped at inbound_stream_bytes_max"
# The flood's sockets are closed: every slot and buffered byte is given back (stream_timeout
# ends any the agent has not seen close yet).
drained() {
  [ "$(metric grapevine_inbound_streams)" = 0 ] && [ "$(metric grapevine_inbound_stream_bytes)" = 0 ]
}
wait_until 12000 drained || fail "inbound streams or buffered bytes left after the flood"
"$grapevine" members --rpc-addr "$rpc" | grep -q flooded || fail "members does not list itself"
echo "PASS stream_flood"
