#include "core/targets.h"

#include <algorithm>

#include "util/assert.h"

namespace grapevine::detail {
namespace {

// Uniform in [begin, end) without `self` (which must lie in the range).
std::uint32_t uniform_excluding(std::uint32_t begin, std::uint32_t end, std::uint32_t self,
                                Rng& rng) noexcept {
  auto k = begin + std::uint32_t(rng.below(end - begin - 1));
  return k >= self ? k + 1 : k;
}

// Uniform over all indices outside [begin, end).
std::uint32_t uniform_outside(std::uint32_t n, std::uint32_t begin, std::uint32_t end,
                              Rng& rng) noexcept {
  auto k = std::uint32_t(rng.below(n - (end - begin)));
  return k >= begin ? k + (end - begin) : k;
}

}  // namespace

std::uint32_t pick_one(const Group& group, std::uint32_t self, bool topology_aware,
                       Rng& rng) noexcept {
  const std::uint32_t n = group.size();
  GV_ASSERT(n >= 2 && self < n);
  if (!topology_aware || group.subnet_count() <= 1) return uniform_excluding(0, n, self, rng);
  // Positions in the subnet order (group.h): the subnet is [begin, end) there.
  const std::uint32_t subnet = group.subnet_of(self);
  const std::uint32_t me = group.position(self);
  const std::uint32_t begin = group.subnet_begin(subnet);
  const std::uint32_t end = group.subnet_end(subnet);
  const std::uint32_t local = end - begin;
  const bool has_outside = n > local;
  const bool has_inside = local > 1;
  bool cross = !has_inside || (has_outside && rng.below(local) == 0);  // probability 1/n_i
  if (cross) return group.at_position(uniform_outside(n, begin, end, rng));
  return group.at_position(uniform_excluding(begin, end, me, rng));
}

std::uint32_t pick_targets(const Group& group, std::uint32_t self, bool topology_aware, Rng& rng,
                           std::span<std::uint32_t> out) noexcept {
  const std::uint32_t n = group.size();
  if (n < 2 || out.empty()) return 0;
  const std::uint32_t want = std::min<std::uint32_t>(std::uint32_t(out.size()), n - 1);
  std::uint32_t got = 0;
  // Rejection of repeats: cheap while want << n, which is the gossip regime. For small groups
  // the attempt cap keeps the loop bounded; a topology-aware pick may then return fewer.
  for (std::uint32_t attempts = 0; got < want && attempts < 32 * want + 64; ++attempts) {
    std::uint32_t t = pick_one(group, self, topology_aware, rng);
    if (std::find(out.begin(), out.begin() + got, t) == out.begin() + got) out[got++] = t;
  }
  return got;
}

}  // namespace grapevine::detail
