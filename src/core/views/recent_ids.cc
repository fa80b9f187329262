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
    std::fill_n(inline_index_.begin(), mask_ + 1, std::uint16_t{0});
  }
}

std::size_t RecentIds::home(std::uint64_t id) const noexcept {
  return std::size_t(mix64(id)) & mask_;
}

bool RecentIds::contains(std::uint64_t id) const noexcept {
  if (size_ == 0) return false;
  const std::uint16_t* idx = index();
  const std::uint64_t* r = ring();
  for (std::size_t h = home(id);; h = (h + 1) & mask_) {
    std::uint16_t s = idx[h];
    if (s == 0) return false;
    if (r[s - 1u] == id) return true;
  }
}

// Linear probing's deletion without tombstones: later entries of the probe run move back into
// the hole unless their home lies cyclically in (hole, position].
void RecentIds::erase_index(std::uint64_t id) noexcept {
  std::uint16_t* idx = index();
  const std::uint64_t* r = ring();
  std::size_t i = home(id);
  while (r[idx[i] - 1u] != id) i = (i + 1) & mask_;
  for (std::size_t j = i;;) {
    j = (j + 1) & mask_;
    if (idx[j] == 0) break;
    std::size_t k = home(r[idx[j] - 1u]);
    bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays) continue;
    idx[i] = idx[j];
    i = j;
  }
  idx[i] = 0;
}

void RecentIds::insert(std::uint64_t id) {
  if (capacity_ == 0) return;
  if (mask_ == 0) {  // heap storage, first insert
    heap_index_.assign(table_size(capacity_), 0);
    heap_ring_.assign(capacity_, 0);
    mask_ = std::uint32_t(heap_index_.size() - 1);
  }
  std::size_t slot;
  if (size_ < capacity_) {
    slot = size_++;
  } else {
    slot = head_;
    erase_index(ring()[slot]);
    head_ = std::uint16_t((head_ + 1u) % capacity_);
  }
  ring()[slot] = id;
  std::uint16_t* idx = index();
  std::size_t h = home(id);
  while (idx[h] != 0) h = (h + 1) & mask_;
  idx[h] = std::uint16_t(slot + 1);
}

}  // namespace grapevine::views
