#!/usr/bin/env bash
# The installed package works for an outside project: `cmake --install` into a scratch prefix,
# then
#   - only include/grapevine/*.h is installed, and each header compiles on its own with nothing
#     but the standard library (no src/, no OpenSSL, ...);
#   - examples/consumer (examples/embed_node.cc with find_package(grapevine)) configures, builds
#     without src/ on its include path, and runs: two nodes join, multicast, list, leave;
#   - the same program builds from `pkg-config --cflags --libs grapevine` and runs;
#   - a core-only consumer (tests/package/core_consumer: find_package(grapevine COMPONENTS core),
#     links grapevine::core alone) configures without OpenSSL, its link line and binary name no
#     libcrypto/libssl, and it runs two keyless nodes in memory and sees keys refused; the same
#     from `pkg-config grapevine-core`; the installed libgrapevine_core.a needs no OpenSSL symbol.
# In a sanitized build tree the installed libraries carry -fsanitize=address,undefined in their
# link interface (CMake and pkg-config), so the outside program links the sanitizer runtimes.
# Usage: install_consume.sh BUILD_DIR SOURCE_DIR CXX_COMPILER
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
cxx=$3
source "$src/tests/integration/lib/common.sh"
scratch_dir package 40
prefix=$work/prefix
t0=$(now_ms)

echo "== cmake --install $build --prefix $prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.txt" 2>&1 ||
  fail "cmake --install failed: $(tail -20 "$work/install.txt")"

echo "== only the public headers are installed"
expected=$(cd "$src/include" && find grapevine -name '*.h' | sort)
installed=$(cd "$prefix/include" && find . -type f | sed 's|^\./||' | sort)
[ "$expected" = "$installed" ] ||
  fail "installed headers differ from include/grapevine: $(diff <(echo "$expected") <(echo "$installed"))"
for f in lib/libgrapevine_core.a lib/libgrapevine_crypto.a lib/libgrapevine_io.a \
         lib/libgrapevine_sim.a bin/grapevine lib/cmake/grapevine/grapevineConfig.cmake \
         lib/cmake/grapevine/grapevineConfigVersion.cmake \
         lib/cmake/grapevine/grapevineTargets.cmake lib/pkgconfig/grapevine.pc \
         lib/pkgconfig/grapevine-core.pc lib/pkgconfig/grapevine-crypto.pc; do
  [ -e "$prefix/$f" ] || fail "missing $prefix/$f"
