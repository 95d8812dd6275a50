// presets/hardware.json: the shipped database parses and carries what the planner needs; every
// malformed entry is rejected with a message naming the device and the field.

#include <functional>
#include <string>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"
#include "vram/hardware.h"

namespace vram {
namespace {

using Json = nlohmann::json;

std::string HardwareText() { return test::ReadText(std::string(VRAM_PRESETS_DIR) + "/hardware.json"); }

const std::vector<Device>& Devices() { return test::PresetDevices(); }

TEST(HardwareTest, ShippedDatabaseParses) {
  ASSERT_EQ(Devices().size(), 87u);  // the issue asks for at least 60
  int apple = 0, pooled = 0, priced = 0;
  for (const Device& d : Devices()) {
    EXPECT_GT(d.memory_bytes, 0u) << d.id;
    EXPECT_GT(d.memory_bandwidth_bytes_per_s, 0u) << d.id;
    EXPECT_GT(d.fp16_dense_tflops, 0.0) << d.id;
    EXPECT_EQ(d.source.rfind("https://", 0), 0u) << d.id;
    apple += d.device_class() == DeviceClass::kApple;
    pooled += d.can_pool();
    priced += d.price_usd().has_value();
  }
  EXPECT_EQ(apple, 31);
  EXPECT_EQ(pooled, 87 - 31 - 4);  // Apple and the 4 CPU systems have no interconnect
  EXPECT_EQ(priced, 85);  // mi250x and mi325x have neither price
}

TEST(HardwareTest, FieldsAreReadExactly) {
  const Device* d = FindDevice(Devices(), "rtx-4090");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->memory_bytes, 24ull << 30);
  EXPECT_EQ(d->usable_memory_bytes(), 24ull << 30);
  EXPECT_EQ(d->memory_bandwidth_bytes_per_s, 1008000000000ull);
  EXPECT_DOUBLE_EQ(d->fp16_dense_tflops, 165.2);
  ASSERT_TRUE(d->fp8_dense_tflops.has_value());
  EXPECT_DOUBLE_EQ(*d->fp8_dense_tflops, 330.3);
  EXPECT_EQ(d->interconnect.kind, InterconnectKind::kPcie);
  EXPECT_EQ(d->interconnect.pcie_gen, 4);
  EXPECT_EQ(d->interconnect.pcie_lanes, 16);
  EXPECT_EQ(d->interconnect.nvlink_gen, 0);
  EXPECT_EQ(d->tdp_watts, 450);
  EXPECT_EQ(d->launch_price_usd, 1599.0);
  EXPECT_EQ(d->street_price_usd, 2000.0);
  EXPECT_EQ(d->street_price_date, "2025-06");
  EXPECT_EQ(d->device_class(), DeviceClass::kDiscreteGpu);

  const Device* h = FindDevice(Devices(), "h100-sxm");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->interconnect.kind, InterconnectKind::kNvlink);
  EXPECT_EQ(h->interconnect.nvlink_gen, 4);
  EXPECT_EQ(h->interconnect.bandwidth_bytes_per_s, 900000000000ull);
  EXPECT_FALSE(h->launch_price_usd.has_value());
  EXPECT_EQ(h->price_usd(), 30000.0);  // street price only

  // Apple: the model may use the Metal working set, 3/4 of 64 GiB on this machine.
  const Device* a = FindDevice(Devices(), "apple-m2-max-38c-64gb");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->memory_bytes, 64ull << 30);
  EXPECT_EQ(a->usable_memory_bytes(), 51539607552ull);
  EXPECT_EQ(a->usable_memory_bytes(), (64ull << 30) / 4 * 3);
  EXPECT_FALSE(a->tdp_watts.has_value());
  EXPECT_FALSE(a->can_pool());
  EXPECT_EQ(a->device_class(), DeviceClass::kApple);

  EXPECT_EQ(FindDevice(Devices(), "cpu-ddr5-5600-2ch")->device_class(), DeviceClass::kCpu);
  EXPECT_EQ(FindDevice(Devices(), "mi300x")->interconnect.kind, InterconnectKind::kInfinityFabric);
  EXPECT_EQ(FindDevice(Devices(), "gaudi3")->interconnect.kind, InterconnectKind::kEthernet);
  EXPECT_EQ(FindDevice(Devices(), "nope"), nullptr);
}

/// The shipped file with one device (rtx-4090, index 12) edited.
std::string Edited(const std::function<void(Json&)>& edit) {
  Json root = Json::parse(HardwareText());
  for (Json& d : root["devices"]) {
    if (d["id"] == "rtx-4090") edit(d);
  }
  return root.dump();
}

void ExpectRejected(const std::string& text, const std::string& part) {
  Result<std::vector<Device>> r = ParseDevices(text);
  ASSERT_FALSE(r.ok()) << "accepted; expected: " << part;
  EXPECT_NE(r.status().message().find(part), std::string::npos) << r.status().message();
}

