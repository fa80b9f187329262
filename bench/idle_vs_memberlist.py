#!/usr/bin/env python3
"""The idle cluster beside memberlist, both hosted the same way (issue "One node everywhere").

N grapevine nodes in one process (`grapevine demo --steady`) and N memberlist 0.2.2 instances in
one Go process (bench/memberlist_demo, DefaultLANConfig), joined the same way (through the first
member at --join-rate), then measured at rest the same way: CPU per node-second from getrusage,
datagram and stream payload bytes written per node per second, peak RSS over N. Runs alternate
(grapevine, then Go) so load on a shared machine falls on both; prints each run's figures, the
ratios and their medians, or one JSON object with --json.

    python3 bench/idle_vs_memberlist.py build/release/tools/grapevine --nodes 256 --runs 3
"""
import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

FIELDS = [  # (label, how to read it from the grapevine JSON, from the Go JSON, the goal's ratio)
    ("bytes per node-second", lambda g: g["steady"]["bytes_per_node_per_second"],
     lambda m: m["steady"]["bytes_per_node_per_second"], 1.0),
    ("messages per node-second", lambda g: g["steady"]["messages_per_node_per_second"],
     lambda m: m["steady"]["messages_per_node_per_second"], None),
    ("CPU ms per node-second", lambda g: g["steady"]["cpu_ms_per_node_second"],
     lambda m: m["steady"]["cpu_ms_per_node_second"], 0.2),
    ("peak RSS per node (bytes)", lambda g: g["rss_bytes_per_node"],
     lambda m: m["steady"]["rss_bytes_per_node"], 0.1),
    ("join convergence (s)", lambda g: g["join_convergence_seconds"],
     lambda m: m["join_convergence_seconds"], 0.35),
]


def run_json(cmd, timeout):
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         timeout=timeout, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("grapevine", help="path to the grapevine binary")
    ap.add_argument("--nodes", type=int, default=256)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--steady", default="30s", help="time measured at rest (both sides)")
    ap.add_argument("--join-rate", type=float, default=200)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args()
    here = Path(__file__).resolve().parent
    go_demo = subprocess.run([str(here / "memberlist_demo" / "build.sh")], check=True,
                             stdout=subprocess.PIPE, text=True).stdout.strip()
    rows = []
    for r in range(a.runs):
        g = run_json([a.grapevine, "demo", "--nodes", str(a.nodes), "--crash", "0",
                      "--join-rate", str(a.join_rate), "--steady", a.steady, "--json"], 600)
        m = run_json([go_demo, "--nodes", str(a.nodes), "--join-rate", str(a.join_rate),
                      "--timeout", "40s", "--steady", a.steady], 600)
        rows.append((g, m))
        print(f"run {r + 1}: grapevine false failures {g['false_failures']}, memberlist "
              f"converged {m['join_convergence_seconds'] >= 0}", file=sys.stderr)
    result = {"nodes": a.nodes, "runs": a.runs, "steady": a.steady, "figures": {}}
    for label, gv, mv, goal in FIELDS:
        pairs = [(gv(g), mv(m)) for g, m in rows]
        # a memberlist join that never converged (-1) has no ratio: it is past any goal
        ratios = [x / y for x, y in pairs if y > 0]
        result["figures"][label] = {
            "grapevine": [x for x, _ in pairs], "memberlist": [y for _, y in pairs],
            "ratios": ratios, "median_ratio": statistics.median(ratios) if ratios else None,
            "goal_ratio": goal}
    result["false_failures"] = [g["false_failures"] for g, _ in rows]
    if a.json:
        print(json.dumps(result))
        return
    print(f"N = {a.nodes}, {a.runs} alternating runs, {a.steady} at rest")
    print(f"{'per member':28} {'grapevine':>30} {'memberlist':>30} {'median ratio':>12} {'goal':>6}")
    for label, f in result["figures"].items():
        fmt = lambda xs: " ".join(f"{x:.4g}" for x in xs)
        med = f["median_ratio"]
        print(f"{label:28} {fmt(f['grapevine']):>30} {fmt(f['memberlist']):>30} "
              f"{'-' if med is None else f'{med:.3f}':>12} {f['goal_ratio'] or '':>6}")
    print(f"grapevine false failures: {result['false_failures']}")


if __name__ == "__main__":
    main()
