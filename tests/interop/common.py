"""Shared helpers of the interop tests: free ports and bounded waits on 127.0.0.1."""
import socket
import subprocess
import time


def free_port():
    """A port free for both UDP and TCP right now."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                    u.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


def wait_for(what, predicate, timeout):
    """Polls `predicate` until it is truthy; raises AssertionError naming `what` on timeout."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, ValueError, KeyError, subprocess.CalledProcessError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last})")


def rpc_call(port, request, json_module):
    """One JSON-lines request to a grapevine agent's RPC address; returns the decoded answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall((json_module.dumps(request) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json_module.loads(data)
