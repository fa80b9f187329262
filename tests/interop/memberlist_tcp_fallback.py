#!/usr/bin/env python3
"""The TCP fallback probe against HashiCorp memberlist, on real sockets.

In a network namespace this script creates (loopback only), every UDP datagram *to* a Go peer is
dropped by iptables; TCP passes. Two 2-member clusters, each a Go peer (memberlist 0.2.2, built
by peer/build.sh) and a grapevine agent in the memberlist dialect:
  - cluster A: grapevine with its TCP fallback ping (the default). Its UDP pings to the Go peer
    vanish, so it pings over TCP ([0][msgpack ping], memberlist's stream format), the Go peer
    acks on the stream, and neither side suspects the other (Go's own fallback pings grapevine
    over TCP when grapevine's UDP acks vanish);
  - cluster B: grapevine with tcp_fallback_ping = false: it suspects and fails its Go peer.
Exit 0 on success, 77 (skipped) without root, ip netns, iptables or go. Every process started
is ended by PID; the namespace is deleted. Usage: memberlist_tcp_fallback.py GRAPEVINE_BINARY
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import free_port, rpc_call, wait_for  # noqa: E402

GRAPEVINE = os.path.abspath(sys.argv[1])
PROCS = []


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


class GoPeer:
    def __init__(self, binary, name):
        self.name, self.port = name, free_port()
        self.proc = subprocess.Popen([binary, "-name", name, "-port", str(self.port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1)
        PROCS.append(self.proc)
        self.expect(lambda j: j.get("ready"))

    def expect(self, match):
        for line in self.proc.stdout:
            j = json.loads(line)
            if "event" not in j and match(j):
                return j
        raise AssertionError(f"{self.name}: no answer")

    def cmd(self, line, key):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.expect(lambda j: key in j)

    def states(self):
        return self.cmd("states", "states")["states"]

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"


class Agent:
    def __init__(self, name, join, fallback):
        self.name, self.port, self.rpc = name, free_port(), free_port()
        config = os.path.join(tempfile.mkdtemp(), "agent.toml")
        with open(config, "w") as f:
            f.write('[membership]\nprofile = "local"\n')
            f.write(f"tcp_fallback_ping = {'true' if fallback else 'false'}\n")
        self.log = tempfile.NamedTemporaryFile(prefix=f"gv-{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(
            [GRAPEVINE, "agent", "--dialect", "memberlist", "--config", config, "--name", name,
             "--bind", f"127.0.0.1:{self.port}", "--rpc-addr", f"127.0.0.1:{self.rpc}",
             "--join", join], stdout=self.log, stderr=subprocess.STDOUT)
        PROCS.append(self.proc)
        wait_for(f"{name}'s rpc", lambda: self.call({"cmd": "info"}).get("ok"), 10)

    def call(self, request):
        return rpc_call(self.rpc, request, json)

    def states(self):
        return {m["name"]: m["state"] for m in self.call({"cmd": "members"})["members"]}

    def stats(self):
        return self.call({"cmd": "info"})["stats"]


def inside(peer_bin):
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    go_a, go_b = GoPeer(peer_bin, "go-a"), GoPeer(peer_bin, "go-b")
    gv_a = Agent("gv-a", go_a.addr, fallback=True)
    gv_b = Agent("gv-b", go_b.addr, fallback=False)
    for go, gv in ((go_a, gv_a), (go_b, gv_b)):
        wait_for(f"{gv.name} and {go.name} to list each other",
                 lambda: gv.states().get(go.name) == "alive" and go.states().get(gv.name) ==
                 "alive", 20)
    print("--- both clusters joined; dropping every UDP datagram to the Go peers", flush=True)
    for go in (go_a, go_b):
        subprocess.run(["iptables", "-A", "INPUT", "-p", "udp", "--dport", str(go.port), "-j",
                        "DROP"], check=True)
    wait_for("gv-b (no fallback) to fail go-b",
             lambda: gv_b.states().get("go-b") in ("dead", "failed"), 40)
    print(f"--- gv-b failed go-b without the fallback; gv-a's view of go-a: "
          f"{gv_a.states().get('go-a')}", flush=True)
    time.sleep(5)
    assert gv_a.states().get("go-a") == "alive", gv_a.states()
    assert go_a.states().get("gv-a") == "alive", go_a.states()
    s = gv_a.stats()
    assert s["stream_pings"] > 0 and s["stream_ping_acks"] > 0, s
    assert s["suspicions"] == 0, s
    print(f"--- gv-a kept go-a alive through TCP pings: {s['stream_pings']} sent, "
          f"{s['stream_ping_acks']} probes saved; go-a lists gv-a alive", flush=True)


def main():
    if len(sys.argv) > 2 and sys.argv[2] == "--inside":
        try:
            inside(sys.argv[3])
        finally:
            for p in PROCS:
                if p.poll() is None:
                    p.send_signal(signal.SIGKILL)
                    p.wait()
        print("PASS")
        return
    if os.geteuid() != 0:
        skip("needs root for ip netns and iptables")
    for tool in ("ip", "iptables", "go"):
        if shutil.which(tool) is None:
            skip(f"{tool} not found")
    peer_bin = subprocess.run([os.path.join(HERE, "peer", "build.sh"),
                               os.path.join(tempfile.mkdtemp(), "memberlist-peer")],
                              check=True, capture_output=True, text=True).stdout.strip()
    ns = f"gvtcp{os.getpid()}"
    if subprocess.run(["ip", "netns", "add", ns]).returncode != 0:
        skip("cannot create a network namespace")
    try:
        r = subprocess.run(["ip", "netns", "exec", ns, sys.executable, os.path.abspath(__file__),
                            GRAPEVINE, "--inside", peer_bin], timeout=150)
        sys.exit(r.returncode)
    finally:
        subprocess.run(["ip", "netns", "delete", ns])


if __name__ == "__main__":
    main()
