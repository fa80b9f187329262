#!/usr/bin/env python3
"""grapevine <-> HashiCorp memberlist interop, on 127.0.0.1.

Go members run tests/interop/peer (Debian's memberlist 0.2.2, built offline by build.sh);
grapevine members run `grapevine agent --dialect memberlist`. Scenarios:
  - a grapevine node joins a Go cluster, and a Go node joins a grapevine cluster; all list all;
  - user broadcasts cross both ways;
  - a crashed Go node is failed at grapevine, a crashed grapevine node dead at Go;
  - a graceful leave is seen as *left* on both sides;
  - with a shared key all of it works encrypted; a wrong key gets nobody in, and the refused
    packets are counted; labels (memberlist >= 0.3, absent from 0.2.2) grapevine to grapevine.
Every process started is ended here, by PID. Usage: memberlist_interop.py GRAPEVINE_BINARY
"""
import base64
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import free_port, rpc_call, wait_for  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
GRAPEVINE = sys.argv[1]
PROCS = []


class GoPeer:
    def __init__(self, binary, name, key=None):
        self.name = name
        self.port = free_port()
        args = [binary, "-name", name, "-port", str(self.port)]
        if key:
            args += ["-key", key]
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        PROCS.append(self.proc)
        self.lines = queue.Queue()
        self.users = []
        threading.Thread(target=self._read, daemon=True).start()
        self._expect(lambda j: j.get("ready"))

    def _read(self):
        for line in self.proc.stdout:
            j = json.loads(line)
            if j.get("event") == "user":
                self.users.append(j["payload"])
            elif "event" not in j:
                self.lines.put(j)

    def _expect(self, match, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                j = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if match(j):
                return j
        raise AssertionError(f"{self.name}: no answer")

    def cmd(self, line, key):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self._expect(lambda j: key in j)

    def states(self):
        return self.cmd("states", "states")["states"]

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"


class Agent:
    def __init__(self, name, join=None, extra=()):
        self.name = name
        self.port = free_port()
        self.rpc = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"gv-{name}-", suffix=".log", delete=False)
        # memberlist's user broadcasts are best effort: a fixed number of piggybacked
        # transmissions and no anti-entropy. In a 6-member cluster memberlist's budget of 4
        # (retransmit_mult 4 x ceil(log10 7)) misses a given member ~1% of the time, so both
        # sides here use a budget that makes a miss vanishingly rare (the Go peer: 8 as well).
        config = os.path.join(tempfile.mkdtemp(), "agent.toml")
        with open(config, "w") as f:
            f.write('[membership]\nprofile = "local"\nretransmit_mult = 8\n')
        args = [GRAPEVINE, "agent", "--dialect", "memberlist", "--config", config, "--name",
                name, "--bind", f"127.0.0.1:{self.port}", "--rpc-addr", f"127.0.0.1:{self.rpc}",
                "--leave-timeout", "2s", *extra]
        if join:
            args += ["--join", join]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        PROCS.append(self.proc)
        wait_for(f"{name}'s rpc", lambda: self.call({"cmd": "info"}).get("ok"), 10)

    def call(self, request):
        return rpc_call(self.rpc, request, json)

    def states(self):
        return {m["name"]: m["state"] for m in self.call({"cmd": "members"})["members"]}

    def info(self):
        return self.call({"cmd": "info"})

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"


def all_alive(members, names):
    return all(all(m.states().get(n) == "alive" for n in names) for m in members)


def step(title):
    print(f"--- {title}", flush=True)


