#!/usr/bin/env python3
"""Expected time from a crash to its first detection (the end of the first probe of it that
fails), in protocol periods, for SWIM's probe schedules. Independent of grapevine's code.

  python3 docs/experiments/swim_first_detection.py

L live members probe; each has a pass of m = n - 1 targets (the crashed one among them).
- random targets: each live member picks the crashed one with probability 1/m per period;
- round-robin: each walks a fresh random permutation per pass; the crash falls at a uniformly
  random point of the pass, so the crashed member comes up later in this pass or, if it was
  already probed, somewhere in the next one.
- synchronous: every member's periods start together and the crash falls just after a period
  start (the SWIM paper's model): first detection = K periods, K >= 1.
- asynchronous: each member's periods start at its own uniformly random phase phi (our default):
  first detection = min over members of (phi_i + K_i).
The paper's closed form, T'/(1 - e^{-q_f}), is the synchronous random-target case for large n.
"""
import math


def survival_round_robin(m):
    """P(K > t) for t = 0, 1, ..., 2m for one member, round-robin targets."""
    out = []
    for t in range(2 * m + 1):
        total = 0.0
        for c in range(m):  # position of the crash period in the pass
            # crashed member later in this pass (p >= c): K = p - c + 1 > t
            total += max(0, m - c - t)
            # already probed in this pass (p < c): next pass at p', K = (m - c) + p' + 1 > t
            need = max(0, t - (m - c))
            total += c * min(1.0, max(0.0, (m - need) / m))
        out.append(total / (m * m))
    return out


def survival_random(m, tmax):
    return [(1.0 - 1.0 / m) ** t for t in range(tmax + 1)]


def sync_mean(surv, live):
    return sum(s ** live for s in surv)


def async_mean(surv, live, steps=400):
    # S_a(j + f) = P(K >= j + 1) + P(K = j) (1 - f); integrate S_a^L over x >= 0.
    total = 0.0
    for j in range(len(surv) - 1):
        p_ge = surv[j]                                   # P(K > j) = P(K >= j + 1)
        p_eq = (surv[j - 1] - surv[j]) if j >= 1 else 0.0  # P(K = j)
        for i in range(steps):
            f = (i + 0.5) / steps
            total += (p_ge + p_eq * (1.0 - f)) ** live / steps
    return total


def main():
    print("n, live members L, q_f = L/(n-1): expected first detection in periods")
    print(f"{'n':>5} {'L':>5} {'q_f':>5} {'paper':>7} {'sync rand':>9} {'sync rr':>8} "
          f"{'async rand':>10} {'async rr':>9}")
    for n in (10, 30, 100, 300, 1000, 3000):
        m = n - 1
        rr = survival_round_robin(m)
        for live in (n - 1, n // 2):
            q = live / m
            paper = 1.0 / (1.0 - math.exp(-q))
            rnd = survival_random(m, 60 * m)
            s_rand = sync_mean(rnd, live)
            a_rand = async_mean(rnd[: 40], live)
            s_rr = sync_mean(rr, live)
            a_rr = async_mean(rr, live)
            print(f"{n:>5} {live:>5} {q:>5.3f} {paper:>7.3f} {s_rand:>9.3f} {s_rr:>8.3f} "
                  f"{a_rand:>10.3f} {a_rr:>9.3f}")


def own_probe_table():
    # One member's own detection of the crash: the end of its first probe of the crashed member,
    # phi + K periods after the crash (asynchronous phases: phi uniform in (0, 1)).
    print()
    print("one member's own detection (phi + K periods): mean, and the largest possible value")
    print(f"{'n':>5} {'rr mean':>8} {'rr max':>7} {'rand mean':>9} {'rand max':>8}")
    for n in (10, 30, 100):
        m = n - 1
        rr = survival_round_robin(m)
        print(f"{n:>5} {0.5 + sum(rr):>8.2f} {'< ' + str(2 * m):>7} {0.5 + m:>9.2f} {'none':>8}")


if __name__ == "__main__":
    main()
    own_probe_table()
