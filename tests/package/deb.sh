#!/usr/bin/env bash
# The .deb is complete and works from a scratch root (never installed on this system):
#   - `cpack -G DEB` in the build tree (output in a scratch directory);
#   - control: Depends lists libssl3, conffiles marks /etc/grapevine/grapevine.toml, the
#     maintainer scripts are valid sh;
#   - `dpkg-deb -c`: the binary, the systemd unit, the default config, the public headers, the
#     CMake package and grapevine.pc are in it;
#   - `dpkg-deb -x` into a scratch root: the binary runs (`--help`), the unit passes
#     `systemd-analyze verify` (when present), and an agent started from the shipped config
#     (ports overridden with free ones) answers `grapevine members`; a trivial program builds
#     from the unpacked grapevine.pc and runs.
# Usage: deb.sh BUILD_DIR SOURCE_DIR CXX_COMPILER
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cxx=$3
source "$src/tests/integration/lib/common.sh"
scratch_dir deb 40
t0=$(now_ms)

echo "== cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$work/out") >"$work/cpack.txt" 2>&1 ||
  fail "cpack failed: $(tail -30 "$work/cpack.txt")"
debs=("$work"/out/grapevine_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one grapevine_*.deb, got: ${debs[*]}"
deb=${debs[0]}
echo "   $(basename "$deb"), $(stat -c %s "$deb") bytes"

echo "== control"
[ "$(dpkg-deb -f "$deb" Package)" = grapevine ] || fail "package name"
dpkg-deb -f "$deb" Depends | grep -q libssl3 || fail "Depends lacks libssl3: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -e "$deb" "$work/control"
grep -qx /etc/grapevine/grapevine.toml "$work/control/conffiles" || fail "config is not a conffile"
for s in postinst prerm postrm; do
  [ -x "$work/control/$s" ] || fail "$s missing or not executable"
  sh -n "$work/control/$s" || fail "$s is not valid sh"
done
grep -q 'useradd --system' "$work/control/postinst" || fail "postinst creates no system user"

echo "== dpkg-deb -c: contents"
dpkg-deb -c "$deb" | awk '{print $NF}' >"$work/contents.txt"
for f in ./usr/bin/grapevine ./lib/systemd/system/grapevine.service ./etc/grapevine/grapevine.toml \
         ./usr/include/grapevine/runtime.h ./usr/include/grapevine/node.h \
         ./usr/lib/cmake/grapevine/grapevineConfig.cmake \
         ./usr/lib/cmake/grapevine/grapevineConfigVersion.cmake \
         ./usr/lib/cmake/grapevine/grapevineTargets.cmake ./usr/lib/pkgconfig/grapevine.pc \
         ./usr/lib/pkgconfig/grapevine-core.pc ./usr/lib/pkgconfig/grapevine-crypto.pc \
         ./usr/lib/libgrapevine_core.a ./usr/lib/libgrapevine_crypto.a ./usr/lib/libgrapevine_io.a; do
  grep -qx "$f" "$work/contents.txt" || fail "$f is not in the package"
done
n_headers=$(grep -c '^\./usr/include/grapevine/.*\.h$' "$work/contents.txt")
[ "$n_headers" -eq "$(find "$src/include/grapevine" -name '*.h' | wc -l)" ] ||
  fail "$n_headers headers packaged, include/grapevine has a different count"
! grep -q -e '^\./usr/include/\(util\|wire\|core\|io\|sim\)/' "$work/contents.txt" ||
  fail "private headers are packaged"

echo "== dpkg-deb -x into a scratch root"
root=$work/root
dpkg-deb -x "$deb" "$root"
bin=$root/usr/bin/grapevine
"$bin" --help >"$work/help.txt" 2>&1 || fail "grapevine --help failed: $(cat "$work/help.txt")"
grep -q agent "$work/help.txt" || fail "--help does not list the agent"
unit=$root/lib/systemd/system/grapevine.service
grep -qx 'ExecStart=/usr/bin/grapevine agent --config /etc/grapevine/grapevine.toml' "$unit" ||
  fail "unexpected ExecStart: $(grep ExecStart "$unit")"
for k in User=grapevine Restart=on-failure NoNewPrivileges=yes ProtectSystem=strict; do
  grep -qx "$k" "$unit" || fail "the unit lacks $k"
done
if command -v systemd-analyze >/dev/null; then
  # verify wants ExecStart's binary on this system: point it at the extracted one.
  sed "s|^ExecStart=/usr/bin/grapevine|ExecStart=$bin|" "$unit" >"$work/grapevine.service"
  systemd-analyze verify "$work/grapevine.service" >"$work/verify.txt" 2>&1 || true
  ! grep -i -e 'unknown' -e 'ignoring' -e 'failed to parse' -e 'not executable' "$work/verify.txt" ||
    fail "systemd-analyze verify: $(cat "$work/verify.txt")"
fi

echo "== pkg-config from the unpacked package"
flags=$(PKG_CONFIG_PATH=$root/usr/lib/pkgconfig pkg-config --cflags --libs grapevine) ||
  fail "pkg-config does not read the packaged grapevine.pc"
# shellcheck disable=SC2086
"$cxx" -std=c++20 "$src/tests/package/trivial.cc" -o "$work/trivial" $flags >"$work/trivial.txt" 2>&1 ||
  fail "a trivial program does not build with the package's flags ($flags): $(tail -20 "$work/trivial.txt")"
[ "$("$work/trivial")" = "127.0.0.1:7946" ] || fail "the trivial program printed the wrong address"

echo "== an agent from the shipped config (bind and rpc ports overridden)"
free_port_block 20000 600
config=$root/etc/grapevine/grapevine.toml
grep -qx 'bind = "127.0.0.1:7946"' "$config" || fail "the default config does not bind 127.0.0.1"
"$bin" agent --config "$config" --name pkg-test --bind "127.0.0.1:$base" \
  --rpc-addr "127.0.0.1:$((base + 1))" >"$work/agent.log" 2>&1 &
pids+=($!)
members_ok() { "$bin" members --rpc-addr "127.0.0.1:$((base + 1))" 2>/dev/null | grep -q pkg-test; }
wait_until 10000 members_ok || fail "the agent did not answer members within 10 s"
kill -TERM "${pids[0]}"
wait_until 10000 bash -c "! kill -0 ${pids[0]} 2>/dev/null" || fail "the agent did not stop on SIGTERM"

echo "PASS: .deb complete and working from a scratch root ($(($(now_ms) - t0)) ms)"
