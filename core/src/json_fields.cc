#include "json_fields.h"

#include <cmath>

namespace vram::internal {

std::string DescribeJson(const Json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
  if (value.is_number_float()) return value.dump();
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    return "\"" + (s.size() > 40 ? s.substr(0, 40) + "..." : s) + "\"";
  }
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  return "an invalid value";
}

const Json* JsonFields::Find(std::initializer_list<const char*> keys,
                             const char** found_key) const {
  if (!object_.is_object()) return nullptr;
  for (const char* key : keys) {
    auto it = object_.find(key);
    if (it != object_.end() && !it->is_null()) {
      if (found_key) *found_key = key;
      return &*it;
    }
  }
  return nullptr;
}

Status JsonFields::Bad(const char* key, const std::string& expected, const Json& got) const {
  return Status(ErrorCode::kOutOfRange,
                where_ + ": field '" + key + "' must be " + expected + ", got " + DescribeJson(got), key);
}

Status JsonFields::Int(std::initializer_list<const char*> keys, int64_t min, int64_t max,
                       bool required, int64_t fallback, int64_t* out) const {
  const char* key = *keys.begin();
  const Json* value = Find(keys, &key);
  const std::string range =
      "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  if (value == nullptr) {
    if (required) {
      return Status(ErrorCode::kInvalidArgument,
                    where_ + ": missing field '" + key + "' (" + range + ")");
    }
    *out = fallback;
    return Status::Ok();
  }
  int64_t v = 0;
  if (value->is_number_unsigned()) {
    uint64_t u = value->get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) return Bad(key, range, *value);
    v = static_cast<int64_t>(u);
  } else if (value->is_number_integer()) {
    v = value->get<int64_t>();
  } else if (value->is_number_float()) {
    double d = value->get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || d < static_cast<double>(min) ||
        d > static_cast<double>(max)) {
      return Bad(key, range, *value);
    }
    v = static_cast<int64_t>(d);
  } else {
    return Bad(key, range, *value);
  }
  if (v < min || v > max) return Bad(key, range, *value);
  *out = v;
  return Status::Ok();
}

Status JsonFields::Double(std::initializer_list<const char*> keys, double min, double max,
                          double fallback, double* out) const {
  const char* key = *keys.begin();
  const Json* value = Find(keys, &key);
  if (value == nullptr) {
    *out = fallback;
    return Status::Ok();
  }
  const std::string range = "a number in [" + Json(min).dump() + ", " + Json(max).dump() + "]";
  if (!value->is_number()) return Bad(key, range, *value);
  double d = value->get<double>();
  if (!std::isfinite(d) || d < min || d > max) return Bad(key, range, *value);
  *out = d;
  return Status::Ok();
}

Status JsonFields::Bool(std::initializer_list<const char*> keys, bool fallback, bool* out) const {
  const char* key = *keys.begin();
  const Json* value = Find(keys, &key);
  if (value == nullptr) {
    *out = fallback;
    return Status::Ok();
  }
  if (!value->is_boolean()) return Bad(key, "true or false", *value);
  *out = value->get<bool>();
  return Status::Ok();
}

Status JsonFields::String(std::initializer_list<const char*> keys, bool required,
                          std::string* out) const {
  const char* key = *keys.begin();
  const Json* value = Find(keys, &key);
  if (value == nullptr) {
    if (required) {
      return Status(ErrorCode::kInvalidArgument, where_ + ": missing field '" + key + "' (a string)");
    }
    out->clear();
    return Status::Ok();
  }
  if (!value->is_string()) return Bad(key, "a string", *value);
  *out = value->get<std::string>();
  return Status::Ok();
}

}  // namespace vram::internal
