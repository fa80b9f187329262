#!/usr/bin/env bash
# The main job: install, build, and run a live cluster of grapevine nodes on loopback sockets
# (joins converging, a multicast spreading, crashes detected, a graceful leave, a summary).
# Extra arguments go to `grapevine demo` (e.g. --nodes 256 --json).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target grapevine
exec ./build/release/tools/grapevine demo "$@"
