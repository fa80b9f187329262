// Strong time types: every time and duration in grapevine is an int64 count of nanoseconds.
// No floating-point seconds anywhere in protocol logic; conversions to double exist only for
// reporting (to_seconds) and live at the edges.
#pragma once

#include <cstdint>
#include <limits>

namespace grapevine {

class Duration {
 public:
  constexpr Duration() noexcept = default;
  static constexpr Duration nanoseconds(std::int64_t ns) noexcept { return Duration(ns); }
  static constexpr Duration microseconds(std::int64_t us) noexcept { return Duration(us * 1000); }
  static constexpr Duration milliseconds(std::int64_t ms) noexcept {
    return Duration(ms * 1000 * 1000);
  }
  static constexpr Duration seconds(std::int64_t s) noexcept {
    return Duration(s * 1000 * 1000 * 1000);
  }
  static constexpr Duration zero() noexcept { return Duration(0); }
  static constexpr Duration max() noexcept {
    return Duration(std::numeric_limits<std::int64_t>::max());
  }

  [[nodiscard]] constexpr std::int64_t ns() const noexcept { return ns_; }
  [[nodiscard]] constexpr std::int64_t ms() const noexcept { return ns_ / 1000000; }
  [[nodiscard]] constexpr double to_seconds() const noexcept { return double(ns_) / 1e9; }

  constexpr Duration operator+(Duration o) const noexcept { return Duration(ns_ + o.ns_); }
  constexpr Duration operator-(Duration o) const noexcept { return Duration(ns_ - o.ns_); }
  constexpr Duration operator*(std::int64_t k) const noexcept { return Duration(ns_ * k); }
  constexpr Duration operator/(std::int64_t k) const noexcept { return Duration(ns_ / k); }
  constexpr std::int64_t operator/(Duration o) const noexcept { return ns_ / o.ns_; }
  constexpr Duration& operator+=(Duration o) noexcept { ns_ += o.ns_; return *this; }
  constexpr Duration& operator-=(Duration o) noexcept { ns_ -= o.ns_; return *this; }
  constexpr auto operator<=>(const Duration&) const noexcept = default;

 private:
  constexpr explicit Duration(std::int64_t ns) noexcept : ns_(ns) {}
  std::int64_t ns_ = 0;
};

/// A point on a monotonic clock: virtual time in the simulator, CLOCK_MONOTONIC in the runtime.
/// Only differences between Times mean anything.
class Time {
 public:
  constexpr Time() noexcept = default;
  static constexpr Time from_ns(std::int64_t ns) noexcept { return Time(ns); }
  static constexpr Time zero() noexcept { return Time(0); }
  /// "Never": the deadline of a machine with nothing scheduled.
  static constexpr Time max() noexcept { return Time(std::numeric_limits<std::int64_t>::max()); }

  [[nodiscard]] constexpr std::int64_t ns() const noexcept { return ns_; }
  [[nodiscard]] constexpr double to_seconds() const noexcept { return double(ns_) / 1e9; }

  constexpr Time operator+(Duration d) const noexcept { return Time(ns_ + d.ns()); }
  constexpr Time operator-(Duration d) const noexcept { return Time(ns_ - d.ns()); }
  constexpr Duration operator-(Time o) const noexcept { return Duration::nanoseconds(ns_ - o.ns_); }
  constexpr Time& operator+=(Duration d) noexcept { ns_ += d.ns(); return *this; }
  constexpr auto operator<=>(const Time&) const noexcept = default;

 private:
  constexpr explicit Time(std::int64_t ns) noexcept : ns_(ns) {}
  std::int64_t ns_ = 0;
};

}  // namespace grapevine
