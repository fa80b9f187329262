#include "core/views/recent_ids.h"

#include <algorithm>

#include "util/hash.h"

namespace grapevine::views {
namespace {

// The index size for `capacity` ids: a power of two, load factor at most 1/2.
std::size_t table_size(std::size_t capacity) {
  std::size_t table = 4;
  while (table < 2u * capacity) table *= 2;
  return table;
}

std::size_t home(std::uint64_t id, std::size_t mask) noexcept {
  return std::size_t(mix64(id)) & mask;
}

// Linear probing's deletion without tombstones: later entries of the probe run move back into
// the hole unless their home lies cyclically in (hole, position].
template <class Slot>
void erase_index(Slot* idx, const std::uint64_t* ring, std::size_t mask,
                 std::uint64_t id) noexcept {
  std::size_t i = home(id, mask);
  while (ring[idx[i] - 1u] != id) i = (i + 1) & mask;
  for (std::size_t j = i;;) {
    j = (j + 1) & mask;
    if (idx[j] == 0) break;
    std::size_t k = home(ring[idx[j] - 1u], mask);
    bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays) continue;
    idx[i] = idx[j];
    i = j;
  }
  idx[i] = 0;
}

}  // namespace

void RecentIds::reset(std::size_t capacity) {
  capacity_ = std::uint16_t(std::min(capacity, kCapacityMax));
  head_ = 0;
  size_ = 0;
  mask_ = 0;
  heap_ring_ = {};
  heap_index_ = {};
  if (capacity_ > 0 && is_inline()) {
    mask_ = std::uint32_t(table_size(capacity_) - 1);
    std::fill_n(inline_index_.begin(), mask_ + 1, std::uint8_t{0});
  }
}

template <class Slot>
bool RecentIds::contains_in(const Slot* idx, const std::uint64_t* ring,
                            std::uint64_t id) const noexcept {
  for (std::size_t h = home(id, mask_);; h = (h + 1) & mask_) {
    Slot s = idx[h];
    if (s == 0) return false;
    if (ring[s - 1u] == id) return true;
  }
}

bool RecentIds::contains(std::uint64_t id) const noexcept {
  if (size_ == 0) return false;
  return is_inline() ? contains_in(inline_index_.data(), inline_ring_.data(), id)
                     : contains_in(heap_index_.data(), heap_ring_.data(), id);
}

template <class Slot>
void RecentIds::insert_in(Slot* idx, std::uint64_t* ring, std::uint64_t id) noexcept {
  std::size_t slot;
  if (size_ < capacity_) {
    slot = size_++;
  } else {
    slot = head_;
    erase_index(idx, ring, mask_, ring[slot]);
    head_ = std::uint16_t((head_ + 1u) % capacity_);
  }
  ring[slot] = id;
  std::size_t h = home(id, mask_);
  while (idx[h] != 0) h = (h + 1) & mask_;
  idx[h] = Slot(slot + 1);
}

void RecentIds::insert(std::uint64_t id) {
  if (capacity_ == 0) return;
  if (is_inline()) return insert_in(inline_index_.data(), inline_ring_.data(), id);
  if (mask_ == 0) {  // first insert: take the heap tables
    heap_index_.assign(table_size(capacity_), 0);
    heap_ring_.assign(capacity_, 0);
    mask_ = std::uint32_t(heap_index_.size() - 1);
  }
  insert_in(heap_index_.data(), heap_ring_.data(), id);
}

}  // namespace grapevine::views