done
! grep -q "$src" "$prefix"/lib/cmake/grapevine/*.cmake "$prefix"/lib/pkgconfig/grapevine*.pc ||
  fail "the installed CMake/pkg-config files point into the source tree"

echo "== each public header stands alone on the standard library"
for h in $expected; do
  echo "#include <$h>" >"$work/one.cc"
  "$cxx" -std=c++20 -fsyntax-only -I"$prefix/include" -M -MF "$work/one.d" "$work/one.cc" ||
    fail "$h does not compile on its own with only the installed headers"
  # Every dependency is an installed grapevine header or a C++/C standard library header.
  bad=$(tr -s ' \\' '\n' <"$work/one.d" | grep -v -e '^$' -e ':$' -e "^$work/" \
          -e "^$prefix/include/grapevine/" -e '^/usr/include/c++/' -e '^/usr/lib/gcc/' \
          -e '^/usr/include/x86_64-linux-gnu/' -e '^/usr/include/aarch64-linux-gnu/' \
          -e '^/usr/include/[a-z_0-9-]*\.h$' -e '^/usr/include/\(asm-generic\|linux\)/' || true)
  [ -z "$bad" ] || fail "$h pulls in non-standard headers: $bad"
done

echo "== find_package(grapevine): examples/consumer"
cmake -S "$src/examples/consumer" -B "$work/consumer" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/consumer-configure.log" 2>&1 ||
  fail "configuring the consumer failed: $(tail -20 "$work/consumer-configure.log")"
grep -q "grapevine_DIR:PATH=$prefix/lib/cmake/grapevine" "$work/consumer/CMakeCache.txt" ||
  fail "the consumer found grapevine somewhere else: $(grep grapevine_DIR "$work/consumer/CMakeCache.txt")"
cmake --build "$work/consumer" >"$work/consumer-build.log" 2>&1 ||
  fail "building the consumer failed: $(tail -30 "$work/consumer-build.log")"
! grep -q -e "$src/src" -e "$build" "$work/consumer/compile_commands.json" ||
  fail "the consumer's compile commands reach into grapevine's source or build tree"
timeout 30 "$work/consumer/embed_node" >"$work/cmake-run.log" 2>&1 ||
  fail "embed_node (find_package build) failed: $(tail -20 "$work/cmake-run.log")"
grep -qz "beta delivered: hello, group.*beta's list: alpha" "$work/cmake-run.log" ||
  fail "embed_node (find_package build) printed: $(cat "$work/cmake-run.log")"

echo "== pkg-config --cflags --libs grapevine"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
flags=$(pkg-config --cflags --libs grapevine) || fail "pkg-config does not know grapevine"
echo "   $flags"
[ "$(pkg-config --modversion grapevine)" = "$(sed -n 's/^Version: //p' "$prefix/lib/pkgconfig/grapevine.pc")" ]
# shellcheck disable=SC2086
"$cxx" -std=c++20 -O1 "$src/examples/embed_node.cc" -o "$work/embed_node_pc" $flags \
  >"$work/pc-build.log" 2>&1 || fail "building with pkg-config's flags failed: $(tail -30 "$work/pc-build.log")"
timeout 30 "$work/embed_node_pc" >"$work/pc-run.log" 2>&1 ||
  fail "embed_node (pkg-config build) failed: $(tail -20 "$work/pc-run.log")"
grep -qz "beta delivered: hello, group.*beta's list: alpha" "$work/pc-run.log" ||
  fail "embed_node (pkg-config build) printed: $(cat "$work/pc-run.log")"

echo "== grapevine::core alone: no OpenSSL anywhere"
openssl_syms=$(nm -u "$prefix/lib/libgrapevine_core.a" 2>/dev/null |
               grep -E ' U (EVP_|RAND_|SHA256|OPENSSL_|ERR_|SSL_)' || true)
[ -z "$openssl_syms" ] || fail "libgrapevine_core.a needs OpenSSL symbols: $openssl_syms"
cmake -S "$src/tests/package/core_consumer" -B "$work/core" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/core-configure.log" 2>&1 ||
  fail "configuring the core-only consumer failed: $(tail -20 "$work/core-configure.log")"
cmake --build "$work/core" --verbose >"$work/core-build.log" 2>&1 ||
  fail "building the core-only consumer failed: $(tail -30 "$work/core-build.log")"
link=$(grep -e '-o core_only ' "$work/core-build.log" || true)
[ -n "$link" ] || fail "no link line for core_only in: $(tail -20 "$work/core-build.log")"
openssl_re='-l(crypto|ssl)\b|lib(crypto|ssl)\.|OpenSSL'
! grep -q -E -e "$openssl_re" <<<"$link" || fail "the core-only link line names OpenSSL: $link"
! ldd "$work/core/core_only" | grep -q -E 'libcrypto|libssl' ||
  fail "core_only loads OpenSSL: $(ldd "$work/core/core_only")"
timeout 30 "$work/core/core_only" >"$work/core-run.log" 2>&1 ||
  fail "core_only failed: $(cat "$work/core-run.log")"
grep -q '^core-only ok' "$work/core-run.log" || fail "core_only printed: $(cat "$work/core-run.log")"
echo "   $(cat "$work/core-run.log")"
core_flags=$(pkg-config --cflags --libs grapevine-core) || fail "pkg-config does not know grapevine-core"
! grep -q -E -e "$openssl_re" <<<"$core_flags" || fail "grapevine-core.pc names OpenSSL: $core_flags"
grep -q -e '-lgrapevine_crypto' <<<"$flags" || fail "grapevine.pc lacks grapevine_crypto: $flags"
# shellcheck disable=SC2086
"$cxx" -std=c++20 -O1 "$src/tests/package/core_consumer/core_only.cc" -o "$work/core_only_pc" \
  $core_flags >"$work/core-pc-build.log" 2>&1 ||
  fail "building core_only with grapevine-core.pc failed: $(tail -30 "$work/core-pc-build.log")"
timeout 30 "$work/core_only_pc" >"$work/core-pc-run.log" 2>&1 ||
  fail "core_only (pkg-config build) failed: $(cat "$work/core-pc-run.log")"
grep -q '^core-only ok' "$work/core-pc-run.log" ||
  fail "core_only (pkg-config build) printed: $(cat "$work/core-pc-run.log")"

echo "PASS: install, find_package and pkg-config consumers ($(($(now_ms) - t0)) ms)"
