#!/usr/bin/env bash
# Builds the app and serves it on http://127.0.0.1:${PORT:-8080}/ (Ctrl-C to stop).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
vram_setup
bash scripts/build_wasm.sh
exec node scripts/serve.mjs build/site "${PORT:-8080}"
