#!/usr/bin/env python3
"""Takes the README's pictures of the browser UI (not a test): the demo page with 32 nodes while
a crashed member is suspected, and an agent's page in a group of four.
Usage: screenshots.py /path/to/grapevine OUT_DIR    (writes OUT_DIR/ui-demo.png, ui-agent.png)"""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402
import ui_test  # noqa: E402


def main():
    g, out = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="grapevine-shots.")
    with cdp.Browser(cdp.find_chromium()) as b:
        (port,) = ui_test.free_ports(1)
        demo = subprocess.Popen([g, "demo", "--nodes", "32", "--crash", "2", "--ui",
                                 f"127.0.0.1:{port}", "--ui-wait", "10s"],
                                stdout=subprocess.DEVNULL)
        try:
            ui_test.wait_http(port)
            page = b.new_page(1200, 760)
            page.navigate(f"http://127.0.0.1:{port}/")
            page.wait_for("a suspicion", "document.querySelectorAll('#cluster g.node.some-suspect,"
                          " #cluster g.node[data-state=suspect]').length > 0", 40, 0.05)
            time.sleep(0.6)
            with open(os.path.join(out, "ui-demo.png"), "wb") as f:
                f.write(page.screenshot())
        finally:
            demo.send_signal(signal.SIGTERM)
            demo.wait()
        ports = ui_test.free_ports(12)
        agents = []
        try:
            for i in range(4):
                cfg = ui_test.write_config(work, i + 1, ports[i], ports[0] if i else None)
                agents.append(subprocess.Popen(
                    [g, "agent", "--config", cfg, "--rpc-addr", f"127.0.0.1:{ports[4 + i]}",
                     "--ui-addr", f"127.0.0.1:{ports[8 + i]}", "--tag", f"role={'db' if i % 2 else 'web'}",
                     "--tag", f"rack=r{i // 2 + 1}"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL))
            ui_test.wait_http(ports[8])
            page = b.new_page(1200, 560)
            page.navigate(f"http://127.0.0.1:{ports[8]}/")
            page.wait_for("4 members", "document.querySelectorAll('#members tr').length === 4", 15)
            subprocess.run([g, "send", "hello", "--rpc-addr", f"127.0.0.1:{ports[5]}"],
                           capture_output=True)
            agents[3].kill()
            page.wait_for("agent4 failed", "document.getElementById('count-failed')"
                          ".textContent === '1'", 20)
            time.sleep(0.3)
            with open(os.path.join(out, "ui-agent.png"), "wb") as f:
                f.write(page.screenshot())
        finally:
            for a in agents:
                a.kill()
                a.wait()
    subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
