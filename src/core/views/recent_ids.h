// RecentIds: the last `capacity` message ids a node has seen, for Plumtree's duplicate test.
//
// A ring of ids (oldest evicted first) with an open-addressing index over it (linear probing,
// backward-shift deletion), so contains() reads one or two cache lines instead of scanning the
// whole ring: at a million nodes every node's state is cold, and a 64-id scan was 8 lines per
// received frame. Memory: capacity * 8 bytes plus a table of 2-4 bytes per id.
//
//   RecentIds seen;
//   seen.reset(64);
//   if (!seen.contains(id)) seen.insert(id);  // insert() requires an id not present
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace grapevine::views {

class RecentIds {
 public:
  static constexpr std::size_t kCapacityMax = 65534;

  /// Forgets everything and sets the capacity (clamped to kCapacityMax; 0 remembers nothing).
  /// Memory is taken at the first insert.
  void reset(std::size_t capacity);
  [[nodiscard]] bool contains(std::uint64_t id) const noexcept;
  /// Remembers `id` (which must not be present), evicting the oldest id when full.
  void insert(std::uint64_t id);
  [[nodiscard]] std::size_t size() const noexcept { return ring_.size(); }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }

 private:
  [[nodiscard]] std::size_t home(std::uint64_t id) const noexcept;
  void erase_index(std::uint64_t id) noexcept;

  std::vector<std::uint64_t> ring_;   // grows to capacity_, then overwritten from head_
  std::vector<std::uint16_t> index_;  // ring slot + 1 (0 = empty); size a power of two
  std::uint16_t capacity_ = 0;
  std::uint16_t head_ = 0;  // oldest slot once the ring is full
};

}  // namespace grapevine::views
