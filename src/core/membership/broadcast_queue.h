// BroadcastQueue: membership updates waiting to be piggybacked (SWIM's infection-style
// dissemination), with memberlist's TransmitLimitedQueue semantics:
//  - each update is sent at most `limit` times (retransmit_mult * ceil(log10(n + 1)));
//  - the least-sent go first; within a tier the largest that still fits, then the newest;
//  - a new update about a member replaces the queued one about the same member;
//  - beyond kQueuedMax the most-sent are dropped (within that tier the smallest, then oldest);
//  - rumor mongering with a counter (Demers et al. 1987, "Epidemic algorithms for replicated
//    database maintenance", the counter variant): an update pushed with a version (non-zero)
//    counts the times the node hears that same version again from others (heard()); at the
//    k-th it is dropped, however few times it was sent. Our deviation from the paper: the
//    counter is fed by redundant *receipts* (a peer gossiping the same rumor to us), not by a
//    recipient's reply that it already knew, since piggybacked updates are not acknowledged.
//
// Layout (no allocation per frame once warm; a partition pushes and sends millions of them):
//  - a pool of entries (subject, push sequence, transmits, frame bytes) with a free list; a
//    freed entry keeps its frame buffer's capacity for the next push;
//  - tiers by transmit count; a tier holds buckets by frame size, largest first, and a bucket
//    holds pool slots (with their push sequence) in push order (oldest first, so the next to send is at the back). Sending
//    takes from the backs of buckets; a sent frame moves to the next tier by a binary search on
//    its push sequence;
//  - an open-addressing index from subject to pool slot (SlotIndex) for replacement.
// Ordering is exactly that of a (transmits, size descending, sequence descending) sort, the
// former std::map key: the same seed gives the same simulation (tests/unit/broadcast_queue_test
// checks it against a plain sorted reference).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/membership/slot_index.h"
#include "grapevine/membership.h"

namespace grapevine::detail {

/// Bounded so a join storm cannot grow it without limit (anti-entropy repairs what it drops).
inline constexpr std::size_t kQueuedMax = 1024;

class BroadcastQueue {
 public:
  /// Queues an encoded frame about `subject`, replacing any queued frame about it. `version`
  /// names what the frame says (membership_node.cc: kind and incarnation), for heard(); 0 =
  /// none (never dropped by heard()).
  void push(NodeId subject, std::span<const std::byte> frame, std::uint64_t version = 0);
  /// Rumor mongering's counter: the update about `subject` with this `version` (non-zero) was
  /// received again from someone. If it is the one queued, its count rises, and at `stop_after`
  /// (> 0) it is dropped. Anything else queued (another version, none) is left alone. Returns
  /// whether this call dropped it. O(1): one index lookup, and an unlink when dropped.
  bool heard(NodeId subject, std::uint64_t version, std::uint32_t stop_after);
  /// Hands `take` the queued messages that fit in `room` bytes, each costing its size plus
  /// `per_message` (a dialect's framing), least-sent first. Each one taken counts one
  /// transmission; messages that reach `limit` are dropped. Returns how many were taken.
  std::size_t fill(std::size_t room, std::size_t per_message, std::uint32_t limit,
                   const std::function<void(std::span<const std::byte>)>& take);
  [[nodiscard]] std::size_t size() const noexcept { return count_; }
  [[nodiscard]] bool empty() const noexcept { return count_ == 0; }
  /// Is an update about `subject` still queued?
  [[nodiscard]] bool has(NodeId subject) const noexcept { return find(subject) != kNone; }

 private:
  static constexpr std::uint32_t kNone = SlotIndex::kMissing;
  struct Entry {
    NodeId subject = 0;
    std::uint64_t seq = 0;  // push order: larger is newer
    std::uint32_t transmits = 0;
    std::uint32_t heard = 0;    // redundant receipts of this version (heard())
    std::uint64_t version = 0;  // push()'s; 0 = none
    std::vector<std::byte> frame;
  };
  struct Ref {
    std::uint64_t seq;  // the entry's, here so searches stay in one array
    std::uint32_t slot;
  };
  struct Bucket {
    std::uint32_t size;      // frame size of every entry in it
    std::vector<Ref> slots;  // oldest first
  };
  using Tier = std::vector<Bucket>;  // by size, largest first

  [[nodiscard]] std::uint32_t find(NodeId subject) const noexcept;
  Bucket& bucket(std::uint32_t transmits, std::uint32_t size);
  void link(std::uint32_t slot);    // into its tier's bucket, in sequence order
  void unlink(std::uint32_t slot);  // out of its bucket
  void release(std::uint32_t slot);  // unindex and return to the free list
  void drop_last();                  // the most-sent, smallest, oldest

  std::vector<Entry> pool_;
  std::vector<std::uint32_t> free_;
  std::vector<Tier> tiers_;
  SlotIndex index_;                // subject -> slot (subjects other than 0)
  std::uint32_t zero_slot_ = kNone;  // subject 0, which SlotIndex cannot hold
  std::vector<std::uint32_t> sent_;  // fill()'s scratch
  std::size_t count_ = 0;
  std::uint64_t seq_ = 0;
};

}  // namespace grapevine::detail
