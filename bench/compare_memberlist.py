#!/usr/bin/env python3
"""Steady-state cost per member: Go memberlist 0.2.2 against grapevine, same protocol and timings.

N Go members (tests/interop/peer, memberlist.DefaultLANConfig) form a cluster, then N grapevine
agents (`grapevine agent --dialect memberlist --profile lan`, one process each, like the Go
members); after they converge and settle, each cluster is measured over the same window:
CPU time per member (utime + stime from /proc), RSS per member, and UDP/TCP packets and bytes
per member per second counted by iptables at the IP layer (headers included). Everything runs
inside a network namespace made here (loopback only), so the counters see nothing else.

Run as root:  python3 bench/compare_memberlist.py build/release/tools/grapevine [--nodes 32]
             [--settle 15] [--window 60] [--json] [--grapevine-dialect memberlist|native]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NETNS = f"gvbench{os.getpid()}"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True).stdout


def in_ns(args):
    return ["ip", "netns", "exec", NETNS, *args]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def counters(first_port, n):
    """(packets, bytes) sent from the members' ports, UDP and TCP, from the OUTPUT chain."""
    out = sh(*in_ns(["iptables", "-L", "OUTPUT", "-v", "-x", "-n"]))
    pk = by = 0
    for line in out.splitlines():
        if f"sports {first_port}:{first_port + n - 1}" in line:
            parts = line.split()
            pk += int(parts[0])
            by += int(parts[1])
    return pk, by


def count_ports(first_port, n):
    for proto in ("udp", "tcp"):
        sh(*in_ns(["iptables", "-A", "OUTPUT", "-p", proto, "-m", "multiport", "--sports",
                   f"{first_port}:{first_port + n - 1}"]))


def go_alive(proc):
    proc.stdin.write("states\n")
    proc.stdin.flush()
    while True:
        j = json.loads(proc.stdout.readline())
        if "states" in j:
            return sum(1 for s in j["states"].values() if s == "alive")


def gv_alive(rpc_port):
    out = sh(*in_ns(["python3", "-c",
                     "import socket,sys;s=socket.create_connection(('127.0.0.1',%d));"
                     "s.sendall(b'{\"cmd\":\"members\"}\\n');d=b''\n"
                     "while not d.endswith(b'\\n'):\n d+=s.recv(65536)\n"
                     "sys.stdout.write(d.decode())" % rpc_port]))
    return sum(1 for m in json.loads(out)["members"] if m["state"] == "alive")


def measure(name, procs, first_port, n, settle, window, alive):
    time.sleep(settle)
    if alive() != n:
        raise RuntimeError(f"{name}: not converged after {settle}s ({alive()} of {n} alive)")
    c0 = [cpu_seconds(p.pid) for p in procs]
    k0 = counters(first_port, n)
    t0 = time.time()
    time.sleep(window)
    c1 = [cpu_seconds(p.pid) for p in procs]
    k1 = counters(first_port, n)
    dt = time.time() - t0
    cpu = sum(b - a for a, b in zip(c0, c1))
    rss = sum(rss_bytes(p.pid) for p in procs)
    if alive() != n:
        raise RuntimeError(f"{name}: lost members during the window ({alive()} of {n} alive)")
    return {
        "implementation": name,
        "members": n,
        "window_seconds": round(dt, 1),
        "cpu_ms_per_member_second": round(1000 * cpu / dt / n, 3),
        "rss_mib_per_member": round(rss / n / 2**20, 2),
        "packets_per_member_second": round((k1[0] - k0[0]) / dt / n, 2),
        "bytes_per_member_second": round((k1[1] - k0[1]) / dt / n, 1),
    }


def go_cluster(peer, n, first_port):
    procs = []
    for i in range(n):
        p = subprocess.Popen(in_ns([peer, "-name", f"go{i}", "-port", str(first_port + i),
                                    "-profile", "lan"]),
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        procs.append(p)
        while "ready" not in (line := p.stdout.readline()):
            if not line:
                raise RuntimeError("a Go member did not start")
        if i > 0:
            p.stdin.write(f"join 127.0.0.1:{first_port}\n")
            p.stdin.flush()
    return procs


def grapevine_cluster(binary, n, first_port, log_dir, dialect):
    procs = []
    for i in range(n):
        # native: the default agent configuration (grapevine's own wire, LAN timings)
        dialect_args = ["--dialect", "memberlist", "--profile", "lan"] if dialect == "memberlist" else []
        args = [binary, "agent", *dialect_args, "--name", f"gv{i}",
                "--bind", f"127.0.0.1:{first_port + i}", "--rpc-addr",
                f"127.0.0.1:{first_port + 1000 + i}", "--log-level", "warn"]
        if i > 0:
            args += ["--join", f"127.0.0.1:{first_port}"]
        log = open(os.path.join(log_dir, f"gv{i}.log"), "w")
        procs.append(subprocess.Popen(in_ns(args), stdout=log, stderr=subprocess.STDOUT))
        time.sleep(0.05)
    return procs


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("grapevine")
    ap.add_argument("--nodes", type=int, default=32)
    ap.add_argument("--settle", type=float, default=15)
    ap.add_argument("--window", type=float, default=60)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--grapevine-dialect", choices=["memberlist", "native"], default="memberlist",
                    help="memberlist: the same protocol as Go; native: the default agent")
    a = ap.parse_args()
    peer = sh(os.path.join(HERE, "..", "tests", "interop", "peer", "build.sh"),
              os.path.join(tempfile.mkdtemp(), "memberlist-peer")).strip()
    sh("ip", "netns", "add", NETNS)
    procs = []
    try:
        sh(*in_ns(["ip", "link", "set", "lo", "up"]))
        results = []
        go_port, gv_port = 30000, 40000
        count_ports(go_port, a.nodes)
        count_ports(gv_port, a.nodes)
        procs = go_cluster(peer, a.nodes, go_port)
        go0 = procs[0]
        results.append(measure("memberlist 0.2.2 (Go)", procs, go_port, a.nodes, a.settle,
                               a.window, lambda: go_alive(go0)))
        stop(procs)
        procs = grapevine_cluster(os.path.abspath(a.grapevine), a.nodes, gv_port,
                                  tempfile.mkdtemp(), a.grapevine_dialect)
        results.append(measure(f"grapevine --dialect {a.grapevine_dialect}", procs, gv_port, a.nodes,
                               a.settle, a.window, lambda: gv_alive(gv_port + 1000)))
        stop(procs)
        if a.json:
            print(json.dumps(results))
        else:
            keys = list(results[0].keys())
            print(" | ".join(keys))
            for r in results:
                print(" | ".join(str(r[k]) for k in keys))
    finally:
        stop(procs)
        sh("ip", "netns", "delete", NETNS, check=False)


if __name__ == "__main__":
    main()
