#!/usr/bin/env bash
# Installs, builds and runs every test: the whole suite under ASan+UBSan, a bounded fuzz run of
# every decoder, then the whole suite in the release build. ctest's summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
jobs=$(nproc)

echo "== asan-ubsan: build and run the suite under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake --preset asan-ubsan >/dev/null
cmake --build --preset asan-ubsan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --preset asan-ubsan -j "$jobs" --label-exclude slow

echo "== fuzz: every decoder, bounded run"
# 10 s per target keeps the whole run inside its time budget as targets are added; longer
# campaigns are run by hand (fuzz/CMakeLists.txt).
cmake --preset fuzz -DGRAPEVINE_FUZZ_SECONDS=10 >/dev/null
cmake --build --preset fuzz -j "$jobs"
ctest --test-dir build/fuzz -j "$jobs" --output-on-failure

echo "== release: build and run the suite"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"
