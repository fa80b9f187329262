#!/usr/bin/env bash
# Builds bench/memberlist_demo offline from Debian's Go sources (golang-go and
# golang-github-hashicorp-memberlist-dev, as tests/interop/peer/build.sh; the same private copy
# with NodeStates added). Prints the binary's path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../build/bench/memberlist-demo}
src=/usr/share/gocode/src/github.com/hashicorp/memberlist
[ -d "$src" ] || { echo "build.sh: $src missing (apt-get install golang-github-hashicorp-memberlist-dev)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg=$work/src/github.com/hashicorp/memberlist
mkdir -p "$(dirname "$pkg")" "$work/src/demo"
cp -r "$src" "$pkg"
chmod -R u+w "$pkg"
rm -f "$pkg"/*_test.go
cp "$here/../../tests/interop/peer/export_states.go.txt" "$pkg/export_states.go"
cp "$here/main.go" "$work/src/demo/main.go"
cd "$work/src/demo"
GOPATH=$work:/usr/share/gocode GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE=$work/cache \
  go build -o "$out" .
echo "$out"
