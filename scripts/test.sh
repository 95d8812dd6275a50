#!/usr/bin/env bash
# Runs every test: native GoogleTest (release), the same suite under AddressSanitizer +
# UndefinedBehaviorSanitizer, the wasm build under Node against the same golden files, and the web
# page end to end in headless Chromium against the CLI. Speed and size: node scripts/bench_web.mjs.
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

echo "== web page in headless Chromium (playwright-core, Debian's chromium) =="
npm ci --no-audit --no-fund
mkdir -p test-artifacts
node --test tests/web/   # screenshots in test-artifacts/

echo "== differential: vramcalc against real llama.cpp (node-llama-cpp's prebuilt CPU binary) =="
# Its own package.json: only this stage installs the 85 MB binary. `npm ci` rejects this lock file
# (node-llama-cpp lists platform packages that were never published), so install from the lock.
(cd tests/differential && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund)
VRAMCALC_CLI="$PWD/build/native-release/cli/vramcalc" node --test tests/differential/differential.test.mjs
node scripts/build_accuracy.mjs --out build/site/accuracy-data.json   # data of the Accuracy page

echo "== model files: GGUF headers against @huggingface/gguf, then the parsers' fuzzers =="
VRAM_CORPUS_TOOL="$PWD/build/native-release/tests/vram_corpus_tool" node --test tests/node/
bash scripts/fuzz.sh   # clang + ASan + UBSan; VRAM_FUZZ_SECONDS per target (default 60)

echo "all test stages passed"
