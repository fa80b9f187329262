#include "core/membership/member_list.h"

#include <algorithm>

namespace grapevine::detail {

MemberList::MemberList(NodeId self, const Address& self_address, Time now) {
  add(self, self_address, 0, MemberState::alive, now);
}

std::uint32_t MemberList::add(NodeId id, const Address& address, std::uint32_t incarnation,
                              MemberState state, Time now) {
  GV_ASSERT(id != 0 && find(id) == kNone);
  if (records_.size() >= kMembersMax) return kNone;
  // Past 1,024 members the parallel arrays grow by a quarter, not double: lists held by every
  // member of a joining group (N^2 records in one process) would otherwise carry up to 2x their
  // size as spare capacity (1.64x at 10,000 after growing past 8,192). Capacity only.
  if (records_.size() == records_.capacity() && records_.size() >= 1024) {
    reserve(records_.size() + records_.size() / 4);
  }
  auto slot = std::uint32_t(records_.size());
  MemberRecord& r = records_.emplace_back();
  r.id = id;
  r.address = address;
  r.incarnation = incarnation;
  r.state = state;
  r.state_since = now;
  if (!beats_.empty()) beats_.push_back(MemberBeat{0, now});
  index_.insert(id, slot);
  zone_.push_back(own_zone(address));
  zone_own_.push_back(false);
  name_at_.push_back(0);
  ++counts_[int(state)];
  ++departure_changes_;
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
  if (!was_live || !is_live(state)) ++departure_changes_;
  if (was_live && !is_live(state)) live_erase(slot);
  if (!was_live && is_live(state)) live_insert(slot);
}

void MemberList::remove(NodeId id) {
  std::uint32_t slot = find(id);
  if (slot == kNone || slot == 0) return;  // never forget self
  ++departure_changes_;
  if (is_live(records_[slot].state)) live_erase(slot);
  --counts_[int(records_[slot].state)];
  auto id_of = [this](std::uint32_t s) { return records_[s].id; };
  index_.erase(id, id_of);
  if (records_[slot].flags & kHasExtra) extras_.erase(id);
  unname(slot);
  const auto last = std::uint32_t(records_.size() - 1);
  if (slot != last) {
    if (records_[last].name_len != 0) name_index_move(last, slot);
    records_[slot] = records_[last];
    zone_[slot] = zone_[last];
    zone_own_[slot] = zone_own_[last];
    name_at_[slot] = name_at_[last];
    if (!beats_.empty()) beats_[slot] = beats_[last];
    index_.relink(records_[slot].id, slot, id_of);
    if (is_live(records_[slot].state)) live_[records_[slot].live_pos] = slot;
  }
  records_.pop_back();
  zone_.pop_back();
  zone_own_.pop_back();
  name_at_.pop_back();
  if (!beats_.empty()) beats_.pop_back();
  zones_dirty_ = true;
}

void MemberList::track_beats() {
  if (!beats_.empty()) return;
  beats_.reserve(records_.capacity());
  for (const MemberRecord& r : records_) beats_.push_back(MemberBeat{0, r.state_since});
}

void MemberList::reserve(std::size_t n) {
  n = std::min(n, kMembersMax);
  records_.reserve(n);
  zone_.reserve(n);
  zone_own_.reserve(n);
  name_at_.reserve(n);
  if (!beats_.empty()) beats_.reserve(n);
  live_.reserve(n);
  index_.reserve(n);
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

std::optional<std::uint32_t> MemberList::index_of(const Address& a) const noexcept {
  for (std::uint32_t i = 0; i < live_.size(); ++i) {
    if (records_[live_[i]].address == a) return i;
  }
  return std::nullopt;
}

}  // namespace grapevine::detail
