#pragma once

/// The request schema: every workload field of a calculator request, declared once with its
/// default (the request structs' own initializers), range and accepted values. The JSON request
/// parser, the CLI's flags, the wasm binding and the page (through RequestSchemaJson) all read
/// this table.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vram/calculator.h"
#include "vram/status.h"

namespace vram {

/// The value type of a request field.
enum class FieldKind : uint8_t { kInteger, kNumber, kBoolean, kEnum, kString };

/// Which modes read a field.
enum class FieldScope : uint8_t {
  kAll,        ///< Every mode ("mode", "weights").
  kInference,  ///< mode "inference".
  kTraining,   ///< modes "train", "lora" and "qlora".
  kAdapter,    ///< modes "lora" and "qlora".
};

/// How the CLI spells a field.
enum class FlagStyle : uint8_t {
  kValue,      ///< --flag <value>.
  kOnOff,      ///< --flag on|off (booleans).
  kSetsTrue,   ///< --flag alone sets true.
  kSetsFalse,  ///< --flag alone sets false (--enforce-eager for cuda_graphs).
  kNone,       ///< No flag (the CLI has its own form, e.g. --device-memory-gib).
};

/// One field of the schema.
struct RequestFieldInfo {
  const char* key;   ///< JSON key: "context".
  const char* flag;  ///< CLI flag: "--context" ("" with FlagStyle::kNone).
  FieldKind kind;
  FieldScope scope;
  FlagStyle flag_style;
  double min = 0;  ///< Integer and number fields.
  double max = 0;
  bool min_exclusive = false;       ///< Number fields: (min, max].
  std::vector<std::string> values;  ///< Enum fields: the accepted values.
  const char* help;                 ///< What it is, in a few words.
  std::string default_json;         ///< The default as JSON text ("4096", "true", "\"f16\"").
};

/// The schema, in the order front ends show the fields.
const std::vector<RequestFieldInfo>& RequestSchema();

/// The field with this JSON key that the mode reads (attn_impl has one per scope), or nullptr.
const RequestFieldInfo* FindRequestField(std::string_view key, std::string_view mode);
/// The field a CLI flag sets, or nullptr.
const RequestFieldInfo* FindRequestFieldByFlag(std::string_view flag);

/// Sets one field from command-line text, with the same checks ("context: must be an integer in
/// [1, 16777216], got '-3'"). `text` is ignored for kSetsTrue and kSetsFalse.
Status SetRequestFieldFromText(const RequestFieldInfo& field, std::string_view text,
                               CalculatorRequest* request);

/// [{"key", "flag", "kind", "scope", "default", "min", "max", "values", "help"}, ...].
std::string RequestSchemaJson();

/// The CLI's help lines for every field of `scope`.
std::string RequestFlagsHelp(FieldScope scope);

}  // namespace vram
