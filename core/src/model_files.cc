#include "vram/model_files.h"

#include <nlohmann/json.hpp>
#include <utility>

#include "numeric.h"

namespace vram {

using internal::Thousands;

Result<FileModel> FileModelFromGguf(const std::vector<GgufHeader>& parts) {
  Result<GgufModel> g = ModelFromGguf(parts);
  if (!g.ok()) return g.status();
  FileModel out;
  out.model = std::move(g->model);
  out.weights = std::move(g->weights);
  out.stored = true;
  out.name = g->name;
  out.file_bytes = g->file_bytes;
  uint64_t tensors = 0;
  for (const GgufHeader& h : parts) tensors += h.tensors.size();
  out.model.warnings.insert(out.model.warnings.begin(),
                            "GGUF " + g->gguf_architecture +
                                (g->name.empty() ? "" : " '" + g->name.substr(0, 80) + "'") + ": " +
                                Thousands(tensors) + " tensors in " + std::to_string(parts.size()) +
                                " file(s), " + Thousands(out.weights.total_bytes) +
                                " bytes of weights as stored (only the header was read)");
  return out;
}

Result<FileModel> FileModelFromSafetensors(ModelDescription model,
                                           const std::vector<SafetensorsHeader>& files,
                                           const SafetensorsIndex* index) {
  if (files.empty())
    return Status(ErrorCode::kInvalidArgument, "safetensors: no shard headers were given");
  Result<SafetensorsPlan> plan = PlanWeightsFromSafetensors(model, files);
  if (!plan.ok()) return plan.status();
  // The plan has summarized the shards already: the index is checked against that summary.
  const SafetensorsSummary& summary = plan->checkpoint;
  std::vector<std::string> notes;
  if (index != nullptr) {
    if (index->total_size != 0 && index->total_size != summary.bytes) {
      notes.push_back("the index's metadata.total_size (" + Thousands(index->total_size) +
                      ") differs from the shards' tensor bytes (" + Thousands(summary.bytes) + ")");
    }
    if (index->tensors != summary.tensors) {
      notes.push_back("the index maps " + Thousands(index->tensors) +
                      " tensors but the shards hold " + Thousands(summary.tensors));
    }
  }
  std::string by_dtype;
  for (const auto& [dtype, bytes] : summary.bytes_by_dtype) {
    by_dtype += (by_dtype.empty() ? "" : ", ") + dtype + " " + Thousands(bytes);
  }
  FileModel out;
  out.model = std::move(model);
  out.model.warnings.insert(
      out.model.warnings.begin(),
      "safetensors: " + Thousands(summary.tensors) + " tensors in " + std::to_string(files.size()) +
          " file(s), " + Thousands(summary.bytes) + " bytes (" + by_dtype + "), " +
          Thousands(summary.elements) + " stored values; only the headers were read");
  for (std::string& n : notes) out.model.warnings.push_back(std::move(n));
  for (const std::string& w : plan->warnings) out.model.warnings.push_back(w);
  out.weights = std::move(plan->weights);
  out.stored = true;
  out.file_bytes = summary.bytes;
  return out;
}

std::string FileModelSummaryJson(const FileModel& model, std::string_view source) {
  const ParameterCounts counts = CountParameters(model.model);
  nlohmann::ordered_json j;
  j["name"] = model.name;
  j["source"] = std::string(source);
  j["parameters"] = counts.total;
  j["active_parameters"] = counts.active;
  j["weights_format"] = model.stored ? model.weights.format.id : "";
  j["weights_bytes"] = model.stored ? model.weights.total_bytes : 0;
  j["file_bytes"] = model.file_bytes;
  j["max_context"] = model.model.max_context_tokens;
  j["warnings"] = model.model.warnings;
  return j.dump(-1, ' ', false, nlohmann::detail::error_handler_t::replace);
}

}  // namespace vram
