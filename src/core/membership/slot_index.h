// SlotIndex: a member list's id -> slot index in 8 bytes a table slot (FlatIndex takes 16: it
// keeps the 64-bit key). A table slot holds 32 bits of the key's hash and the list slot; the key
// itself is read back from the list through `id_of(slot)` to confirm a match (a tag collision
// costs one extra compare, a miss on the tag costs nothing). One is held per member of a
// simulated group of N members: N^2 entries, 1.3 GB saved at N = 10,000.
//
// Open addressing, linear probing, load <= 3/4, backward-shift deletion (no tombstones). The home
// of an entry is its tag's low bits, so growing and deleting need no access to the keys.
// Nothing iterates it: hash order never reaches a protocol decision.
#pragma once

#include <cstdint>
#include <vector>

#include "util/assert.h"
#include "util/hash.h"

namespace grapevine::detail {

class SlotIndex {
 public:
  static constexpr std::uint32_t kMissing = UINT32_MAX;

  /// The slot of `key` (never 0), or kMissing. `id_of(slot)` gives the key stored at a slot.
  template <typename IdOf>
  [[nodiscard]] std::uint32_t find(std::uint64_t key, const IdOf& id_of) const noexcept {
    if (key == 0 || table_.empty()) return kMissing;
    const std::uint32_t tag = tag_of(key);
    for (std::size_t i = tag & mask();; i = (i + 1) & mask()) {
      const Entry& e = table_[i];
      if (e.slot == kMissing) return kMissing;
      if (e.tag == tag && id_of(e.slot) == key) return e.slot;
    }
  }

  /// The slot of the first entry whose tag matches `key`'s, without reading the list to
  /// confirm it (so without its cache miss), or kMissing: where `key` most likely lives. For
  /// warming caches only (MemberList::warm); find() is the answer.
  [[nodiscard]] std::uint32_t likely_slot(std::uint64_t key) const noexcept {
    if (table_.empty()) return kMissing;
    const std::uint32_t tag = tag_of(key);
    for (std::size_t i = tag & mask();; i = (i + 1) & mask()) {
      const Entry& e = table_[i];
      if (e.slot == kMissing || e.tag == tag) return e.slot;
    }
  }

  /// Adds `key` (not present) at `slot`.
  void insert(std::uint64_t key, std::uint32_t slot) {
    GV_ASSERT(key != 0 && slot != kMissing);
    if ((size_ + 1) * 4 > table_.size() * 3) grow();
    place(Entry{tag_of(key), slot});
    ++size_;
  }

  /// Room for `n` keys without growing (a table only ever grows).
  void reserve(std::size_t n) {
    while (n * 4 > table_.size() * 3) grow();
  }

  /// `key` (present) now lives at `slot`.
  template <typename IdOf>
  void relink(std::uint64_t key, std::uint32_t slot, const IdOf& id_of) noexcept {
    table_[position(key, id_of)].slot = slot;
  }

  /// Removes `key` (present).
  template <typename IdOf>
  void erase(std::uint64_t key, const IdOf& id_of) noexcept {
    std::size_t i = position(key, id_of);
    for (std::size_t j = (i + 1) & mask(); table_[j].slot != kMissing; j = (j + 1) & mask()) {
      const std::size_t home = table_[j].tag & mask();
      const bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!between) {
        table_[i] = table_[j];
        i = j;
      }
    }
    table_[i].slot = kMissing;
    --size_;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  struct Entry {
    std::uint32_t tag = 0;
    std::uint32_t slot = kMissing;
  };
  static std::uint32_t tag_of(std::uint64_t key) noexcept { return std::uint32_t(mix64(key)); }
  [[nodiscard]] std::size_t mask() const noexcept { return table_.size() - 1; }

  template <typename IdOf>
  [[nodiscard]] std::size_t position(std::uint64_t key, const IdOf& id_of) const noexcept {
    const std::uint32_t tag = tag_of(key);
    for (std::size_t i = tag & mask();; i = (i + 1) & mask()) {
      GV_ASSERT(table_[i].slot != kMissing);  // the key is present
      if (table_[i].tag == tag && id_of(table_[i].slot) == key) return i;
    }
  }
  void place(Entry e) noexcept {
    std::size_t i = e.tag & mask();
    while (table_[i].slot != kMissing) i = (i + 1) & mask();
    table_[i] = e;
  }
  void grow() {
    // Table sizes stay below 2^32 (kMembersMax), so a tag's low bits always reach every slot.
    std::vector<Entry> old = std::move(table_);
    table_.assign(old.empty() ? 16 : old.size() * 2, Entry{});
    for (const Entry& e : old) {
      if (e.slot != kMissing) place(e);
    }
  }

  std::vector<Entry> table_;
  std::size_t size_ = 0;
};

}  // namespace grapevine::detail
