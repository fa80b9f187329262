#!/usr/bin/env python3
"""Plots HyParView + Plumtree delivery against the fraction of nodes failed at once (claim P4).

Input: JSON lines from `grapevine sim views --view hyparview --fail-fraction F --json`, one per F.
Output: an SVG with the mean and the worst delivered fraction (over the multicasts sent after the
failure) against F. Standard library only.

  python3 docs/experiments/p4_plot.py docs/experiments/out/p4-hyparview-n10000.jsonl \
      docs/plots/p4-hyparview-n10000.svg
"""
import json
import sys


def main():
    rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    rows.sort(key=lambda r: r["fail_fraction"])
    w, h, left, bottom, top, right = 560, 360, 60, 50, 20, 20
    pw, ph = w - left - right, h - top - bottom

    def x(f):
        return left + f * pw

    def y(v):  # delivered fraction 0.5..1 on the axis
        lo = 0.5
        return top + (1 - (max(v, lo) - lo) / (1 - lo)) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>']
    for t in (0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        out.append(f'<line x1="{left}" y1="{y(t):.1f}" x2="{w - right}" y2="{y(t):.1f}" '
                   f'stroke="#ddd"/><text x="{left - 8}" y="{y(t) + 4:.1f}" '
                   f'text-anchor="end">{t:.1f}</text>')
    for f in (0, 0.2, 0.4, 0.6, 0.8, 1.0):
        out.append(f'<text x="{x(f):.1f}" y="{h - bottom + 18}" text-anchor="middle">{f:.1f}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 10}" text-anchor="middle">fraction of nodes '
               f'failed at once</text>')
    out.append(f'<text x="14" y="{top + ph / 2}" transform="rotate(-90 14 {top + ph / 2})" '
               f'text-anchor="middle">delivered fraction (live nodes)</text>')
    for key, colour, label in (("delivered_fraction_after", "#1f77b4", "mean after failure"),
                               ("delivered_fraction_after_min", "#d62728", "worst multicast")):
        pts = " ".join(f"{x(r['fail_fraction']):.1f},{y(r[key]):.1f}" for r in rows)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for r in rows:
            out.append(f'<circle cx="{x(r["fail_fraction"]):.1f}" cy="{y(r[key]):.1f}" r="3" '
                       f'fill="{colour}"/>')
    n = rows[0]["nodes"] if rows else 0
    out.append(f'<text x="{left + 10}" y="{top + ph - 30}" fill="#1f77b4">mean over the '
               f'multicasts after the failure</text>')
    out.append(f'<text x="{left + 10}" y="{top + ph - 14}" fill="#d62728">worst multicast '
               f'(HyParView + Plumtree, n = {n})</text>')
    out.append('</svg>')
    open(sys.argv[2], "w").write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
