#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang, AddressSanitizer and UndefinedBehaviorSanitizer,
# and runs each for a bounded time from its seed corpus (fuzz/corpus/<target>/). Fails on any
# crash, sanitizer report, leak, out-of-memory or per-input timeout. Prints executions per second
# and coverage (libFuzzer's edge counter "cov" and feature counter "ft") per target.
#
#   VRAM_FUZZ_SECONDS   seconds per target (default 60)
#   VRAM_FUZZ_BUILD     build directory (default build/fuzz)
#   VRAM_FUZZ_COVERAGE  1: afterwards, replay every corpus through a source-coverage build and
#                       print line and branch coverage of the parsers (llvm-cov)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${VRAM_FUZZ_SECONDS:-60}"
build="${VRAM_FUZZ_BUILD:-build/fuzz}"
targets=(fuzz_gguf fuzz_safetensors fuzz_config)

CXX=clang++ CC=clang cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVRAM_FUZZ=ON -DVRAM_BUILD_TESTS=OFF -DVRAM_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

mkdir -p "$build/findings"
summary=()
for target in "${targets[@]}"; do
  # New inputs go to a scratch corpus; the seeds in the repository are only read.
  work="$build/corpus/$target"
  mkdir -p "$work"
  log="$build/$target.log"
  echo "== $target: ${seconds}s =="
  set +e
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz/$target" "$work" "fuzz/corpus/$target" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -max_len=65536 -dict="fuzz/$target.dict" -print_final_stats=1 \
    -artifact_prefix="$build/findings/$target-" >"$log" 2>&1
  status=$?
  set -e
  if [[ $status -ne 0 ]]; then
    echo "FAIL: $target exited with $status; the input is in $build/findings/" >&2
    grep -E "ERROR|SUMMARY|==[0-9]+==|Test unit written" "$log" | head -40 >&2 || true
    exit 1
  fi
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)"
  execs="$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$log")"
  runs="$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log")"
  cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")"
  ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")"
  corpus="$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$done_line")"
  summary+=("$(printf '%-18s %10s runs %8s execs/s  cov %6s  ft %6s  corpus %s' "$target" "$runs" "$execs" "$cov" "$ft" "$corpus")")
done
echo "== fuzzing passed (${seconds}s per target) =="
printf '%s\n' "${summary[@]}"

if [[ "${VRAM_FUZZ_COVERAGE:-0}" == "1" ]]; then
  cov_build="$build-coverage"
  CXX=clang++ CC=clang cmake -S . -B "$cov_build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DVRAM_FUZZ=ON -DVRAM_BUILD_TESTS=OFF -DVRAM_BUILD_BENCH=OFF \
    -DCMAKE_CXX_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
    -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" >/dev/null
  cmake --build "$cov_build" -j "$(nproc)" --target "${targets[@]}" >/dev/null
  profiles=()
  for target in "${targets[@]}"; do
    LLVM_PROFILE_FILE="$cov_build/$target.profraw" ASAN_OPTIONS=detect_leaks=0 \
      "$cov_build/fuzz/$target" -runs=0 "$build/corpus/$target" "fuzz/corpus/$target" >/dev/null 2>&1
    profiles+=("$cov_build/$target.profraw")
  done
  llvm-profdata merge -sparse "${profiles[@]}" -o "$cov_build/all.profdata"
  objects=()
  for target in "${targets[@]}"; do objects+=(-object "$cov_build/fuzz/$target"); done
  echo "== source coverage of the parsers by the corpora =="
  llvm-cov report "${objects[@]:1}" -instr-profile="$cov_build/all.profdata" \
    core/src/gguf.cc core/src/safetensors.cc core/src/config.cc core/src/json_fields.cc
fi
