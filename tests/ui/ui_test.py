#!/usr/bin/env python3
"""The browser UI (tools/ui_server.h) in Debian's headless Chromium, driven over the DevTools
protocol (cdp.py, standard library only):
  - four `grapevine agent --ui-addr` processes on 127.0.0.1: agent1's page shows every member
    alive; after a SIGKILL of agent4 it shows agent4 failed within the detector's bound (from
    the config, as agents.sh), and the event list shows the news (server-sent events);
  - the HTTP server's limits: non-GET 405, a request head over 8 KiB 431, a foreign Host 403,
    the 33rd client 503, a client that says nothing does not hold the server; --rpc-auth: /api/ needs ?token=; a
    non-loopback --ui-addr without a token is refused;
  - `grapevine demo --ui`: every node is a dot, the multicast reaches every dot, the crashed
    node turns failed and the leaver left, the cluster keeps serving after the scenario, and
    SIGTERM ends it with exit code 0. A screenshot of the demo page is taken (--screenshot PATH
    keeps it).
No JavaScript error or console error is allowed on either page. Exits 77 (skipped) when no
Chromium is installed (scripts/deps.sh installs Debian's `chromium`).
Usage: ui_test.py /path/to/grapevine [--screenshot PNG] [--demo-nodes N]"""
import argparse
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402

# memberlist's LAN profile with its durations divided by 4, as tests/integration/agents.sh.
N = 4
PROBE_MS, PROBE_TIMEOUT_MS, GOSSIP_MS, PUSH_PULL_MS = 250, 125, 50, 4000
SUSPICION_MULT, SUSPICION_MAX_MULT, SLACK_MS = 4, 6, 2500
procs = []


def detect_bound_s(n):
    """Crash -> failed everywhere (agents.sh, live_cluster.h failure_detection_bound) + slack."""
    log = max(1.0, math.log10(n))
    rounds = math.ceil(math.log2(n))
    ms = ((n - 1) * PROBE_MS + PROBE_MS + SUSPICION_MAX_MULT * SUSPICION_MULT * log * PROBE_MS +
          PROBE_MS + 2 * rounds * GOSSIP_MS + PUSH_PULL_MS + SLACK_MS)
    return ms / 1000


def free_ports(k):
    socks, ports = [], []
    for _ in range(k):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:  # UDP too: the agents' bind ports take both
        s.close()
    return ports


def start(args, log_path):
    log = open(log_path, "wb")
    p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    procs.append(p)
    return p


def http(port, path, method="GET", headers=None, timeout=5):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def raw(port, data, timeout=5, half_close=False):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except (ConnectionResetError, socket.timeout):
            pass
        return out


def wait_http(port, timeout=15):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        try:
            if http(port, "/api/members", timeout=2)[0] in (200, 401):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the UI on port {port} did not answer within {timeout} s")


def write_config(work, i, bind, seed):
    path = os.path.join(work, f"agent{i}.toml")
    with open(path, "w") as f:
        f.write(f'name = "agent{i}"\nbind = "127.0.0.1:{bind}"\nleave_timeout = "1s"\n')
        if seed:
            f.write(f'join = ["127.0.0.1:{seed}"]\n')
        f.write('[membership]\nprofile = "lan"\ndetector = "lifeguard"\n'
                f'probe_interval = "{PROBE_MS}ms"\nprobe_timeout = "{PROBE_TIMEOUT_MS}ms"\n'
                f'gossip_interval = "{GOSSIP_MS}ms"\npush_pull_interval = "{PUSH_PULL_MS}ms"\n')
    return path


MEMBERS_JS = ("JSON.stringify([...document.querySelectorAll('#members tr')]"
              ".map(r => [r.dataset.name, r.dataset.state]))")


def page_members(page):
    return dict(json.loads(page.eval(MEMBERS_JS)))


def check_no_errors(browser, what):
    if browser.errors:
        raise AssertionError(f"{what}: errors in the page: {browser.errors}")


