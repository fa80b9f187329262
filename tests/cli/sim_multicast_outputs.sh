#!/usr/bin/env bash
# Contract: --csv writes the infection curves as CSV with a header row; --plot writes an SVG
# (through gnuplot). Usage: bash sim_multicast_outputs.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$grapevine" sim multicast --protocol push,pushpull --nodes 300 --runs 2 --no-progress \
  --csv "$tmp/curves.csv" --plot "$tmp/curves.svg" >"$tmp/stdout"

python3 - "$tmp/curves.csv" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as f:
    rows = list(csv.reader(f))
assert len(rows) >= 3, f"only {len(rows)} rows"
header = rows[0]
for column in ["protocol", "round", "infected_fraction_mean"]:
    assert column in header, f"header lacks {column}: {header}"
# The header is a header, not data: no cell of it is a number.
for cell in header:
    try:
        float(cell)
    except ValueError:
        continue
    raise AssertionError(f"numeric cell in header: {header}")
width = len(header)
body = rows[1:]
assert all(len(r) == width for r in body), "ragged rows"
p = header.index("protocol")
assert {r[p] for r in body} == {"push", "pushpull"}, {r[p] for r in body}
frac = header.index("infected_fraction_mean")
values = [float(r[frac]) for r in body]
assert all(0.0 <= v <= 1.0 for v in values), values
assert max(values) == 1.0, "lossless gossip reaches everyone"
PY

test -s "$tmp/curves.svg" || { echo "FAIL: no SVG written"; exit 1; }
head -c 512 "$tmp/curves.svg" | grep -q "<svg" || { echo "FAIL: not an SVG"; exit 1; }
grep -q "</svg>" "$tmp/curves.svg" || { echo "FAIL: SVG not closed"; exit 1; }
echo "ok: --csv and --plot"
