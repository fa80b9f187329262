// Peer: a compact node address for partial views, an IPv4 address and port packed in 48 bits
// (ip << 16 | port; 0 = none). A million-node simulation keeps ~40 of these per node, so they
// are 8 bytes rather than a 20-byte Address. IPv6 peers are not supported by HyParView yet:
// peer_of() returns 0 for them and callers drop them.
#pragma once

#include <cstdint>

#include "grapevine/address.h"

namespace grapevine::views {

using Peer = std::uint64_t;
inline constexpr Peer kNoPeer = 0;

[[nodiscard]] constexpr Peer peer_of(const Address& a) noexcept {
  if (a.family != 4 || a.port == 0) return kNoPeer;
  return Peer(a.ipv4_u32()) << 16 | a.port;
}

[[nodiscard]] constexpr Address address_of(Peer p) noexcept {
  return Address::ipv4_u32(std::uint32_t(p >> 16), std::uint16_t(p & 0xffff));
}

}  // namespace grapevine::views
