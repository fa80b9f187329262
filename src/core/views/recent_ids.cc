#include "core/views/recent_ids.h"

#include <algorithm>

#include "util/hash.h"

namespace grapevine::views {

void RecentIds::reset(std::size_t capacity) {
  capacity_ = std::uint16_t(std::min(capacity, kCapacityMax));
  head_ = 0;
  ring_.clear();
  index_.clear();
}

std::size_t RecentIds::home(std::uint64_t id) const noexcept {
  return std::size_t(mix64(id)) & (index_.size() - 1);
}

bool RecentIds::contains(std::uint64_t id) const noexcept {
  if (index_.empty()) return false;
  const std::size_t mask = index_.size() - 1;
  for (std::size_t h = home(id);; h = (h + 1) & mask) {
    std::uint16_t s = index_[h];
    if (s == 0) return false;
    if (ring_[s - 1u] == id) return true;
  }
}

// Linear probing's deletion without tombstones: later entries of the probe run move back into
// the hole unless their home lies cyclically in (hole, position].
void RecentIds::erase_index(std::uint64_t id) noexcept {
  const std::size_t mask = index_.size() - 1;
  std::size_t i = home(id);
  while (ring_[index_[i] - 1u] != id) i = (i + 1) & mask;
  for (std::size_t j = i;;) {
    j = (j + 1) & mask;
    if (index_[j] == 0) break;
    std::size_t k = home(ring_[index_[j] - 1u]);
    bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays) continue;
    index_[i] = index_[j];
    i = j;
  }
  index_[i] = 0;
}

void RecentIds::insert(std::uint64_t id) {
  if (capacity_ == 0) return;
  if (index_.empty()) {
    std::size_t table = 4;
    while (table < 2u * capacity_) table *= 2;  // load factor at most 1/2
    index_.assign(table, 0);
    ring_.reserve(capacity_);
  }
  std::size_t slot;
  if (ring_.size() < capacity_) {
    slot = ring_.size();
    ring_.push_back(id);
  } else {
    slot = head_;
    erase_index(ring_[slot]);
    ring_[slot] = id;
    head_ = std::uint16_t((head_ + 1u) % capacity_);
  }
  const std::size_t mask = index_.size() - 1;
  std::size_t h = home(id);
  while (index_[h] != 0) h = (h + 1) & mask;
  index_[h] = std::uint16_t(slot + 1);
}

}  // namespace grapevine::views
