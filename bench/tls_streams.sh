#!/usr/bin/env bash
# Mutual TLS's cost on streams (docs/performance.md, "Mutual TLS"): N `grapevine agent`
# processes on 127.0.0.1, plain and then with --tls-cert/--tls-key/--tls-ca (a P-256 CA and
# member certificates made here with the openssl CLI), alternating ROUNDS times. Each run: the
# time until every agent lists N alive members (join: one push-pull per joiner), then STEADY
# seconds with push_pull_interval = PP (the memberlist dialect push-pulls the whole state every
# interval; the native one only on disagreement), the agents' CPU (utime + stime from
# /proc/PID/stat) and the push-pulls they started, summed. Both use the same --encrypt key.
# Usage: bash bench/tls_streams.sh ./build/release/tools/grapevine [N=8] [STEADY=20] [PP=200ms]
#        [DIALECT=memberlist] [ROUNDS=2]
set -euo pipefail
grapevine=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
n=${2:-8} steady=${3:-20} pp=${4:-200ms} dialect=${5:-memberlist} rounds=${6:-2}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/integration/lib/common.sh"
scratch_dir tls_bench 20
cd "$work"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -keyout ca.key \
  -out ca.pem -subj /CN=bench-ca 2>/dev/null
for i in $(seq 1 "$n"); do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "b$i.key" \
    -out "b$i.csr" -subj "/CN=b$i" 2>/dev/null
  printf 'subjectAltName=DNS:b%s\n' "$i" >"b$i.ext"
  openssl x509 -req -in "b$i.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
    -extfile "b$i.ext" -out "b$i.pem" 2>/dev/null
done
cd - >/dev/null
printf '[membership]\ndialect = "%s"\npush_pull_interval = "%s"\n' "$dialect" "$pp" >"$work/pp.toml"
key=$("$grapevine" keygen)
tick=$(getconf CLK_TCK)

cpu_ticks() {  # summed utime + stime of the PIDs given
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat"))); done
  echo "$t"
}
metric_sum() {  # metric_sum NAME: summed over the agents' /metrics
  local s=0 i v
  for i in $(seq 1 "$n"); do
    v=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET /metrics HTTP/1.1\r\n\r\n" >&3 && cat <&3' _ $((base + 40 + i)) |
      awk -v m="$1" '$1 == m { print $2 }')
    s=$((s + ${v:-0}))
  done
  echo "$s"
}

run() {  # run plain|tls
  local mode=$1 i agents=() t0 join_ms c0 c1 p0 p1
  free_port_block 20000 600
  for i in $(seq 1 "$n"); do
    local args=(agent --name "b$i" --bind "127.0.0.1:$((base + i))" --config "$work/pp.toml"
      --rpc-addr "127.0.0.1:$((base + 20 + i))" --metrics-addr "127.0.0.1:$((base + 40 + i))"
      --encrypt "$key" --log-level warn)
    [ "$i" -gt 1 ] && args+=(--join "127.0.0.1:$((base + 1))")
    [ "$mode" = tls ] && args+=(--tls-cert "$work/b$i.pem" --tls-key "$work/b$i.key" --tls-ca "$work/ca.pem")
    [ "$i" -eq 2 ] && t0=$(now_ms)
    "$grapevine" "${args[@]}" >"$work/$mode$i.log" 2>&1 &
    agents+=($!)
    pids+=($!)
    [ "$i" -eq 1 ] && wait_until 5000 "$grapevine" members --rpc-addr "127.0.0.1:$((base + 21))" >/dev/null 2>&1
  done
  all() {
    local i
    for i in $(seq 1 "$n"); do
      [ "$("$grapevine" members --rpc-addr "127.0.0.1:$((base + 20 + i))" --json 2>/dev/null |
        grep -o '"alive"' | wc -l)" -eq "$n" ] || return 1
    done
  }
  wait_until 20000 all || fail "$mode: no convergence"
  join_ms=$(($(now_ms) - t0))
  c0=$(cpu_ticks "${agents[@]}")
  p0=$(metric_sum grapevine_push_pulls_total)
  sleep "$steady"
  c1=$(cpu_ticks "${agents[@]}")
  p1=$(metric_sum grapevine_push_pulls_total)
  local hs fails
  hs=$(metric_sum grapevine_tls_handshakes_total)
  awk -v m="$mode" -v j="$join_ms" -v c=$((c1 - c0)) -v t="$tick" -v n="$n" -v s="$steady" \
    -v p=$((p1 - p0)) -v h="$hs" 'BEGIN {
      printf "%-5s join %5d ms  CPU %6.2f ms/agent-s  push-pulls %5d  (%s CPU ms per push-pull)  handshakes %d\n",
        m, j, c * 1000 / t / n / s, p, p > 0 ? sprintf("%.2f", c * 1000 / t / p) : "-", h }'
  for i in "${agents[@]}"; do kill "$i" 2>/dev/null || true; done
  for i in "${agents[@]}"; do wait "$i" 2>/dev/null || true; done
}

echo "N=$n dialect=$dialect push_pull_interval=$pp steady=${steady}s, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  run plain
  run tls
done
