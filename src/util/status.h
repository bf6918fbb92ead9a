// status.h: error values returned across the library (no exceptions cross the wasm boundary).
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace edgebert {

// Stable numeric codes: the wasm bindings and the JS API expose them by name.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 1,  // a caller's option or input is out of range
  kNotFound = 2,         // a file, tensor, token or label that should exist does not
  kCorruptData = 3,      // bytes that do not parse: bad magic, truncated file, checksum mismatch
  kUnsupported = 4,      // valid input we do not handle: architecture, dtype, activation
  kOutOfRange = 5,       // lengths beyond a model limit (sequence longer than position table)
  kIoError = 6,          // the OS refused a read or write
  kInternal = 7,         // a bug in edgebert: please report
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "CorruptData: model.safetensors: header length 9e9 exceeds file size 1024"
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status CorruptData(std::string m) { return {StatusCode::kCorruptData, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status OutOfRange(std::string m) { return {StatusCode::kOutOfRange, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIoError, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// A value or the Status explaining why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  // Precondition: ok(). Checked by std::get (aborts without exceptions).
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace edgebert

#define EB_CONCAT_INNER_(a, b) a##b
#define EB_CONCAT_(a, b) EB_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function when `expr` is not ok.
#define EB_RETURN_IF_ERROR(expr)                  \
  do {                                            \
    ::edgebert::Status eb_status_ = (expr);       \
    if (!eb_status_.ok()) return eb_status_;      \
  } while (0)

// `EB_ASSIGN_OR_RETURN(auto x, ParseThing(bytes));`
#define EB_ASSIGN_OR_RETURN(lhs, expr) EB_ASSIGN_OR_RETURN_IMPL_(EB_CONCAT_(eb_result_, __LINE__), lhs, expr)
#define EB_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
