// Result<T> and Error: how every fallible call in autopilot reports failure.
// Shaped like std::expected (C++23) so that moving to it later is a rename.
// No exceptions cross a module boundary; adapters around throwing libraries
// convert to Error at the call site.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace autopilot {

// A place in a user-supplied text. line and col are 1-based; 0 means unknown.
struct SourcePos {
  std::string file;
  int line = 0;
  int col = 0;
};

// What went wrong, in the domain's terms: what callers branch on (the message
// is for people and is never parsed). Only the kinds some caller acts on.
enum class ErrorKind {
  kOther,            // nothing a caller tells apart
  kNotFound,         // the thing named is not there (an instance that expired or vanished)
  kOutOfRange,       // a value past what its type holds; a revision compacted away
  kUnavailable,      // the backend did not answer; trying again later may work
  kUnauthenticated,  // credentials missing, expired or refused
  kUnsupported,      // the backend does not offer what was asked (etcd without authentication)
};

struct Error {
  std::string message;
  std::optional<SourcePos> pos;  // set for errors in user input
  std::string source_line;       // the offending line, for the caret display
  ErrorKind kind = ErrorKind::kOther;
  int code = 0;  // the backend's own code (etcd: the gRPC code), for that backend only; 0 = none

  // "file:line:col: message" followed, when source_line is known, by the
  // line and a caret under the column (the way ninja prints manifest errors).
  std::string format() const;
};

// Builds an Error positioned at (line, col) of `text`, filling source_line.
Error error_at(std::string file, std::string_view text, int line, int col, std::string message);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }
  Error& error() { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }
  Error& error() { return *error_; }

 private:
  std::optional<Error> error_;
};

inline Error make_error(std::string message) { return Error{std::move(message), std::nullopt, {}}; }
inline Error make_error(ErrorKind kind, std::string message) {
  return Error{std::move(message), std::nullopt, {}, kind};
}

}  // namespace autopilot
