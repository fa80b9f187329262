// EventQueue: the simulator's calendar queue (a timing wheel with an overflow heap).
//
// Events are ordered by (time, seq): equal times pop in insertion order, which is what makes a
// run reproducible to the byte. The wheel has 2^bucket_bits buckets of 2^width_shift ns; an
// event lands in bucket (time >> width_shift) mod buckets if it is within one turn of the wheel,
// else in an overflow min-heap that is drained as the wheel turns. The bucket being drained is
// sorted once; events added to it while it drains go to a small heap merged on pop.
// Measured against std::priority_queue in bench/bench_event_queue.cc (docs/performance.md).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "util/assert.h"

namespace grapevine::sim {

struct SimEvent {
  std::int64_t time;   // ns
  std::uint64_t seq;   // insertion order, assigned by the queue
  std::uint32_t node;  // destination node (delivery) or owner (timer)
  std::uint32_t from;  // sending node (delivery)
  std::uint32_t data;  // packet handle (delivery) or action index (control)
  std::uint8_t kind;
  std::int64_t aux;    // delivery: departure time from the sender's uplink
};

inline bool event_before(const SimEvent& a, const SimEvent& b) noexcept {
  return a.time != b.time ? a.time < b.time : a.seq < b.seq;
}

// As function objects, not function pointers: std::sort and the heap functions then inline the
// comparison (as a pointer it was a call per comparison, ~12% of the loop at 10^5 nodes).
struct EventBefore {
  bool operator()(const SimEvent& a, const SimEvent& b) const noexcept { return event_before(a, b); }
};
struct EventAfter {
  bool operator()(const SimEvent& a, const SimEvent& b) const noexcept { return event_before(b, a); }
};

class EventQueue {
 public:
  explicit EventQueue(unsigned width_shift = 20, unsigned bucket_bits = 12)
      : shift_(width_shift), mask_((std::uint64_t(1) << bucket_bits) - 1),
        buckets_(std::size_t(1) << bucket_bits) {}

  /// Adds an event; its time must not be before the last popped event's time.
  void push(SimEvent e) {
    e.seq = next_seq_++;
    push_keyed(e);
  }

  /// Adds an event ordered by the caller's e.seq instead of the insertion order (the sharded
  /// simulator's key: origin node and that node's own counter, the same on any thread count).
  /// Keys must be unique; the time must not be before the last popped event's time.
  void push_keyed(const SimEvent& e) {
    ++size_;
    const auto b = std::uint64_t(e.time) >> shift_;
    GV_ASSERT(e.time >= last_time_);
    // Into the side heap: events for the bucket being drained, and events *behind* the wheel's
    // position, which happen after a peek turned the wheel forward to a later event.
    if ((draining_ && b == cur_) || b < cur_) {
      late_.push_back(e);
      std::push_heap(late_.begin(), late_.end(), after);
    } else if (b < cur_ + buckets_.size()) {
      auto& bucket = buckets_[b & mask_];
      // The spare goes only to a big bucket about to outgrow its storage. Handed to every bucket
      // that became non-empty, it circulated (each drain returned one buffer, each new bucket
      // took one), so every live bucket came to hold the largest capacity ever seen: +42% peak
      // RSS for HyParView at 10^5 nodes, +2 GiB at 10^6.
      if (bucket.size() == bucket.capacity() && bucket.size() >= kSpareFrom &&
          spare_.capacity() > bucket.capacity()) {
        spare_.assign(bucket.begin(), bucket.end());
        bucket.swap(spare_);
        spare_ = std::vector<SimEvent>();
      }
      bucket.push_back(e);
      ++in_wheel_;
    } else {
      overflow_.push_back(e);
      std::push_heap(overflow_.begin(), overflow_.end(), after);
    }
  }

  /// push_keyed() for many events at once (the sharded simulator's inbox). Events for the
  /// bucket being drained, or behind it, are merged into its sorted run in one sort and merge
  /// instead of going one by one into the side heap: a synchronous round hands over half a
  /// million events for the bucket just peeked, and a heap that size cost 2x the run's CPU.
  void push_keyed_batch(std::span<const SimEvent> events) {
    const std::size_t mid = ready_.size();
    for (const SimEvent& e : events) {
      const auto b = std::uint64_t(e.time) >> shift_;
      if (draining_ && b <= cur_) {
        GV_ASSERT(e.time >= last_time_);
        ++size_;
        ready_.push_back(e);
      } else {
        push_keyed(e);
      }
    }
    if (ready_.size() == mid) return;
    const auto first = ready_.begin() + std::ptrdiff_t(ready_pos_);
    const auto middle = ready_.begin() + std::ptrdiff_t(mid);
    std::sort(middle, ready_.end(), EventBefore{});
    std::inplace_merge(first, middle, ready_.end(), EventBefore{});
  }

  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Events' worth of storage held (every bucket, the drained bucket, the spare and the heaps):
  /// O(buckets), for tests and diagnostics, not the hot path.
  [[nodiscard]] std::size_t capacity_held() const noexcept {
    std::size_t n = ready_.capacity() + spare_.capacity() + late_.capacity() + overflow_.capacity();
    for (const auto& b : buckets_) n += b.capacity();
    return n;
  }

