#!/usr/bin/env bash
# Builds the Go memberlist test peer offline from Debian's Go sources (golang-go and
# golang-github-hashicorp-memberlist-dev, which scripts/deps.sh installs). memberlist is built
# from a private copy with one file added (export_states.go.txt: member states, for telling
# "left" from "dead"). Prints the binary's path.
# Usage: build.sh [OUT] [MAIN.go]  (MAIN.go: another program on the same private copy, e.g.
# bench/memberlist_demo/main.go; default this peer's main.go)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../../build/interop/memberlist-peer}
main=${2:-$here/main.go}
src=/usr/share/gocode/src/github.com/hashicorp/memberlist
[ -d "$src" ] || { echo "build.sh: $src missing (apt-get install golang-github-hashicorp-memberlist-dev)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg=$work/src/github.com/hashicorp/memberlist
mkdir -p "$(dirname "$pkg")" "$work/src/peer"
cp -r "$src" "$pkg"
chmod -R u+w "$pkg"
rm -f "$pkg"/*_test.go
cp "$here/export_states.go.txt" "$pkg/export_states.go"
cp "$main" "$work/src/peer/main.go"
cd "$work/src/peer"
GOPATH=$work:/usr/share/gocode GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE=$work/cache \
  go build -o "$out" .
echo "$out"
