#!/usr/bin/env python3
"""grapevine <-> the `serf` agent (Debian's serf package, built on memberlist), on 127.0.0.1.

Two serf agents form a cluster; a grapevine agent (--dialect memberlist, serf's delegate
protocol versions 2,5,4) joins through one of them. Checks:
  - `serf members` on both serf agents lists the grapevine node alive, and grapevine lists both
    serf agents alive;
  - a `serf event` (a binary msgpack user message, serf's tags being binary metadata too) is
    delivered by grapevine, which keeps serving its RPC (members render binary meta as base64);
  - `serf leave` is seen as left at grapevine;
  - after the grapevine agent is killed (SIGKILL), `serf members` lists it failed;
  - encrypted: a serf agent started with -encrypt and a grapevine agent configured by a TOML
    file (dialect, encrypt, delegate_vsn) form a cluster.
Every process started is ended here, by PID. Usage: serf_interop.py GRAPEVINE_BINARY
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import free_port, rpc_call, wait_for  # noqa: E402

GRAPEVINE = sys.argv[1]
SERF = shutil.which("serf")
PROCS = []


def step(title):
    print(f"--- {title}", flush=True)


class Serf:
    def __init__(self, name, join=None, key=None, tags=()):
        self.name = name
        self.port = free_port()
        self.rpc = f"127.0.0.1:{free_port()}"
        self.log = tempfile.NamedTemporaryFile(prefix=f"serf-{name}-", suffix=".log", delete=False)
        args = [SERF, "agent", f"-node={name}", f"-bind=127.0.0.1:{self.port}",
                f"-rpc-addr={self.rpc}", "-log-level=info"]
        if join:
            args.append(f"-join={join}")
        if key:
            args.append(f"-encrypt={key}")
        args += [f"-tag={t}" for t in tags]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        PROCS.append(self.proc)
        wait_for(f"serf {name} rpc", lambda: self.members().get(name) == "alive", 15)

    def members(self):
        out = subprocess.run([SERF, "members", f"-rpc-addr={self.rpc}", "-format=json"],
                             check=True, capture_output=True, text=True, timeout=10).stdout
        return {m["name"]: m["status"] for m in json.loads(out)["members"]}

    def run(self, command, *args):
        # Go's flag package: flags before positional arguments.
        return subprocess.run([SERF, command, f"-rpc-addr={self.rpc}", *args], check=True,
                              capture_output=True, text=True, timeout=15).stdout

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"


class Agent:
    def __init__(self, name, join, config=None, tags=()):
        self.name = name
        self.port = free_port()
        self.rpc = free_port()
        self.log = tempfile.NamedTemporaryFile(prefix=f"gv-{name}-", suffix=".log", delete=False)
        args = [GRAPEVINE, "agent", "--name", name, "--bind", f"127.0.0.1:{self.port}",
                "--rpc-addr", f"127.0.0.1:{self.rpc}", "--join", join]
        if config:
            args += ["--config", config]
        else:
            args += ["--dialect", "memberlist", "--delegate-vsn", "2,5,4"]
        for t in tags:
            args += ["--tag", t]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)
        PROCS.append(self.proc)
        wait_for(f"{name}'s rpc", lambda: self.call({"cmd": "info"}).get("ok"), 10)

    def call(self, request):
        return rpc_call(self.rpc, request, json)

    def members(self):
        return {m["name"]: m for m in self.call({"cmd": "members"})["members"]}


def main():
    if not SERF:
        print("SKIP: no serf binary (scripts/deps.sh installs Debian's serf)")
        sys.exit(77)
    t0 = time.time()
    step("a grapevine node joins a cluster of two serf agents")
    s1 = Serf("s1", tags=("role=web",))
    s2 = Serf("s2", join=s1.addr)
    gv = Agent("gv1", join=s1.addr, tags=("dc=east",))
    for s in (s1, s2):
        wait_for(f"{s.name} to list gv1 alive", lambda s=s: s.members().get("gv1") == "alive", 20)
    wait_for("gv1 to list both serf agents alive",
             lambda: all(gv.members().get(n, {}).get("state") == "alive" for n in ("s1", "s2")),
             20)
    # serf's tags are binary metadata (0xff, then msgpack): rendered as base64, never a crash.
    assert "meta_base64" in gv.members()["s1"], gv.members()["s1"]

    step("tags: serf's decoded by grapevine, grapevine's shown by serf, changed while running")
    assert gv.members()["s1"].get("tags") == {"role": "web"}, gv.members()["s1"]

    def serf_tagged(flt):
        out = s1.run("members", "-format=json", f"-tag={flt}")
        return sorted(m["name"] for m in json.loads(out)["members"] or [])  # null when none match
    wait_for("serf members -tag dc=east to list gv1", lambda: serf_tagged("dc=east") == ["gv1"], 10)
    assert gv.call({"cmd": "tags", "set": {"version": "2"}, "delete": ["dc"]})["ok"]
    wait_for("serf to see gv1's new tag", lambda: serf_tagged("version=2") == ["gv1"], 10)
    assert serf_tagged("dc=east") == [], "serf still lists gv1's deleted tag"

    step("a serf user event reaches grapevine")
    before = gv.call({"cmd": "info"})["delivered"]
    s2.run("event", "deploy", "v1.2.3")
    wait_for("gv1 to deliver the serf event", lambda: gv.call({"cmd": "info"})["delivered"] > before,
             15)

    step("serf leave is seen as left at grapevine")
    s2.run("leave")
    s2.proc.wait(timeout=15)
    wait_for("gv1 to see s2 left", lambda: gv.members().get("s2", {}).get("state") == "left", 15)

    step("a killed grapevine node is failed at serf")
    gv.proc.send_signal(signal.SIGKILL)
    gv.proc.wait()
    wait_for("serf to list gv1 failed", lambda: s1.members().get("gv1") == "failed", 40)

    step("encrypted: serf -encrypt and a grapevine agent configured by TOML")
    key = subprocess.run([SERF, "keygen"], check=True, capture_output=True,
                         text=True).stdout.strip()
    es = Serf("es1", key=key)
    toml = tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False)
    toml.write(f'[membership]\ndialect = "memberlist"\nencrypt = ["{key}"]\n'
               'delegate_vsn = [2, 5, 4]\n')
    toml.close()
    egv = Agent("egv1", join=es.addr, config=toml.name)
    wait_for("es1 to list egv1 alive", lambda: es.members().get("egv1") == "alive", 20)
    wait_for("egv1 to list es1 alive",
             lambda: egv.members().get("es1", {}).get("state") == "alive", 20)
    print(f"serf interop: all scenarios passed in {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
