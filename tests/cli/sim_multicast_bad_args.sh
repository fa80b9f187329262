#!/usr/bin/env bash
# Contract: bad arguments exit with code 2 and print exactly one line on stderr, naming the
# offending flag; --help exits 0. Usage: bash sim_multicast_bad_args.sh /path/to/grapevine
set -uo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

expect_usage_error() {
  local flag=$1
  shift
  "$grapevine" sim multicast --no-progress "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [[ $rc -ne 2 ]]; then
    echo "FAIL [$*]: exit code $rc, expected 2"
    failures=$((failures + 1))
  elif [[ $lines -ne 1 ]]; then
    echo "FAIL [$*]: $lines lines on stderr, expected 1:"
    cat "$tmp/err"
    failures=$((failures + 1))
  elif ! grep -q -- "$flag" "$tmp/err"; then
    echo "FAIL [$*]: stderr does not name $flag: $(cat "$tmp/err")"
    failures=$((failures + 1))
  elif [[ -s $tmp/out ]]; then
    echo "FAIL [$*]: printed results on stdout despite the error"
    failures=$((failures + 1))
  else
    echo "ok [$*]: $(cat "$tmp/err")"
  fi
}

expect_usage_error --nodes --nodes abc
expect_usage_error --nodes --nodes 1
expect_usage_error --nodes --nodes -5
expect_usage_error --nodes --nodes 10x
expect_usage_error --protocol --protocol nope
expect_usage_error --protocol --protocol push,nope
expect_usage_error --loss --loss 2
expect_usage_error --loss --loss -0.1
expect_usage_error --fanout --fanout 0
expect_usage_error --fanout --fanout 257
expect_usage_error --stop --stop bogus
expect_usage_error --runs --runs 0 --nodes 10
expect_usage_error --sim-threads --sim-threads 2 --origin-crash-after-sends 3
expect_usage_error --sim-threads --sim-threads 2 --uplink-bytes-per-sec 1000
expect_usage_error --sim-threads --sim-threads 65

# --help: exit 0, usage on stdout, nothing on stderr.
"$grapevine" sim multicast --help >"$tmp/out" 2>"$tmp/err"
rc=$?
if [[ $rc -ne 0 ]] || ! grep -q -- "--nodes" "$tmp/out" || [[ -s $tmp/err ]]; then
  echo "FAIL [--help]: exit $rc, stdout mentions --nodes: $(grep -c -- --nodes "$tmp/out")," \
       "stderr bytes: $(wc -c <"$tmp/err")"
  failures=$((failures + 1))
else
  echo "ok [--help]"
fi

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
