#include "core/membership/member_list.h"

namespace grapevine::detail {

MemberList::MemberList(NodeId self, const Address& self_address, Time now) {
  add(self, self_address, 0, MemberState::alive, now);
}

std::uint32_t MemberList::add(NodeId id, const Address& address, std::uint32_t incarnation,
                              MemberState state, Time now) {
  GV_ASSERT(id != 0 && find(id) == kNone);
  if (records_.size() >= kMembersMax) return kNone;
  auto slot = std::uint32_t(records_.size());
  MemberRecord& r = records_.emplace_back();
  r.id = id;
  r.address = address;
  r.incarnation = incarnation;
  r.state = state;
  r.state_since = now;
  r.heartbeat_at = now;
  index_.put(id, slot);
  zone_.push_back(own_zone(address));
  zone_own_.push_back(false);
  ++counts_[int(state)];
  if (is_live(state)) live_insert(slot);
  return slot;
}

void MemberList::set_state(std::uint32_t slot, MemberState state, Time now) {
  MemberRecord& r = records_[slot];
  if (r.state == state) return;
  const bool was_live = is_live(r.state);
  --counts_[int(r.state)];
  ++counts_[int(state)];
  r.state = state;
  r.state_since = now;
  if (was_live && !is_live(state)) live_erase(slot);
  if (!was_live && is_live(state)) live_insert(slot);
}

void MemberList::remove(NodeId id) {
  std::uint32_t slot = find(id);
  if (slot == kNone || slot == 0) return;  // never forget self
  if (is_live(records_[slot].state)) live_erase(slot);
  --counts_[int(records_[slot].state)];
  index_.erase(id);
  if (records_[slot].flags & kHasExtra) {
    if (auto it = extras_.find(id); it != extras_.end()) unname(id, it->second.name);
    extras_.erase(id);
  }
  const auto last = std::uint32_t(records_.size() - 1);
  if (slot != last) {
    records_[slot] = records_[last];
    zone_[slot] = zone_[last];
    zone_own_[slot] = zone_own_[last];
    index_.put(records_[slot].id, slot);
    if (is_live(records_[slot].state)) live_[records_[slot].live_pos] = slot;
  }
  records_.pop_back();
  zone_.pop_back();
  zone_own_.pop_back();
  zones_dirty_ = true;
}

void MemberList::live_insert(std::uint32_t slot) {
  records_[slot].live_pos = std::uint32_t(live_.size());
  live_.push_back(slot);
  zones_dirty_ = true;
}

void MemberList::live_erase(std::uint32_t slot) {
  const std::uint32_t pos = records_[slot].live_pos;
  GV_ASSERT(pos != 0 || slot != 0);  // self never leaves the live view
  const std::uint32_t moved = live_.back();
  live_[pos] = moved;
  records_[moved].live_pos = pos;
  live_.pop_back();
  zones_dirty_ = true;
}

void MemberList::set_extra(NodeId id, std::string_view name, std::span<const std::byte> meta) {
  std::uint32_t slot = find(id);
  if (slot == kNone) return;
  if (name.empty() && meta.empty() && !(records_[slot].flags & kHasExtra)) return;
  Extra& e = extras_[id];
  if (e.name != name) {
    unname(id, e.name);
    if (!name.empty()) {
      auto it = names_.find(name);
      if (it == names_.end()) it = names_.emplace(std::string(name), std::vector<NodeId>{}).first;
      it->second.push_back(id);
    }
  }
  e.name.assign(name);
  e.meta.assign(meta.begin(), meta.end());
  records_[slot].flags |= kHasExtra;
}

void MemberList::set_vsn(NodeId id, const wire::Vsn& vsn) {
  std::uint32_t slot = find(id);
  if (slot == kNone) return;
  extras_[id].vsn = vsn;
  records_[slot].flags |= kHasExtra;
  records_[slot].pmax = vsn[1];
}

wire::Vsn MemberList::vsn_of(NodeId id) const noexcept {
  auto it = extras_.find(id);
  return it == extras_.end() ? wire::Vsn{} : it->second.vsn;
}

std::string_view MemberList::name_of(NodeId id) const noexcept {
  auto it = extras_.find(id);
  return it == extras_.end() ? std::string_view{} : std::string_view(it->second.name);
}

void MemberList::unname(NodeId id, std::string_view name) {
  if (name.empty()) return;
  auto it = names_.find(name);
  if (it == names_.end()) return;
  std::erase(it->second, id);
  if (it->second.empty()) names_.erase(it);
}

std::vector<NodeId> MemberList::ids_named(std::string_view name) const {
  auto it = names_.find(name);
  return it == names_.end() ? std::vector<NodeId>{} : it->second;
}

std::span<const std::byte> MemberList::meta_of(NodeId id) const noexcept {
  auto it = extras_.find(id);
  return it == extras_.end() ? std::span<const std::byte>{} : std::span(it->second.meta);
}

std::optional<std::uint32_t> MemberList::index_of(const Address& a) const noexcept {
  for (std::uint32_t i = 0; i < live_.size(); ++i) {
    if (records_[live_[i]].address == a) return i;
  }
  return std::nullopt;
}

}  // namespace grapevine::detail
