// FlatIndex: an open-addressing hash map from a non-zero 64-bit key to a 32-bit value, in one
// flat array (16 bytes a slot, key and value on one cache line; load factor <= 3/4). Lookups only;
// nothing iterates it, so hash order never reaches a protocol decision. Used where a node maps
// member ids to list slots.
#pragma once

#include <cstdint>
#include <vector>

#include "util/assert.h"
#include "util/hash.h"

namespace grapevine::detail {

class FlatIndex {
 public:
  static constexpr std::uint32_t kMissing = UINT32_MAX;

  [[nodiscard]] std::uint32_t find(std::uint64_t key) const noexcept {
    // Key 0 marks an empty slot: it must never be found (an empty slot's value is 0, slot 0 of
    // the member list is self; a peer naming member id 0 once reached self this way).
    if (key == 0 || slots_.empty()) return kMissing;
    for (std::size_t i = slot_of(key);; i = (i + 1) & mask()) {
      if (slots_[i].key == key) return slots_[i].value;
      if (slots_[i].key == 0) return kMissing;
    }
  }

  /// Inserts or overwrites.
  void put(std::uint64_t key, std::uint32_t value) {
    GV_ASSERT(key != 0);
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    for (std::size_t i = slot_of(key);; i = (i + 1) & mask()) {
      if (slots_[i].key == key) {
        slots_[i].value = value;
        return;
      }
      if (slots_[i].key == 0) {
        slots_[i] = Slot{key, value};
        ++size_;
        return;
      }
    }
  }

  /// Removes a key (backward-shift deletion keeps probe chains intact without tombstones).
  void erase(std::uint64_t key) noexcept {
    if (slots_.empty()) return;
    std::size_t i = slot_of(key);
    while (slots_[i].key != key) {
      if (slots_[i].key == 0) return;
      i = (i + 1) & mask();
    }
    for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      if (slots_[j].key == 0) break;
      std::size_t home = slot_of(slots_[j].key);
      // Move j back to i if its home does not lie cyclically in (i, j].
      bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!between) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i].key = 0;
    --size_;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  struct Slot {
    std::uint64_t key;
    std::uint32_t value;
  };
  [[nodiscard]] std::size_t mask() const noexcept { return slots_.size() - 1; }
  [[nodiscard]] std::size_t slot_of(std::uint64_t key) const noexcept {
    return std::size_t(mix64(key)) & mask();
  }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{0, 0});
    size_ = 0;
    for (const Slot& s : old) {
      if (s.key != 0) put(s.key, s.value);
    }
  }

  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

}  // namespace grapevine::detail
