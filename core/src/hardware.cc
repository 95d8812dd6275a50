// presets/hardware.json: parsing and validation. Every problem names the device and the field.

#include "vram/hardware.h"

#include <cmath>
#include <set>

#include "json_fields.h"

namespace vram {

using internal::Json;
using internal::JsonFields;
using OrderedJson = nlohmann::ordered_json;

const char* InterconnectKindName(InterconnectKind kind) {
  switch (kind) {
    case InterconnectKind::kNone: return "none";
    case InterconnectKind::kPcie: return "pcie";
    case InterconnectKind::kNvlink: return "nvlink";
    case InterconnectKind::kInfinityFabric: return "infinity-fabric";
    case InterconnectKind::kEthernet: return "ethernet";
  }
  return "none";
}

DeviceClass Device::device_class() const {
  if (category == "apple") return DeviceClass::kApple;
  if (category == "cpu") return DeviceClass::kCpu;
  return DeviceClass::kDiscreteGpu;
}

namespace {

constexpr uint64_t kGiB = uint64_t{1} << 30;

/// Reads one device object; `where` is "hardware.json devices[i] (id)".
class DeviceReader {
 public:
  DeviceReader(const Json& object, std::string where) : object_(object), where_(std::move(where)) {}

  Status Bad(const std::string& field, const std::string& expected, const Json* got) const {
    return Status(ErrorCode::kOutOfRange, where_ + ": field '" + field + "' must be " + expected +
                                              ", got " + (got ? internal::DescribeJson(*got) : "nothing"));
  }

  /// The value under `key`; fails when the key is missing (null is a value here).
  Status Present(const Json& object, const std::string& prefix, const char* key, const Json** out) const {
    auto it = object.find(key);
    if (it == object.end()) {
      return Status(ErrorCode::kInvalidArgument, where_ + ": missing field '" + prefix + key + "'");
    }
    *out = &*it;
    return Status::Ok();
  }

  Status String(const char* key, bool allow_empty, std::string* out) const {
    const Json* v = nullptr;
    VRAM_RETURN_IF_ERROR(Present(object_, "", key, &v));
    if (!v->is_string() || (!allow_empty && v->get_ref<const std::string&>().empty())) {
      return Bad(key, allow_empty ? "a string" : "a non-empty string", v);
    }
    *out = v->get<std::string>();
    return Status::Ok();
  }

  /// An integer in [lo, hi]; null allowed when `nullable`.
  Status Integer(const Json& object, const std::string& prefix, const char* key, uint64_t lo, uint64_t hi,
                 bool nullable, std::optional<uint64_t>* out) const {
    const Json* v = nullptr;
    VRAM_RETURN_IF_ERROR(Present(object, prefix, key, &v));
    const std::string range = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]" +
                              (nullable ? " or null" : "");
    if (v->is_null()) {
      if (!nullable) return Bad(prefix + key, range, v);
      out->reset();
      return Status::Ok();
    }
    uint64_t value = 0;
    if (v->is_number_unsigned()) {
      value = v->get<uint64_t>();
    } else if (v->is_number_integer()) {
      const int64_t s = v->get<int64_t>();
      if (s < 0) return Bad(prefix + key, range, v);
      value = static_cast<uint64_t>(s);
    } else {
      return Bad(prefix + key, range, v);
    }
    if (value < lo || value > hi) return Bad(prefix + key, range, v);
    *out = value;
    return Status::Ok();
  }

  /// A number in (lo, hi]; null allowed when `nullable`.
  Status Number(const char* key, double lo, double hi, bool nullable, std::optional<double>* out) const {
    const Json* v = nullptr;
    VRAM_RETURN_IF_ERROR(Present(object_, "", key, &v));
    const std::string range = "a number in (" + Json(lo).dump() + ", " + Json(hi).dump() + "]" +
                              (nullable ? " or null" : "");
    if (v->is_null()) {
      if (!nullable) return Bad(key, range, v);
      out->reset();
      return Status::Ok();
    }
    if (!v->is_number()) return Bad(key, range, v);
    const double d = v->get<double>();
    if (!std::isfinite(d) || d <= lo || d > hi) return Bad(key, range, v);
    *out = d;
    return Status::Ok();
  }