TEST(HardwareTest, ValidationNamesTheDeviceAndTheField) {
  const std::string where = "hardware.json devices[12] (rtx-4090): ";
  ExpectRejected(Edited([](Json& d) { d["memory_bytes"] = 0; }),
                 where + "field 'memory_bytes' must be an integer in [1073741824, 17592186044416], got 0");
  ExpectRejected(Edited([](Json& d) { d["memory_bytes"] = "24GB"; }), where + "field 'memory_bytes'");
  ExpectRejected(Edited([](Json& d) { d.erase("memory_bandwidth_bytes_per_s"); }),
                 where + "missing field 'memory_bandwidth_bytes_per_s'");
  ExpectRejected(Edited([](Json& d) { d["fp16_dense_tflops"] = -1; }),
                 where + "field 'fp16_dense_tflops' must be a number in (0.0, 100000.0], got -1");
  ExpectRejected(Edited([](Json& d) { d["fp8_dense_tflops"] = "fast"; }), where + "field 'fp8_dense_tflops'");
  ExpectRejected(Edited([](Json& d) { d["interconnect"]["kind"] = "usb"; }),
                 where + "field 'interconnect.kind' must be one of");
  ExpectRejected(Edited([](Json& d) { d["interconnect"]["pcie_lanes"] = 12; }),
                 where + "field 'interconnect.pcie_lanes' must be 1, 2, 4, 8 or 16");
  ExpectRejected(Edited([](Json& d) { d["interconnect"]["bandwidth_bytes_per_s"] = nullptr; }),
                 where + "field 'interconnect.bandwidth_bytes_per_s' must be null exactly when kind is \"none\"");
  ExpectRejected(Edited([](Json& d) { d["interconnect"]["kind"] = "nvlink"; }),
                 where + "an \"nvlink\" interconnect needs 'interconnect.nvlink_gen'");
  ExpectRejected(Edited([](Json& d) { d["tdp_watts"] = nullptr; }), where + "field 'tdp_watts'");
  ExpectRejected(Edited([](Json& d) { d["launch_date"] = "October 2022"; }),
                 where + "field 'launch_date' must be a date YYYY-MM-DD");
  ExpectRejected(Edited([](Json& d) { d["street_price_date"] = nullptr; }),
                 where + "field 'street_price_date' must be a month YYYY-MM");
  ExpectRejected(Edited([](Json& d) { d["street_price_usd"] = nullptr; }),
                 where + "field 'street_price_date' must be null (street_price_usd is null)");
  ExpectRejected(Edited([](Json& d) { d["gpu_working_set_bytes"] = 1ull << 34; }),
                 where + "field 'gpu_working_set_bytes' must be null");
  ExpectRejected(Edited([](Json& d) { d["source"] = "http://example.com"; }), where + "field 'source' must be an https:// URL");
  ExpectRejected(Edited([](Json& d) { d["vendor"] = "acme"; }), where + "field 'vendor' must be one of");
  ExpectRejected(Edited([](Json& d) { d["memory_gb"] = 24; }), where + "unknown field 'memory_gb'");
  ExpectRejected(Edited([](Json& d) { d["id"] = "RTX 4090"; }), "field 'id' must be 1-64 characters of [a-z0-9.-]");
  ExpectRejected(Edited([](Json& d) { d["id"] = "rtx-3090"; }), "(rtx-3090): duplicate id");

  // Apple entries must state their working set, and it cannot exceed the memory.
  Json root = Json::parse(HardwareText());
  for (Json& d : root["devices"]) {
    if (d["id"] == "apple-m2-max-38c-64gb") d["gpu_working_set_bytes"] = 1ull << 37;
  }
  ExpectRejected(root.dump(), "(apple-m2-max-38c-64gb): field 'gpu_working_set_bytes' must be at most memory_bytes");

  ExpectRejected("[]", "hardware.json: not a JSON object");
  ExpectRejected("{\"schema_version\": 2, \"devices\": []}", "field 'schema_version' must be an integer in [1, 1]");
  ExpectRejected("{\"schema_version\": 1, \"devices\": []}", "'devices' must be a non-empty array");
  ExpectRejected("{\"schema_version\": 1, \"devices\": [3]}", "hardware.json devices[0]: must be an object");
}

TEST(HardwareTest, ListAsJsonKeepsEveryDeviceAndItsNulls) {
  const Json list = Json::parse(DevicesToJson(Devices()));
  ASSERT_TRUE(list.is_array());
  ASSERT_EQ(list.size(), 87u);
  EXPECT_EQ(list[0]["id"], Devices()[0].id);
  for (const Json& d : list) {
    if (d["id"] == "apple-m2-max-38c-64gb") {
      EXPECT_TRUE(d["tdp_watts"].is_null());
      EXPECT_EQ(d["usable_memory_bytes"], 51539607552ull);
      EXPECT_EQ(d["interconnect"]["kind"], "none");
    }
    if (d["id"] == "rtx-4090") {
      EXPECT_EQ(d["interconnect"]["pcie_gen"], 4);
    }
  }
}

}  // namespace
}  // namespace vram
