#!/usr/bin/env bash
# grapevine sim views: the JSON fields of the contract, determinism, and bad arguments (exit 2,
# one line naming the flag).
set -euo pipefail
bin=$1
out=$("$bin" sim views --view cyclon --nodes 200 --fail-fraction 0.2 --cycles 5 --seed 3 --json \
  --multicasts 2 --after-cycles 4 --no-progress)
for field in view nodes cycles fail_fraction seed view_size_mean view_size_max in_degree_mean \
  in_degree_stddev in_degree_max in_degree_histogram clustering path_length_mean dead_links \
  delivered_fraction_before delivered_fraction_after rmr last_delivery_hop wall_seconds \
  peak_rss_bytes delivery_hash; do
  grep -q "\"$field\":" <<<"$out" || { echo "missing field $field in: $out"; exit 1; }
done
grep -q '"view":"cyclon"' <<<"$out" || { echo "wrong view: $out"; exit 1; }
again=$("$bin" sim views --view cyclon --nodes 200 --fail-fraction 0.2 --cycles 5 --seed 3 --json \
  --multicasts 2 --after-cycles 4 --no-progress)
hash() { sed -E 's/.*"delivery_hash":([0-9]+).*/\1/' <<<"$1"; }
[[ $(hash "$out") == $(hash "$again") ]] || { echo "same seed, different runs"; exit 1; }
for v in scamp tman; do
  "$bin" sim views --view $v --nodes 100 --cycles 3 --json --multicasts 1 --after-cycles 3 \
    --no-progress | grep -q "\"view\":\"$v\"" || { echo "$v failed"; exit 1; }
done
# A comma list of views runs one series each; graceful leaves are reported.
both=$("$bin" sim views --view scamp,cyclon --nodes 100 --cycles 2 --leave-fraction 0.1 --json \
  --multicasts 1 --after-cycles 3 --no-progress)
[[ $(wc -l <<<"$both") -eq 2 ]] || { echo "expected two series: $both"; exit 1; }
first=$(head -1 <<<"$both")
for pat in '"view":"scamp"' '"leave_fraction":0.1' '"links_to_leavers":'; do
  grep -q "$pat" <<<"$first" || { echo "missing $pat in: $first"; exit 1; }
done
grep -q '"view":"cyclon"' <<<"$both" || { echo "no cyclon series: $both"; exit 1; }
expect_usage() {
  local flag=$1
  shift
  set +e
  err=$("$bin" sim views "$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  [[ $rc -eq 2 ]] || { echo "expected exit 2 for $*, got $rc"; exit 1; }
  [[ $(wc -l <<<"$err") -eq 1 ]] || { echo "expected one line for $*: $err"; exit 1; }
  grep -q -- "$flag" <<<"$err" || { echo "error does not name $flag: $err"; exit 1; }
}
expect_usage --view --view newscast
expect_usage --view --view scamp,newscast
expect_usage --leave-fraction --leave-fraction 1.5
expect_usage --nodes --nodes 1
expect_usage --nodes --nodes abc
expect_usage --fail-fraction --fail-fraction 1.5
expect_usage --fail-fraction --fail-fraction x
expect_usage --cycles --cycles -3
expect_usage --contact --contact somebody
echo ok
