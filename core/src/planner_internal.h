#pragma once

// Pieces the planner's sources share (planner.cc for inference, planner_training.cc for training).

#include <cstdint>
#include <cstdio>
#include <string>

#include "numeric.h"
#include "vram/model.h"
#include "vram/status.h"

namespace vram::internal {

/// Largest v in [1, cap] with fits(v); 0 if fits(1) is false. `fits` must be monotone and return
/// Result<bool>.
template <typename Fits>
Result<int64_t> LargestFitting(int64_t cap, Fits fits) {
  Result<bool> one = fits(1);
  if (!one.ok()) return one.status();
  if (!*one) return int64_t{0};
  Result<bool> top = fits(cap);
  if (!top.ok()) return top.status();
  if (*top) return cap;
  int64_t lo = 1, hi = cap;  // fits(lo), !fits(hi)
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    Result<bool> ok = fits(mid);
    if (!ok.ok()) return ok.status();
    (*ok ? lo : hi) = mid;
  }
  return lo;
}

/// Multiply-accumulate parameters one token goes through (linear weights, routed experts at
/// top-k, a tied head): forward FLOPs per token are twice this plus AttentionFlopsPerToken.
uint64_t MatmulParamsPerToken(const ModelDescription& model);

/// Attention FLOPs (QK^T and PV) of one token attending to `position` tokens, over all layers.
double AttentionFlopsPerToken(const ModelDescription& model, int64_t position);

}  // namespace vram::internal
