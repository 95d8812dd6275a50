#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vram/status.h"

namespace vram {

/// The link a device uses to talk to its peers.
enum class InterconnectKind : uint8_t {
  kNone,            ///< No accelerator link (Apple silicon, CPU systems): one device only.
  kPcie,            ///< Peer traffic over the PCIe host link.
  kNvlink,          ///< NVLink (SXM boards, or an NVLink bridge counted as the link).
  kInfinityFabric,  ///< AMD Instinct Infinity Fabric links.
  kEthernet,        ///< On-chip RoCE Ethernet (Intel Gaudi).
};

/// Stable lowercase name as hardware.json spells it ("pcie", "nvlink", "infinity-fabric", ...).
const char* InterconnectKindName(InterconnectKind kind);

/// How a device connects to the host and to its peers.
struct Interconnect {
  InterconnectKind kind = InterconnectKind::kNone;
  int pcie_gen = 0;    ///< PCIe generation of the host link; 0 when it has none (Apple, GB200).
  int pcie_lanes = 0;  ///< Lanes of the host link; 0 when it has none.
  int nvlink_gen = 0;  ///< NVLink generation (also of an optional bridge on a PCIe card); 0 = none.
  /// Bandwidth of `kind` as hardware.json states it (PCIe: per direction; NVLink and Infinity
  /// Fabric: the vendor's total per device, both directions); 0 for kNone.
  uint64_t bandwidth_bytes_per_s = 0;
};

/// Where a device computes, which decides the efficiencies of the throughput rooflines.
enum class DeviceClass : uint8_t {
  kDiscreteGpu,  ///< NVIDIA, AMD or Intel accelerator with its own memory.
  kApple,        ///< Apple silicon: unified memory, the GPU may use gpu_working_set_bytes of it.
  kCpu,          ///< A CPU-only system characterised by its memory subsystem.
};

/// One entry of presets/hardware.json.
struct Device {
  std::string id;            ///< e.g. "rtx-4090".
  std::string name;          ///< e.g. "NVIDIA GeForce RTX 4090".
  std::string vendor;        ///< "nvidia", "amd", "intel", "apple" or "cpu".
  std::string category;      ///< "consumer", "workstation", "datacenter", "apple" or "cpu".
  std::string architecture;  ///< e.g. "Ada Lovelace".
  std::string memory_type;   ///< e.g. "GDDR6X".
  uint64_t memory_bytes = 0;
  uint64_t memory_bandwidth_bytes_per_s = 0;
  /// Dense (no sparsity) tensor FP16 TFLOPS. GeForce figures are the FP32-accumulate rate.
  double fp16_dense_tflops = 0;
  std::optional<double> bf16_dense_tflops;  ///< Absent when the device has no BF16 math.
  std::optional<double> fp8_dense_tflops;   ///< Absent when the device has no FP8 math.
  Interconnect interconnect;
  std::optional<int> tdp_watts;  ///< Absent where the vendor publishes none (Apple).
  std::string launch_date;       ///< YYYY-MM-DD.
  std::optional<double> launch_price_usd;
  std::optional<double> street_price_usd;
  std::string street_price_date;  ///< YYYY-MM of street_price_usd; "" when there is none.
  /// Apple: the Metal working-set limit (recommendedMaxWorkingSetSize) the GPU may allocate.
  std::optional<uint64_t> gpu_working_set_bytes;
  std::string source;  ///< https:// URL of the figures.
  std::string notes;

  /// Memory a model may occupy: the Metal working set on Apple, all of it elsewhere.
  uint64_t usable_memory_bytes() const {
    return gpu_working_set_bytes.has_value() ? *gpu_working_set_bytes : memory_bytes;
  }
  DeviceClass device_class() const;
  /// Street price if known, else launch price; absent when neither is known.
  std::optional<double> price_usd() const {
    return street_price_usd.has_value() ? street_price_usd : launch_price_usd;
  }
  /// Several of these can cooperate on one model (there is an interconnect).
  bool can_pool() const { return interconnect.kind != InterconnectKind::kNone; }
};

/// Parses and validates presets/hardware.json. The first problem is reported with the device's
/// index and id, the field and the accepted range, e.g.
/// "hardware.json devices[12] (rtx-4090): field 'memory_bytes' must be an integer in [...]".
Result<std::vector<Device>> ParseDevices(std::string_view json_text);

/// The device with this id, or nullptr.
const Device* FindDevice(const std::vector<Device>& devices, std::string_view id);

/// The list as a JSON array (for --list-gpus --json), in file order, prices and nulls kept.
std::string DevicesToJson(const std::vector<Device>& devices);

}  // namespace vram
