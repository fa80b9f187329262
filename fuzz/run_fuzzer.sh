#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time over a scratch copy of its checked-in seed corpus
# (libFuzzer writes new inputs into the corpus directory; the repository must stay untouched).
# Crashing inputs are kept under <artifacts>/ for reproduction: `<fuzzer> <artifact>`.
# Usage: run_fuzzer.sh <fuzzer> <seed-corpus-dir> <seconds> <artifacts-dir> [extra libFuzzer flags]
set -euo pipefail
fuzzer=$1 seeds=$2 seconds=$3 artifacts=$4
shift 4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$seeds"/. "$work/"
mkdir -p "$artifacts"
name=$(basename "$fuzzer")
"$fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
  -artifact_prefix="$artifacts/$name-" "$@" "$work"
