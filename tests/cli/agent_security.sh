#!/usr/bin/env bash
# Contract (docs/security.md): `grapevine keygen` prints a fresh base64 32-byte key; an agent
# bound to a non-loopback address without a key exits 2 with one line naming --encrypt and
# `grapevine keygen` (before binding anything); a native key that is not 32 bytes is refused
# naming --encrypt; loopback binds stay keyless. Usage: bash agent_security.sh /path/to/grapevine
set -uo pipefail
grapevine=${1:?usage: $0 /path/to/grapevine}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

k1=$("$grapevine" keygen) || fail "keygen exited $?"
k2=$("$grapevine" keygen)
[[ $(printf %s "$k1" | base64 -d | wc -c) -eq 32 ]] || fail "keygen: not base64 of 32 bytes: $k1"
[[ $k1 != "$k2" ]] || fail "keygen printed the same key twice"

expect_refusal() {  # expect_refusal WORD ARGS...: exit 2, one stderr line containing WORD
  local word=$1
  shift
  timeout 10 "$grapevine" agent --rpc-addr 127.0.0.1:0 "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -ne 2 ]]; then
    fail "[$*]: exit $rc, expected 2: $(cat "$tmp/err")"
  elif [[ $(wc -l <"$tmp/err") -ne 1 ]]; then
    fail "[$*]: expected one stderr line: $(cat "$tmp/err")"
  elif ! grep -q -- "$word" "$tmp/err"; then
    fail "[$*]: stderr does not mention $word: $(cat "$tmp/err")"
  fi
}
expect_refusal "--encrypt" --bind 0.0.0.0:0
expect_refusal "grapevine keygen" --bind 0.0.0.0:0
expect_refusal "--insecure" --bind 0.0.0.0:0
expect_refusal "--encrypt" --bind 127.0.0.1:0 --encrypt "$(head -c 16 /dev/urandom | base64)"
expect_refusal "--encrypt" --bind 127.0.0.1:0 --encrypt "not base64!"
printf 'bind = "0.0.0.0:0"\nrpc_addr = "127.0.0.1:0"\n' >"$tmp/open.toml"
expect_refusal "--encrypt" --config "$tmp/open.toml"

printf '[membership]\nencrypt = ["%s"]\n' "$(head -c 16 /dev/urandom | base64)" >"$tmp/short.toml"
expect_refusal "encrypt" --bind 127.0.0.1:0 --config "$tmp/short.toml"

# Loopback needs no key: the agent starts (and is stopped by timeout: exit 124).
timeout 2 "$grapevine" agent --bind 127.0.0.2:0 --rpc-addr 127.0.0.1:0 --log-level off \
  >/dev/null 2>"$tmp/err"
rc=$?
[[ $rc -eq 124 ]] || fail "a keyless loopback agent did not run (exit $rc): $(cat "$tmp/err")"
timeout 2 "$grapevine" agent --bind 127.0.0.1:0 --rpc-addr 127.0.0.1:0 --log-level off \
  --encrypt "$k1" --encrypt "$k2" --label prod >/dev/null 2>"$tmp/err"
rc=$?
[[ $rc -eq 124 ]] || fail "a keyed agent did not run (exit $rc): $(cat "$tmp/err")"
printf 'bind = "0.0.0.0:0"\nrpc_addr = "127.0.0.1:0"\n[membership]\nencrypt = ["%s"]\nlabel = "prod"\n' \
  "$k1" >"$tmp/keyed.toml"
# A key from TOML satisfies the check (--bind overrides the file's 0.0.0.0 to stay on loopback).
timeout 2 "$grapevine" agent --config "$tmp/keyed.toml" --bind 127.0.0.1:0 --log-level off \
  >/dev/null 2>"$tmp/err"
rc=$?
[[ $rc -eq 124 ]] || fail "an agent keyed by TOML did not run (exit $rc): $(cat "$tmp/err")"

if [[ $failures -ne 0 ]]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "agent security contract: ok"
