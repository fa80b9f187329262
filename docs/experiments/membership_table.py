#!/usr/bin/env python3
"""Prints the scenario table of docs/experiments.md's membership section from the JSON lines
that docs/experiments/membership.sh wrote (one object per run series).

  python3 docs/experiments/membership_table.py /tmp/grapevine-membership
"""
import json
import os
import sys

DETECTORS = ["swim", "lifeguard", "gossip-heartbeat", "all-to-all"]
SCENARIOS = [("crash1", "one crash"), ("half", "half crash"), ("loss", "one crash, 10% loss")]


def f(x, nd=2):
    if x is None or x == -1:
        return "–"
    return f"{x:.{nd}f}"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/grapevine-membership"
    print("| detector | N | runs | scenario | join conv. s | completeness | accuracy | "
          "first p50 s | all p50 s | all p99 s | false failures (unhealed) | msgs/m/s | B/m/s | "
          "steady msgs/m/s | steady B/m/s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in (10, 100, 1000):
        for d in DETECTORS:
            for key, name in SCENARIOS:
                p = os.path.join(out, f"scen-{d}-n{n}-{key}.jsonl")
                if not os.path.exists(p) or os.path.getsize(p) == 0:
                    continue
                j = json.loads(open(p).readline())
                print(f"| {d} | {n} | {j['runs']} | {name} | {f(j['join_convergence_seconds'], 1)} | "
                      f"{j['completeness']:.4f} | {j['accuracy']:.4f} | "
                      f"{f(j['detection_first_seconds_p50'])} | {f(j['detection_all_seconds_p50'])} | "
                      f"{f(j['detection_all_seconds_p99'])} | "
                      f"{j['false_failures']} ({j['unhealed_false_failures']}) | "
                      f"{j['messages_per_member_per_second']:.2f} | "
                      f"{j['bytes_per_member_per_second']:.0f} | "
                      f"{j['steady_messages_per_member_per_second']:.2f} | "
                      f"{j['steady_bytes_per_member_per_second']:.0f} |")


if __name__ == "__main__":
    main()
