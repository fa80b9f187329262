#!/usr/bin/env python3
"""Writes the seed corpora of the memberlist codec fuzzers (fuzz_ml_*) under fuzz/corpus/ from
the Go golden vectors in tests/interop/golden/memberlist_golden.inc (bytes memberlist itself
produced), each with the mode/chunk prefix its target expects. Rewrites only files named ml-*.

Usage: fuzz/make_memberlist_corpus.py   (commit what it writes)
"""
import pathlib
import re

root = pathlib.Path(__file__).resolve().parent
inc = (root.parent / "tests/interop/golden/memberlist_golden.inc").read_text()
golden = {}
for name, body in re.findall(r'\{"([^"]+)",\n((?: "[0-9a-f]*"\n?)+)\}', inc):
    golden[name] = bytes.fromhex("".join(re.findall(r'"([0-9a-f]*)"', body)))


def write(target, name, data):
    d = root / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / ("ml-" + name)).write_bytes(data)


messages = ["ping_doc", "ping_mapped_long", "indirect_full", "ack_payload", "nack", "suspect",
            "dead_leave", "alive_doc", "alive_meta512_v6", "compound_three", "compress_msg_text"]
for m in messages:
    write("fuzz_ml_packet", m, b"\x00" + golden[m])
    write("fuzz_ml_packet", m + "-sealed", b"\x31" + golden[m])  # keyring + CRC, sealed first
write("fuzz_ml_packet", "udp-plain", b"\x00" + golden["udp_compound_crc_plain"])
write("fuzz_ml_packet", "udp-encrypted", b"\x01" + golden["udp_compound_crc_encrypted"])
write("fuzz_ml_packet", "labeled", b"\x02\xf4\x04prod" + golden["ack_doc"])
write("fuzz_ml_packet", "user", b"\x00\x08hello")

write("fuzz_ml_compound", "three", golden["compound_three"][1:])
write("fuzz_ml_compound", "truncated", bytes.fromhex("03000200030004aaaabbbbbbcc"))

for n in ["one", "text", "repetitive", "random"]:
    write("fuzz_ml_lzw", n, golden["lzw_" + n])

streams = {"push-pull-plain": (0, "tcp_push_pull_plain"),
           "push-pull-encrypted": (1, "tcp_push_pull_encrypted"),
           "push-pull-uncompressed": (0, "tcp_push_pull_uncompressed"),
           "ping-encrypted": (1, "tcp_ping_encrypted_uncompressed"),
           "err": (0, "err"), "ack": (0, "ack_doc")}
for name, (mode, vec) in streams.items():
    write("fuzz_ml_stream", name, bytes([mode, 6]) + golden[vec])
write("fuzz_ml_stream", "push-pull-sealed",
      bytes([0x30, 40]) + golden["tcp_push_pull_uncompressed"])
write("fuzz_ml_stream", "user-msg", bytes([0, 3]) + bytes.fromhex("0881aa557365724d73674c656e05")
      + b"hello")
print("make_memberlist_corpus: wrote", sum(1 for _ in (root / "corpus").glob("fuzz_ml_*/ml-*")),
      "seeds")
