#pragma once

// The itemized breakdown being built: items and notes are only formatted when explanations are
// wanted (EstimateInference), so EstimateNumbers stays free of string work.

#include <string>
#include <utility>

#include "vram/inference.h"

namespace vram::internal {

/// A non-owning reference to a callable returning the text of an explanation. The callable must
/// outlive the call (a lambda passed inline does).
class TextFn {
 public:
  template <typename F>
  TextFn(const F& f)  // NOLINT: implicit by design
      : object_(&f),
        call_([](const void* o) { return std::string((*static_cast<const F*>(o))()); }) {}
  std::string operator()() const { return call_(object_); }

 private:
  const void* object_;
  std::string (*call_)(const void*);
};

/// Collects the items and notes of one estimate.
class Items {
 public:
  Items(InferenceEstimate* estimate, bool explain) : estimate_(estimate), explain_(explain) {}
  bool explain() const { return explain_; }
  /// Adds an item of `bytes` (skipped when 0) with its one-sentence reason.
  void Add(const char* category, const char* key, const char* label, uint64_t bytes, TextFn why) {
    if (!explain_ || bytes == 0) return;
    estimate_->items.push_back({category, key, label, bytes, why()});
  }
  void Note(TextFn text) {
    if (explain_) estimate_->notes.push_back(text());
  }

 private:
  InferenceEstimate* estimate_;
  bool explain_;
};

}  // namespace vram::internal
