#!/usr/bin/env bash
# Reproduces the membership figures of docs/experiments.md ("Membership: failure detectors").
# Raw outputs go to $OUT (default /tmp/grapevine-membership), plots to docs/plots/.
#
#   G=build/release/tools/grapevine docs/experiments/membership.sh [name...]
#
# With names, only those blocks run (e.g. `membership.sh f1 f3`).
set -euo pipefail
cd "$(dirname "$0")/../.."
G=${G:-build/release/tools/grapevine}  # figures in the doc: a copy of it at bc49207 (same delivery hashes as ba49e39)
OUT=${OUT:-/tmp/grapevine-membership}
PLOTS=docs/plots
mkdir -p "$OUT" "$PLOTS"
ONLY=" $* "
want() { [[ "$ONLY" == "  " || "$ONLY" == *" $1 "* ]]; }
# F1-F13 were measured before SWIM/Lifeguard had memberlist's TCP fallback probe (now on by
# default): M turns it off so those figures reproduce; F14/F15 use MF, the defaults.
M() { "$G" sim membership --no-tcp-fallback "$@"; }
MF() { "$G" sim membership "$@"; }

if want scen-small; then  # scenario table, N = 10 (20 runs) and 100 (10 runs)
  for n in 10 100; do
    r=$([ $n = 10 ] && echo 20 || echo 10)
    half=$((n / 2))
    for d in swim lifeguard gossip-heartbeat all-to-all; do
      M --detector $d --nodes $n --runs $r --threads 2 --duration 200s --json > $OUT/scen-$d-n$n-crash1.jsonl
      M --detector $d --nodes $n --runs $r --threads 2 --duration 200s --fail $half --json > $OUT/scen-$d-n$n-half.jsonl
      M --detector $d --nodes $n --runs $r --threads 2 --duration 200s --loss 0.1 --json > $OUT/scen-$d-n$n-loss.jsonl
    done
  done
fi

if want scen-large; then  # scenario table, N = 1000 (1 run each; all-to-all is O(N^2) per second)
  for d in swim lifeguard gossip-heartbeat all-to-all; do
    M --detector $d --nodes 1000 --runs 1 --threads 1 --duration 200s --json > $OUT/scen-$d-n1000-crash1.jsonl
    M --detector $d --nodes 1000 --runs 1 --threads 1 --duration 200s --fail 500 --json > $OUT/scen-$d-n1000-half.jsonl
    M --detector $d --nodes 1000 --runs 1 --threads 1 --duration 200s --loss 0.1 --json > $OUT/scen-$d-n1000-loss.jsonl
  done
fi

if want sweep; then  # detection time and load per member against N, every detector (plots)
  M --detector swim,lifeguard,gossip-heartbeat,all-to-all --nodes 10,30,100,300,1000 \
    --bootstrap preloaded --fail-at 10s --duration 110s --runs 4 --threads 1 --load-window steady \
    --plot $PLOTS/membership-detection-vs-n.svg --plot-load $PLOTS/membership-msgs-per-member-vs-n.svg \
    --plot-bytes $PLOTS/membership-bytes-per-member-vs-n.svg --json > $OUT/sweep.jsonl
fi

if want f1; then  # F1: SWIM first detection (first failed probe = first suspicion) against N
  # synchronous periods, crash at a period start (the paper's model); q_f = 1 and q_f ~ 0.5
  M --detector swim --nodes 10,30,100,300,1000 --bootstrap preloaded --sync-probes --fail-at 10s \
    --duration 30s --runs 200 --threads 1 --plot-metric suspicion_first_seconds_mean \
    --plot $PLOTS/membership-swim-first-detection-vs-n.svg --json > $OUT/f1-sync.jsonl
  M --detector swim --nodes 2000 --bootstrap preloaded --sync-probes --fail-at 10s \
    --duration 30s --runs 50 --threads 1 --json > $OUT/f1-sync-2000.jsonl
  for n in 10 30 100 300 1000; do
    M --detector swim --nodes $n --fail $((n / 2)) --bootstrap preloaded --sync-probes --fail-at 10s \
      --duration 30s --runs $((n < 1000 ? 100 : 10)) --threads 1 --json
  done > $OUT/f1-sync-half.jsonl
  # memberlist's default: every member's periods at their own random phase
  M --detector swim --nodes 10,30,100,300,1000 --bootstrap preloaded --fail-at 10s \
    --duration 30s --runs 200 --threads 1 --json > $OUT/f1-async.jsonl
  # a larger synchronous sample at n = 100 with other seeds
  M --detector swim --nodes 100 --bootstrap preloaded --sync-probes --fail-at 10s --duration 30s \
    --runs 2000 --seed 1001 --threads 1 --json > $OUT/f1-sync-n100-2000runs.jsonl
  M --detector swim --nodes 1000 --bootstrap preloaded --sync-probes --fail-at 10s --duration 30s \
    --runs 300 --seed 1001 --threads 2 --json > $OUT/f1-sync-n1000-300runs.jsonl
fi

if want f3; then  # F3: plain SWIM, no crash: fraction of probes of live members that fail, against k
  for loss in 0.01 0.1; do
    for k in 0 1 2 3; do
      M --detector swim --nodes 100 --fail 0 --bootstrap preloaded --loss $loss --indirect-checks $k \
        --fail-at 10s --duration 1000s --runs $([ $loss = 0.01 ] && echo 10 || echo 2) --threads 1 --json
    done
  done > $OUT/f3.jsonl
fi

