#!/usr/bin/env bash
# Regenerates memberlist_golden.inc: golden byte vectors made by HashiCorp memberlist's own code
# (Debian's golang-github-hashicorp-memberlist-dev 0.2.2 + go-msgpack 0.5.5), offline.
# Needs: golang-go golang-github-hashicorp-memberlist-dev golang-github-hashicorp-go-msgpack-dev
# (scripts/deps.sh installs them). The C++ tests read the committed output; Go is not needed to
# run them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=/usr/share/gocode/src/github.com/hashicorp/memberlist
[ -d "$src" ] || { echo "generate.sh: $src missing (apt-get install golang-github-hashicorp-memberlist-dev)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg=$work/src/github.com/hashicorp/memberlist
mkdir -p "$(dirname "$pkg")"
cp -r "$src" "$pkg"
chmod -R u+w "$pkg"
rm -f "$pkg"/*_test.go             # memberlist's own tests are not needed
cp "$here"/golden_test.go "$here"/crc_test.go "$pkg"/
cd "$pkg"
GOPATH=$work:/usr/share/gocode GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE=$work/cache \
  GOLDEN_OUT="$here/memberlist_golden.inc" go test -count=1 -run '^TestGolden$' . >/dev/null
echo "generate.sh: wrote $here/memberlist_golden.inc ($(grep -c '^{' "$here/memberlist_golden.inc") vectors)"
