#!/usr/bin/env bash
# Runs every test: native GoogleTest (release), the same suite under AddressSanitizer +
# UndefinedBehaviorSanitizer, and the wasm build under Node against the same golden files.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
vram_setup

jobs=$(nproc)
echo "== native release =="
cmake --preset native-release >/dev/null
cmake --build build/native-release -j "$jobs"
ctest --preset native-release -j "$jobs"

echo "== native ASan + UBSan =="
cmake --preset native-asan >/dev/null
cmake --build build/native-asan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --preset native-asan -j "$jobs"

echo "== wasm under Node =="
bash scripts/build_wasm.sh
node --test tests/wasm/

echo "all test stages passed"
