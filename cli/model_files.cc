// Reads model-file headers for --gguf and --safetensors. Only the header bytes are read: 1 MiB,
// then as much more as the parser asks for (at least doubling each time), up to the format's
// header limit, so a multi-gigabyte file costs a few megabytes of I/O.

#include "model_files.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string_view>
#include <vector>

namespace vramcli {
namespace {

namespace fs = std::filesystem;
using vram::ErrorCode;
using vram::Result;
using vram::Status;

constexpr uint64_t kFirstRead = uint64_t{1} << 20;


/// An open file read from the start in growing prefixes.
class Prefix {
 public:
  Status Open(const std::string& path) {
    path_ = path;
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    if (ec || !fs::is_regular_file(path, ec))
      return Status(ErrorCode::kNotFound, "cannot open '" + path + "'");
    size_ = size;
    in_.open(path, std::ios::binary);
    if (!in_) return Status(ErrorCode::kNotFound, "cannot open '" + path + "'");
    return Status::Ok();
  }
  /// Extends the prefix to `n` bytes (or the whole file, if shorter).
  Status Grow(uint64_t n) {
    n = std::min(n, size_);
    if (n <= bytes_.size()) return Status::Ok();
    const size_t old = bytes_.size();
    bytes_.resize(static_cast<size_t>(n));
    in_.read(bytes_.data() + old, static_cast<std::streamsize>(n - old));
    if (static_cast<uint64_t>(in_.gcount()) != n - old) {
      return Status(ErrorCode::kParseError, "cannot read '" + path_ + "'");
    }
    return Status::Ok();
  }
  const std::string& bytes() const { return bytes_; }
  uint64_t size() const { return size_; }

 private:
  std::string path_;
  std::ifstream in_;
  uint64_t size_ = 0;
  std::string bytes_;
};

/// Reads as much of a file as `parse(prefix, file_size)` needs. Parse returns a Result of a
/// type with `complete`, `bytes_needed` and `header`.
template <typename ParseResult, typename Parse>
Result<ParseResult> ReadHeader(const std::string& path, uint64_t limit, Parse parse) {
  Prefix file;
  VRAM_RETURN_IF_ERROR(file.Open(path));
  uint64_t want = std::min(kFirstRead, file.size());
  for (;;) {
    VRAM_RETURN_IF_ERROR(file.Grow(want));
    Result<ParseResult> parsed = parse(file.bytes(), file.size());
    if (!parsed.ok())
      return Status(parsed.status().code(), path + ": " + parsed.status().message());
    if (parsed->complete) return parsed;
    // The parser reports truncation and its own limit itself when it knows the file size; this
    // guards against a parser that asks for no progress.
    const uint64_t next =
        std::min<uint64_t>({std::max(parsed->bytes_needed, 2 * want), file.size(), limit});
    if (next <= want) {
      return Status(ErrorCode::kParseError,
                    path + ": the header does not end within " + std::to_string(want) + " bytes");
    }
    want = next;
  }
}

Result<vram::GgufHeader> ReadGguf(const std::string& path) {
  Result<vram::GgufParse> p = ReadHeader<vram::GgufParse>(
      path, vram::GgufLimits::kMaxHeaderBytes,
      [](const std::string& bytes, uint64_t size) { return vram::ParseGgufHeader(bytes, size); });
  if (!p.ok()) return p.status();
  return std::move(p).value().header;
}

Result<vram::SafetensorsHeader> ReadSafetensorsFile(const std::string& path) {
  Result<vram::SafetensorsParse> p =
      ReadHeader<vram::SafetensorsParse>(path, 8 + vram::SafetensorsLimits::kMaxHeaderBytes,
                                         [](const std::string& bytes, uint64_t size) {
                                           return vram::ParseSafetensorsHeader(bytes, size);
                                         });
  if (!p.ok()) return p.status();
  return std::move(p).value().header;
}

Result<FileModel> LoadGguf(const std::string& path) {
  const std::vector<std::string> paths = vram::GgufSplitPaths(path);
  std::vector<vram::GgufHeader> parts;
  std::string missing;
  for (const std::string& part : paths) {
    std::error_code ec;
    if (paths.size() > 1 && !fs::exists(part, ec)) {
      missing += (missing.empty() ? "" : ", ") + part;
      continue;
    }
    Result<vram::GgufHeader> h = ReadGguf(part);
    if (!h.ok()) return Status(h.status().code(), "gguf: " + h.status().message());
    parts.push_back(std::move(h).value());
  }
  if (!missing.empty()) {
    return Status(ErrorCode::kNotFound, "gguf: the model is split into " + std::to_string(paths.size()) +
                                            " files; missing: " + missing);
  }
  Result<FileModel> g = vram::FileModelFromGguf(parts);
  if (!g.ok()) return Status(g.status().code(), path + ": " + g.status().message());
  return g;
}

Result<FileModel> LoadSafetensors(const std::string& path, vram::ModelDescription model) {
  std::vector<vram::SafetensorsHeader> files;
  const bool is_index = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  Result<vram::SafetensorsIndex> index = vram::SafetensorsIndex{};
  if (is_index) {
    std::error_code ec;
    const uint64_t size = fs::file_size(path, ec);
    if (ec) return Status(ErrorCode::kNotFound, "safetensors: cannot open '" + path + "'");
    if (size > vram::SafetensorsLimits::kMaxIndexBytes) {
      return Status(ErrorCode::kLimitExceeded, "safetensors: '" + path + "' is larger than the index limit of " +
                                                   std::to_string(vram::SafetensorsLimits::kMaxIndexBytes) + " bytes");
    }
    std::ifstream in(path, std::ios::binary);
    std::string text(static_cast<size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(size));
    index = vram::ParseSafetensorsIndex(text);
    if (!index.ok()) return Status(index.status().code(), path + ": " + index.status().message());
    const fs::path dir = fs::path(path).parent_path();
    for (const std::string& shard : index->shards) {
      Result<vram::SafetensorsHeader> h = ReadSafetensorsFile((dir / shard).string());
      if (!h.ok()) return Status(h.status().code(), "safetensors: " + h.status().message());
      files.push_back(std::move(h).value());
    }
  } else {
    Result<vram::SafetensorsHeader> h = ReadSafetensorsFile(path);
    if (!h.ok()) return Status(h.status().code(), "safetensors: " + h.status().message());
    files.push_back(std::move(h).value());
  }
  return vram::FileModelFromSafetensors(std::move(model), files, is_index ? &*index : nullptr);
}

}  // namespace

std::string SiblingConfig(const std::string& safetensors_path) {
  return (fs::path(safetensors_path).parent_path() / "config.json").string();
}

Result<FileModel> LoadModel(const std::string& gguf_path, const std::string& safetensors_path,
                            const std::string& config_json) {
  if (!gguf_path.empty()) return LoadGguf(gguf_path);
  Result<vram::ModelDescription> model = vram::ModelFromHfConfig(config_json);
  if (!model.ok()) return model.status();
  if (!safetensors_path.empty()) return LoadSafetensors(safetensors_path, std::move(model).value());
  FileModel out;
  out.model = std::move(model).value();
  return out;
}

}  // namespace vramcli
