#!/usr/bin/env bash
# Reproduces every figure in docs/experiments.md. Each block is one command of the document;
# its output goes to docs/experiments/out/<name>.{jsonl,txt} and plots to docs/plots/.
#
#   G=build/release/tools/grapevine docs/experiments/run.sh [name...]
#
# With names, only those blocks run (e.g. `run.sh d1 d11`). About 4 minutes on 2 idle cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
G=${G:-build/release/tools/grapevine}
OUT=docs/experiments/out
PLOTS=docs/plots
mkdir -p "$OUT" "$PLOTS"
T="--threads 2 --no-progress"
ONLY=" $* "
want() { [[ "$ONLY" == "  " || "$ONLY" == *" $1 "* ]]; }
sm() { "$G" sim multicast $T "$@"; }

if want d1; then  # D1, D3, D4, D5 at n = 1000 and 10^4; the n = 10^4 plot
  sm --protocol push,pull,pushpull --fanout 1 --nodes 1000 --runs 1000 --json > $OUT/d1-n1000.jsonl
  sm --protocol push,pull,pushpull --fanout 1 --nodes 10000 --runs 400 --json \
    --plot $PLOTS/push-pull-pushpull-n10000.svg > $OUT/d1-n10000.jsonl
  sm --protocol push,pull,pushpull --fanout 1 --nodes 10000 --runs 1 --seed 3 \
    --plot $PLOTS/push-pull-pushpull-n10000-one-run.svg > $OUT/d1-n10000-one-run.txt
  python3 docs/experiments/crosscheck.py push 1000 2000 5 > $OUT/d1-crosscheck.txt
  python3 docs/experiments/crosscheck.py pull 1000 2000 5 >> $OUT/d1-crosscheck.txt
  python3 docs/experiments/crosscheck.py push 10000 400 11 >> $OUT/d1-crosscheck.txt
  python3 docs/experiments/crosscheck.py pull 10000 400 11 >> $OUT/d1-crosscheck.txt
fi

if want d2; then  # D2: fanout sweep
  sm --protocol push --fanout 1,2,3,4 --nodes 1000 --runs 1000 --json \
    --plot $PLOTS/fanout-push-n1000.svg > $OUT/d2.jsonl
  python3 docs/experiments/crosscheck.py push 1000 1000 3 2 > $OUT/d2-crosscheck.txt
fi

if want d6; then  # D6: one-step mean-field check on single runs (--runs 1 per seed)
  for s in $(seq 1 20); do
    sm --protocol push,pull,pushpull --fanout 1 --nodes 10000 --runs 1 --seed "$s" --json
  done > $OUT/d6-single-runs.jsonl
  python3 docs/experiments/onestep.py $OUT/d6-single-runs.jsonl > $OUT/d6-onestep.txt
  python3 docs/experiments/onestep.py --averaged $OUT/d1-n10000.jsonl > $OUT/d6-averaged.txt
fi

if want d7; then  # D7: P(all) within c ln n rounds (Bailey)
  for r in 11 14; do sm --protocol push --fanout 2 --nodes 1000 --max-rounds $r --runs 1000 --json; done \
    > $OUT/d7.jsonl
  for r in 7 11; do sm --protocol push --fanout 3 --nodes 1000 --max-rounds $r --runs 1000 --json; done \
    >> $OUT/d7.jsonl
fi

if want d8; then  # D8: 50% loss with b=2
  for r in 14 20 28 0; do
    sm --protocol push --fanout 2 --nodes 1000 --loss 0.5 --max-rounds $r --runs 1000 --json
  done > $OUT/d8.jsonl
fi

if want d9; then  # D9: 50% of the nodes dead from the start
  for r in 14 20 28 0; do
    sm --protocol push --fanout 2 --nodes 1000 --crashed 0.5 --max-rounds $r --runs 1000 --json
  done > $OUT/d9.jsonl
  sm --protocol push --fanout 1 --nodes 500 --runs 1000 --json >> $OUT/d9.jsonl
fi

