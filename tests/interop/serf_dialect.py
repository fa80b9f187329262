#!/usr/bin/env python3
"""`grapevine agent --dialect serf` as a full member of a serf cluster (Debian's serf agent).

A mixed cluster on 127.0.0.1, encrypted: two serf agents (s1, s2; event handlers writing to
files, answering queries on stdout) and two grapevine agents (gv1 by flags joins through s1,
gv2 by a TOML file through gv1). Every scenario in both directions:
  - members: `serf members` lists gv1/gv2 alive with their tags and serf's protocol 5 [2, 5];
    `grapevine members` lists s1/s2 alive with theirs;
  - user events: `serf event` reaches both grapevine monitors; `grapevine event` runs both serf
    agents' handlers and reaches the other grapevine node;
  - queries: `serf query` gets acks and responses from gv1 and gv2 (and the serf agents), with
    -node and -tag filters and -relay-factor; a query no --serf-respond answers is answered by
    gv1's `--event-handler query:who=SCRIPT` (serf's env and stdin, its stdout the response); the agent's `serf-query` RPC on a grapevine node
    collects the serf agents' acks and handler responses, with the same filters;
  - serf's internal queries: `serf reachability` (_serf_ping) and `serf keys` -list, -install,
    -use, -remove across the four members (then a grapevine event still reaches serf);
    `grapevine keys list|install|use|remove` on gv1 sends serf's key queries to all four;
  - intents: `grapevine leave` shows gv2 `left` at serf, `serf leave` shows s2 `left` at
    grapevine;
  - replay to joiners: `serf agent -replay` joining through gv1 runs its handler for the events
    sent before it joined (gv1's push-pull carries its recent events), and `grapevine agent
    --replay` joining through s1 runs its handler for them (serf's ring).
Every process started is ended here, by PID. Usage: serf_dialect.py GRAPEVINE_BINARY
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
WORK = tempfile.mkdtemp(prefix="serf-dialect-")
HANDLER = os.path.join(WORK, "handler.sh")
GV_HANDLER = os.path.join(WORK, "gv-handler.sh")


def step(title):
    print(f"--- {title}", flush=True)


class Serf:
    def __init__(self, name, key, join=None, tags=(), extra=()):
        self.name = name
        self.port = free_port()
        self.rpc = f"127.0.0.1:{free_port()}"
        self.events = os.path.join(WORK, f"{name}.events")
        log = open(os.path.join(WORK, f"{name}.log"), "w")
        args = [SERF, "agent", f"-node={name}", f"-bind=127.0.0.1:{self.port}",
                f"-rpc-addr={self.rpc}", f"-encrypt={key}", f"-event-handler={HANDLER}",
                "-log-level=info"]
        if join:
            args.append(f"-join={join}")
        args += [f"-tag={t}" for t in tags]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        PROCS.append(self.proc)
        wait_for(f"serf {name} rpc", lambda: self.members().get(name) == "alive", 15)

    def members_json(self, *args):
        return json.loads(self.run("members", "-format=json", *args))["members"] or []

    def members(self):
        return {m["name"]: m["status"] for m in self.members_json()}

    def run(self, command, *args):
        # Go's flag package: flags before positional arguments.
        return subprocess.run([SERF, command, f"-rpc-addr={self.rpc}", *args], check=True,
                              capture_output=True, text=True, timeout=20).stdout

    def handled(self):
        return open(self.events).read() if os.path.exists(self.events) else ""

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"


class Agent:
    def __init__(self, name, key, join, tags=(), respond=(), config=None, handlers=(),
                 extra=()):
        self.name = name
        self.port = free_port()
        self.rpc = free_port()
        log = open(os.path.join(WORK, f"{name}.log"), "w")
        args = [GRAPEVINE, "agent", "--name", name, "--bind", f"127.0.0.1:{self.port}",
                "--rpc-addr", f"127.0.0.1:{self.rpc}", "--join", join]
        if config:
            args += ["--config", config]
        else:
            args += ["--dialect", "serf", "--encrypt", key]
        for t in tags:
            args += ["--tag", t]
        for r in respond:
            args += ["--serf-respond", r]
        for h in handlers:
            args += ["--event-handler", h]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        PROCS.append(self.proc)
        wait_for(f"{name}'s rpc", lambda: self.call({"cmd": "info"}).get("ok"), 10)
        self.monitor_out = os.path.join(WORK, f"{name}.monitor")
        self.monitor = subprocess.Popen(
            [GRAPEVINE, "monitor", "--rpc-addr", f"127.0.0.1:{self.rpc}"],
            stdout=open(self.monitor_out, "w"), stderr=subprocess.DEVNULL)
        PROCS.append(self.monitor)

    def call(self, request):
        return rpc_call(self.rpc, request, json)

    def members(self):
        return {m["name"]: m for m in self.call({"cmd": "members"})["members"]}

    def user_events(self):
        out = []
        for line in open(self.monitor_out):
            j = json.loads(line)
            if j.get("event") == "user":
                out.append((j["name"], j["payload"]))
        return out


def query(s, *args):
    out = json.loads(s.run("query", "-format=json", "-timeout=1s", *args))
    return sorted(out["Acks"] or []), {k: v for k, v in (out["Responses"] or {}).items()}


def main():
    if not SERF:
        print("SKIP: no serf binary (scripts/deps.sh installs Debian's serf)")
        sys.exit(77)
    t0 = time.time()
    with open(HANDLER, "w") as f:
        f.write('#!/bin/sh\nif [ "$SERF_EVENT" = query ]; then echo "serf:$SERF_SELF_NAME"; '
                'exit 0; fi\n[ "$SERF_EVENT" = user ] && '
                f'echo "$SERF_USER_EVENT $(cat)" >> {WORK}/$SERF_SELF_NAME.events\nexit 0\n')
    os.chmod(HANDLER, 0o755)
    with open(GV_HANDLER, "w") as f:  # serf's query environment and stdin, answered on stdout
        f.write('#!/bin/sh\n[ "$SERF_EVENT" = query ] || exit 1\n'
                'echo "gv:$SERF_SELF_NAME:$SERF_QUERY_NAME:$SERF_QUERY_LTIME:$(cat)"\n')
    os.chmod(GV_HANDLER, 0o755)
    key = subprocess.run([SERF, "keygen"], check=True, capture_output=True,
                         text=True).stdout.strip()

    step("members: two serf agents and two grapevine agents, encrypted")
    s1 = Serf("s1", key, tags=("role=web",))
    s2 = Serf("s2", key, join=s1.addr)
    gv1 = Agent("gv1", key, s1.addr, tags=("dc=east",), respond=("greet=hello-from-gv1",),
                handlers=(f"query:who={GV_HANDLER}",))
    toml = os.path.join(WORK, "gv2.toml")  # gv2 from TOML: dialect, key, query answers
    with open(toml, "w") as f:
        f.write(f'[membership]\ndialect = "serf"\nencrypt = ["{key}"]\n'
                'serf_respond = ["=any-gv2"]\n')
    gv2 = Agent("gv2", key, f"127.0.0.1:{gv1.port}", tags=("dc=west",), config=toml)
    names = {"s1", "s2", "gv1", "gv2"}
    for s in (s1, s2):
        wait_for(f"{s.name} to list the grapevine agents alive",
                 lambda s=s: all(s.members().get(n) == "alive" for n in names), 20)
    for gv in (gv1, gv2):
        wait_for(f"{gv.name} to list everyone alive",
                 lambda gv=gv: all(gv.members().get(n, {}).get("state") == "alive"
                                   for n in names), 20)
    by_name = {m["name"]: m for m in s1.members_json()}
    assert by_name["gv1"]["tags"] == {"dc": "east"}, by_name["gv1"]
    assert by_name["gv1"]["protocol"]["max"] == 5 and by_name["gv1"]["protocol"]["version"] == 5, \
        by_name["gv1"]
    assert gv1.members()["s1"]["tags"] == {"role": "web"}, gv1.members()["s1"]
    assert gv1.call({"cmd": "info"})["dialect"] == "serf"

    step("user events: serf -> grapevine")
    s1.run("event", "-coalesce=false", "deploy", "v1")
    for gv in (gv1, gv2):
        wait_for(f"{gv.name} to deliver serf's event",
                 lambda gv=gv: ("deploy", "v1") in gv.user_events(), 10)

    step("user events: grapevine -> serf (handlers) and grapevine")
    assert gv1.call({"cmd": "event", "name": "gvdeploy", "payload": "v2"})["ok"]
    for s in (s1, s2):
        wait_for(f"{s.name}'s handler to run for gv1's event",
                 lambda s=s: "gvdeploy v2" in s.handled(), 10)
    wait_for("gv2 to deliver gv1's event", lambda: ("gvdeploy", "v2") in gv2.user_events(), 10)
    assert gv2.user_events().count(("deploy", "v1")) == 1, "a duplicate event was delivered"

    step("queries: serf query answered by grapevine (acks, responses, filters, relays)")
    acks, responses = query(s2, "greet", "hi")
    assert acks == sorted(names), acks
    assert responses.get("gv1") == "hello-from-gv1", responses
    assert responses.get("gv2") == "any-gv2", responses
    assert responses.get("s1", "").strip() == "serf:s1", responses
    acks, responses = query(s1, "-node=gv1", "-relay-factor=1", "greet", "hi")
    assert acks == ["gv1"] and list(responses) == ["gv1"], (acks, responses)
    acks, responses = query(s1, "-tag=dc=^w", "greet", "hi")
    assert acks == ["gv2"], acks
    # No fixed answer for `who` at gv1: its query handler script answers, asynchronously.
    acks, responses = query(s2, "-relay-factor=1", "who", "pay")
    assert acks == sorted(names), acks
    parts = responses.get("gv1", "").strip().split(":")
    assert parts[:3] == ["gv", "gv1", "who"] and parts[4] == "pay" and int(parts[3]) > 0, \
        responses
    assert responses.get("gv2") == "any-gv2" and responses.get("s2", "").strip() == "serf:s2", \
        responses

    step("queries: grapevine's serf-query collects serf's acks and handler responses")
    r = gv1.call({"cmd": "serf-query", "name": "greet", "payload": "hi", "timeout_ms": 1000})
    assert r["ok"] and sorted(r["acks"]) == sorted(names), r
    assert r["responses"]["s1"].strip() == "serf:s1" and r["responses"]["s2"].strip() == "serf:s2", r
    assert r["responses"]["gv1"] == "hello-from-gv1" and r["responses"]["gv2"] == "any-gv2", r
    r = gv2.call({"cmd": "serf-query", "name": "greet", "nodes": ["s2"], "relay_factor": 1,
                  "timeout_ms": 1000})
    assert r["acks"] == ["s2"] and list(r["responses"]) == ["s2"], r
    r = gv2.call({"cmd": "serf-query", "name": "greet", "tags": {"role": "^web$"},
                  "timeout_ms": 1000})
    assert r["acks"] == ["s1"], r
    # The CLI: `grapevine query` in the serf dialect goes through serf's query.
    out = subprocess.run([GRAPEVINE, "query", "--rpc-addr", f"127.0.0.1:{gv1.rpc}", "--json",
                          "--timeout", "1s", "--node", "s2", "greet", "hi"],
                         capture_output=True, text=True, timeout=15, check=True).stdout
    r = json.loads(out)
    assert r["acks"] == ["s2"] and r["responses"]["s2"].strip() == "serf:s2", r
    assert abs(r["timeout_seconds"] - 1.0) < 0.1, r

    step("serf's internal queries: reachability and keys across the mixed cluster")
    assert "Successfully contacted all live nodes" in s1.run("reachability")
    assert f"{key}  [4/4]" in s2.run("keys", "-list")
    new = subprocess.run([SERF, "keygen"], check=True, capture_output=True,
                         text=True).stdout.strip()
    s2.run("keys", "-install", new)
    assert f"{new}  [4/4]" in s1.run("keys", "-list")
    s2.run("keys", "-use", new)
    s2.run("keys", "-remove", key)
    listed = s1.run("keys", "-list")
    assert f"{new}  [4/4]" in listed and key not in listed, listed
    # The same rotation from a grapevine agent: serf's key queries, answered by all four.
    r = gv1.call({"cmd": "keys", "op": "list"})
    assert r["ok"] and r["responses"] == 4 and r["keys"] == {new: 4}, r
    newer = subprocess.run([SERF, "keygen"], check=True, capture_output=True,
                           text=True).stdout.strip()
    for op, k in (("install", newer), ("use", newer), ("remove", new)):
        out = subprocess.run([GRAPEVINE, "keys", "--rpc-addr", f"127.0.0.1:{gv1.rpc}", op, k],
                             capture_output=True, text=True, timeout=20)
        assert out.returncode == 0 and "4 answered, 0 failed" in out.stdout, (op, out)
    listed = s1.run("keys", "-list")
    assert f"{newer}  [4/4]" in listed and new not in listed, listed
    new = newer
    assert gv2.call({"cmd": "event", "name": "rotated", "payload": "v3"})["ok"]
    for s in (s1, s2):
        wait_for(f"{s.name} to hear gv2 under the new key",
                 lambda s=s: "rotated v3" in s.handled(), 10)

    step("intents: a grapevine leave is `left` at serf, a serf leave `left` at grapevine")
    assert gv2.call({"cmd": "leave"})["ok"]
    wait_for("s1 to list gv2 left", lambda: s1.members().get("gv2") == "left", 15)
    s2.run("leave")
    s2.proc.wait(timeout=15)
    wait_for("gv1 to list s2 left", lambda: gv1.members().get("s2", {}).get("state") == "left", 15)

    step("replay: serf -replay through gv1, grapevine --replay through s1 get the old events")
    s3 = Serf("s3", new, join=f"127.0.0.1:{gv1.port}", extra=("-replay",))
    gv3 = Agent("gv3", new, s1.addr, handlers=(HANDLER,), extra=("--replay",))
    wait_for("s3's handler to run for the events sent before it joined",
             lambda: "deploy v1" in s3.handled(), 10)
    wait_for("gv3's handler to run for the events sent before it joined",
             lambda: "deploy v1" in open(os.path.join(WORK, "gv3.events")).read()
             if os.path.exists(os.path.join(WORK, "gv3.events")) else False, 10)
    print(f"serf dialect: all scenarios passed in {time.time() - t0:.1f} s", flush=True)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        for f in sorted(os.listdir(WORK)):
            if f.endswith(".log"):
                print(f"==> {f}\n" + open(os.path.join(WORK, f)).read()[-3000:])
        raise
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait()
        shutil.rmtree(WORK, ignore_errors=True)
