#!/usr/bin/env bash
# The main job: install, build, and show a multicast spreading through a simulated group.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target grapevine
exec ./build/release/tools/grapevine sim multicast --protocol push,pull,pushpull --fanout 2 \
  --nodes 100000 --runs 4 --curve --plot build/spread.svg "$@"
