// Writer into a caller-owned buffer with a fixed capacity (the packet budget). Overflow is
// sticky: the writer stops and ok() turns false, so encoders can write then check once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace grapevine::wire {

/// Bytes a value takes as an unsigned LEB128 varint (1..10).
constexpr std::size_t varint_size(std::uint64_t v) noexcept {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

class Writer {
 public:
  explicit Writer(std::span<std::byte> out) noexcept : out_(out) {}

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] std::size_t size() const noexcept { return pos_; }
  [[nodiscard]] std::size_t remaining() const noexcept { return out_.size() - pos_; }
  [[nodiscard]] std::span<const std::byte> written() const noexcept {
    return {out_.data(), pos_};
  }
  /// Rolls back to an earlier size (to drop a partly written optional section).
  void truncate(std::size_t size) noexcept {
    if (size <= pos_) pos_ = size;
    ok_ = true;
  }
  /// Direct access for back-patching a field written earlier.
  std::byte* at(std::size_t offset) noexcept { return out_.data() + offset; }

  void u8(std::uint8_t v) noexcept {
    if (need(1)) out_[pos_++] = std::byte{v};
  }
  void u16be(std::uint16_t v) noexcept {
    if (!need(2)) return;
    out_[pos_++] = std::byte(v >> 8);
    out_[pos_++] = std::byte(v & 0xff);
  }
  void u32be(std::uint32_t v) noexcept {
    if (!need(4)) return;
    for (int s = 24; s >= 0; s -= 8) out_[pos_++] = std::byte((v >> s) & 0xff);
  }
  void u64be(std::uint64_t v) noexcept {
    u32be(std::uint32_t(v >> 32));
    u32be(std::uint32_t(v));
  }
  void varint(std::uint64_t v) noexcept {
    if (!need(varint_size(v))) return;
    while (v >= 0x80) {
      out_[pos_++] = std::byte((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out_[pos_++] = std::byte(v);
  }
  void bytes(std::span<const std::byte> b) noexcept {
    if (!need(b.size())) return;
    if (!b.empty()) std::memcpy(out_.data() + pos_, b.data(), b.size());
    pos_ += b.size();
  }

 private:
  bool need(std::size_t n) noexcept {
    if (ok_ && out_.size() - pos_ >= n) return true;
    ok_ = false;
    return false;
  }
  std::span<std::byte> out_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace grapevine::wire
