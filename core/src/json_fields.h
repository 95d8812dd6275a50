#pragma once

// Type-checked access to nlohmann::json objects. The core is built with -fno-exceptions, where
// any nlohmann accessor used on the wrong type aborts, so every read here checks the type first
// and returns a Status naming the field and its accepted range.

#include <cstdint>
#include <initializer_list>
#include <string>

#include <nlohmann/json.hpp>

#include "vram/status.h"

namespace vram::internal {

using Json = nlohmann::json;

/// Parses JSON text without exceptions; discarded on error.
inline Json ParseJson(std::string_view text) {
  return Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

class JsonFields {
 public:
  JsonFields(const Json& object, std::string where) : object_(object), where_(std::move(where)) {}

  const Json& object() const { return object_; }
  const std::string& where() const { return where_; }

  /// The value under the first present, non-null key of `keys`, or nullptr.
  const Json* Find(std::initializer_list<const char*> keys, const char** found_key = nullptr) const;
  bool Has(const char* key) const { return Find({key}) != nullptr; }

  /// An integer (or integral float) in [min, max]. Absent or null -> `fallback` when
  /// `required` is false; an error otherwise.
  Status Int(std::initializer_list<const char*> keys, int64_t min, int64_t max, bool required,
             int64_t fallback, int64_t* out) const;
  Status Double(std::initializer_list<const char*> keys, double min, double max, double fallback,
                double* out) const;
  Status Bool(std::initializer_list<const char*> keys, bool fallback, bool* out) const;
  Status String(std::initializer_list<const char*> keys, bool required, std::string* out) const;

 private:
  Status Bad(const char* key, const std::string& expected, const Json& got) const;
  const Json& object_;
  std::string where_;
};

/// Short description of a JSON value's type for error messages.
std::string DescribeJson(const Json& value);

}  // namespace vram::internal