if want f2; then  # F2: each member's own first probe of the crashed one (round-robin bound 2n-1)
  # a suspicion long enough (150 x log10 n periods) that nobody declares it failed before probing it
  M --detector swim --nodes 10,30,100 --bootstrap preloaded --suspicion-mult 150 --fail-at 10s \
    --duration 240s --runs 40 --threads 1 --json > $OUT/f2.jsonl
fi

if want f7; then  # F7: gossip heartbeat, one crash: resurrections against T_cleanup / T_fail
  for n in 30 100; do
    for cf in 1 1.1 1.25 1.5 2; do
      M --detector gossip-heartbeat --nodes $n --cleanup-factor $cf --duration 200s --runs 10 --threads 1 --json
    done
  done > $OUT/f7.jsonl
fi

if want f12; then  # F12: 10 of 100 members handle datagrams late (timers on time); one real crash
  for lag in 300ms 1s 3s; do
    M --detector swim,lifeguard --nodes 100 --slow 10 --slow-lag $lag --duration 200s --runs 20 --threads 1 --json
  done > $OUT/f12.jsonl
fi

if want f13; then  # F13: Lifeguard suspicion timeout, N = 1000: 2 confirmations (one crash) vs 0 (2 survivors)
  M --detector lifeguard --nodes 1000 --bootstrap preloaded --fail-at 10s --duration 60s --runs 3 --threads 1 \
    --json > $OUT/f13-one-crash.jsonl
  M --detector lifeguard --nodes 1000 --fail 998 --bootstrap preloaded --fail-at 10s --duration 2000s \
    --runs 1 --threads 1 --events $OUT/f13-events.jsonl --json > $OUT/f13-two-survivors.jsonl
  # suspicion -> failure per (observer, subject) from the events
  python3 -c 'import json,sys; ev=[json.loads(l) for l in open(sys.argv[1])]; s={}; d=[]
for e in ev:
    k=(e["observer"],e["subject"])
    if e["kind"]=="suspected": s.setdefault(k,e["time"])
    elif e["kind"]=="failed" and k in s: d.append(e["time"]-s[k])
d.sort(); print(len(d), "failures; suspicion->failure min/p50/max", d[0], d[len(d)//2], d[-1])' $OUT/f13-events.jsonl
fi

if want f5; then  # F5: infection-style dissemination, piggyback only (no separate gossip, no push-pull)
  M --detector swim --nodes 10,30,100,300,1000 --bootstrap preloaded --gossip-interval 0 \
    --push-pull-interval 0 --fail-at 10s --duration 60s --runs 10 --threads 1 --json > $OUT/f5-piggyback.jsonl
  M --detector swim --nodes 10,30,100,300,1000 --bootstrap preloaded \
    --fail-at 10s --duration 60s --runs 10 --threads 1 --json > $OUT/f5-gossip.jsonl
fi

if want f8; then  # F8: gossip heartbeat: spread time of one heartbeat, T_fail and message size against N
  M --detector gossip-heartbeat --nodes 50,100,200,500,1000,2000 --bootstrap preloaded --fail-at 10s \
    --duration 40s --runs 2 --threads 1 --load-window steady --json > $OUT/f8.jsonl
fi

if want f6; then  # F6: SWIM load against the optimum L* under loss, the paper's protocol (piggyback only)
  M --detector swim --nodes 100 --fail 0 --bootstrap preloaded --loss 0.1 --indirect-checks 3 \
    --gossip-interval 0 --push-pull-interval 0 --fail-at 10s --duration 300s --runs 1 --threads 1 --json > $OUT/f6-swim.jsonl
fi

if want f14; then  # TCP fallback under 30% datagram loss
  for f in "" --no-tcp-fallback; do
    MF --detector swim,lifeguard --nodes 64 --loss 0.3 --fail 0 --fail-at 30s --duration 60s --seed 3 --runs 3 --json $f > "$OUT/f14-60s$f.jsonl"
    MF --detector lifeguard --nodes 64 --loss 0.3 --fail 0 --duration 300s --seed 3 --json $f > "$OUT/f14-300s$f.jsonl"
    MF --detector lifeguard --nodes 64 --loss 0.3 --fail 1 --fail-at 30s --duration 90s --seed 3 --runs 5 --json $f > "$OUT/f14-crash$f.jsonl"
  done
  for sl in 0.1 0.3; do
    MF --detector lifeguard --nodes 64 --loss 0.3 --stream-loss $sl --fail 0 --fail-at 30s --duration 60s --seed 3 --runs 3 --json > "$OUT/f14-stream-loss-$sl.jsonl"
  done
fi

if want f15; then  # phi-accrual against gossip-heartbeat and Lifeguard, N = 100
  for l in 0 0.1; do
    MF --detector phi,gossip-heartbeat,lifeguard --nodes 100 --loss $l --fail 1 --fail-at 30s --duration 120s --seed 1 --runs 5 --json > "$OUT/f15-loss-$l.jsonl"
  done
  MF --detector phi --nodes 100 --loss 0.1 --fail 1 --fail-at 30s --duration 120s --seed 1 --runs 5 --heartbeat-fanout 3 --phi-acceptable-pause 3s --json > "$OUT/f15-fanout3.jsonl"
  MF --detector phi --nodes 100 --loss 0.1 --fail 1 --fail-at 30s --duration 120s --seed 1 --runs 5 --phi-acceptable-pause 3s \
    --phi-min-std-deviation 100ms --phi-first-heartbeat-estimate 1s --phi-window 1000 --json > "$OUT/f15-akka.jsonl"
  MF --detector phi,gossip-heartbeat --nodes 100 --fail 50 --fail-at 30s --duration 150s --seed 1 --runs 3 --json > "$OUT/f15-half.jsonl"
fi
