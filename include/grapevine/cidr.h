// Cidr: an IPv4 or IPv6 network ("10.0.0.0/8", "fd00::/8"), for RuntimeOptions::allowed_cidrs
// (as memberlist's CIDRsAllowed). A plain value; parsing is numeric only (no DNS).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "grapevine/address.h"

namespace grapevine {

struct Cidr {
  Address network;               // port unused; host bits beyond `prefix_bits` are zero
  std::uint8_t prefix_bits = 0;  // 0..32 (IPv4) or 0..128 (IPv6)

  /// Parses "A.B.C.D/N" or "V6/N"; a bare address means a single host (/32 or /128).
  /// Host bits set past the prefix are cleared ("10.1.2.3/8" is 10.0.0.0/8).
  /// Returns nullopt for anything else.
  static std::optional<Cidr> parse(std::string_view text);
  /// True if `a` (an IPv4-mapped IPv6 address counts as IPv4) lies in this network. The port is
  /// ignored.
  [[nodiscard]] bool contains(const Address& a) const noexcept;
  /// "10.0.0.0/8".
  [[nodiscard]] std::string to_string() const;
};

}  // namespace grapevine
