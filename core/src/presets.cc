#include "vram/presets.h"

#include <set>

#include "json_fields.h"

namespace vram {

using internal::Json;
using internal::JsonFields;

Result<std::vector<ModelPreset>> ParseModelPresets(std::string_view json_text) {
  if (json_text.size() > (size_t{32} << 20)) {
    return Status(ErrorCode::kLimitExceeded, "models.json: larger than 32 MiB");
  }
  Json root = internal::ParseJson(json_text);
  if (root.is_discarded() || !root.is_object()) {
    return Status(ErrorCode::kParseError, "models.json: not a JSON object");
  }
  JsonFields top(root, "models.json");
  int64_t version = 0;
  VRAM_RETURN_IF_ERROR(top.Int({"schema_version"}, 1, 1, true, 0, &version));
  const Json* models = top.Find({"models"});
  if (models == nullptr || !models->is_array() || models->empty()) {
    return Status(ErrorCode::kInvalidArgument, "models.json: 'models' must be a non-empty array");
  }
  std::vector<ModelPreset> out;
  std::set<std::string> ids;
  size_t index = 0;
  for (const Json& entry : *models) {
    const std::string where = "models.json models[" + std::to_string(index++) + "]";
    if (!entry.is_object()) return Status(ErrorCode::kInvalidArgument, where + ": must be an object");
    JsonFields f(entry, where);
    ModelPreset p;
    VRAM_RETURN_IF_ERROR(f.String({"id"}, true, &p.id));
    const std::string named = where + " (" + p.id + ")";
    JsonFields g(entry, named);
    if (p.id.empty() || p.id.size() > 64 ||
        p.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) {
      return Status(ErrorCode::kInvalidArgument,
                    named + ": field 'id' must be 1-64 characters of [a-z0-9.-]");
    }
    if (!ids.insert(p.id).second) {
      return Status(ErrorCode::kInvalidArgument, named + ": duplicate id");
    }
    VRAM_RETURN_IF_ERROR(g.String({"name"}, true, &p.name));
    VRAM_RETURN_IF_ERROR(g.String({"family"}, true, &p.family));
    VRAM_RETURN_IF_ERROR(g.String({"hf_repo"}, true, &p.hf_repo));
    VRAM_RETURN_IF_ERROR(g.String({"config_source"}, true, &p.config_source));
    VRAM_RETURN_IF_ERROR(g.String({"stated_parameters_source"}, true, &p.stated_parameters_source));
    VRAM_RETURN_IF_ERROR(g.Bool({"stated_counts_tied_head_twice"}, false, &p.stated_counts_tied_head_twice));
    VRAM_RETURN_IF_ERROR(g.Int({"stated_parameters"}, 1, int64_t{1} << 44, true, 0, &p.stated_parameters));
    if (p.config_source.rfind("https://", 0) != 0 || p.stated_parameters_source.rfind("https://", 0) != 0) {
      return Status(ErrorCode::kInvalidArgument, named + ": sources must be https:// URLs");
    }
    const Json* config = g.Find({"config"});
    if (config == nullptr || !config->is_object()) {
      return Status(ErrorCode::kInvalidArgument, named + ": field 'config' must be an object");
    }
    p.config_json = config->dump();
    out.push_back(std::move(p));
  }
  return out;
}

const ModelPreset* FindPreset(const std::vector<ModelPreset>& presets, std::string_view id) {
  for (const ModelPreset& p : presets) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

}  // namespace vram
