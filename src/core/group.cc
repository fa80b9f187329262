#include <algorithm>
#include <numeric>

#include "grapevine/group.h"
#include "util/assert.h"
#include "util/hash.h"

namespace grapevine {

StaticGroup::StaticGroup(std::vector<Address> addresses, std::vector<std::uint32_t> subnet_sizes)
    : addresses_(std::move(addresses)) {
  by_address_.resize(addresses_.size());
  std::iota(by_address_.begin(), by_address_.end(), 0u);
  if (!std::is_sorted(addresses_.begin(), addresses_.end())) {
    std::sort(by_address_.begin(), by_address_.end(),
              [&](std::uint32_t a, std::uint32_t b) { return addresses_[a] < addresses_[b]; });
  }
  if (subnet_sizes.empty()) subnet_sizes.push_back(std::uint32_t(addresses_.size()));
  subnet_start_.push_back(0);
  for (std::uint32_t s : subnet_sizes) subnet_start_.push_back(subnet_start_.back() + s);
  GV_ASSERT(subnet_start_.back() == addresses_.size());
}

std::uint32_t StaticGroup::size() const noexcept { return std::uint32_t(addresses_.size()); }

Address StaticGroup::address(std::uint32_t index) const noexcept { return addresses_[index]; }

std::optional<std::uint32_t> StaticGroup::index_of(const Address& a) const noexcept {
  auto it = std::lower_bound(by_address_.begin(), by_address_.end(), a,
                             [&](std::uint32_t i, const Address& x) { return addresses_[i] < x; });
  if (it == by_address_.end() || addresses_[*it] != a) return std::nullopt;
  return *it;
}

std::uint32_t StaticGroup::subnet_count() const noexcept {
  return std::uint32_t(subnet_start_.size() - 1);
}

std::uint32_t StaticGroup::subnet_of(std::uint32_t index) const noexcept {
  auto it = std::upper_bound(subnet_start_.begin(), subnet_start_.end(), index);
  return std::uint32_t(it - subnet_start_.begin() - 1);
}

std::uint32_t StaticGroup::subnet_begin(std::uint32_t subnet) const noexcept {
  return subnet_start_[subnet];
}

std::uint32_t StaticGroup::subnet_end(std::uint32_t subnet) const noexcept {
  return subnet_start_[subnet + 1];
}

std::uint64_t node_id_of(const Address& a) noexcept {
  if (a.family == 4) return std::uint64_t(a.ipv4_u32()) << 16 | a.port;
  std::uint64_t h = hash_bytes(std::as_bytes(std::span(a.ip)), a.port);
  return h | (std::uint64_t(1) << 63);  // never collides with an IPv4-derived id
}

}  // namespace grapevine
