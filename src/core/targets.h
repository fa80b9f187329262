// Gossip target choice over a Group: uniform over the other members, or topology-aware
// (Gupta's lecture after Demers' spatial gossip): from a subnet of n_i members, cross the router
// with probability 1/n_i and otherwise stay inside, so each subnet sends O(1) messages across
// its router per round in expectation.
#pragma once

#include <cstdint>
#include <span>

#include "grapevine/group.h"
#include "util/rng.h"

namespace grapevine::detail {

/// Fills `out` with up to out.size() distinct member indices, none equal to `self`. Returns how
/// many were chosen (fewer only when the group has fewer other members).
std::uint32_t pick_targets(const Group& group, std::uint32_t self, bool topology_aware, Rng& rng,
                           std::span<std::uint32_t> out) noexcept;

/// One target: uniform among the other members, or topology-aware. Requires size() >= 2.
std::uint32_t pick_one(const Group& group, std::uint32_t self, bool topology_aware,
                       Rng& rng) noexcept;

}  // namespace grapevine::detail
