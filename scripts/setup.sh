#!/usr/bin/env bash
# Installs the Debian packages the build needs. As root it installs them; otherwise it prints
# the exact command to run. Sourced by scripts/test.sh and scripts/serve.sh.
set -euo pipefail

VRAM_PACKAGES=(cmake ninja-build g++ clang libclang-rt-14-dev libgtest-dev libgmock-dev
               libbenchmark-dev nlohmann-json3-dev emscripten nodejs npm)

vram_missing_packages() {
  local missing=()
  for p in "${VRAM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  echo "${missing[@]:-}"
}

vram_setup() {
  local missing
  missing="$(vram_missing_packages)"
  if [[ -z "${missing// /}" ]]; then return 0; fi
  if [[ "$(id -u)" -eq 0 ]]; then
    echo "setup: installing ${missing}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends ${missing} >/dev/null
  else
    echo "setup: missing packages; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing}" >&2
    exit 1
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then vram_setup; fi
