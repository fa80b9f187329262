#!/usr/bin/env python3
"""Figure D2 of docs/experiments.md (docs/plots/fanout-push-n1000.svg) from Python.

Push gossip with fanout b = 1..4 at n = 1000: the mean infection curve over the runs (solid) and
the mean-field recursion (dashed), as `grapevine sim multicast --protocol push --fanout 1,2,3,4
--nodes 1000 --runs 1000 --plot ...` draws it. The numbers come from grapevine.sim, i.e. the
simulator and the CLI's own JSON; this script only plots them.

  cmake --build --preset release --target grapevine_python
  PYTHONPATH=build/release/python python3 examples/python/plot_infection.py --out fanout.png
"""

import argparse

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402

import grapevine.sim  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="fanout-push-n1000.png", help="PNG, SVG or PDF")
    args = ap.parse_args()

    series = grapevine.sim.multicast(protocol="push", fanout=[1, 2, 3, 4], nodes=args.nodes,
                                     runs=args.runs, seed=args.seed)
    fig, ax = plt.subplots(figsize=(8, 5))
    for s in series:
        label = f"{s['protocol']} b={s['fanout']}"
        line, = ax.plot(range(len(s["curve_mean"])), s["curve_mean"], label=label)
        if s["curve_mean_field"]:
            ax.plot(range(len(s["curve_mean_field"])), s["curve_mean_field"], "--",
                    color=line.get_color(), label=f"{label} (mean field)")
        print(f"{label}: rounds_mean {s['rounds_mean']:.2f} over {s['runs']} runs")
    ax.set_title(f"Infection curve (push, n = {args.nodes}, {args.runs} runs)")
    ax.set_xlabel("round")
    ax.set_ylabel("fraction of live nodes holding the message")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"plot written to {args.out}")


if __name__ == "__main__":
    main()
