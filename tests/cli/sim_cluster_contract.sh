#!/usr/bin/env bash
# grapevine sim cluster: the JSON fields of the contract, determinism (same seed, same
# delivery_hash), --runs, --events, --scenario demo, the agent's TOML shaping the nodes, and bad
# arguments (exit 2, one line naming the flag).
set -euo pipefail
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(sim cluster --nodes 32 --duration 90s --seed 3 --multicasts 3 --fault crash:2@20s
  --fault leave:1@30s --fault partition:0.25@40s-50s --json)
out=$("$bin" "${args[@]}" --events "$tmp/events.jsonl")
for field in nodes duration_seconds join_convergence_seconds completeness accuracy \
  false_failures partition_failures detection_first_seconds_p50 detection_all_seconds_p50 \
  detection_all_seconds_p99 leaves_seen_as_left partition_heal_seconds multicasts \
  multicast_delivered_fraction multicast_delivery_seconds_p50 multicast_delivery_seconds_p99 \
  messages_per_node_per_second bytes_per_node_per_second steady_bytes_per_node_per_second \
  events wall_seconds peak_rss_bytes delivery_hash; do
  grep -q "\"$field\":" <<<"$out" || { echo "missing field $field in: $out"; exit 1; }
done
grep -q '"nodes":32' <<<"$out" || { echo "wrong nodes: $out"; exit 1; }
grep -q '"multicasts":3' <<<"$out" || { echo "wrong multicasts: $out"; exit 1; }
grep -q '"kind":"failed"' "$tmp/events.jsonl" || { echo "no failed event in --events"; exit 1; }
grep -q '"kind":"delivered"' "$tmp/events.jsonl" || { echo "no delivery in --events"; exit 1; }
hash() { sed -E 's/.*"delivery_hash":"([0-9a-f]+)".*/\1/' <<<"$1"; }
again=$("$bin" "${args[@]}")
[[ $(hash "$out") == $(hash "$again") ]] || { echo "same seed, different runs"; exit 1; }
other=$("$bin" sim cluster --nodes 32 --duration 90s --seed 4 --multicasts 3 --json)
[[ $(hash "$out") != $(hash "$other") ]] || { echo "different seeds, same hash"; exit 1; }
# No partition: partition_heal_seconds is null. --runs R: per_run objects plus the pooled one.
runs=$("$bin" sim cluster --nodes 16 --duration 30s --runs 2 --json)
grep -q '"partition_heal_seconds":null' <<<"$runs" || { echo "heal not null: $runs"; exit 1; }
grep -q '"per_run":\[' <<<"$runs" || { echo "no per_run: $runs"; exit 1; }
grep -q '"runs":2' <<<"$runs" || { echo "runs not 2: $runs"; exit 1; }
# The agent's TOML shapes the simulated nodes (name/bind/join ignored); memberlist dialect.
cat >"$tmp/agent.toml" <<'TOML'
name = "ignored"
bind = "127.0.0.1:7946"
[membership]
dialect = "memberlist"
detector = "swim"
TOML
ml=$("$bin" sim cluster --config "$tmp/agent.toml" --nodes 16 --duration 40s --fault crash:1@15s \
  --multicasts 1 --json)
grep -q '"completeness":1' <<<"$ml" || { echo "memberlist crash not detected: $ml"; exit 1; }
grep -q '"multicast_delivered_fraction":1' <<<"$ml" || { echo "memberlist multicast: $ml"; exit 1; }
# --membership consistent adds the view-log fields; every live member agrees (view_agreement 1).
cons=$("$bin" sim cluster --membership consistent --nodes 50 --duration 60s --fault crash:3@30s \
  --seed 1 --json)
for field in nodes completeness delivery_hash configurations view_agreement \
  distinct_membership_sizes bootstrap_seconds view_change_seconds_p50 view_change_seconds_p99; do
  grep -q "\"$field\":" <<<"$cons" || { echo "consistent: missing $field in: $cons"; exit 1; }
done
grep -Eq '"view_agreement":1(\.0)?[,}]' <<<"$cons" || { echo "consistent: agreement: $cons"; exit 1; }
! grep -q '"view_agreement"' <<<"$out" || { echo "eventual run prints view fields: $out"; exit 1; }
# --scenario demo prints `grapevine demo --json`'s fields.
demo=$("$bin" sim cluster --scenario demo --nodes 16 --seed 1 --json)
for field in nodes detector multicast join_convergence_seconds multicast_delivery_seconds \
  multicast_delivered_fraction crashes leave_seen_as_left_fraction false_failures \
  messages_per_node_per_second bytes_per_node_per_second cpu_ms_per_node_second \
  rss_bytes_per_node elapsed_seconds delivery_hash; do
  grep -q "\"$field\":" <<<"$demo" || { echo "demo: missing $field in: $demo"; exit 1; }
done
expect_usage() {
  local flag=$1
  shift
  set +e
  err=$("$bin" sim cluster "$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  [[ $rc -eq 2 ]] || { echo "expected exit 2 for $*, got $rc"; exit 1; }
  [[ $(wc -l <<<"$err") -eq 1 ]] || { echo "expected one line for $*: $err"; exit 1; }
  grep -q -- "$flag" <<<"$err" || { echo "error does not name $flag: $err"; exit 1; }
}
expect_usage --duration --nodes 8
expect_usage --nodes --nodes 1 --duration 10s
expect_usage --fault --nodes 8 --duration 10s --fault boom:1@1s
expect_usage --fault --nodes 8 --duration 10s --fault crash:1
expect_usage --fault --nodes 8 --duration 10s --fault partition:2@1s-2s
expect_usage --fault --nodes 8 --duration 10s --fault crash:1@20s
expect_usage --fault --nodes 8 --duration 10s --fault crash:8@1s
expect_usage --bootstrap --nodes 8 --duration 10s --bootstrap magic
expect_usage --latency --nodes 8 --duration 10s --latency 5ms
expect_usage --detector --nodes 8 --duration 10s --detector psychic
expect_usage --scenario --nodes 8 --scenario chaos
expect_usage --runs --nodes 8 --duration 10s --runs 0
expect_usage --join-rate --nodes 8 --duration 10s --join-rate 0
echo ok
