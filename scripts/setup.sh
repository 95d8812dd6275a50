#!/usr/bin/env bash
# Installs what the build needs from Debian's packages. As root it installs the missing ones;
# otherwise it prints the exact command to run. Sourced by scripts/test.sh and scripts/serve.sh.
# It checks for commands and headers rather than package names, so a Node.js installed another
# way (which conflicts with Debian's npm) is accepted.
set -euo pipefail

# "how to check" -> package
VRAM_REQUIREMENTS=(
  "cmd:cmake=cmake"
  "cmd:ninja=ninja-build"
  "cmd:g++=g++"
  "cmd:clang++=clang"
  "file:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a=libclang-rt-14-dev"
  "file:/usr/include/gtest/gtest.h=libgtest-dev"
  "file:/usr/include/gmock/gmock.h=libgmock-dev"
  "file:/usr/include/benchmark/benchmark.h=libbenchmark-dev"
  "file:/usr/include/nlohmann/json.hpp=nlohmann-json3-dev"
  "cmd:emcc=emscripten"
  "cmd:node=nodejs"
  "cmd:npm=npm"
  "cmd:chromium=chromium"
)

vram_missing_packages() {
  local missing=() entry check package
  for entry in "${VRAM_REQUIREMENTS[@]}"; do
    check="${entry%%=*}"
    package="${entry#*=}"
    case "$check" in
      cmd:*) command -v "${check#cmd:}" >/dev/null 2>&1 || missing+=("$package") ;;
      file:*) [[ -e "${check#file:}" ]] || missing+=("$package") ;;
    esac
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
