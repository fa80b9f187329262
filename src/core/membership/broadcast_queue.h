// BroadcastQueue: membership updates waiting to be piggybacked (SWIM's infection-style
// dissemination), with memberlist's TransmitLimitedQueue semantics:
//  - each update is sent at most `limit` times (retransmit_mult * ceil(log10(n + 1)));
//  - the least-sent go first; within a tier the largest that still fits, then the newest;
//  - a new update about a member replaces the queued one about the same member;
//  - beyond kQueuedMax the most-sent are dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <span>
#include <vector>

#include "grapevine/membership.h"

namespace grapevine::detail {

/// Bounded so a join storm cannot grow it without limit (anti-entropy repairs what it drops).
inline constexpr std::size_t kQueuedMax = 1024;

class BroadcastQueue {
 public:
  /// Queues an encoded frame about `subject`, replacing any queued frame about it.
  void push(NodeId subject, std::span<const std::byte> frame);
  /// Hands `take` the queued messages that fit in `room` bytes, each costing its size plus
  /// `per_message` (a dialect's framing), least-sent first. Each one taken counts one
  /// transmission; messages that reach `limit` are dropped. Returns how many were taken.
  std::size_t fill(std::size_t room, std::size_t per_message, std::uint32_t limit,
                   const std::function<void(std::span<const std::byte>)>& take);
  [[nodiscard]] std::size_t size() const noexcept { return order_.size(); }
  [[nodiscard]] bool empty() const noexcept { return order_.empty(); }
  /// Is an update about `subject` still queued?
  [[nodiscard]] bool has(NodeId subject) const noexcept { return by_subject_.count(subject) != 0; }

 private:
  struct Key {
    std::uint32_t transmits;
    std::uint32_t neg_size;  // larger first
    std::uint64_t neg_seq;   // newer first
    NodeId subject;
    bool operator<(const Key& o) const noexcept {
      if (transmits != o.transmits) return transmits < o.transmits;
      if (neg_size != o.neg_size) return neg_size < o.neg_size;
      return neg_seq < o.neg_seq;
    }
  };
  void erase_subject(NodeId subject);

  using Order = std::map<Key, std::vector<std::byte>>;
  Order order_;  // frames in sending order
  // For replacing an update about a member. Points at the element itself, which keeps its
  // address while fill() extracts and reinserts it, so sending never touches this map.
  std::map<NodeId, const Order::value_type*> by_subject_;
  std::uint64_t seq_ = 0;
};

}  // namespace grapevine::detail
