// Result<T>: a value or an Error, shaped like C++23 std::expected (which g++ 12 lacks).
// Protocol code returns errors; exceptions are only used at the edges (CLI, config files).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <type_traits>
#include <utility>
#include <variant>

namespace grapevine {

enum class Errc : std::uint16_t {
  truncated = 1,        // input ended before a field did
  malformed,            // a field has an impossible value
  too_large,            // a length or count is over its named limit
  unsupported_version,  // unknown wire version
  unknown_type,         // unknown message type
  no_space,             // output buffer too small
  invalid_argument,     // caller passed something out of range
  not_ready,            // operation needs state the node does not have yet (e.g. no members)
  io,                   // socket or file error (runtime only)
  rejected,             // peer or policy refused (wrong key, label, version)
};

/// Name of an error code, for logs and counters ("truncated", "malformed", ...).
const char* errc_name(Errc code) noexcept;

struct Error {
  Errc code;
  const char* detail;  // static string, never owned
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(error) {}         // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  [[nodiscard]] const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(error), ok_(false) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  [[nodiscard]] const Error& error() const { return error_; }

 private:
  Error error_{Errc::invalid_argument, ""};
  bool ok_ = true;
};

inline Error make_error(Errc code, const char* detail) noexcept { return Error{code, detail}; }

}  // namespace grapevine
