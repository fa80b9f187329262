#!/usr/bin/env bash
# Mutual TLS on streams (--tls-cert, --tls-key, --tls-ca), with a CA and member certificates made
# here by the `openssl` CLI. All agents share a gossip key (--encrypt): the attacker in the
# threat model holds it. Checks:
#   - three agents with good certificates form a cluster through push-pull over TLS, and
#     replicated state (kv) spreads;
#   - an agent whose certificate is from another CA cannot complete a stream: its join fails,
#     it is not admitted, the seed counts reason="certificate";
#   - an agent whose certificate names another member than its --name: its push-pull is refused,
#     it is not admitted, the seed counts reason="name";
#   - a plain-TCP client is refused (reason="handshake"), a stalled handshake is closed at
#     --stream-timeout (reason="timeout");
#   - the flags are all three or none, and an unreadable file is named in a one-line error.
# Every process started here is killed by PID on exit. Usage: bash tls_agents.sh /path/to/grapevine
set -euo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
grapevine=$(cd "$(dirname "$grapevine")" && pwd)/$(basename "$grapevine")
here=$(cd "$(dirname "$0")" && pwd)

source "$here/lib/common.sh"
scratch_dir tls 30
command -v openssl >/dev/null || { echo "SKIP: no openssl CLI"; exit 77; }

# ---- certificates: CA "good" signs m1..m3 and "m9"; CA "other" signs "rogue" ----
cd "$work"
ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -keyout "$1.key" -out "$1.pem" -subj "/CN=$1-ca" 2>/dev/null
}
cert() {  # cert CA NAME: NAME.pem/.key, DNS subjectAltName NAME
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$2.key" \
    -out "$2.csr" -subj "/CN=$2" 2>/dev/null
  printf 'subjectAltName=DNS:%s\n' "$2" >"$2.ext"
  openssl x509 -req -in "$2.csr" -CA "$1.pem" -CAkey "$1.key" -CAcreateserial -days 1 \
    -extfile "$2.ext" -out "$2.pem" 2>/dev/null
}
ca good
ca other
for n in m1 m2 m3 m9; do cert good "$n"; done
cert other rogue
cd - >/dev/null

key=$("$grapevine" keygen)
free_port_block 20000 600
bind_port() { echo $((base + $1)); }
rpc() { echo "--rpc-addr=127.0.0.1:$((base + 10 + $1))"; }
metrics_port=$((base + 19))
scrape() {
  timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
    printf "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3 && cat <&3' _ "$1"
}
failures() { scrape "$metrics_port" | awk -v r="$1" \
  '$1 == "grapevine_tls_handshake_failures_total{reason=\"" r "\"}" { print $2 }'; }

# agent I NAME CERT [extra flags]
agent() {
  local i=$1 name=$2 c=$3
  shift 3
  "$grapevine" agent --name "$name" --bind "127.0.0.1:$(bind_port "$i")" "$(rpc "$i")" \
    --encrypt "$key" --tls-cert "$work/$c.pem" --tls-key "$work/$c.key" \
    --tls-ca "$work/$([ "$c" = rogue ] && echo other || echo good).pem" --log-level info "$@" \
    >"$work/agent$i.log" 2>&1 &
  pids+=($!)
}
alive_at() {  # alive_at I: alive members agent I lists
  "$grapevine" members "$(rpc "$1")" --json 2>/dev/null | grep -o '"alive"' | wc -l
}

# ---- a good cluster ----
agent 1 m1 m1 --metrics-addr "127.0.0.1:$metrics_port" --stream-timeout 2s
wait_until 5000 "$grapevine" members "$(rpc 1)" >/dev/null 2>&1 || fail "agent 1 did not start"
t0=$(now_ms)
agent 2 m2 m2 --join "127.0.0.1:$(bind_port 1)"
agent 3 m3 m3 --join "127.0.0.1:$(bind_port 1)"
three() { [ "$(alive_at 3)" -eq 3 ] && [ "$(alive_at 2)" -eq 3 ] && [ "$(alive_at 1)" -eq 3 ]; }
wait_until 10000 three || fail "the three TLS agents did not converge"
echo "ok: three agents converged over mutual TLS in $(($(now_ms) - t0)) ms"
"$grapevine" kv set svc/web up "$(rpc 1)" >/dev/null || fail "kv set"
seen() { [ "$("$grapevine" kv get svc/web --node m1 "$(rpc 3)" 2>/dev/null)" = up ]; }
wait_until 5000 seen || fail "agent 3 does not see m1's svc/web"
handshakes=$(scrape "$metrics_port" | awk '$1 == "grapevine_tls_handshakes_total" { print $2 }')
[ "${handshakes:-0}" -ge 2 ] || fail "expected >= 2 TLS handshakes on agent 1, got $handshakes"
echo "ok: kv spreads; agent 1 completed $handshakes TLS handshakes"