  /// Time of the earliest event; the queue must not be empty.
  std::int64_t peek_time() {
    ensure_ready();
    return front().time;
  }

  /// The event `k` places after the next one in the bucket being drained, or nullptr: a hint
  /// for prefetching only (events pushed since the bucket was sorted may come first).
  [[nodiscard]] const SimEvent* ahead(std::size_t k) const noexcept {
    const std::size_t p = ready_pos_ + k;
    return p < ready_.size() ? &ready_[p] : nullptr;
  }

  /// Removes and returns the earliest event; the queue must not be empty.
  SimEvent pop() {
    ensure_ready();
    SimEvent e;
    if (!late_.empty() && (ready_pos_ == ready_.size() || after(ready_[ready_pos_], late_.front()))) {
      std::pop_heap(late_.begin(), late_.end(), after);
      e = late_.back();
      late_.pop_back();
    } else {
      e = ready_[ready_pos_++];
    }
    --size_;
    last_time_ = e.time;
    return e;
  }

 private:
  static constexpr EventAfter after{};

  const SimEvent& front() const {
    if (!late_.empty() && (ready_pos_ == ready_.size() || after(ready_[ready_pos_], late_.front()))) {
      return late_.front();
    }
    return ready_[ready_pos_];
  }

  // Makes the current bucket hold the earliest events, turning the wheel as needed.
  void ensure_ready() {
    GV_ASSERT(size_ > 0);
    if (ready_pos_ < ready_.size() || !late_.empty()) return;
    draining_ = false;
    for (;;) {
      if (in_wheel_ == 0) {
        // Nothing within one turn: jump straight to the overflow's earliest bucket.
        cur_ = std::max(cur_, std::uint64_t(overflow_.front().time) >> shift_);
      }
      migrate_overflow();
      auto& bucket = buckets_[cur_ & mask_];
      if (bucket.empty()) {
        ++cur_;
        continue;
      }
      // Take the bucket's storage and leave it empty: a bucket that once held a million events
      // must not keep that capacity for the rest of the run. The drained storage is kept as the
      // one spare, handed to the next bucket that outgrows its storage: a synchronous round
      // puts all N events in one bucket, and growing a fresh one by doubling every round cost
      // copies and fresh (zeroed) pages, 15% of a 10^6-node push-pull run. One spare at most,
      // and only a bucket that needs room takes it, so big buffers do not multiply.
      std::vector<SimEvent> drained = std::move(ready_);
      ready_ = std::move(bucket);
      bucket = std::vector<SimEvent>();
      if (drained.capacity() >= kSpareFrom && drained.capacity() > spare_.capacity()) {
        drained.clear();
        spare_ = std::move(drained);
      }
      ready_pos_ = 0;
      in_wheel_ -= ready_.size();
      if (!std::is_sorted(ready_.begin(), ready_.end(), EventBefore{})) {
        std::sort(ready_.begin(), ready_.end(), EventBefore{});
      }
      draining_ = true;
      return;
    }
  }

  void migrate_overflow() {
    while (!overflow_.empty() &&
           (std::uint64_t(overflow_.front().time) >> shift_) < cur_ + buckets_.size()) {
      std::pop_heap(overflow_.begin(), overflow_.end(), after);
      SimEvent e = overflow_.back();
      overflow_.pop_back();
      buckets_[(std::uint64_t(e.time) >> shift_) & mask_].push_back(e);
      ++in_wheel_;
    }
  }

  unsigned shift_;
  std::uint64_t mask_;
  std::vector<std::vector<SimEvent>> buckets_;
  std::vector<SimEvent> ready_;    // the bucket being drained, sorted
  // Buckets smaller than this grow by doubling as usual (cheap); larger ones take the spare.
  static constexpr std::size_t kSpareFrom = 4096;
  std::vector<SimEvent> spare_;    // empty, with the last drained bucket's capacity
  std::size_t ready_pos_ = 0;
  std::vector<SimEvent> late_;     // min-heap: events added to the draining bucket
  std::vector<SimEvent> overflow_; // min-heap: events beyond one turn of the wheel
  std::uint64_t cur_ = 0;          // absolute index of the bucket being (or next to be) drained
  bool draining_ = false;
  std::size_t in_wheel_ = 0;
  std::size_t size_ = 0;
  std::uint64_t next_seq_ = 0;
  std::int64_t last_time_ = 0;
};

}  // namespace grapevine::sim