def main():
    t0 = time.time()
    peer_bin = subprocess.run([os.path.join(HERE, "peer", "build.sh"),
                               os.path.join(tempfile.mkdtemp(), "memberlist-peer")],
                              check=True, capture_output=True, text=True).stdout.strip()

    step("a grapevine node joins a Go cluster; a Go node joins a grapevine cluster")
    go1 = GoPeer(peer_bin, "go1")
    go2 = GoPeer(peer_bin, "go2")
    assert go2.cmd(f"join {go1.addr}", "ok")["ok"]
    gv1 = Agent("gv1", join=go1.addr)
    gv2 = Agent("gv2", join=gv1.addr)
    gv3 = Agent("gv3", join=gv2.addr)
    go3 = GoPeer(peer_bin, "go3")
    assert go3.cmd(f"join {gv3.addr}", "ok")["ok"], "a Go node could not join through grapevine"
    everyone = ["go1", "go2", "go3", "gv1", "gv2", "gv3"]
    members = [go1, go2, go3, gv1, gv2, gv3]
    wait_for("every member to list all six alive", lambda: all_alive(members, everyone), 30)

    step("user broadcasts cross both ways")
    before = {a.name: a.info()["delivered"] for a in (gv1, gv2, gv3)}
    go1.cmd("broadcast from-go", "ok")
    wait_for("grapevine to deliver Go's broadcast",
             lambda: all(a.info()["delivered"] > before[a.name] for a in (gv1, gv2, gv3)), 15)
    assert gv2.call({"cmd": "send", "payload": "from-grapevine"})["ok"]
    wait_for("Go to receive grapevine's broadcast",
             lambda: all("from-grapevine" in g.users for g in (go1, go2, go3)), 15)

    step("a crashed Go node is failed at grapevine; a crashed grapevine node is dead at Go")
    go2.kill()
    wait_for("grapevine to mark go2 failed",
             lambda: all(a.states().get("go2") == "failed" for a in (gv1, gv2, gv3)), 40)
    gv2.proc.send_signal(signal.SIGKILL)
    gv2.proc.wait()
    wait_for("Go to mark gv2 dead",
             lambda: all(g.states().get("gv2") == "dead" for g in (go1, go3)), 40)

    step("a graceful leave is seen as left on both sides")
    gv3.proc.send_signal(signal.SIGTERM)
    gv3.proc.wait(timeout=15)
    wait_for("Go to see gv3 left", lambda: all(g.states().get("gv3") == "left" for g in (go1, go3)),
             15)
    wait_for("grapevine to see gv3 left", lambda: gv1.states().get("gv3") == "left", 15)
    go3.cmd("leave", "ok")
    wait_for("grapevine to see go3 left", lambda: gv1.states().get("go3") == "left", 15)

    step("encrypted: a shared key works, a wrong key gets nobody in and is counted")
    key = base64.b64encode(bytes(range(32))).decode()
    wrong = base64.b64encode(bytes(range(1, 33))).decode()
    ego = GoPeer(peer_bin, "ego", key=key)
    egv = Agent("egv", join=ego.addr, extra=["--encrypt", key])
    egv2 = Agent("egv2", join=egv.addr, extra=["--encrypt", key])
    wait_for("the encrypted cluster to form",
             lambda: all_alive([ego, egv, egv2], ["ego", "egv", "egv2"]), 30)
    bad = Agent("bad", join=egv.addr, extra=["--encrypt", wrong])
    badgo = GoPeer(peer_bin, "badgo", key=wrong)
    assert not badgo.cmd(f"join {egv.addr}", "ok")["ok"], "a wrong key got a Go node in"
    wait_for("the wrong keys to be refused and counted",
             lambda: egv.info()["stats"]["rejected"] > 0, 15)
    time.sleep(3)
    for m in (ego, egv, egv2):
        st = m.states()
        assert "bad" not in st or st["bad"] != "alive", f"{m.name} let 'bad' in: {st}"
        assert "badgo" not in st or st["badgo"] != "alive", f"{m.name} let 'badgo' in: {st}"

    step("labels (grapevine to grapevine; memberlist 0.2.2 has none)")
    la = Agent("la", extra=["--label", "blue"])
    lb = Agent("lb", join=la.addr, extra=["--label", "blue"])
    lc = Agent("lc", join=la.addr, extra=["--label", "green"])
    wait_for("same-label members to join", lambda: all_alive([la, lb], ["la", "lb"]), 20)
    wait_for("the other label to be refused", lambda: la.info()["stats"]["rejected"] > 0, 15)
    assert la.states().get("lc") != "alive", la.states()

    print(f"memberlist interop: all scenarios passed in {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
