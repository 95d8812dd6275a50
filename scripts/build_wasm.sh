#!/usr/bin/env bash
# Builds the wasm module and stages the static site into build/site.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs   # emcc's optimizer needs acorn
# Debian's emscripten keeps its cache under /usr/share; use a writable one when not root.
if [[ ! -w /usr/share/emscripten/cache ]]; then export EM_CACHE="${PWD}/build/em_cache"; fi
cmake --preset wasm >/dev/null
cmake --build build/wasm
rm -rf build/site
mkdir -p build/site/presets
cp web/* build/site/ 2>/dev/null || true
cp build/wasm/wasm/vramcalc.js build/wasm/wasm/vramcalc.wasm build/site/
cp presets/models.json presets/hardware.json build/site/presets/
