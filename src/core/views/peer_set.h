// Small helpers over a vector of peer addresses (views are tens of entries: linear scans beat
// any hashed structure, and iteration order stays deterministic).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "grapevine/address.h"
#include "util/rng.h"

namespace grapevine::detail {

inline bool contains(std::span<const Address> peers, const Address& a) noexcept {
  return std::find(peers.begin(), peers.end(), a) != peers.end();
}

/// Removes `a` (order of the rest is kept); true if it was there.
inline bool erase_peer(std::vector<Address>& peers, const Address& a) {
  auto it = std::find(peers.begin(), peers.end(), a);
  if (it == peers.end()) return false;
  peers.erase(it);
  return true;
}

/// A uniformly random peer; `peers` must not be empty.
inline const Address& random_peer(std::span<const Address> peers, Rng& rng) noexcept {
  return peers[std::size_t(rng.below(peers.size()))];
}

/// Node ids as a ring position: T-MAN's distance is min(a - b, b - a) modulo 2^64.
inline std::uint64_t ring_distance(std::uint64_t a, std::uint64_t b) noexcept {
  return std::min(a - b, b - a);
}

}  // namespace grapevine::detail
