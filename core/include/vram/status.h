#pragma once

#include <string>
#include <utility>

namespace vram {

/// What kind of failure a Status reports.
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,  ///< A field has the wrong type, an unknown value, or a bad combination.
  kOutOfRange,       ///< A number lies outside its accepted range.
  kNotFound,         ///< An id (model, format, runtime) names nothing known.
  kParseError,       ///< Text is not valid JSON, or a binary header is malformed.
  kUnsupported,      ///< Valid input that this runtime or format cannot represent.
  kLimitExceeded,    ///< A hard safety limit (size, count, length) was exceeded.
};

/// Stable lowercase name of an error code ("invalid_argument", ...).
const char* ErrorCodeName(ErrorCode code);

/// An error as a value. The message names the field and the accepted range; `field` is the
/// request or file field it is about ("context", "num_hidden_layers"), or "" when none is.
class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  Status(ErrorCode code, std::string message, std::string field)
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  /// The field named explicitly, else the one the message starts with ("batch: must be ...",
  /// "request: field 'batch' must be ...").
  std::string field() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
  std::string field_;
};

/// A value or the Status explaining why there is none. No exceptions anywhere.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status(ErrorCode::kInvalidArgument, "internal: ok status without value");
  }

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const T& value() const& { return value_; }
  T& value() & { return value_; }
  T&& value() && { return std::move(value_); }
  const T* operator->() const { return &value_; }
  const T& operator*() const { return value_; }

 private:
  Status status_;
  T value_{};
};

}  // namespace vram

/// Propagates a failed Status from an expression that yields a Status.
#define VRAM_RETURN_IF_ERROR(expr)         \
  do {                                     \
    ::vram::Status vram_status_ = (expr);  \
    if (!vram_status_.ok()) return vram_status_; \
  } while (0)
