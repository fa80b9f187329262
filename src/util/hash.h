// Fast non-cryptographic hashing for the simulator's rolling delivery hash and for ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace grapevine {

/// 64-bit finalizer (murmur3 fmix64).
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/// Hash of a byte string, word at a time. Stable across platforms of the same endianness.
inline std::uint64_t hash_bytes(std::span<const std::byte> bytes, std::uint64_t seed) noexcept {
  std::uint64_t h = seed ^ (bytes.size() * 0x9E3779B97F4A7C15ULL);
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    h = mix64(h ^ w) + 0x9E3779B97F4A7C15ULL;
  }
  std::uint64_t tail = 0;
  for (std::size_t k = 0; i < bytes.size(); ++i, ++k) {
    tail |= std::uint64_t(std::to_integer<std::uint8_t>(bytes[i])) << (8 * k);
  }
  return mix64(h ^ tail);
}

}  // namespace grapevine