  const Json& object() const { return object_; }
  const std::string& where() const { return where_; }

 private:
  const Json& object_;
  std::string where_;
};

bool IsDigits(const std::string& s, size_t from, size_t n) {
  for (size_t i = from; i < from + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

/// "YYYY-MM" (month only) or "YYYY-MM-DD".
bool IsDate(const std::string& s, bool with_day) {
  const size_t n = with_day ? 10 : 7;
  if (s.size() != n || !IsDigits(s, 0, 4) || s[4] != '-' || !IsDigits(s, 5, 2)) return false;
  const int month = (s[5] - '0') * 10 + (s[6] - '0');
  if (month < 1 || month > 12) return false;
  if (!with_day) return true;
  if (s[7] != '-' || !IsDigits(s, 8, 2)) return false;
  const int day = (s[8] - '0') * 10 + (s[9] - '0');
  return day >= 1 && day <= 31;
}

bool OneOf(const std::string& s, std::initializer_list<const char*> options) {
  for (const char* o : options) {
    if (s == o) return true;
  }
  return false;
}

Status ParseInterconnect(const DeviceReader& r, Interconnect* out) {
  const Json* ic = nullptr;
  VRAM_RETURN_IF_ERROR(r.Present(r.object(), "", "interconnect", &ic));
  if (!ic->is_object()) return r.Bad("interconnect", "an object", ic);
  static const char* const kKeys[] = {"kind", "pcie_gen", "pcie_lanes", "nvlink_gen", "bandwidth_bytes_per_s"};
  for (auto it = ic->begin(); it != ic->end(); ++it) {
    bool known = false;
    for (const char* k : kKeys) known = known || it.key() == k;
    if (!known) {
      return Status(ErrorCode::kInvalidArgument,
                    r.where() + ": unknown field 'interconnect." + it.key().substr(0, 40) + "'");
    }
  }
  const Json* kind = nullptr;
  VRAM_RETURN_IF_ERROR(r.Present(*ic, "interconnect.", "kind", &kind));
  const std::string kinds = "one of \"pcie\", \"nvlink\", \"infinity-fabric\", \"ethernet\", \"none\"";
  if (!kind->is_string()) return r.Bad("interconnect.kind", kinds, kind);
  const std::string k = kind->get<std::string>();
  if (k == "pcie") {
    out->kind = InterconnectKind::kPcie;
  } else if (k == "nvlink") {
    out->kind = InterconnectKind::kNvlink;
  } else if (k == "infinity-fabric") {
    out->kind = InterconnectKind::kInfinityFabric;
  } else if (k == "ethernet") {
    out->kind = InterconnectKind::kEthernet;
  } else if (k == "none") {
    out->kind = InterconnectKind::kNone;
  } else {
    return r.Bad("interconnect.kind", kinds, kind);
  }
  std::optional<uint64_t> gen, lanes, nvlink, bandwidth;
  VRAM_RETURN_IF_ERROR(r.Integer(*ic, "interconnect.", "pcie_gen", 1, 7, true, &gen));
  VRAM_RETURN_IF_ERROR(r.Integer(*ic, "interconnect.", "pcie_lanes", 1, 32, true, &lanes));
  VRAM_RETURN_IF_ERROR(r.Integer(*ic, "interconnect.", "nvlink_gen", 1, 9, true, &nvlink));
  VRAM_RETURN_IF_ERROR(r.Integer(*ic, "interconnect.", "bandwidth_bytes_per_s", 1000000000ull,
                                 100000000000000ull, true, &bandwidth));
  if (gen.has_value() != lanes.has_value()) {
    return Status(ErrorCode::kInvalidArgument,
                  r.where() + ": fields 'interconnect.pcie_gen' and 'interconnect.pcie_lanes' must be both set or both null");
  }
  if (lanes.has_value() && *lanes != 1 && *lanes != 2 && *lanes != 4 && *lanes != 8 && *lanes != 16) {
    return r.Bad("interconnect.pcie_lanes", "1, 2, 4, 8 or 16", &(*ic)["pcie_lanes"]);
  }
  const bool none = out->kind == InterconnectKind::kNone;
  if (none == bandwidth.has_value()) {
    return Status(ErrorCode::kInvalidArgument,
                  r.where() + ": field 'interconnect.bandwidth_bytes_per_s' must be null exactly when kind is \"none\"");
  }
  if (out->kind == InterconnectKind::kPcie && !gen.has_value()) {
    return Status(ErrorCode::kInvalidArgument,
                  r.where() + ": a \"pcie\" interconnect needs 'interconnect.pcie_gen' and 'interconnect.pcie_lanes'");
  }
  if (out->kind == InterconnectKind::kNvlink && !nvlink.has_value()) {
    return Status(ErrorCode::kInvalidArgument,
                  r.where() + ": an \"nvlink\" interconnect needs 'interconnect.nvlink_gen'");
  }
  out->pcie_gen = static_cast<int>(gen.value_or(0));
  out->pcie_lanes = static_cast<int>(lanes.value_or(0));
  out->nvlink_gen = static_cast<int>(nvlink.value_or(0));
  out->bandwidth_bytes_per_s = bandwidth.value_or(0);
  return Status::Ok();
}

Result<Device> ParseDevice(const Json& entry, const std::string& index_where) {
  if (!entry.is_object()) return Status(ErrorCode::kInvalidArgument, index_where + ": must be an object");
  Device d;
  {
    DeviceReader first(entry, index_where);
    VRAM_RETURN_IF_ERROR(first.String("id", false, &d.id));
  }
  const std::string where = index_where + " (" + d.id.substr(0, 64) + ")";
  DeviceReader r(entry, where);
  if (d.id.size() > 64 || d.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos) {
    return Status(ErrorCode::kInvalidArgument, where + ": field 'id' must be 1-64 characters of [a-z0-9.-]");
  }
  static const char* const kKeys[] = {
      "id", "name", "vendor", "category", "architecture", "memory_bytes", "memory_type",
      "memory_bandwidth_bytes_per_s", "fp16_dense_tflops", "bf16_dense_tflops", "fp8_dense_tflops",
      "interconnect", "tdp_watts", "launch_date", "launch_price_usd", "street_price_usd",
      "street_price_date", "gpu_working_set_bytes", "source", "notes"};
  for (auto it = entry.begin(); it != entry.end(); ++it) {
    bool known = false;
    for (const char* k : kKeys) known = known || it.key() == k;
    if (!known) return Status(ErrorCode::kInvalidArgument, where + ": unknown field '" + it.key().substr(0, 40) + "'");
  }
  VRAM_RETURN_IF_ERROR(r.String("name", false, &d.name));
  VRAM_RETURN_IF_ERROR(r.String("vendor", false, &d.vendor));
  if (!OneOf(d.vendor, {"nvidia", "amd", "intel", "apple", "cpu"})) {
    return r.Bad("vendor", "one of \"nvidia\", \"amd\", \"intel\", \"apple\", \"cpu\"", &entry["vendor"]);
  }
  VRAM_RETURN_IF_ERROR(r.String("category", false, &d.category));
  if (!OneOf(d.category, {"consumer", "workstation", "datacenter", "apple", "cpu"})) {
    return r.Bad("category", "one of \"consumer\", \"workstation\", \"datacenter\", \"apple\", \"cpu\"",
                 &entry["category"]);
  }
  VRAM_RETURN_IF_ERROR(r.String("architecture", false, &d.architecture));
  VRAM_RETURN_IF_ERROR(r.String("memory_type", false, &d.memory_type));
  std::optional<uint64_t> u;
  VRAM_RETURN_IF_ERROR(r.Integer(entry, "", "memory_bytes", kGiB, uint64_t{1} << 44, false, &u));
  d.memory_bytes = *u;
  VRAM_RETURN_IF_ERROR(r.Integer(entry, "", "memory_bandwidth_bytes_per_s", 1000000000ull,
                                 100000000000000ull, false, &u));
  d.memory_bandwidth_bytes_per_s = *u;
  std::optional<double> x;
  VRAM_RETURN_IF_ERROR(r.Number("fp16_dense_tflops", 0.0, 100000.0, false, &x));
  d.fp16_dense_tflops = *x;
  VRAM_RETURN_IF_ERROR(r.Number("bf16_dense_tflops", 0.0, 100000.0, true, &d.bf16_dense_tflops));
  VRAM_RETURN_IF_ERROR(r.Number("fp8_dense_tflops", 0.0, 100000.0, true, &d.fp8_dense_tflops));
  VRAM_RETURN_IF_ERROR(ParseInterconnect(r, &d.interconnect));
  VRAM_RETURN_IF_ERROR(r.Integer(entry, "", "tdp_watts", 1, 5000, true, &u));
  if (u.has_value()) d.tdp_watts = static_cast<int>(*u);
  if (!d.tdp_watts.has_value() && d.category != "apple") {
    return r.Bad("tdp_watts", "an integer in [1, 5000] (null only for Apple, which publishes none)", &entry["tdp_watts"]);
  }
  VRAM_RETURN_IF_ERROR(r.String("launch_date", false, &d.launch_date));
  if (!IsDate(d.launch_date, true)) return r.Bad("launch_date", "a date YYYY-MM-DD", &entry["launch_date"]);
  VRAM_RETURN_IF_ERROR(r.Number("launch_price_usd", 0.0, 10000000.0, true, &d.launch_price_usd));
  VRAM_RETURN_IF_ERROR(r.Number("street_price_usd", 0.0, 10000000.0, true, &d.street_price_usd));
  const Json* date = nullptr;
  VRAM_RETURN_IF_ERROR(r.Present(entry, "", "street_price_date", &date));
  if (d.street_price_usd.has_value()) {
    if (!date->is_string() || !IsDate(date->get<std::string>(), false)) {
      return r.Bad("street_price_date", "a month YYYY-MM (street_price_usd is set)", date);
    }
    d.street_price_date = date->get<std::string>();
  } else if (!date->is_null()) {
    return r.Bad("street_price_date", "null (street_price_usd is null)", date);
  }
  VRAM_RETURN_IF_ERROR(r.Integer(entry, "", "gpu_working_set_bytes", kGiB, uint64_t{1} << 44, true, &u));
  if (u.has_value()) d.gpu_working_set_bytes = *u;
  if (d.category == "apple" && !d.gpu_working_set_bytes.has_value()) {
    return r.Bad("gpu_working_set_bytes", "an integer (Apple devices state their Metal working set)",
                 &entry["gpu_working_set_bytes"]);
  }
  if (d.category != "apple" && d.gpu_working_set_bytes.has_value()) {
    return r.Bad("gpu_working_set_bytes", "null (only Apple devices have a working-set limit)",
                 &entry["gpu_working_set_bytes"]);
  }
  if (d.gpu_working_set_bytes.has_value() && *d.gpu_working_set_bytes > d.memory_bytes) {
    return r.Bad("gpu_working_set_bytes", "at most memory_bytes (" + std::to_string(d.memory_bytes) + ")",
                 &entry["gpu_working_set_bytes"]);
  }
  if ((d.category == "apple" || d.category == "cpu") != (d.interconnect.kind == InterconnectKind::kNone)) {
    return r.Bad("interconnect.kind", d.category == "apple" || d.category == "cpu"
                                          ? "\"none\" for Apple and CPU systems"
                                          : "a real link (only Apple and CPU systems have \"none\")",
                 &entry["interconnect"]["kind"]);
  }
  VRAM_RETURN_IF_ERROR(r.String("source", false, &d.source));
  if (d.source.rfind("https://", 0) != 0) return r.Bad("source", "an https:// URL", &entry["source"]);
  VRAM_RETURN_IF_ERROR(r.String("notes", true, &d.notes));
  return d;
}

}  // namespace

Result<std::vector<Device>> ParseDevices(std::string_view json_text) {
  if (json_text.size() > (size_t{16} << 20)) {
    return Status(ErrorCode::kLimitExceeded, "hardware.json: larger than 16 MiB");
  }
  Json root = internal::ParseJson(json_text);
  if (root.is_discarded() || !root.is_object()) {
    return Status(ErrorCode::kParseError, "hardware.json: not a JSON object");
  }
  JsonFields top(root, "hardware.json");
  int64_t version = 0;
  VRAM_RETURN_IF_ERROR(top.Int({"schema_version"}, 1, 1, true, 0, &version));
  const Json* devices = top.Find({"devices"});
  if (devices == nullptr || !devices->is_array() || devices->empty()) {
    return Status(ErrorCode::kInvalidArgument, "hardware.json: 'devices' must be a non-empty array");
  }
  if (devices->size() > 10000) {
    return Status(ErrorCode::kLimitExceeded, "hardware.json: more than 10000 devices");
  }
  std::vector<Device> out;
  out.reserve(devices->size());
  std::set<std::string> ids;
  size_t index = 0;
  for (const Json& entry : *devices) {
    const std::string where = "hardware.json devices[" + std::to_string(index++) + "]";
    Result<Device> d = ParseDevice(entry, where);
    if (!d.ok()) return d.status();
    if (!ids.insert(d->id).second) {
      return Status(ErrorCode::kInvalidArgument, where + " (" + d->id + "): duplicate id");
    }
    out.push_back(std::move(d).value());
  }
  return out;
}

const Device* FindDevice(const std::vector<Device>& devices, std::string_view id) {
  for (const Device& d : devices) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

std::string DevicesToJson(const std::vector<Device>& devices) {
  OrderedJson list = OrderedJson::array();
  auto opt = [](const auto& v) { return v.has_value() ? OrderedJson(*v) : OrderedJson(nullptr); };
  for (const Device& d : devices) {
    OrderedJson j;
    j["id"] = d.id;
    j["name"] = d.name;
    j["vendor"] = d.vendor;
    j["category"] = d.category;
    j["architecture"] = d.architecture;
    j["memory_bytes"] = d.memory_bytes;
    j["usable_memory_bytes"] = d.usable_memory_bytes();
    j["memory_type"] = d.memory_type;
    j["memory_bandwidth_bytes_per_s"] = d.memory_bandwidth_bytes_per_s;
    j["fp16_dense_tflops"] = d.fp16_dense_tflops;
    j["bf16_dense_tflops"] = opt(d.bf16_dense_tflops);
    j["fp8_dense_tflops"] = opt(d.fp8_dense_tflops);
    OrderedJson ic;
    ic["kind"] = InterconnectKindName(d.interconnect.kind);
    ic["pcie_gen"] = d.interconnect.pcie_gen > 0 ? OrderedJson(d.interconnect.pcie_gen) : OrderedJson(nullptr);
    ic["pcie_lanes"] = d.interconnect.pcie_lanes > 0 ? OrderedJson(d.interconnect.pcie_lanes) : OrderedJson(nullptr);
    ic["nvlink_gen"] = d.interconnect.nvlink_gen > 0 ? OrderedJson(d.interconnect.nvlink_gen) : OrderedJson(nullptr);
    ic["bandwidth_bytes_per_s"] = d.interconnect.bandwidth_bytes_per_s > 0
                                      ? OrderedJson(d.interconnect.bandwidth_bytes_per_s)
                                      : OrderedJson(nullptr);
    j["interconnect"] = std::move(ic);
    j["tdp_watts"] = opt(d.tdp_watts);
    j["launch_date"] = d.launch_date;
    j["launch_price_usd"] = opt(d.launch_price_usd);
    j["street_price_usd"] = opt(d.street_price_usd);
    j["street_price_date"] = d.street_price_date.empty() ? OrderedJson(nullptr) : OrderedJson(d.street_price_date);
    j["gpu_working_set_bytes"] = opt(d.gpu_working_set_bytes);
    j["source"] = d.source;
    j["notes"] = d.notes;
    list.push_back(std::move(j));
  }
  return list.dump(2, ' ', false, nlohmann::detail::error_handler_t::replace);
}

}  // namespace vram
