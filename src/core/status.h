// Status and Result<T>: the error model at every fallible boundary.
//
// Contract:
//  - Fallible public functions return Status or Result<T>; both are [[nodiscard]].
//  - A message names the thing, the bad value and the rule, e.g.
//    "Conv 'conv1': kernel_shape has 3 dims but input X is 4-D (expects 2)".
//  - Status is cheap to copy when OK (no allocation).
//  - Thread safety: values; no shared state.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace greenai {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,   // bad input from the user or a file
  kNotFound,          // a named thing does not exist
  kUnimplemented,     // valid input we do not support (e.g. an unknown op)
  kIoError,           // file system, process or device failure
  kOutOfRange,        // index/size outside allowed bounds
  kResourceExhausted, // memory, disk
  kFailedPrecondition,
  kInternal,          // a bug in greenai
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
  // "InvalidArgument: <message>" or "OK".
  std::string ToString() const;
  // Prepends context: "<prefix>: <message>". No-op on OK.
  Status WithContext(const std::string& prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

template <typename... Args>
Status InvalidArgument(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kInvalidArgument, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status NotFound(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kNotFound, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status Unimplemented(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kUnimplemented, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status IoError(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kIoError, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status OutOfRange(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kOutOfRange, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status ResourceExhausted(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kResourceExhausted, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status FailedPrecondition(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kFailedPrecondition, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
Status Internal(fmt::format_string<Args...> f, Args&&... args) {
  return Status(StatusCode::kInternal, fmt::format(f, std::forward<Args>(args)...));
}

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(implicit)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(implicit)
    assert(!std::get<Status>(v_).ok() && "Result constructed from OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

  T& value() & { assert(ok()); return std::get<T>(v_); }
  const T& value() const& { assert(ok()); return std::get<T>(v_); }
  T&& value() && { assert(ok()); return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace greenai

#define GREENAI_CONCAT_INNER(a, b) a##b
#define GREENAI_CONCAT(a, b) GREENAI_CONCAT_INNER(a, b)

#define GREENAI_RETURN_IF_ERROR(expr)              \
  do {                                             \
    ::greenai::Status _greenai_st = (expr);        \
    if (!_greenai_st.ok()) return _greenai_st;     \
  } while (0)

#define GREENAI_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()

// GREENAI_ASSIGN_OR_RETURN(auto x, MakeX());
#define GREENAI_ASSIGN_OR_RETURN(lhs, expr) \
  GREENAI_ASSIGN_OR_RETURN_IMPL(GREENAI_CONCAT(_greenai_res_, __LINE__), lhs, expr)
