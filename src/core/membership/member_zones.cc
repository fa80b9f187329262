// MemberList's zones: each record's zone (interned), and the live view regrouped by zone so the
// list serves as a Group with subnets (group.h): zone z's live members hold the consecutive
// positions [subnet_begin(z), subnet_end(z)) of a permutation of the live indices. The
// permutation is rebuilt lazily (O(live members)) after any change to the live view or a zone,
// which is rare next to the target picks that read it.
#include <algorithm>
#include <array>
#include <cstdio>

#include "core/membership/member_list.h"

namespace grapevine::detail {

std::uint16_t MemberList::intern_zone(std::string_view zone) {
  if (zone.empty()) return 0;
  auto it = std::find(zone_names_.begin(), zone_names_.end(), zone);
  if (it != zone_names_.end()) return std::uint16_t(it - zone_names_.begin());
  if (zone_names_.size() >= 0xffff) return 0;  // absurdly many zones: the rest have none
  zone_names_.emplace_back(zone);
  return std::uint16_t(zone_names_.size() - 1);
}

// "10.0.1.0/24" for IPv4 (bits clipped to 32); IPv6 masks the same number of leading bits of
// the 128-bit address: "2001:db8:0:1::/64".
std::uint16_t MemberList::own_zone(const Address& a) {
  if (zone_prefix_ == 0 || !a.valid()) return 0;
  const unsigned total = a.family == 6 ? 128 : 32;
  const unsigned bits = std::min<unsigned>(zone_prefix_, total);
  Address m = a;
  m.port = 0;
  for (unsigned i = 0; i < total / 8; ++i) {
    const unsigned keep = bits > i * 8 ? std::min(8u, bits - i * 8) : 0;
    m.ip[i] = std::uint8_t(m.ip[i] & (keep == 0 ? 0 : 0xff << (8 - keep)));
  }
  std::string text = m.to_string();  // "a.b.c.d:0" or "[v6]:0"
  text = text.substr(0, text.rfind(':'));
  if (!text.empty() && text.front() == '[') text = text.substr(1, text.size() - 2);
  return intern_zone(text + "/" + std::to_string(bits));
}

void MemberList::set_zone_prefix(std::uint8_t bits) {
  zone_prefix_ = bits;
  for (std::size_t s = 0; s < records_.size(); ++s) {
    if (!zone_own_[s]) zone_[s] = own_zone(records_[s].address);
  }
  zones_dirty_ = true;
}

void MemberList::set_zone(NodeId id, std::string_view zone) {
  const std::uint32_t slot = find(id);
  if (slot == kNone) return;
  const std::uint16_t z = zone.empty() ? own_zone(records_[slot].address) : intern_zone(zone);
  zone_own_[slot] = !zone.empty();
  if (z == zone_[slot]) return;
  zone_[slot] = z;
  zones_dirty_ = true;
}

std::string_view MemberList::zone_of(NodeId id) const noexcept {
  const std::uint32_t slot = find(id);
  return slot == kNone ? std::string_view{} : std::string_view(zone_names_[zone_[slot]]);
}

std::string_view MemberList::own_zone_of(NodeId id) const noexcept {
  const std::uint32_t slot = find(id);
  if (slot == kNone || !zone_own_[slot]) return {};
  return zone_names_[zone_[slot]];
}

void MemberList::build_zones() const {
  zones_dirty_ = false;
  const auto n = std::uint32_t(live_.size());
  std::vector<std::uint32_t> dense(zone_names_.size(), kNone);
  live_subnet_.resize(n);
  std::uint32_t k = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    std::uint32_t& d = dense[zone_[live_[i]]];
    if (d == kNone) d = k++;
    live_subnet_[i] = d;
  }
  subnet_start_.assign(k + 1, 0);
  for (std::uint32_t i = 0; i < n; ++i) ++subnet_start_[live_subnet_[i] + 1];
  for (std::uint32_t s = 0; s < k; ++s) subnet_start_[s + 1] += subnet_start_[s];
  std::vector<std::uint32_t> fill(subnet_start_.begin(), subnet_start_.end() - 1);
  order_.resize(n);
  pos_.resize(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    const std::uint32_t p = fill[live_subnet_[i]]++;
    order_[p] = i;
    pos_[i] = p;
  }
}

std::uint32_t MemberList::subnet_count() const noexcept {
  if (zones_dirty_) build_zones();
  return std::uint32_t(subnet_start_.size() - 1);
}

std::uint32_t MemberList::subnet_of(std::uint32_t i) const noexcept {
  if (zones_dirty_) build_zones();
  return live_subnet_[i];
}

std::uint32_t MemberList::subnet_begin(std::uint32_t s) const noexcept {
  if (zones_dirty_) build_zones();
  return subnet_start_[s];
}

std::uint32_t MemberList::subnet_end(std::uint32_t s) const noexcept {
  if (zones_dirty_) build_zones();
  return subnet_start_[s + 1];
}

std::uint32_t MemberList::position(std::uint32_t i) const noexcept {
  if (zones_dirty_) build_zones();
  return pos_[i];
}

std::uint32_t MemberList::at_position(std::uint32_t p) const noexcept {
  if (zones_dirty_) build_zones();
  return order_[p];
}

}  // namespace grapevine::detail
