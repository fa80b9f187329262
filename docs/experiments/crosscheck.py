#!/usr/bin/env python3
"""An independent re-simulation of synchronous push and pull, to arbitrate where grapevine and
literature.md disagree. Forty lines, no shared code with grapevine: one initial infected node;
each round every infected node pushes to `b` distinct uniform targets among the other n-1
(push), or every uninfected node asks one uniform peer among the other n-1 (pull); nodes infected
in round t act from round t+1. Prints the mean rounds to reach everyone, its sd and standard
error.
Usage: crosscheck.py push|pull N RUNS SEED [B]
"""
import random
import sys


def other(n, i, r):
    k = r.randrange(n - 1)
    return k + 1 if k >= i else k


def push(n, b, r):
    infected = bytearray(n)
    infected[0] = 1
    spreaders, rounds = [0], 0
    while len(spreaders) < n:
        rounds += 1
        new = []
        for i in spreaders:
            targets = set()
            while len(targets) < b:
                targets.add(other(n, i, r))
            for j in targets:
                if not infected[j]:
                    infected[j] = 1
                    new.append(j)
        spreaders += new
    return rounds


def pull(n, _b, r):
    infected = bytearray(n)
    infected[0] = 1
    waiting, rounds = list(range(1, n)), 0
    while waiting:
        rounds += 1
        got = [i for i in waiting if infected[other(n, i, r)]]
        for i in got:
            infected[i] = 1
        waiting = [i for i in waiting if not infected[i]]
    return rounds


def main():
    mode, n, runs, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    b = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    r = random.Random(seed)
    xs = [(push if mode == "push" else pull)(n, b, r) for _ in range(runs)]
    m = sum(xs) / runs
    sd = (sum((x - m) ** 2 for x in xs) / (runs - 1)) ** 0.5
    print("crosscheck %s n=%d b=%d runs=%d seed=%d: mean %.3f sd %.3f se %.3f"
          % (mode, n, b, runs, seed, m, sd, sd / runs ** 0.5))


if __name__ == "__main__":
    main()