def agents_part(g, work, browser):
    ports = free_ports(3 * N + 1)
    bind, ui = ports[:N], ports[N:2 * N]
    rpc = ports[2 * N:3 * N]
    for i in range(N):
        cfg = write_config(work, i + 1, bind[i], bind[0] if i else None)
        start([g, "agent", "--config", cfg, "--rpc-addr", f"127.0.0.1:{rpc[i]}",
               "--ui-addr", f"127.0.0.1:{ui[i]}"], os.path.join(work, f"agent{i + 1}.log"))
    for p in ui:
        wait_http(p)
    page = browser.new_page(1280, 800)
    page.navigate(f"http://127.0.0.1:{ui[0]}/")
    names = {f"agent{i + 1}" for i in range(N)}
    js_all_alive = (f"(() => {{ const m = {MEMBERS_JS}; const s = JSON.parse(m);"
                    f" return s.length === {N} && s.every(r => r[1] === 'alive') ? m : ''; }})()")
    shown, t = page.wait_for(f"agent1's page to list {N} members alive", js_all_alive, 20)
    assert set(dict(json.loads(shown))) == names, shown
    print(f"ok: agent1's page lists all {N} members alive ({t:.1f} s after loading)")
    assert page.eval("document.getElementById('conn').textContent") == "live"
    title = page.eval("document.querySelector('#members tr.self td').textContent")
    assert title.startswith("agent1"), title

    victim = procs[N - 1]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    bound = detect_bound_s(N)
    _, t = page.wait_for(f"agent{N} shown failed", f"(() => {{ const r = [...document.querySelectorAll"
                         f"('#members tr')].find(r => r.dataset.name === 'agent{N}');"
                         f" return r && r.dataset.state === 'failed'; }})()", bound)
    print(f"ok: agent{N} (SIGKILL) shown failed after {t:.2f} s (bound {bound:.2f} s)")
    events = page.eval("document.getElementById('events').textContent")
    assert f"agent{N} failed" in events, f"no 'agent{N} failed' in the event list: {events[:500]}"
    print("ok: the event list shows the failure (server-sent events)")
    page.wait_for("the summary to count one failed member",
                  "document.getElementById('count-failed').textContent === '1'", 5)
    check_no_errors(browser, "agent page")
    return ui[0], page


