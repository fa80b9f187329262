#!/usr/bin/env bash
# The agent's RPC limits and token (tools/rpc.h): see lib/rpc_limits.py for what is checked.
# Usage: bash rpc_limits.sh /path/to/grapevine
set -euo pipefail
exec timeout 120 python3 "$(dirname "$0")/lib/rpc_limits.py" "${1:?usage: $0 /path/to/grapevine}"
