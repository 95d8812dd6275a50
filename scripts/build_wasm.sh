#!/usr/bin/env bash
# Builds the wasm module and stages the static site into build/site (scripts/build_web.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs   # emcc's optimizer needs acorn
# Debian's emscripten keeps its cache under /usr/share; use a writable one when not root.
if [[ ! -w /usr/share/emscripten/cache ]]; then export EM_CACHE="${PWD}/build/em_cache"; fi
cmake --preset wasm >/dev/null
cmake --build build/wasm
# The page, the module and the presets stripped to what the page reads (counts computed by the core).
node scripts/build_web.mjs build/wasm/wasm build/site
