// SuspicionSet: a detector's running suspicions, found by subject in O(1) and by deadline in
// O(log n). It replaces a std::vector scanned on every suspect message, every unsuspect and
// every deadline() (the node's next wakeup, asked after each event): a member cut off from a
// 10,000-member group holds thousands of suspicions at once, and each scan cost O(thousands).
//
// Behaviour is the vector's: due suspicions come out in the order they were created (the
// vector's order), so the same seed still gives the same run.
//
// Layout: a pool of suspicions with a free list, a FlatIndex from subject to pool slot, and a
// binary min-heap of (deadline, creation sequence, slot). A confirmation that shortens a
// deadline pushes a fresh heap item; the old one goes stale (its deadline or sequence no longer
// matches the pool) and is dropped when it reaches the top. The top is kept valid after every
// change, so deadline() is const and O(1).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/membership/flat_index.h"
#include "core/membership/suspicion.h"

namespace grapevine::detail {

class SuspicionSet {
 public:
  /// The running suspicion about `subject`, or nullptr.
  [[nodiscard]] Suspicion* find(NodeId subject) noexcept {
    const std::uint32_t slot = index_.find(subject);
    return slot == FlatIndex::kMissing ? nullptr : &pool_[slot].s;
  }

  /// Starts a suspicion (its subject has none running; subject 0 is never a member).
  void add(Suspicion s) {
    if (s.subject == 0) return;
    std::uint32_t slot;
    if (free_.empty()) {
      slot = std::uint32_t(pool_.size());
      pool_.emplace_back();
    } else {
      slot = free_.back();
      free_.pop_back();
    }
    pool_[slot] = Item{std::move(s), next_seq_++, true};
    index_.put(pool_[slot].s.subject, slot);
    push_heap(slot);
    ++size_;
  }

  /// Suspicion::confirm on the running suspicion about `subject` (which must exist).
  bool confirm(NodeId subject, NodeId from) {
    const std::uint32_t slot = index_.find(subject);
    const Time before = pool_[slot].s.deadline;
    const bool counted = pool_[slot].s.confirm(from);
    if (pool_[slot].s.deadline != before) {
      push_heap(slot);
      prune();
    }
    return counted;
  }

  void erase(NodeId subject) {
    const std::uint32_t slot = index_.find(subject);
    if (slot == FlatIndex::kMissing) return;
    release(slot);
    prune();
  }

  /// The earliest deadline, or Time::max().
  [[nodiscard]] Time deadline() const noexcept {
    return heap_.empty() ? Time::max() : heap_.front().deadline;
  }

  /// Removes every suspicion due at `now` (deadline <= now) into `out`, oldest first.
  void take_due(Time now, std::vector<Suspicion>& out) {
    std::vector<HeapItem> due;
    while (!heap_.empty() && heap_.front().deadline <= now) {
      const HeapItem top = heap_.front();
      std::pop_heap(heap_.begin(), heap_.end(), later);
      heap_.pop_back();
      if (valid(top)) due.push_back(top);
    }
    std::sort(due.begin(), due.end(),
              [](const HeapItem& a, const HeapItem& b) { return a.seq < b.seq; });
    for (const HeapItem& h : due) {
      out.push_back(std::move(pool_[h.slot].s));
      release(h.slot);
    }
    prune();
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }

 private:
  struct Item {
    Suspicion s;
    std::uint64_t seq = 0;  // creation order
    bool live = false;
  };
  struct HeapItem {
    Time deadline;
    std::uint64_t seq;
    std::uint32_t slot;
  };
  // std::*_heap keep the largest on top: "larger" here is the later deadline.
  static bool later(const HeapItem& a, const HeapItem& b) noexcept {
    if (a.deadline != b.deadline) return a.deadline > b.deadline;
    return a.seq > b.seq;
  }
  [[nodiscard]] bool valid(const HeapItem& h) const noexcept {
    const Item& it = pool_[h.slot];
    return it.live && it.seq == h.seq && it.s.deadline == h.deadline;
  }
  void push_heap(std::uint32_t slot) {
    heap_.push_back(HeapItem{pool_[slot].s.deadline, pool_[slot].seq, slot});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  void release(std::uint32_t slot) {
    index_.erase(pool_[slot].s.subject);
    pool_[slot].live = false;
    pool_[slot].s.confirmers.clear();
    free_.push_back(slot);
    --size_;
  }
  // Keeps the top valid; rebuilds when stale items outnumber live ones.
  void prune() {
    if (heap_.size() > 2 * size_ + 64) {
      std::erase_if(heap_, [this](const HeapItem& h) { return !valid(h); });
      std::make_heap(heap_.begin(), heap_.end(), later);
    }
    while (!heap_.empty() && !valid(heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), later);
      heap_.pop_back();
    }
  }

  std::vector<Item> pool_;
  std::vector<std::uint32_t> free_;
  FlatIndex index_;
  std::vector<HeapItem> heap_;
  std::uint64_t next_seq_ = 0;
  std::size_t size_ = 0;
};

}  // namespace grapevine::detail
