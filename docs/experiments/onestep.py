#!/usr/bin/env python3
"""D6: one-step check of the mean-field recursions against single simulated runs.

Reads JSON lines from `grapevine sim multicast --runs 1 --json` (with --runs 1, curve_mean is
that run's own infection curve). For every round t it applies the recursion to the *observed*
uninfected fraction u_t and compares the prediction f(u_t) with the observed u_{t+1}:
  push:      f(u) = u * exp(-b (1 - u))
  pull:      f(u) = u^(1 + pull_fanout)          (no loss)
  push-pull: f(u) = u^(1 + pull_fanout) * exp(-b (1 - u))
It compares the minority side, where the information is: the infected fraction 1-u while the
prediction says fewer than half are infected, the uninfected fraction u afterwards. Steps are
binned by the predicted minority count c = n * min(f, 1-f); for each bin it prints the mean and
sd of observed/predicted, and of z = (observed - predicted) / sqrt(predicted), the deviation in
units of the Poisson noise a mean-field model cannot predict (|z| ~ 1 means "as good as any
deterministic recursion can be"). Only rounds with u_t >= 10/n are used, as the claim states.
Usage: onestep.py FILE.jsonl
       onestep.py --averaged FILE.jsonl   (multi-run series: the averaged curve against the
                                           recursion iterated from u_0 = 1 - 1/n)
"""
import json
import math
import sys
from collections import defaultdict


def f(proto, u, b, k):
    out = u
    if proto in ("push", "pushpull"):
        out *= math.exp(-b * (1 - u))
    if proto in ("pull", "pushpull"):
        out *= u ** k
    return out


BINS = [(1000, math.inf), (100, 1000), (10, 100), (0, 10)]


def main(path):
    steps = defaultdict(lambda: defaultdict(list))
    for line in open(path):
        j = json.loads(line)
        proto, n, b, k = j["protocol"], j["nodes"], j["fanout"], j["pull_fanout"]
        u = [1 - x for x in j["curve_mean"]]
        for t in range(len(u) - 1):
            if u[t] * n < 10:
                break
            pred = f(proto, u[t], b, k)
            phase = "early" if pred > 0.5 else "late"
            p, o = (1 - pred, 1 - u[t + 1]) if phase == "early" else (pred, u[t + 1])
            c = n * p
            z = (n * o - c) / math.sqrt(c) if c > 0 else 0.0
            for lo, hi in BINS:
                if lo <= c < hi:
                    steps[(proto, phase)][(lo, hi)].append((o / p if p > 0 else 0.0, z))
                    break
    print("protocol  phase  predicted count   steps  obs/pred mean   sd      z mean   z sd")
    for proto in ("push", "pull", "pushpull"):
        for phase in ("early", "late"):
            for lo, hi in BINS:
                r = steps[(proto, phase)][(lo, hi)]
                if not r:
                    continue
                ratios = [x for x, _ in r]
                zs = [z for _, z in r]
                m = sum(ratios) / len(r)
                sd = (sum((x - m) ** 2 for x in ratios) / max(1, len(r) - 1)) ** 0.5
                zm = sum(zs) / len(r)
                zsd = (sum((x - zm) ** 2 for x in zs) / max(1, len(r) - 1)) ** 0.5
                rng = "[%d, %s)" % (lo, "inf" if hi == math.inf else str(hi))
                print("%-9s %-6s %-16s %6d  %10.4f  %7.4f  %7.2f %6.2f"
                      % (proto, phase, rng, len(r), m, sd, zm, zsd))


def first_round(curve, level):
    for t, x in enumerate(curve):
        if x >= level:
            return t
    return None


def averaged(path):
    print("protocol  runs  max |mean - mean field| (round)  round mean/field first >= 50%"
          "  >= 1 - 1/(2n)")
    for line in open(path):
        j = json.loads(line)
        sim, field, n = j["curve_mean"], j.get("curve_mean_field"), j["nodes"]
        if not field:
            continue
        diffs = [(abs(a - b), t) for t, (a, b) in enumerate(zip(sim, field))]
        d, t = max(diffs)
        print("%-9s %5d  %.3f (%d)                      %s / %s                     %s / %s"
              % (j["protocol"], j["runs"], d, t, first_round(sim, 0.5), first_round(field, 0.5),
                 first_round(sim, 1 - 0.5 / n), first_round(field, 1 - 0.5 / n)))


if __name__ == "__main__":
    if sys.argv[1] == "--averaged":
        averaged(sys.argv[2])
    else:
        main(sys.argv[1])
