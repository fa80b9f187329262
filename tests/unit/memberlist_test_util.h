// Shared helpers for the memberlist codec tests: hex, byte vectors, the Go golden vectors
// (tests/interop/golden/memberlist_golden.inc, made by memberlist's own code) and a fixed nonce.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "wire/memberlist/crypto.h"
#include "wire/memberlist/msgpack.h"

namespace grapevine::wire::ml::test {

using Bytes = std::vector<std::byte>;

inline Bytes from_hex(std::string_view hex) {
  Bytes out;
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    if (hex[i] == ' ') {  // tolerate spaces between bytes
      --i;
      continue;
    }
    out.push_back(std::byte(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

inline std::string to_hex(ByteSpan b) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (std::byte x : b) {
    s += kDigits[std::to_integer<int>(x) >> 4];
    s += kDigits[std::to_integer<int>(x) & 15];
  }
  return s;
}

inline Bytes bytes_of(std::string_view s) {
  Bytes b(s.size());
  if (!s.empty()) std::memcpy(b.data(), s.data(), s.size());
  return b;
}

inline Bytes seq_bytes(std::size_t n, int start) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = std::byte(start + int(i));
  return b;
}

struct GoldenEntry {
  const char* name;
  const char* hex;
};

inline constexpr GoldenEntry kGolden[] = {
#include "interop/golden/memberlist_golden.inc"
};

/// The bytes memberlist produced for vector `name` (fails the test when missing).
inline Bytes golden(std::string_view name) {
  for (const GoldenEntry& e : kGolden) {
    if (name == e.name) return from_hex(e.hex);
  }
  ADD_FAILURE() << "no golden vector " << name;
  return {};
}

/// The nonce golden_test.go fixes: 0x10..0x1b.
class FixedNonces final : public NonceSource {
 public:
  bool fill(std::span<std::byte> out) noexcept override {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = std::byte(0x10 + i);
    return true;
  }
};

}  // namespace grapevine::wire::ml::test
