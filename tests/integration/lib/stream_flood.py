#!/usr/bin/env python3
"""Opens many TCP streams to an agent that each announce a large native stream (a 4-byte
big-endian length header) and send part of it, then stall; holds them for a while, then closes
them all. Used by stream_flood.sh (and to measure an agent before and after the limits).

  stream_flood.py HOST PORT [--streams 1000] [--announce 18000000] [--send 2097152]
                  [--hold 8]

Prints one JSON line: streams opened, bytes sent, streams the agent closed on us."""
import argparse
import errno
import json
import resource
import selectors
import socket
import struct
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--announce", type=int, default=18_000_000)
    ap.add_argument("--send", type=int, default=2 << 20)
    ap.add_argument("--hold", type=float, default=8.0)
    a = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, a.streams + 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))

    header = struct.pack(">I", a.announce)
    chunk = b"\x00" * 65536
    sel = selectors.DefaultSelector()
    left = {}  # socket -> bytes still to send (header first)
    opened = closed_by_peer = sent = 0
    for _ in range(a.streams):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex((a.host, a.port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            closed_by_peer += 1
            continue
        opened += 1
        left[s] = a.send
        sel.register(s, selectors.EVENT_WRITE)
    end = time.monotonic() + a.hold
    started = set()
    while time.monotonic() < end and left:
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                if s not in started:
                    s.send(header)
                    started.add(s)
                while left[s] > 0:
                    n = s.send(chunk[: min(len(chunk), left[s])])
                    left[s] -= n
                    sent += n
            except BlockingIOError:
                continue
            except OSError:
                closed_by_peer += 1
            sel.unregister(s)  # done sending (stalls now) or closed by the agent
            del left[s]
            s_keep.append(s)
    time.sleep(max(0.0, end - time.monotonic()))
    for s in list(left) + s_keep:
        s.close()
    print(json.dumps({"opened": opened, "bytes_sent": sent, "closed_by_agent": closed_by_peer}),
          flush=True)


s_keep = []
if __name__ == "__main__":
    main()