# ---- a certificate from another CA ----
agent 4 rogue rogue --join "127.0.0.1:$(bind_port 1)"
counted() { [ "$(failures "$1")" -ge 1 ]; }
wait_until 5000 counted certificate || fail "agent 1 did not count the other CA's certificate"
grep -q "join:.*\|refused stream to" "$work/agent4.log" || true
sleep 1
[ "$(alive_at 1)" -eq 3 ] || fail "the rogue agent (other CA) was admitted"
grep -q "tls: refused inbound stream from 127.0.0.1.*certificate" "$work/agent1.log" ||
  fail "agent 1 did not log the refusal"
echo "ok: other CA refused (certificate: $(failures certificate)), not admitted"

# ---- a good certificate for another name ----
agent 5 impostor m9 --join "127.0.0.1:$(bind_port 1)"
wait_until 5000 counted name || fail "agent 1 did not count the name mismatch"
sleep 1
[ "$(alive_at 1)" -eq 3 ] || fail "the impostor (certificate for m9) was admitted"
"$grapevine" members "$(rpc 1)" | grep -q impostor && fail "impostor listed"
echo "ok: certificate name != --name refused (name: $(failures name)), not admitted"

# ---- plain TCP, and a stalled handshake ----
before=$(failures handshake)
python3 - "$(bind_port 1)" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3)
s.sendall(b"\x00\x00\x00\x10\x01\x01" + b"\x00" * 16)  # a plaintext native stream
s.settimeout(3)
try:
    while s.recv(4096):  # whatever the agent says (an alert), then EOF
        pass
except ConnectionResetError:
    pass
PY
more() { [ "$(failures handshake)" -gt "$before" ]; }
wait_until 3000 more || fail "the plain-TCP client was not counted"
echo "ok: plain TCP refused (handshake: $(failures handshake))"
python3 - "$(bind_port 1)" <<'PY' || fail "the stalled handshake was not closed within 4 s"
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
t0 = time.time()
s.settimeout(4.5)
try:
    data = s.recv(1)  # we send nothing: the agent must close us at --stream-timeout (2 s)
except ConnectionResetError:
    data = b""
sys.exit(0 if data == b"" and time.time() - t0 < 4 else 1)
PY
wait_until 2000 counted timeout || fail "the stalled handshake was not counted as a timeout"
echo "ok: stalled handshake closed at the stream timeout (timeout: $(failures timeout))"

# ---- flags ----
out=$("$grapevine" agent --name x --tls-cert "$work/m1.pem" --tls-key "$work/m1.key" 2>&1) &&
  fail "--tls-cert without --tls-ca was accepted"
grep -q -- "--tls-ca" <<<"$out" || fail "no clear error for a missing --tls-ca: $out"
out=$("$grapevine" agent --name x --tls-cert "$work/nope.pem" --tls-key "$work/m1.key" \
  --tls-ca "$work/good.pem" 2>&1) && fail "a missing certificate file was accepted"
grep -q "nope.pem" <<<"$out" || fail "the error does not name the file: $out"
printf 'tls_cert = "%s"\ntls_key = "%s"\ntls_ca = "%s"\n' "$work/m1.pem" "$work/m2.key" \
  "$work/good.pem" >"$work/bad.toml"
out=$("$grapevine" agent --name x --config "$work/bad.toml" 2>&1) &&
  fail "a key that does not match the certificate was accepted"
grep -q "does not match" <<<"$out" || fail "no clear error for a mismatched key: $out"
echo "ok: flag and TOML errors: $(head -1 <<<"$out")"
echo "PASS"
