// RecentIds: the last `capacity` message ids a node has seen, for Plumtree's duplicate test.
//
// A ring of ids (oldest evicted first) with an open-addressing index over it (linear probing,
// backward-shift deletion), so contains() reads one or two cache lines instead of scanning the
// whole ring: at a million nodes every node's state is cold, and a 64-id scan was 8 lines per
// received frame. Memory: capacity * 8 bytes plus a table of 2-4 bytes per id (inline: 1-2).
//
// Up to kInlineMax ids (Plumtree's default 64) the ring and the table live inside the object,
// so in the node's own allocation: no pointer to follow before the table's line can be
// fetched, and prefetch() can start those loads from `this` alone (at 10^5 nodes contains()
// was 19% of the CPU, most of it the miss on the heap table). Larger capacities use the
// heap, taken at the first insert.
//
//   RecentIds seen;
//   seen.reset(64);
//   if (!seen.contains(id)) seen.insert(id);  // insert() requires an id not present
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace grapevine::views {

class RecentIds {
 public:
  static constexpr std::size_t kCapacityMax = 65534;
  static constexpr std::size_t kInlineMax = 64;  // capacities up to this are stored inline

  /// Forgets everything and sets the capacity (clamped to kCapacityMax; 0 remembers nothing).
  void reset(std::size_t capacity);
  [[nodiscard]] bool contains(std::uint64_t id) const noexcept;
  /// Remembers `id` (which must not be present), evicting the oldest id when full.
  void insert(std::uint64_t id);
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// A hint (no state change): starts loading this object's header and inline table, the lines
  /// contains() and insert() read first. Reads nothing itself, so a cold object costs no stall
  /// here (the ring, and a heap table, are left to the demand loads).
  void prefetch() const noexcept {
    const auto* at = reinterpret_cast<const char*>(this);
    const auto* end = reinterpret_cast<const char*>(inline_ring_.data());
    for (; at < end; at += 64) __builtin_prefetch(at);
    __builtin_prefetch(end - 1);
  }

 private:
  [[nodiscard]] bool is_inline() const noexcept { return capacity_ <= kInlineMax; }
  template <class Slot>
  bool contains_in(const Slot* index, const std::uint64_t* ring, std::uint64_t id) const noexcept;
  template <class Slot>
  void insert_in(Slot* index, std::uint64_t* ring, std::uint64_t id) noexcept;

  std::uint32_t mask_ = 0;  // table size - 1; 0 = no table (capacity 0, or heap not yet taken)
  std::uint16_t capacity_ = 0;
  std::uint16_t size_ = 0;
  std::uint16_t head_ = 0;  // oldest slot once the ring is full
  // Tables: ring slot + 1 (0 = empty), size a power of two. Inline first, next to the header;
  // one byte per slot (two lines), as the inline ring has at most 64 slots.
  std::array<std::uint8_t, 2 * kInlineMax> inline_index_{};
  std::array<std::uint64_t, kInlineMax> inline_ring_{};
  std::vector<std::uint16_t> heap_index_;  // capacity_ > kInlineMax only
  std::vector<std::uint64_t> heap_ring_;
};

}  // namespace grapevine::views
