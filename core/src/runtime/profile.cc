// Defaults shared by the runtime profiles (the theoretical minimum's choices) and the registry.

#include "profile.h"

#include <algorithm>
#include <array>

#include "../numeric.h"
#include "../world.h"

namespace vram::runtime {

const Profile& TheoreticalProfile();
const Profile& LlamaCppProfile();
const Profile& VllmProfile();
const Profile& TransformersProfile();

Status Profile::CheckRequest(const InferenceRequest& r) const {
  if (r.kv_dtype == KvDType::kQ8_0 || r.kv_dtype == KvDType::kQ4_0) {
    return Status(ErrorCode::kUnsupported, std::string("kv-dtype: ") + KvDTypeName(r.kv_dtype) +
                                               " is a llama.cpp cache type; with runtime " +
                                               name() + " use f16, bf16 or fp8");
  }
  return Status::Ok();
}

CachePlan Profile::PlanCache(const InferenceRequest& r) const {
  CachePlan plan;
  plan.tokens_per_sequence = r.context_tokens;
  return plan;
}

CacheRow Profile::RowOf(const AttentionGeometry& g, const LayerAttention& layer) const {
  switch (layer.kind) {
    case AttentionKind::kNone:
      return {};
    case AttentionKind::kMla:
      // One compressed latent plus the decoupled RoPE key (DeepSeek-V2 paper, section 2.1.3).
      return {g.mla_kv_lora_rank + g.mla_rope_head_dim, 0};
    case AttentionKind::kFull:
    case AttentionKind::kSlidingWindow:
      return {layer.num_kv_heads * g.key_head_dim, layer.num_kv_heads * g.value_head_dim};
  }
  return {};
}

int64_t Profile::LayerTokens(const ModelDescription& m, const LayerAttention& layer,
                             const InferenceRequest& r, const CachePlan& plan) const {
  if (layer.kind == AttentionKind::kNone) return 0;
  if (layer.kind != AttentionKind::kSlidingWindow) return plan.tokens_per_sequence;
  return std::min(plan.tokens_per_sequence, layer.window_tokens);
}

double Profile::GpuBandwidthEfficiency() const { return world::kDecodeBandwidthEfficiencyGpu; }

double Profile::GpuLayerSeconds(const WeightFormat& format) const {
  return world::kDecodeLayerSecondsGpu;
}

void Profile::ThroughputNotes(const InferenceRequest& request, bool discrete_gpu,
                              double layer_seconds, double fixed_seconds,
                              std::vector<std::string>* notes) const {
  notes->push_back("the efficiencies are llama.cpp's (measured); other runtimes differ");
}

const std::vector<const Profile*>& AllProfiles() {
  // The order front ends list them in.
  static const std::vector<const Profile*>* all = new std::vector<const Profile*>{
      &LlamaCppProfile(), &VllmProfile(), &TransformersProfile(), &TheoreticalProfile()};
  return *all;
}

namespace {

constexpr size_t kRuntimeCount = 4;

/// The profiles indexed by their Runtime value (looked up per tensor in the planner).
const std::array<const Profile*, kRuntimeCount>& ById() {
  static const std::array<const Profile*, kRuntimeCount> table = [] {
    std::array<const Profile*, kRuntimeCount> t{};
    for (const Profile* p : AllProfiles()) t[static_cast<size_t>(p->id())] = p;
    return t;
  }();
  return table;
}

}  // namespace

const Profile& ProfileOf(Runtime runtime) {
  const size_t i = static_cast<size_t>(runtime);
  return i < kRuntimeCount && ById()[i] != nullptr ? *ById()[i] : TheoreticalProfile();
}

}  // namespace vram::runtime

namespace vram {

RuntimeInfo DescribeRuntime(Runtime id) {
  const runtime::Profile& p = runtime::ProfileOf(id);
  RuntimeInfo info;
  info.id = p.id();
  info.name = p.name();
  info.display_name = p.display_name();
  info.default_weights = p.default_weights();
  for (const char* f : p.weight_families()) info.weight_families.emplace_back(f);
  for (const char* f : p.option_fields()) info.option_fields.emplace_back(f);
  info.needs_device_memory = p.BudgetsFromDevice();
  info.offloads_to_host = p.OffloadsToHost();
  return info;
}

std::vector<RuntimeInfo> ListRuntimes() {
  std::vector<RuntimeInfo> out;
  for (const runtime::Profile* p : runtime::AllProfiles()) out.push_back(DescribeRuntime(p->id()));
  return out;
}

}  // namespace vram