if want d10; then  # D10: per-node cost of pushing for ceil(2 ln n) rounds
  sm --protocol push --fanout 2 --nodes 1000 --stop rounds --stop-rounds 14 --until-quiet --runs 20 --json > $OUT/d10.jsonl
  sm --protocol push --fanout 2 --nodes 10000 --stop rounds --stop-rounds 19 --until-quiet --runs 20 --json >> $OUT/d10.jsonl
  sm --protocol push --fanout 2 --nodes 100000 --stop rounds --stop-rounds 24 --until-quiet --runs 5 --json >> $OUT/d10.jsonl
fi

if want d11; then  # D11: infect-and-die with Poisson(ln n + c) fanout, n = 10^4
  for c in 0 1 2 3 5; do
    mean=$(python3 -c "import math; print(math.log(10000) + $c)")
    sm --protocol push --nodes 10000 --stop infect-and-die --poisson-fanout "$mean" --runs 1000 --json
  done > $OUT/d11.jsonl
fi

if want d17; then  # D17: topology-aware target choice
  for s in 2 4; do
    sm --protocol push --fanout 1 --nodes 1000 --subnets $s --runs 300 --json
    sm --protocol push --fanout 1 --nodes 1000 --subnets $s --topology-aware --runs 300 --json
  done > $OUT/d17.jsonl
fi

if want demers; then  # D12-D14 (not required; cheap): Demers' tables at n = 1000
  for k in 1 2 3 4 5; do
    sm --protocol push --fanout 1 --nodes 1000 --stop counter --stop-k $k --until-quiet --runs 300 --json
  done > $OUT/demers-table1.jsonl
  for k in 1 2 3 4 5; do
    sm --protocol push --fanout 1 --nodes 1000 --stop coin --blind --stop-k $k --until-quiet --runs 300 --json
  done > $OUT/demers-table2.jsonl
  for k in 1 2 3; do
    sm --protocol pull --nodes 1000 --stop counter --stop-k $k --until-quiet --runs 300 --json
  done > $OUT/demers-table3.jsonl
fi

if want origin; then  # baselines (a): the origin crashes part-way
  sm --protocol centralized --nodes 1001 --origin-crash-after-sends 500 --runs 20 > $OUT/origin-crash.txt
  sm --protocol push,pushpull --fanout 2 --nodes 1001 --origin-crash-after-sends 2 --runs 1000 >> $OUT/origin-crash.txt
  sm --protocol push,pushpull --fanout 1 --nodes 1001 --origin-crash-after-sends 1 --runs 1000 >> $OUT/origin-crash.txt
  sm --protocol pull,tree-ack,tree-nack --nodes 1001 --origin-crash-after-sends 1 --runs 20 >> $OUT/origin-crash.txt
fi

if want interior; then  # baselines (b): interior tree nodes crashed, gossip under the same crashes
  sm --protocol tree-ack,tree-nack,push,pushpull --fanout 2 --nodes 1000 --crash-interior 1 --runs 100 \
    --plot $PLOTS/crash-interior-n1000.svg > $OUT/crash-interior.txt
  sm --protocol tree-ack,tree-nack,push,pushpull --fanout 2 --nodes 1000 --crash-interior 2 --runs 100 >> $OUT/crash-interior.txt
fi

if want costs; then  # costs: origin load and messages per node across the family
  sm --protocol centralized,tree-ack,tree-nack,push,pull,pushpull --fanout 2 --nodes 1000,10000 --runs 20 > $OUT/costs.txt
  sm --protocol centralized,tree-ack,push,pushpull --fanout 2 --nodes 1000,10000 --runs 10 \
    --uplink-bytes-per-sec 125000 > $OUT/costs-uplink.txt
fi

if want loss; then  # loss tolerance across the family, and the loss sweep plot
  sm --protocol push --fanout 2 --nodes 1000 --loss 0,0.1,0.2,0.3,0.5 --runs 100 \
    --plot $PLOTS/loss-push-b2-n1000.svg > $OUT/loss-push.txt
  sm --protocol centralized,tree-ack,tree-nack,push,pull,pushpull --fanout 2 --nodes 1000 \
    --loss 0.2 --runs 100 --plot $PLOTS/loss-family-n1000.svg > $OUT/loss-family-0.2.txt
  sm --protocol centralized,tree-ack,tree-nack,push,pull,pushpull --fanout 2 --nodes 1000 \
    --loss 0.1,0.3,0.5 --runs 100 > $OUT/loss-family.txt
fi
