// FlatIndex: an open-addressing hash map from a non-zero 64-bit key to a 32-bit value, in two
// flat arrays (12 bytes a slot, load factor <= 3/4). Lookups only; nothing iterates it, so hash
// order never reaches a protocol decision. Used where a node maps member ids to list slots.
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
    if (keys_.empty()) return kMissing;
    for (std::size_t i = slot_of(key);; i = (i + 1) & mask()) {
      if (keys_[i] == key) return values_[i];
      if (keys_[i] == 0) return kMissing;
    }
  }

  /// Inserts or overwrites.
  void put(std::uint64_t key, std::uint32_t value) {
    GV_ASSERT(key != 0);
    if ((size_ + 1) * 4 > keys_.size() * 3) grow();
    for (std::size_t i = slot_of(key);; i = (i + 1) & mask()) {
      if (keys_[i] == key) {
        values_[i] = value;
        return;
      }
      if (keys_[i] == 0) {
        keys_[i] = key;
        values_[i] = value;
        ++size_;
        return;
      }
    }
  }

  /// Removes a key (backward-shift deletion keeps probe chains intact without tombstones).
  void erase(std::uint64_t key) noexcept {
    if (keys_.empty()) return;
    std::size_t i = slot_of(key);
    while (keys_[i] != key) {
      if (keys_[i] == 0) return;
      i = (i + 1) & mask();
    }
    for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
      if (keys_[j] == 0) break;
      std::size_t home = slot_of(keys_[j]);
      // Move j back to i if its home does not lie cyclically in (i, j].
      bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (!between) {
        keys_[i] = keys_[j];
        values_[i] = values_[j];
        i = j;
      }
    }
    keys_[i] = 0;
    --size_;
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  [[nodiscard]] std::size_t mask() const noexcept { return keys_.size() - 1; }
  [[nodiscard]] std::size_t slot_of(std::uint64_t key) const noexcept {
    return std::size_t(mix64(key)) & mask();
  }
  void grow() {
    std::vector<std::uint64_t> old_keys = std::move(keys_);
    std::vector<std::uint32_t> old_values = std::move(values_);
    std::size_t cap = old_keys.empty() ? 16 : old_keys.size() * 2;
    keys_.assign(cap, 0);
    values_.assign(cap, 0);
    size_ = 0;
    for (std::size_t i = 0; i < old_keys.size(); ++i) {
      if (old_keys[i] != 0) put(old_keys[i], old_values[i]);
    }
  }

  std::vector<std::uint64_t> keys_;
  std::vector<std::uint32_t> values_;
  std::size_t size_ = 0;
};

}  // namespace grapevine::detail
