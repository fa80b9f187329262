// MemberList's names and metadata. Names are what the memberlist dialect keys members by and
// what the native dialect's identity rules compare (identity.cc), so every member that gossips
// one has one in every list: N^2 names in a simulated group. They live in one byte arena per
// list (offset per record, length in the record) with an open-addressing index of named slots
// by name hash, ~14 bytes a named member; the previous std::string in a std::map<NodeId> plus a
// std::map<std::string, std::vector<NodeId>> cost ~250 bytes and ~4 allocations each (measured:
// 85 MB of map nodes at 1,000 simulated members after a partition's merge). Metadata and
// memberlist versions, rare, stay in a std::map side table.
#include <algorithm>
#include <cstring>

#include "core/membership/member_list.h"
#include "util/hash.h"

namespace grapevine::detail {

namespace {
constexpr std::uint64_t kNameSeed = 0x6e616d6573ULL;  // "names"
constexpr std::size_t kCompactBytesMin = 4096;
}  // namespace

std::uint64_t MemberList::name_hash(std::string_view name) noexcept {
  static_assert(kMembersMax <= (std::size_t(1) << kNameSlotBits), "an entry holds any slot");
  return hash_bytes(std::as_bytes(std::span(name.data(), name.size())), kNameSeed);
}

void MemberList::name_index_grow() {
  name_index_.assign(name_index_.empty() ? 16 : name_index_.size() * 2, kNone);
  const std::size_t mask = name_index_.size() - 1;
  for (std::uint32_t s = 0; s < records_.size(); ++s) {
    if (records_[s].name_len == 0) continue;
    const std::uint64_t h = name_hash(name_at(s));
    std::size_t i = std::size_t(h) & mask;
    while (name_index_[i] != kNone) i = (i + 1) & mask;
    name_index_[i] = name_entry(s, h);
  }
}

void MemberList::name_index_insert(std::uint32_t slot) {
  if ((named_ + 1) * 4 > name_index_.size() * 3) name_index_grow();  // may index slot already
  const std::size_t mask = name_index_.size() - 1;
  const std::uint64_t h = name_hash(name_at(slot));
  std::size_t i = std::size_t(h) & mask;
  while (name_index_[i] != kNone) {
    if ((name_index_[i] & kNameSlotMask) == slot) return;  // the grow above indexed it
    i = (i + 1) & mask;
  }
  name_index_[i] = name_entry(slot, h);
}

// The index entry of named `slot` now points at `to` (remove() moves the last record).
void MemberList::name_index_move(std::uint32_t from, std::uint32_t to) {
  const std::size_t mask = name_index_.size() - 1;
  const std::uint64_t h = name_hash(name_at(from));
  for (std::size_t i = std::size_t(h) & mask;; i = (i + 1) & mask) {
    GV_ASSERT(name_index_[i] != kNone);
    if ((name_index_[i] & kNameSlotMask) == from) {
      name_index_[i] = name_entry(to, h);
      return;
    }
  }
}

// Backward-shift deletion, as FlatIndex::erase.
void MemberList::name_index_erase(std::uint32_t slot) {
  const std::size_t mask = name_index_.size() - 1;
  std::size_t i = std::size_t(name_hash(name_at(slot))) & mask;
  while ((name_index_[i] & kNameSlotMask) != slot || name_index_[i] == kNone) {
    GV_ASSERT(name_index_[i] != kNone);
    i = (i + 1) & mask;
  }
  for (std::size_t j = (i + 1) & mask; name_index_[j] != kNone; j = (j + 1) & mask) {
    const std::size_t home =
        std::size_t(name_hash(name_at(name_index_[j] & kNameSlotMask))) & mask;
    const bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!between) {
      name_index_[i] = name_index_[j];
      i = j;
    }
  }
  name_index_[i] = kNone;
}

void MemberList::unname(std::uint32_t slot) {
  if (records_[slot].name_len == 0) return;
  name_index_erase(slot);
  name_garbage_ += records_[slot].name_len;
  records_[slot].name_len = 0;
  --named_;
}

void MemberList::compact_names() {
  std::vector<char> fresh;
  fresh.reserve(name_bytes_.size() - name_garbage_);
  for (std::uint32_t s = 0; s < records_.size(); ++s) {
    const std::string_view n = name_at(s);
    name_at_[s] = std::uint32_t(fresh.size());
    fresh.insert(fresh.end(), n.begin(), n.end());
  }
  name_bytes_ = std::move(fresh);
  name_garbage_ = 0;
}

void MemberList::set_name(std::uint32_t slot, std::string_view name) {
  if (name == name_at(slot)) return;
  GV_ASSERT(name.size() <= 255);  // wire::kNameBytesMax; decoders refuse longer
  // `name` may point into the arena (another member's name): copy it before the arena moves.
  const std::string copy(name);
  unname(slot);
  if (name_garbage_ > kCompactBytesMin && name_garbage_ * 2 > name_bytes_.size()) {
    compact_names();
  }
  if (copy.empty()) return;
  name_at_[slot] = std::uint32_t(name_bytes_.size());
  name_bytes_.insert(name_bytes_.end(), copy.begin(), copy.end());
  records_[slot].name_len = std::uint8_t(copy.size());
  name_index_insert(slot);
  ++named_;
}

void MemberList::set_extra(NodeId id, std::string_view name, std::span<const std::byte> meta) {
  const std::uint32_t slot = find(id);
  if (slot == kNone) return;
  set_name(slot, name);
  if (meta.empty() && !(records_[slot].flags & kHasExtra)) return;
  extras_[id].meta.assign(meta.begin(), meta.end());
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
  const std::uint32_t slot = find(id);
  return slot == kNone ? std::string_view{} : name_at(slot);
}

std::vector<NodeId> MemberList::ids_named(std::string_view name) const {
  std::vector<NodeId> out;
  if (name.empty() || name_index_.empty()) return out;
  std::vector<std::uint32_t> slots;
  const std::size_t mask = name_index_.size() - 1;
  const std::uint64_t h = name_hash(name);
  const std::uint32_t tag = name_entry(0, h);
  for (std::size_t i = std::size_t(h) & mask; name_index_[i] != kNone; i = (i + 1) & mask) {
    const std::uint32_t e = name_index_[i];
    if ((e & ~kNameSlotMask) != tag) continue;  // another name: no need to read it
    if (name_at(e & kNameSlotMask) == name) slots.push_back(e & kNameSlotMask);
  }
  std::sort(slots.begin(), slots.end());
  out.reserve(slots.size());
  for (std::uint32_t s : slots) out.push_back(records_[s].id);
  return out;
}

bool MemberList::name_shared(std::string_view name) const noexcept {
  if (name.empty() || name_index_.empty()) return false;
  const std::size_t mask = name_index_.size() - 1;
  const std::uint64_t h = name_hash(name);
  const std::uint32_t tag = name_entry(0, h);
  int holders = 0;
  for (std::size_t i = std::size_t(h) & mask; name_index_[i] != kNone; i = (i + 1) & mask) {
    const std::uint32_t e = name_index_[i];
    if ((e & ~kNameSlotMask) == tag && name_at(e & kNameSlotMask) == name && ++holders > 1) {
      return true;
    }
  }
  return false;
}

std::span<const std::byte> MemberList::meta_of(NodeId id) const noexcept {
  auto it = extras_.find(id);
  return it == extras_.end() ? std::span<const std::byte>{} : std::span(it->second.meta);
}

}  // namespace grapevine::detail
