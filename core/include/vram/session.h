#pragma once

/// A calculator session for front ends that keep state between calls (the web page through the
/// wasm binding): the devices, the models imported from files (by handle), and the prepared
/// models and weight plans that sweeps reuse. Every method takes and returns JSON text; errors
/// come back as {"error": {"code", "field", "message"}}. A request's "config" is a config.json
/// object, or the string "@file:N" naming an imported model.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace vram {

/// One complete header prefix of a model file and the file's whole size.
struct HeaderPart {
  std::string bytes;
  uint64_t file_size = 0;
};

class Session {
 public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Parses hardware.json for the planner and the fit table; returns "" or the error message.
  std::string SetDevices(const std::string& hardware_json);

  /// The itemized calculation (CalculateJson) of one request.
  std::string Calculate(const std::string& request_json);
  /// Totals only for many requests over one model: `model` is config.json text or "@file:N",
  /// `requests` one request object per line. A JSON array, one answer per line.
  std::string Numbers(const std::string& model, const std::string& requests);
  /// A planner action (PlannerJson) against the devices.
  std::string Plan(const std::string& request_json);
  /// Decode tokens/s of one workload on many {"gpu", "gpus"} targets: an array, null where it
  /// does not fit.
  std::string DecodeTokens(const std::string& request_json, const std::string& targets_json);
  /// The fit table: for every device, what it offers, whether one holds the workload, how many
  /// are needed, the headroom and the decode speed (FitTableJson).
  std::string FitTable(const std::string& request_json);

  /// How much of a model file's header a prefix holds: {"complete": true, ...} or {"complete":
  /// false, "bytes_needed": N}. `kind`: "gguf", "safetensors" or "index".
  std::string ProbeModelFile(const std::string& kind, const std::string& prefix,
                             uint64_t file_size) const;
  /// Builds a model from complete header prefixes and keeps it: `spec_json` is {"kind", "source",
  /// "config" (safetensors), "index"}. Returns its summary plus "handle".
  std::string ImportModel(const std::string& spec_json, const std::vector<HeaderPart>& parts);

  /// The weight-format catalogue, the runtimes and the devices as JSON arrays.
  static std::string FormatsJson();
  static std::string RuntimesJson();
  /// A config.json's family traits (ModelTraitNames) as a JSON array, or an error object.
  static std::string TraitsJson(const std::string& config_json);
  /// The request schema (RequestSchemaJson).
  static std::string SchemaJson();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vram
