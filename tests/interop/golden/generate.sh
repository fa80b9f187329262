#!/usr/bin/env bash
# Regenerates memberlist_golden.inc: golden byte vectors made by HashiCorp memberlist's own code
# (Debian's golang-github-hashicorp-memberlist-dev 0.2.2 + go-msgpack 0.5.5), offline.
# Needs: golang-go golang-github-hashicorp-memberlist-dev golang-github-hashicorp-go-msgpack-dev
# (scripts/deps.sh installs them). The C++ tests read the committed output; Go is not needed to
# run them. Usage: generate.sh [--check]   (--check: regenerate to a scratch file and fail if
# it differs from the committed one)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/memberlist_golden.inc
check=${1:-}
src=/usr/share/gocode/src/github.com/hashicorp/memberlist
[ -d "$src" ] || { echo "generate.sh: $src missing (apt-get install golang-github-hashicorp-memberlist-dev)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg=$work/src/github.com/hashicorp/memberlist
mkdir -p "$(dirname "$pkg")"
cp -r "$src" "$pkg"
chmod -R u+w "$pkg"
rm -f "$pkg"/*_test.go             # memberlist's own tests are not needed
cp "$here"/golden_test.go "$here"/crc_test.go "$here"/traps_test.go "$pkg"/
cd "$pkg"
GOPATH=$work:/usr/share/gocode GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE=$work/cache \
  GOLDEN_OUT="$work/golden.inc" go test -count=1 -run '^TestGolden$' . >/dev/null
if [ "$check" = "--check" ]; then
  diff -q "$work/golden.inc" "$out" >/dev/null || { echo "generate.sh: $out is stale" >&2; exit 1; }
  echo "generate.sh: $out is up to date"
  exit 0
fi
cp "$work/golden.inc" "$out"
echo "generate.sh: wrote $out ($(grep -c '^{' "$out") vectors)"