def limits_part(g, work, port):
    status, body = http(port, "/api/members")
    snap = json.loads(body)
    assert status == 200 and snap["kind"] == "agent" and snap["self"]["name"] == "agent1", body
    assert http(port, "/", method="POST")[0] == 405
    assert http(port, "/nope")[0] == 404
    assert http(port, "/api/members", headers={"Host": "evil.example:80"})[0] == 403
    assert b" 431 " in raw(port, b"GET / HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n")[:40]
    assert b" 400 " in raw(port, b"nonsense\r\n\r\n")[:40]
    half = raw(port, b"GET /api/members HTTP/1.1\r\nHost: localhost\r\n\r\n", half_close=True)
    assert half.startswith(b"HTTP/1.1 200 ") and b'"kind":"agent"' in half, half[:200]
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
    t0 = time.monotonic()
    assert http(port, "/ui.css")[0] == 200
    assert time.monotonic() - t0 < 2, "silent clients held the server"
    for s in silent:
        s.close()
    crowd = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]  # limit: 32
    time.sleep(0.3)
    refused = raw(port, b"")  # answered on accept, before any request
    assert b" 503 " in refused[:40], refused[:80]
    for s in crowd:
        s.close()
    time.sleep(0.3)
    assert http(port, "/ui.css")[0] == 200
    print("ok: 405 for POST, 431 for a long head, 403 for a foreign Host, silent clients harmless, "
          "the 33rd client refused with 503")

    bind, ui, rpc = free_ports(3)
    cfg = write_config(work, 9, bind, None)
    start([g, "agent", "--config", cfg, "--rpc-addr", f"127.0.0.1:{rpc}", "--ui-addr",
           f"127.0.0.1:{ui}", "--rpc-auth", "s3cret"], os.path.join(work, "agent9.log"))
    wait_http(ui)
    assert http(ui, "/api/members")[0] == 401
    assert http(ui, "/api/members?token=wrong")[0] == 401
    assert http(ui, "/api/events?token=wrong")[0] == 401
    status, body = http(ui, "/api/members?token=s3cret")
    assert status == 200 and json.loads(body)["self"]["name"] == "agent9", body
    assert http(ui, "/")[0] == 200  # the page itself holds no data
    r = subprocess.run([g, "agent", "--config", cfg, "--ui-addr", "0.0.0.0:1"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "--rpc-auth" in r.stderr, (r.returncode, r.stderr)
    print("ok: --rpc-auth: /api/ needs ?token=; a non-loopback --ui-addr without a token is refused")


def demo_part(g, work, browser, nodes, screenshot):
    (ui,) = free_ports(1)
    out_path = os.path.join(work, "demo.log")
    demo = start([g, "demo", "--nodes", str(nodes), "--crash", "1", "--multicast-period", "100ms",
                  "--ui", f"127.0.0.1:{ui}", "--ui-wait", "10s"], out_path)
    wait_http(ui)
    page = browser.new_page(1100, 640)
    page.navigate(f"http://127.0.0.1:{ui}/")
    n, t = page.wait_for(f"{nodes} dots", f"document.querySelectorAll('#cluster g.node').length"
                         f" === {nodes} && {nodes}", 10)
    print(f"ok: the demo page shows {n} dots ({t:.1f} s)")
    # The scenario (demo.cc): node nodes/2 multicasts, node 1 crashes, the last node leaves.
    page.wait_for("the multicast to light every dot", "(document.getElementById('mc-text')"
                  f".textContent.match(/delivered by {nodes} of {nodes}/)||[])[0]", 20)
    print("ok: the multicast's deliveries reached every dot")
    state = "(i) => document.querySelector(`#cluster g.node[data-index='${i}']`).dataset.state"
    crash_bound = 30  # the demo's lan profile: 1 s probes, suspicion 4 x log10(n) s
    _, t = page.wait_for("node-1 failed", f"({state})(1) === 'failed'", crash_bound)
    print(f"ok: the crashed node-1 turned failed on the page ({t:.1f} s after the multicast)")
    page.wait_for(f"node-{nodes - 1} left", f"({state})({nodes - 1}) === 'left'", 20)
    page.wait_for("the demo to keep serving", "document.getElementById('events')"
                  ".textContent.includes('keeps running')", 20)
    time.sleep(0.5)
    png = page.screenshot()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000, len(png)
    with open(screenshot or os.path.join(work, "demo.png"), "wb") as f:
        f.write(png)
    print(f"ok: node-{nodes - 1} left, the cluster keeps running; screenshot {len(png)} bytes")
    check_no_errors(browser, "demo page")
    assert demo.poll() is None, "the demo exited after its scenario despite --ui"
    demo.send_signal(signal.SIGTERM)
    rc = demo.wait(timeout=10)
    assert rc == 0, f"demo exit code {rc} after SIGTERM"
    print("ok: SIGTERM ends the demo, exit code 0")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("grapevine")
    ap.add_argument("--screenshot", help="keep the demo page's PNG here")
    ap.add_argument("--demo-nodes", type=int, default=8)
    a = ap.parse_args()
    chromium = cdp.find_chromium()
    if not chromium:
        print("SKIP: no chromium (scripts/deps.sh installs Debian's `chromium`)")
        return 77
    work = tempfile.mkdtemp(prefix="grapevine-ui.")
    t0 = time.monotonic()
    ok = False
    try:
        with cdp.Browser(chromium) as browser:
            port, agent_page = agents_part(a.grapevine, work, browser)
            limits_part(a.grapevine, work, port)
            # The agents go before the demo starts: a demo node could be given a port an agent
            # still probes (agent4's), and the two groups would meet.
            for p in procs:
                p.kill()
                p.wait()
            agent_page.navigate("about:blank")
            time.sleep(0.2)
            browser.errors.clear()  # the agent page's failed reconnections
            demo_part(a.grapevine, work, browser, a.demo_nodes, a.screenshot)
        ok = True
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        if not ok:
            for f in sorted(os.listdir(work)):
                if f.endswith(".log"):
                    print(f"---- {f} (last 25 lines)")
                    with open(os.path.join(work, f), errors="replace") as fh:
                        print("".join(fh.readlines()[-25:]))
        subprocess.run(["rm", "-rf", work])
    print(f"ui_test: passed in {time.monotonic() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
