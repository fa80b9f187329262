"""A minimal Chrome DevTools Protocol client over --remote-debugging-pipe (no websocket, no npm):
Chromium reads commands from its fd 3 and writes replies and events to its fd 4, each message a
JSON object followed by a NUL byte. Standard library only.

    with Browser("/usr/bin/chromium") as b:
        page = b.new_page(1280, 800)
        page.navigate("http://127.0.0.1:8080/")
        page.eval("document.title")
        png = page.screenshot()
"""
import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time


def find_chromium():
    for c in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
              shutil.which("chromium-browser")):
        if c and os.access(c, os.X_OK):
            return c
    return None


class CdpError(RuntimeError):
    pass


class Browser:
    def __init__(self, path, timeout=20):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="grapevine-chromium.")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds():  # in the child: its fd 3 reads our commands, its fd 4 writes replies
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3, inheritable=True)
            os.dup2(b, 4, inheritable=True)

        args = [path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--remote-debugging-pipe", "--user-data-dir=" + self.profile, "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "about:blank"]
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, preexec_fn=child_fds,
                                     close_fds=False)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._lock = threading.Lock()
        self._waiting = {}
        self.events = queue.Queue()
        self.errors = []  # JavaScript exceptions and console errors, as text
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.call("Target.setDiscoverTargets", discover=False)

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self._lock:
                        q = self._waiting.pop(msg["id"], None)
                    if q:
                        q.put(msg)
                else:
                    self._on_event(msg)
        with self._lock:
            for q in self._waiting.values():
                q.put({"error": {"message": "chromium exited"}})
            self._waiting.clear()

    def _on_event(self, msg):
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            self.errors.append("exception: " + d.get("exception", {}).get("description", d.get("text", "")))
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            self.errors.append(f"console ({e.get('source')}): {e.get('text')} {e.get('url', '')}")
        elif method == "Runtime.consoleAPICalled" and p.get("type") == "error":
            self.errors.append("console.error: " + " ".join(str(a.get("value", a.get("description")))
                                                            for a in p.get("args", [])))
        self.events.put(msg)

    def call(self, method, session=None, timeout=None, **params):
        with self._lock:
            self._next_id += 1
            mid = self._next_id
            q = queue.Queue()
            self._waiting[mid] = q
        msg = {"id": mid, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        try:
            reply = q.get(timeout=timeout or self.timeout)
        except queue.Empty:
            raise CdpError(f"{method}: no answer from chromium within {timeout or self.timeout} s")
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def new_page(self, width=1280, height=800):
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        page = Page(self, session)
        page.call("Page.enable")
        page.call("Runtime.enable")
        page.call("Log.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)
        return page

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Page:
    def __init__(self, browser, session):
        self.browser, self.session = browser, session

    def call(self, method, **params):
        return self.browser.call(method, session=self.session, **params)

    def navigate(self, url):
        r = self.call("Page.navigate", url=url)
        if r.get("errorText"):
            raise CdpError(f"navigate {url}: {r['errorText']}")

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise CdpError(f"{expression}: {r['exceptionDetails'].get('text')}")
        return r.get("result", {}).get("value")

    def wait_for(self, what, expression, timeout, interval=0.1):
        """Evaluates `expression` until it is truthy; returns (value, seconds waited)."""
        t0 = time.monotonic()
        last = None
        while time.monotonic() - t0 < timeout:
            try:
                last = self.eval(expression)
            except CdpError as e:
                last = str(e)
            else:
                if last:
                    return last, time.monotonic() - t0
            time.sleep(interval)
        raise AssertionError(f"timed out after {timeout:.1f} s waiting for {what} (last: {last!r})")

    def screenshot(self):
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
