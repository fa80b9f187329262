#!/usr/bin/env bash
# grapevine demo --membership consistent: 32 nodes on 127.0.0.1 (kernel-picked ports) join one
# configuration, a crashed member is removed everywhere, a leaver is seen as left, and at the
# end every live node is in the same configuration (configurations_at_end == 1).
set -euo pipefail
bin=$1
out=$(timeout 120 "$bin" demo --membership consistent --nodes 32 --crash 1 --json 2>/dev/null)
check() { grep -q "$1" <<<"$out" || { echo "demo consistent: expected $1 in: $out"; exit 1; }; }
check '"membership":"consistent"'
check '"configurations_at_end":1[,}]'
check '"leave_seen_as_left_fraction":1'
check '"false_failures":0'
check '"multicast_delivered_fraction":1'
! grep -q '"detection_all_seconds":-1' <<<"$out" || { echo "crash not removed: $out"; exit 1; }
echo ok
