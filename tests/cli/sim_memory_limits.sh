#!/usr/bin/env bash
# Knowing the limits: a `grapevine sim` run that cannot fit in memory is refused before it
# allocates anything big (exit 2, within 2 s), with one line naming what it would need, what
# the machine has and what to use instead; a small run still works and reports
# estimated_peak_bytes next to peak_rss_bytes. Nothing big is ever allocated here.
set -euo pipefail
bin=$1
refused() {  # refused <what> <args...>: exit 2, fast, one line with the need, memory, alternative
  local what=$1
  shift
  local start end err rc=0
  start=$(date +%s%N)
  err=$("$bin" "$@" 2>&1 >/dev/null) || rc=$?
  end=$(date +%s%N)
  [[ $rc == 2 ]] || { echo "$what: exit $rc, not 2: $err"; exit 1; }
  (( (end - start) / 1000000 < 2000 )) || { echo "$what: took $(( (end - start) / 1000000 )) ms"; exit 1; }
  [[ $(wc -l <<<"$err") == 1 ]] || { echo "$what: not one line: $err"; exit 1; }
  grep -Eq 'need about [0-9.]+ [KMGTPE]?B' <<<"$err" || { echo "$what: no need in: $err"; exit 1; }
  grep -Eq 'this machine has [0-9.]+ [KMGTPE]?B available' <<<"$err" ||
    { echo "$what: no available memory in: $err"; exit 1; }
  grep -q 'Use fewer nodes' <<<"$err" || { echo "$what: no alternative in: $err"; exit 1; }
  grep -q -- '--force' <<<"$err" || { echo "$what: --force not named in: $err"; exit 1; }
  echo "$err"
}
err=$(refused membership sim membership --nodes 100000)
grep -q 'partial views (grapevine sim views)' <<<"$err" || { echo "no partial views: $err"; exit 1; }
grep -q '100,000 members with full views' <<<"$err" || { echo "no member count: $err"; exit 1; }
refused cluster sim cluster --nodes 100000 --duration 1s >/dev/null
# Parallel runs multiply: 10,000 members need ~8 GB each; 64 at once fit on no test machine.
err=$(refused threads sim membership --nodes 10000 --runs 64 --threads 64)
grep -q '64 runs at once' <<<"$err" || { echo "threads not named: $err"; exit 1; }
# Small runs still work, and report the estimate next to the measured peak.
out=$("$bin" sim membership --nodes 50 --duration 40s --json)
grep -Eq '"estimated_peak_bytes":[1-9][0-9]*' <<<"$out" || { echo "no estimate: $out"; exit 1; }
grep -q '"peak_rss_bytes":' <<<"$out" || { echo "no peak_rss_bytes: $out"; exit 1; }
out=$("$bin" sim cluster --nodes 16 --duration 10s --force --json)
grep -Eq '"estimated_peak_bytes":[1-9][0-9]*' <<<"$out" || { echo "no cluster estimate: $out"; exit 1; }
out=$("$bin" sim multicast --nodes 200 --runs 2 --json)
grep -Eq '"estimated_peak_bytes":[1-9][0-9]*' <<<"$out" || { echo "no multicast estimate: $out"; exit 1; }
out=$("$bin" sim views --nodes 100 --cycles 5 --after-cycles 2 --multicasts 1 --json)
grep -Eq '"estimated_peak_bytes":[1-9][0-9]*' <<<"$out" || { echo "no views estimate: $out"; exit 1; }
echo ok
