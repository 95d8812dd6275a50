// Embind registrations of the core's Session: JSON text in and out, errors as values. The logic
// lives in core/src/session.cc; this file only converts the JavaScript file parts.

#include <emscripten/bind.h>

#include <string>
#include <vector>

#include "vram/session.h"

namespace {

/// importModel's parts: a JS array of {bytes: Uint8Array (a complete header prefix), size}.
std::string ImportModel(vram::Session& session, const std::string& spec_json,
                        const emscripten::val& parts) {
  std::vector<vram::HeaderPart> list;
  const size_t count = parts.isArray() ? parts["length"].as<size_t>() : 0;
  for (size_t i = 0; i < count && i <= 256; ++i) {
    const double size = parts[i]["size"].as<double>();
    list.push_back({parts[i]["bytes"].as<std::string>(),
                    size >= 0 && size < 9.007199254740992e15 ? static_cast<uint64_t>(size) : 0});
  }
  return session.ImportModel(spec_json, list);
}

std::string Probe(const vram::Session& session, const std::string& kind, const std::string& prefix,
                  double size) {
  return session.ProbeModelFile(
      kind, prefix, size >= 0 && size < 9.007199254740992e15 ? static_cast<uint64_t>(size) : 0);
}

}  // namespace

EMSCRIPTEN_BINDINGS(vramcalc) {
  emscripten::class_<vram::Session>("Session")
      .constructor<>()
      .function("setDevices", &vram::Session::SetDevices)
      .function("calculate", &vram::Session::Calculate)
      .function("numbers", &vram::Session::Numbers)
      .function("plan", &vram::Session::Plan)
      .function("fitTable", &vram::Session::FitTable)
      .function("decodeTokens", &vram::Session::DecodeTokens)
      .function("probe", &Probe)
      .function("importModel", &ImportModel)
      .class_function("formats", &vram::Session::FormatsJson)
      .class_function("runtimes", &vram::Session::RuntimesJson)
      .class_function("schema", &vram::Session::SchemaJson)
      .class_function("traits", &vram::Session::TraitsJson);
}
