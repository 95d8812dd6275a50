#pragma once

// Small arithmetic and text helpers shared by the core's sources.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace vram::internal {

inline uint64_t CeilDiv(uint64_t a, uint64_t b) { return (a + b - 1) / b; }
inline uint64_t RoundUp(uint64_t a, uint64_t b) { return CeilDiv(a, b) * b; }

/// 131072 -> "131,072".
inline std::string Thousands(uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

/// A number as text (for error messages).
inline std::string Num(uint64_t v) { return std::to_string(v); }

/// Text from a file quoted for an error message: at most 80 characters, non-printable ones as '?'.
inline std::string Quoted(std::string_view s) {
  std::string out = "'";
  for (char c : s.substr(0, 80)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 80) out += "...";
  return out + "'";
}

/// Bytes as "12.34 GiB" (2^30 bytes).
inline std::string GiB(double bytes) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

/// `v` with `digits` decimals.
inline std::string Fixed(double v, int digits) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace vram::internal
