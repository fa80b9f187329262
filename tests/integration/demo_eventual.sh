#!/usr/bin/env bash
# grapevine demo (eventual membership, Lifeguard, memberlist's Local timings): 32 nodes on
# 127.0.0.1 (kernel-picked ports) join through a seed; two crashes are failed everywhere, the
# leave is seen as left by every member, no live member is failed. The crash and leave checks
# read each observer's events about the watched nodes (tools/demo.cc, Demo::watched_), and the
# JSON says how much loop time was withheld from the nodes' clock (--turn-time-max).
set -euo pipefail
bin=$1
out=$(timeout 90 "$bin" demo --nodes 32 --crash 2 --profile local --json 2>/dev/null)
check() { grep -Eq "$1" <<<"$out" || { echo "demo eventual: expected $1 in: $out"; exit 1; }; }
check '"false_failures":0[,}]'
check '"failed_joins":0[,}]'
check '"leave_seen_as_left_fraction":1(\.0)?[,}]'
check '"clock_withheld_seconds":'
check '"detection_all_seconds":[0-9]'
! grep -q '"detection_all_seconds":-1' <<<"$out" || { echo "a crash not failed everywhere: $out"; exit 1; }
echo ok
