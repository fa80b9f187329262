#!/usr/bin/env python3
"""The agent's RPC limits (tools/rpc.h), against a real `grapevine agent` on 127.0.0.1:
  - --rpc-auth: requests without the token, or with a wrong one, get {"ok":false,...} and are
    counted; the client commands pass it with --rpc-auth or $GRAPEVINE_RPC_AUTH;
  - many clients at once (up to --rpc-clients-max), each several requests on one connection;
    one more is refused with an error line, and counted;
  - a request line over --rpc-request-bytes-max gets an error line and is counted;
  - `monitor` still streams (a `send` shows up as a delivered event), and a monitor client that
    never reads is dropped at --rpc-output-bytes-max, counted, while the agent keeps answering.
Kills every process it starts. Usage: rpc_limits.py /path/to/grapevine"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

GRAPEVINE = sys.argv[1]
TOKEN = "s3cret-token"
CLIENTS_MAX = 16


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, fn, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if fn():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def line_call(port, request, sock=None):
    """Sends one JSON line, returns the decoded response line."""
    own = sock is None
    s = sock or socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall((json.dumps(request) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return json.loads(data)
    finally:
        if own:
            s.close()


def metrics(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    out = {}
    for line in data.decode().splitlines():
        if line.startswith("grapevine_"):
            name, value = line.split(" ", 1)
            out[name] = float(value)
    return out


def cli(port, *args, token=None, env_token=None, check=True):
    env = dict(os.environ)
    env.pop("GRAPEVINE_RPC_AUTH", None)
    if env_token:
        env["GRAPEVINE_RPC_AUTH"] = env_token
    cmd = [GRAPEVINE, *args, "--rpc-addr", f"127.0.0.1:{port}"]
    if token:
        cmd += ["--rpc-auth", token]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=10, check=check)


def main():
    procs = []
    work = tempfile.mkdtemp(prefix="grapevine-rpc-limits.")
    rpc, mport, gossip = free_port(), free_port(), free_port()
    try:
        agent = subprocess.Popen(
            [GRAPEVINE, "agent", "--name", "a1", "--bind", f"127.0.0.1:{gossip}", "--rpc-addr",
             f"127.0.0.1:{rpc}", "--metrics-addr", f"127.0.0.1:{mport}", "--log-level", "warn",
             "--rpc-auth", TOKEN, "--rpc-clients-max", str(CLIENTS_MAX),
             "--rpc-request-bytes-max", "64KiB", "--rpc-output-bytes-max", "64KiB"],
            stdout=open(os.path.join(work, "agent.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(agent)
        wait_for("the agent's rpc",
                 lambda: line_call(rpc, {"cmd": "info", "auth": TOKEN}).get("ok"), 10)
        # A second member, so that `send` has a group to send to; its limits and its own token
        # come from a TOML file (every limit key).
        rpc2 = free_port()
        toml = os.path.join(work, "a2.toml")
        with open(toml, "w") as f:
            f.write('rpc_auth = "t2"\nallowed_cidrs = ["127.0.0.0/8", "::1/128"]\n'
                    'inbound_streams_max = 64\ninbound_stream_bytes_max = "32MiB"\n'
                    'stream_timeout = "5s"\ndatagrams_per_source_per_second = 100000\n'
                    'rate_limited_sources_max = 100\nrpc_clients_max = 8\n'
                    'rpc_request_bytes_max = 65536\nrpc_output_bytes_max = "1MiB"\n')
        procs.append(subprocess.Popen(
            [GRAPEVINE, "agent", "--name", "a2", "--bind", "127.0.0.1:0", "--rpc-addr",
             f"127.0.0.1:{rpc2}", "--join", f"127.0.0.1:{gossip}", "--log-level", "warn",
             "--config", toml],
            stdout=open(os.path.join(work, "agent2.log"), "w"), stderr=subprocess.STDOUT))
        wait_for("a2 joined", lambda: "a2" in cli(rpc, "members", token=TOKEN).stdout, 10)
        assert "a1" in cli(rpc2, "members", token="t2").stdout
        r = line_call(rpc2, {"cmd": "members", "auth": TOKEN})
        assert not r["ok"] and "unauthorized" in r["error"], r
        with open(toml, "a") as f:
            f.write('allowed_cidrs_typo = 1\n')
        bad = subprocess.run([GRAPEVINE, "agent", "--config", toml], capture_output=True,
                             text=True, timeout=10)
        assert bad.returncode != 0 and "allowed_cidrs_typo" in bad.stderr, bad.stderr
        bad = subprocess.run([GRAPEVINE, "agent", "--allowed-cidrs", "10.0.0.0/33"],
                             capture_output=True, text=True, timeout=10)
        assert bad.returncode != 0 and "--allowed-cidrs" in bad.stderr, bad.stderr
        print("a2 configured from TOML (its own token); bad keys and CIDRs refused")

        # ---- auth ----
        r = line_call(rpc, {"cmd": "members"})
        assert not r["ok"] and "unauthorized" in r["error"], r
        r = line_call(rpc, {"cmd": "members", "auth": "wrong"})
        assert not r["ok"] and "unauthorized" in r["error"], r
        r = cli(rpc, "members", check=False)
        assert r.returncode != 0 and "unauthorized" in r.stderr, (r.returncode, r.stderr)
        assert "a1" in cli(rpc, "members", token=TOKEN).stdout
        assert "a1" in cli(rpc, "members", env_token=TOKEN).stdout
        m = metrics(mport)
        assert m["grapevine_rpc_auth_failures_total"] >= 3, m
        print("auth: ok (failures counted:", int(m["grapevine_rpc_auth_failures_total"]), ")")

        # ---- monitor streams, with the token ----
        mon = subprocess.Popen([GRAPEVINE, "monitor", "--rpc-addr", f"127.0.0.1:{rpc}",
                                "--rpc-auth", TOKEN], stdout=subprocess.PIPE, text=True)
        procs.append(mon)
        time.sleep(0.3)
        cli(rpc, "send", "hello-monitor", token=TOKEN)
        got = []
        reader = threading.Thread(target=lambda: got.append(mon.stdout.readline()), daemon=True)
        reader.start()
        reader.join(5)
        assert got and "hello-monitor" in got[0] and "delivered" in got[0], got
        print("monitor: ok")

        # ---- many clients at once, then one too many ----
        socks = [socket.create_connection(("127.0.0.1", rpc), timeout=5)
                 for _ in range(CLIENTS_MAX - 1)]  # the monitor holds one slot
        results = []

        def work_on(s):
            for _ in range(5):
                results.append(line_call(rpc, {"cmd": "members", "auth": TOKEN}, s)["ok"])

        threads = [threading.Thread(target=work_on, args=(s,)) for s in socks]
        for t in threads:
            t.start()
        for t in threads:
            t.join(20)
        assert len(results) == 5 * len(socks) and all(results), results
        extra = socket.create_connection(("127.0.0.1", rpc), timeout=5)
        data = extra.recv(4096).decode()
        assert "too many RPC clients" in data, data
        extra.close()
        for s in socks:
            s.close()
        wait_for("slots freed", lambda: line_call(rpc, {"cmd": "info", "auth": TOKEN})["ok"], 5)
        m = metrics(mport)
        assert m["grapevine_rpc_clients_refused_total"] >= 1, m
        print(f"clients: {len(socks)} + monitor served {len(results)} requests; one refused")

        # ---- an oversized request line ----
        with socket.create_connection(("127.0.0.1", rpc), timeout=5) as s:
            try:
                s.sendall(b"{\"cmd\":\"" + b"x" * 100000)
            except OSError:
                pass
            data = s.recv(4096).decode()
        assert "rpc_request_bytes_max" in data, data
        assert metrics(mport)["grapevine_rpc_requests_oversized_total"] >= 1
        print("oversized request: refused")

        # ---- a monitor that never reads is dropped at rpc_output_bytes_max ----
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", rpc))
        slow.sendall((json.dumps({"cmd": "monitor", "auth": TOKEN}) + "\n").encode())
        time.sleep(0.3)
        payload = "p" * 900
        with socket.create_connection(("127.0.0.1", rpc), timeout=10) as s:
            f = s.makefile("rb")
            for burst in range(40):
                lines = "".join(json.dumps({"cmd": "send", "payload": payload, "auth": TOKEN})
                                + "\n" for _ in range(50)).encode()
                s.sendall(lines)
                for _ in range(50):
                    assert json.loads(f.readline())["ok"]
                if metrics(mport)["grapevine_rpc_slow_clients_dropped_total"] >= 1:
                    break
        m = metrics(mport)
        assert m["grapevine_rpc_slow_clients_dropped_total"] >= 1, m
        slow.close()
        assert "a1" in cli(rpc, "members", token=TOKEN).stdout
        print(f"slow monitor dropped after {(burst + 1) * 50} events; agent still answers")
        print("PASS rpc_limits")
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()
        for f in os.listdir(work):
            if f == "agent.log" and sys.exc_info()[0] is not None:
                print(open(os.path.join(work, f)).read()[-3000:])
            os.unlink(os.path.join(work, f))
        os.rmdir(work)


if __name__ == "__main__":
    main()
