// Configuration and K-ring topology; the algorithm and the id are specified in configuration.h.
#include "core/consistent/configuration.h"

#include <algorithm>

#include "grapevine/group.h"
#include "util/assert.h"
#include "util/hash.h"

namespace grapevine::detail {
namespace {

bool by_id(const Address& a, const Address& b) noexcept {
  const NodeId x = node_id_of(a), y = node_id_of(b);
  return x != y ? x < y : a < b;
}

}  // namespace

std::uint64_t configuration_id(std::uint64_t prev_id, std::span<const NodeId> sorted_ids) noexcept {
  std::uint64_t h = mix64(prev_id ^ 0x52617069644346ULL);
  for (NodeId m : sorted_ids) h = mix64(h + m);
  return h;
}

void canonical_cut(std::vector<Address>& cut) {
  std::sort(cut.begin(), cut.end(), by_id);
  cut.erase(std::unique(cut.begin(), cut.end()), cut.end());
}

std::uint64_t cut_digest(wire::ConfigRef config, std::span<const Address> cut) noexcept {
  std::uint64_t h = mix64(config.id ^ mix64(config.epoch + 0x637574));
  for (const Address& a : cut) h = mix64(h + node_id_of(a));
  return h;
}

std::uint64_t Configuration::ring_key(NodeId id, std::uint32_t k) noexcept {
  return mix64(id ^ (std::uint64_t(k) + 1) * 0x9E3779B97F4A7C15ULL);
}

Configuration::Configuration(std::span<const Address> members, std::uint32_t rings)
    : rings_(rings), members_(members.begin(), members.end()) {
  canonical_cut(members_);
  build_rings();
  ref_ = wire::ConfigRef{0, configuration_id(0, ids_)};
}

Configuration::Configuration(wire::ConfigRef ref, std::span<const Address> members,
                             std::uint32_t rings)
    : ref_(ref), rings_(rings), members_(members.begin(), members.end()) {
  canonical_cut(members_);
  build_rings();
}

Configuration Configuration::next(std::span<const Address> cut) const {
  std::vector<Address> sorted(cut.begin(), cut.end());
  canonical_cut(sorted);
  std::vector<Address> out;
  out.reserve(members_.size() + cut.size());
  for (const Address& a : members_) {
    if (!std::binary_search(sorted.begin(), sorted.end(), a, by_id)) out.push_back(a);
  }
  for (const Address& a : cut) {
    if (!contains(a)) out.push_back(a);
  }
  canonical_cut(out);
  std::vector<NodeId> ids;
  ids.reserve(out.size());
  for (const Address& a : out) ids.push_back(node_id_of(a));
  return Configuration(wire::ConfigRef{ref_.epoch + 1, configuration_id(ref_.id, ids)}, out,
                       rings_);
}

void Configuration::build_rings() {
  GV_ASSERT(rings_ >= 1 && rings_ <= wire::kRingsMax);
  const std::uint32_t n = size();
  ids_.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) ids_[i] = node_id_of(members_[i]);
  order_.resize(std::size_t(rings_) * n);
  pos_.resize(std::size_t(rings_) * n);
  std::vector<std::pair<std::uint64_t, std::uint32_t>> keyed(n);  // (ring key, member)
  for (std::uint32_t k = 0; k < rings_; ++k) {
    std::uint32_t* o = order_.data() + std::size_t(k) * n;
    for (std::uint32_t i = 0; i < n; ++i) keyed[i] = {ring_key(ids_[i], k), i};
    std::sort(keyed.begin(), keyed.end());
    for (std::uint32_t p = 0; p < n; ++p) o[p] = keyed[p].second;
    for (std::uint32_t p = 0; p < n; ++p) pos_[std::size_t(k) * n + o[p]] = p;
  }
}

std::optional<std::uint32_t> Configuration::index_of(const Address& a) const noexcept {
  auto it = std::lower_bound(members_.begin(), members_.end(), a, by_id);
  if (it == members_.end() || *it != a) return std::nullopt;
  return std::uint32_t(it - members_.begin());
}

std::uint32_t Configuration::observer_of(std::uint32_t subject, std::uint32_t k) const noexcept {
  const std::uint32_t n = size();
  const std::uint32_t p = pos_[std::size_t(k) * n + subject];
  return order_[std::size_t(k) * n + (p + 1) % n];
}

std::uint32_t Configuration::subject_of(std::uint32_t observer, std::uint32_t k) const noexcept {
  const std::uint32_t n = size();
  const std::uint32_t p = pos_[std::size_t(k) * n + observer];
  return order_[std::size_t(k) * n + (p + n - 1) % n];
}

std::uint32_t Configuration::gatekeeper_of(const Address& joiner, std::uint32_t k) const noexcept {
  const std::uint32_t n = size();
  const std::uint64_t key = ring_key(node_id_of(joiner), k);
  const std::uint32_t* o = order_.data() + std::size_t(k) * n;
  // First member whose ring key is above the joiner's (a joiner sorts before equal keys).
  std::uint32_t lo = 0, hi = n;
  while (lo < hi) {
    std::uint32_t mid = (lo + hi) / 2;
    if (ring_key(ids_[o[mid]], k) <= key) lo = mid + 1;
    else hi = mid;
  }
  return o[lo % n];
}

std::uint16_t Configuration::rings_observed(const Address& observer,
                                            const Address& subject) const noexcept {
  auto o = index_of(observer);
  if (!o || size() == 0) return 0;
  auto s = index_of(subject);
  std::uint16_t mask = 0;
  for (std::uint32_t k = 0; k < rings_; ++k) {
    const std::uint32_t who = s ? observer_of(*s, k) : gatekeeper_of(subject, k);
    if (who == *o) mask = std::uint16_t(mask | (1u << k));
  }
  return mask;
}

}  // namespace grapevine::detail
