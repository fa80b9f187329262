#!/usr/bin/env bash
# Contract: `grapevine sim multicast --json` prints exactly one JSON object (one line) per series,
# with the documented fields and sane values. Usage: bash sim_multicast_json.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}

out=$("$grapevine" sim multicast --nodes 200 --runs 3 --json --no-progress)

python3 - "$out" <<'PY'
import json, math, sys
text = sys.argv[1]
lines = [l for l in text.splitlines() if l.strip()]
assert len(lines) == 1, f"expected one JSON line, got {len(lines)}: {text!r}"
j = json.loads(lines[0])
assert isinstance(j, dict), "not a JSON object"
required = ["protocol", "nodes", "fanout", "runs", "rounds_mean", "rounds_p50", "rounds_max",
            "delivered_fraction_mean", "runs_all_delivered", "messages_per_node_mean",
            "cross_router_messages_per_round_mean", "wall_seconds"]
missing = [k for k in required if k not in j]
assert not missing, f"missing fields: {missing}"
assert j["protocol"] == "pushpull", j["protocol"]  # the default protocol
assert j["nodes"] == 200, j["nodes"]
assert j["runs"] == 3, j["runs"]
assert isinstance(j["fanout"], int) and j["fanout"] >= 1, j["fanout"]
for k in ["rounds_mean", "rounds_p50", "rounds_max", "delivered_fraction_mean",
          "messages_per_node_mean", "cross_router_messages_per_round_mean", "wall_seconds"]:
    assert isinstance(j[k], (int, float)) and math.isfinite(j[k]), f"{k} = {j[k]!r}"
# Push-pull over a lossless 200-node network reaches everyone, in a handful of rounds.
assert j["delivered_fraction_mean"] == 1.0, j["delivered_fraction_mean"]
assert j["runs_all_delivered"] == 3, j["runs_all_delivered"]
assert 1 <= j["rounds_p50"] <= j["rounds_max"] <= 20, (j["rounds_p50"], j["rounds_max"])
assert j["rounds_mean"] <= j["rounds_max"], (j["rounds_mean"], j["rounds_max"])
assert j["messages_per_node_mean"] > 0, j["messages_per_node_mean"]
assert j["cross_router_messages_per_round_mean"] == 0, "one subnet: nothing crosses a router"
assert j["wall_seconds"] > 0, j["wall_seconds"]
PY

# With subnets, the router counter moves; comma lists give one line per series.
out=$("$grapevine" sim multicast --protocol push,pull --nodes 100 --subnets 4 --runs 1 --json \
  --no-progress)
python3 - "$out" <<'PY'
import json, sys
lines = [json.loads(l) for l in sys.argv[1].splitlines() if l.strip()]
assert [l["protocol"] for l in lines] == ["push", "pull"], [l["protocol"] for l in lines]
for l in lines:
    assert l["cross_router_messages_per_round_mean"] > 0, l
PY
echo "ok: sim multicast --json"
