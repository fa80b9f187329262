#!/usr/bin/env bash
# The installed package works for an outside project: `cmake --install` into a scratch prefix,
# then
#   - only include/grapevine/*.h is installed, and each header compiles on its own with nothing
#     but the standard library (no src/, no OpenSSL, ...);
#   - examples/consumer (examples/embed_node.cc with find_package(grapevine)) configures, builds
#     without src/ on its include path, and runs: two nodes join, multicast, list, leave;
#   - the same program builds from `pkg-config --cflags --libs grapevine` and runs.
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
for f in lib/libgrapevine_core.a lib/libgrapevine_io.a lib/libgrapevine_sim.a bin/grapevine \
         lib/cmake/grapevine/grapevineConfig.cmake lib/cmake/grapevine/grapevineConfigVersion.cmake \
         lib/cmake/grapevine/grapevineTargets.cmake lib/pkgconfig/grapevine.pc; do
  [ -e "$prefix/$f" ] || fail "missing $prefix/$f"
done
! grep -q "$src" "$prefix"/lib/cmake/grapevine/*.cmake "$prefix/lib/pkgconfig/grapevine.pc" ||
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

echo "PASS: install, find_package and pkg-config consumers ($(($(now_ms) - t0)) ms)"
