#!/usr/bin/env python3
"""Join convergence of `grapevine demo` beside memberlist's Go twin, in interleaved pairs.

Each pair runs `grapevine demo --nodes N --crash 0 --json` (join_convergence_seconds), then
bench/memberlist_demo (the same start pattern, rate and stop condition in one Go process, N
memberlist 0.2.2 instances with DefaultLANConfig), back to back, so a loaded machine weighs on
both sides of a pair alike. Prints one row per pair (seconds, the ratio grapevine / memberlist
and each run's CPU seconds, user + sys of the child) and the medians, as a Markdown table.

A memberlist run that does not converge within its --timeout counts as taking the whole
window (last join + timeout): its ratio is printed as "<x", an upper bound, and enters the
median as x (which favours memberlist).

    python3 bench/join_vs_memberlist.py                      # N = 64, 9 pairs
    python3 bench/join_vs_memberlist.py --nodes 64 128 --pairs 9

docs/performance.md, "Join convergence beside memberlist", has the figures and their dates.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_json(cmd, timeout):
    """Runs cmd, returns (its JSON object from stdout or None, wall-clock-free CPU seconds)."""
    cpu0 = cpu_seconds()
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=timeout, check=False, text=True).stdout
    except subprocess.TimeoutExpired:
        return None, cpu_seconds() - cpu0
    cpu = cpu_seconds() - cpu0
    for line in reversed(out.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line), cpu
            except json.JSONDecodeError:
                pass
    try:
        return json.loads(out), cpu  # a pretty-printed object
    except json.JSONDecodeError:
        return None, cpu


def seconds(obj):
    if obj is None:
        return None
    s = obj.get("join_convergence_seconds")
    return None if s is None or s < 0 else float(s)


def fmt(x, digits=2):
    return "-" if x is None else f"{x:.{digits}f}"


def pairs_at(n, args):
    window = n / args.join_rate + args.timeout
    gv_cmd = [args.grapevine, "demo", "--nodes", str(n), "--crash", "0",
              "--join-rate", str(args.join_rate), "--json"]
    go_cmd = [args.go_demo, "--nodes", str(n), "--join-rate", str(args.join_rate),
              "--timeout", f"{args.timeout}s"]
    rows = []
    for i in range(args.pairs):
        g, g_cpu = run_json(gv_cmd, window + 60)
        b = None
        if args.baseline:
            b, _ = run_json([args.baseline] + gv_cmd[1:], window + 60)
        m, m_cpu = run_json(go_cmd, window + 60)
        gs, ms, bs = seconds(g), seconds(m), seconds(b)
        bound = ms is None
        ratio = None if gs is None else gs / (window if bound else ms)
        b_ratio = None if bs is None else bs / (window if bound else ms)
        rows.append((i + 1, gs, ms, ratio, bound, g_cpu, m_cpu, bs, b_ratio))
        print(f"  N={n} pair {i + 1}: grapevine {fmt(gs)} s, memberlist "
              f"{'>' + fmt(window) if bound else fmt(ms)} s, ratio {fmt(ratio)}"
              + (f"; baseline {fmt(bs)} s, ratio {fmt(b_ratio)}" if args.baseline else ""),
              file=sys.stderr, flush=True)
    return rows


def table(n, rows, args):
    extra = " | baseline s | baseline ratio" if args.baseline else ""
    print(f"\n| N = {n}, join at {args.join_rate:g}/s | grapevine s | memberlist s | ratio "
          f"| grapevine CPU s | memberlist CPU s{extra} |")
    print("|---|---:|---:|---:|---:|---:|" + ("---:|---:|" if args.baseline else ""))
    for i, gs, ms, ratio, bound, g_cpu, m_cpu, bs, b_ratio in rows:
        r = ("<" if bound else "") + fmt(ratio)
        m = f">{fmt(n / args.join_rate + args.timeout)}" if bound else fmt(ms)
        b = f" | {fmt(bs)} | {('<' if bound else '') + fmt(b_ratio)}" if args.baseline else ""
        print(f"| pair {i} | {fmt(gs)} | {m} | {r} | {fmt(g_cpu, 1)} | {fmt(m_cpu, 1)}{b} |")

    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    window = n / args.join_rate + args.timeout
    print(f"| **median** | {fmt(med(r[1] for r in rows))} | "
          f"{fmt(med(window if r[2] is None else r[2] for r in rows))} | "
          f"**{fmt(med(r[3] for r in rows))}** | {fmt(med(r[5] for r in rows), 1)} | "
          f"{fmt(med(r[6] for r in rows), 1)}"
          + (f" | {fmt(med(r[7] for r in rows))} | {fmt(med(r[8] for r in rows))}"
             if args.baseline else "") + " |")
    both = [r[3] for r in rows if r[2] is not None and r[3] is not None]
    if len(both) < len(rows):
        print(f"\nmedian ratio over the {len(both)} pairs where memberlist converged: "
              f"{fmt(med(both))}" + (f" (baseline {fmt(med(r[8] for r in rows if r[2] is not None))})"
                                     if args.baseline else ""))
    failed = sum(1 for r in rows if r[1] is None)
    slow = sum(1 for r in rows if r[2] is None)
    if failed or slow:
        print(f"\n(grapevine did not converge in {failed} runs; memberlist not within "
              f"{args.timeout:g} s after the last join in {slow})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nodes", type=int, nargs="+", default=[64])
    ap.add_argument("--pairs", type=int, default=9)
    ap.add_argument("--join-rate", type=float, default=200)
    ap.add_argument("--timeout", type=float, default=30, help="memberlist: seconds after the last join")
    ap.add_argument("--grapevine", default=os.path.join(ROOT, "build/release/tools/grapevine"))
    ap.add_argument("--baseline", default=None,
                    help="another grapevine binary (e.g. main's) run in each pair too (A/B)")
    ap.add_argument("--go-demo", default=None,
                    help="bench/memberlist_demo binary (default: built by its build.sh)")
    args = ap.parse_args()
    if args.go_demo is None:
        args.go_demo = subprocess.run([os.path.join(ROOT, "bench/memberlist_demo/build.sh")],
                                      stdout=subprocess.PIPE, check=True, text=True).stdout.strip()
    for n in args.nodes:
        table(n, pairs_at(n, args), args)


if __name__ == "__main__":
    main()
