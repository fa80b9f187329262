#!/usr/bin/env bash
# Builds bench/memberlist_demo offline from Debian's Go sources, on the interop peer's private
# copy of memberlist (tests/interop/peer/build.sh, with NodeStates added). Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../../tests/interop/peer/build.sh" "${1:-$here/../../build/bench/memberlist-demo}" \
  "$here/main.go"
