#!/usr/bin/env python3
"""Event latency and query round trip: a mixed serf cluster (serf agents + grapevine
--dialect serf agents) beside an all-serf cluster of the same size, on 127.0.0.1.

For each cluster: `serf event` from serf agent s1, latency until each other member delivered it
(serf agents: their event handler's clock; grapevine agents: the line in `grapevine monitor`);
then `serf query` from s1, round trip until each member's response line (serf agents answer
through their handler, a fork per query; grapevine agents from --serf-respond, or with
--handler through the same handler script, `--event-handler query=h.sh`). Prints
percentiles over --runs of each. Every process started is ended here, by PID.

Usage: serf_mixed.py GRAPEVINE_BINARY [--serf 2] [--grapevine 2] [--runs 10]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "interop"))
from common import free_port, rpc_call, wait_for  # noqa: E402

SERF = shutil.which("serf")
PROCS = []


def start(args, log):
    p = subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT)
    PROCS.append(p)
    return p


class Cluster:
    def __init__(self, grapevine, n_serf, n_gv, work, handler=False):
        self.work = work
        self.handler = os.path.join(work, "h.sh")
        with open(self.handler, "w") as f:
            f.write('#!/bin/sh\nif [ "$SERF_EVENT" = query ]; then echo ok; exit 0; fi\n'
                    f'[ "$SERF_EVENT" = user ] && echo "$SERF_USER_EVENT $(date +%s.%N)" '
                    f'>> {work}/$SERF_SELF_NAME.events\nexit 0\n')
        os.chmod(self.handler, 0o755)
        self.serf, self.gv = [], []
        self.arrivals = {}  # (node, event name) -> time
        seed = None
        for i in range(n_serf):
            name, port, rpc = f"s{i + 1}", free_port(), f"127.0.0.1:{free_port()}"
            args = [SERF, "agent", f"-node={name}", f"-bind=127.0.0.1:{port}",
                    f"-rpc-addr={rpc}", f"-event-handler={self.handler}", "-log-level=warn"]
            if seed:
                args.append(f"-join={seed}")
            start(args, os.path.join(work, f"{name}.log"))
            self.serf.append((name, rpc))
            wait_for(f"{name}", lambda rpc=rpc: self.serf_members(rpc), 15)
            seed = seed or f"127.0.0.1:{port}"
        for i in range(n_gv):
            name, port, rpc = f"gv{i + 1}", free_port(), free_port()
            start([grapevine, "agent", "--name", name, "--bind", f"127.0.0.1:{port}",
                   "--rpc-addr", f"127.0.0.1:{rpc}", "--join", seed, "--dialect", "serf"] +
                  (["--event-handler", f"query={self.handler}"] if handler
                   else ["--serf-respond", "=ok"]), os.path.join(work, f"{name}.log"))
            wait_for(f"{name}'s rpc", lambda rpc=rpc: rpc_call(rpc, {"cmd": "info"}, json), 10)
            mon = subprocess.Popen([grapevine, "monitor", "--rpc-addr", f"127.0.0.1:{rpc}"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            PROCS.append(mon)
            threading.Thread(target=self.read_monitor, args=(name, mon), daemon=True).start()
            self.gv.append(name)
        everyone = n_serf + n_gv
        wait_for("everyone alive everywhere",
                 lambda: all(sum(1 for s in self.serf_members(rpc).values() if s == "alive")
                             == everyone for _, rpc in self.serf), 30)
        time.sleep(2)  # let push-pulls settle the clocks

    def read_monitor(self, name, mon):
        for line in mon.stdout:
            t = time.time()
            j = json.loads(line)
            if j.get("event") == "user":
                self.arrivals[(name, j["name"])] = t

    @staticmethod
    def serf_members(rpc):
        out = subprocess.run([SERF, "members", f"-rpc-addr={rpc}", "-format=json"],
                             capture_output=True, text=True, timeout=10).stdout
        return {m["name"]: m["status"] for m in json.loads(out)["members"]}

    def serf_arrival(self, name, event):
        path = os.path.join(self.work, f"{name}.events")
        if not os.path.exists(path):
            return None
        for line in open(path):
            n, t = line.split()
            if n == event:
                return float(t)
        return None

    def event(self, i):
        origin = self.serf[0][1]
        name = f"ev{i}"
        t0 = time.time()
        subprocess.run([SERF, "event", f"-rpc-addr={origin}", "-coalesce=false", name, "x"],
                       check=True, capture_output=True, timeout=10)
        receivers = [n for n, _ in self.serf[1:]] + self.gv

        def arrived():
            out = {}
            for n in receivers:
                t = self.arrivals.get((n, name)) if n in self.gv else self.serf_arrival(n, name)
                if t is None:
                    return None
                out[n] = t - t0
            return out
        return wait_for(f"event {name} everywhere", arrived, 10)

    def query(self):
        t0 = time.time()
        p = subprocess.Popen([SERF, "query", f"-rpc-addr={self.serf[0][1]}", "-timeout=2s",
                              "q", "x"], stdout=subprocess.PIPE, text=True)
        got = {}
        for line in p.stdout:
            if line.startswith("Response from '"):
                got[line.split("'")[1]] = time.time() - t0
        p.wait()
        return got


def pct(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def measure(grapevine, n_serf, n_gv, runs, handler=False):
    work = tempfile.mkdtemp(prefix="serf-mixed-")
    try:
        c = Cluster(grapevine, n_serf, n_gv, work, handler)
        ev_all, ev_last, q_all, q_last, ev_serf, ev_gv = [], [], [], [], [], []
        for i in range(runs):
            lat = c.event(i)
            ev_all += list(lat.values())
            ev_serf += [t for n, t in lat.items() if n not in c.gv]
            ev_gv += [t for n, t in lat.items() if n in c.gv]
            ev_last.append(max(lat.values()))
            time.sleep(0.2)
        for _ in range(runs):
            got = c.query()
            if len(got) == n_serf + n_gv:
                q_all += list(got.values())
                q_last.append(max(got.values()))
        return ev_all, ev_last, q_all, q_last, ev_serf, ev_gv
    finally:
        while PROCS:
            p = PROCS.pop()
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("grapevine")
    ap.add_argument("--serf", type=int, default=2)
    ap.add_argument("--grapevine", dest="gv", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--handler", action="store_true",
                    help="grapevine agents answer queries through the handler script too")
    a = ap.parse_args()
    if not SERF:
        sys.exit("no serf binary")
    n = a.serf + a.gv
    rows = [(f"all serf ({n} serf)", measure(a.grapevine, n, 0, a.runs)),
            (f"mixed ({a.serf} serf + {a.gv} grapevine)", measure(a.grapevine, a.serf, a.gv,
                                                                   a.runs, a.handler))]
    print(f"{'cluster':34} {'event p50/p90 (ms)':>20} {'event last p50':>15} "
          f"{'query p50/p90 (ms)':>20} {'query last p50':>15} {'queries ok':>10}")
    for label, (ev, ev_last, q, q_last, ev_serf, ev_gv) in rows:
        print(f"{label:34} {pct(ev, .5) * 1e3:9.0f}/{pct(ev, .9) * 1e3:<10.0f} "
              f"{pct(ev_last, .5) * 1e3:15.0f} "
              f"{(pct(q, .5) * 1e3 if q else float('nan')):9.0f}/"
              f"{(pct(q, .9) * 1e3 if q else float('nan')):<10.0f} "
              f"{(pct(q_last, .5) * 1e3 if q_last else float('nan')):15.0f} "
              f"{len(q_last):>6}/{a.runs}")
        gv = f", grapevine receivers {pct(ev_gv, .5) * 1e3:.0f} ms" if ev_gv else ""
        print(f"    event p50 at serf receivers {pct(ev_serf, .5) * 1e3:.0f} ms{gv}")


if __name__ == "__main__":
    main()
