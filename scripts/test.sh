#!/usr/bin/env bash
# Runs every test, or one stage: bash scripts/test.sh [stage ...]
#   native    GoogleTest (release build) and the CLI
#   asan      the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   wasm      the wasm build under Node: the engine, the golden files and model import
#   web       the page, PWA, widget, embed and import in headless Chromium against the CLI
#   diff      vramcalc against real llama.cpp (node-llama-cpp's prebuilt CPU binary)
#   files     GGUF headers against @huggingface/gguf, then the parsers' fuzzers
# Stages that need a build (wasm, web, diff, files) build what they need. Speed and size:
# node scripts/bench_web.mjs.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
vram_setup

jobs=$(nproc)

build_native() {
  cmake --preset native-release >/dev/null
  cmake --build build/native-release -j "$jobs"
}

stage_native() {
  echo "== native release =="
  build_native
  ctest --preset native-release -j "$jobs"
}

stage_asan() {
  echo "== native ASan + UBSan =="
  cmake --preset native-asan >/dev/null
  cmake --build build/native-asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --preset native-asan -j "$jobs"
}

stage_wasm() {
  echo "== wasm under Node =="
  bash scripts/build_wasm.sh
  node --test tests/wasm/
}

stage_web() {
  echo "== web page in headless Chromium (playwright-core, Debian's chromium) =="
  [[ -x build/native-release/cli/vramcalc ]] || build_native
  [[ -f build/site/vramcalc.wasm ]] || bash scripts/build_wasm.sh
  npm ci --no-audit --no-fund
  mkdir -p test-artifacts
  node --test tests/web/   # screenshots in test-artifacts/
}

stage_diff() {
  echo "== differential: vramcalc against real llama.cpp (node-llama-cpp's prebuilt CPU binary) =="
  [[ -x build/native-release/cli/vramcalc ]] || build_native
  # Its own package.json: only this stage installs the 85 MB binary. `npm ci` rejects this lock
  # file (node-llama-cpp lists platform packages that were never published), so install from it.
  (cd tests/differential && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund)
  VRAMCALC_CLI="$PWD/build/native-release/cli/vramcalc" node --test tests/differential/differential.test.mjs
  if [[ -d build/site ]]; then
    node scripts/build_accuracy.mjs --out build/site/accuracy-data.json   # data of the Accuracy page
  fi
}

stage_files() {
  echo "== model files: GGUF headers against @huggingface/gguf, then the parsers' fuzzers =="
  [[ -x build/native-release/tests/vram_corpus_tool ]] || build_native
  [[ -d node_modules/@huggingface ]] || npm ci --no-audit --no-fund
  VRAM_CORPUS_TOOL="$PWD/build/native-release/tests/vram_corpus_tool" node --test tests/node/
  bash scripts/fuzz.sh   # clang + ASan + UBSan; VRAM_FUZZ_SECONDS per target (default 60)
}

stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(native asan wasm web diff files)
for stage in "${stages[@]}"; do
  case "$stage" in
    native | asan | wasm | web | diff | files) "stage_$stage" ;;
    *)
      echo "test.sh: unknown stage '$stage'; stages: native asan wasm web diff files" >&2
      exit 2
      ;;
  esac
done
echo "all test stages passed: ${stages[*]}"
