// Bounds-checked reader over untrusted bytes. Errors are sticky: after the first failure every
// read returns zero/empty and error() says what went wrong, so decoders read a whole message and
// check once. Never allocates; spans returned point into the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "grapevine/result.h"

namespace grapevine::wire {

class Reader {
 public:
  explicit Reader(std::span<const std::byte> in) noexcept : in_(in) {}

  [[nodiscard]] bool ok() const noexcept { return error_ == Errc{}; }
  [[nodiscard]] Errc error() const noexcept { return error_; }
  [[nodiscard]] const char* error_detail() const noexcept { return detail_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return in_.size() - pos_; }
  [[nodiscard]] std::size_t position() const noexcept { return pos_; }
  [[nodiscard]] bool at_end() const noexcept { return pos_ == in_.size(); }

  /// Marks the input bad; the first error wins.
  void fail(Errc code, const char* detail) noexcept {
    if (ok()) {
      error_ = code;
      detail_ = detail;
    }
    pos_ = in_.size();
  }

  std::uint8_t u8() noexcept {
    if (!need(1)) return 0;
    return std::to_integer<std::uint8_t>(in_[pos_++]);
  }
  std::uint16_t u16be() noexcept {
    if (!need(2)) return 0;
    std::uint16_t v = std::uint16_t(byte_at(0) << 8 | byte_at(1));
    pos_ += 2;
    return v;
  }
  std::uint32_t u32be() noexcept {
    if (!need(4)) return 0;
    std::uint32_t v = std::uint32_t(byte_at(0)) << 24 | std::uint32_t(byte_at(1)) << 16 |
                      std::uint32_t(byte_at(2)) << 8 | std::uint32_t(byte_at(3));
    pos_ += 4;
    return v;
  }
  std::uint64_t u64be() noexcept {
    std::uint64_t hi = u32be();
    return hi << 32 | u32be();
  }

  /// Unsigned LEB128, at most 10 bytes; overlong or overflowing encodings are malformed.
  std::uint64_t varint() noexcept {
    std::uint64_t v = 0;
    for (int i = 0; i < 10; ++i) {
      if (!need(1)) return 0;
      std::uint8_t b = std::to_integer<std::uint8_t>(in_[pos_++]);
      if (i == 9 && b > 1) {
        fail(Errc::malformed, "varint overflows 64 bits");
        return 0;
      }
      v |= std::uint64_t(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) return v;
    }
    fail(Errc::malformed, "varint longer than 10 bytes");
    return 0;
  }

  /// A varint that must be <= max (a named limit); larger values are too_large.
  std::uint64_t varint_max(std::uint64_t max, const char* what) noexcept {
    std::uint64_t v = varint();
    if (v > max) {
      fail(Errc::too_large, what);
      return 0;
    }
    return v;
  }

  std::span<const std::byte> bytes(std::size_t n) noexcept {
    if (!need(n)) return {};
    auto s = in_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::span<const std::byte> rest() noexcept { return bytes(remaining()); }

 private:
  bool need(std::size_t n) noexcept {
    if (remaining() >= n) return true;
    fail(Errc::truncated, "input ended inside a field");
    return false;
  }
  [[nodiscard]] std::uint32_t byte_at(std::size_t k) const noexcept {
    return std::to_integer<std::uint8_t>(in_[pos_ + k]);
  }

  std::span<const std::byte> in_;
  std::size_t pos_ = 0;
  Errc error_{};
  const char* detail_ = "";
};

}  // namespace grapevine::wire
