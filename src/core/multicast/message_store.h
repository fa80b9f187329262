// The messages one multicast node holds: id, payload copy, and the per-message spreading state
// the gossip stop rules need. A flat vector: a node holds few live messages at a time, and a
// linear scan over a cache line or two beats any map at that size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "grapevine/event.h"

namespace grapevine::detail {

enum class Spread : std::uint8_t {
  fresh,      // received since this node's last tick: not yet infective (synchronous rounds)
  infective,  // spreading: pushed and served to pulls
  removed,    // lost interest (stop rule): kept only for duplicate suppression
};

struct StoredMessage {
  MessageId id;
  std::vector<std::byte> payload;
  std::uint32_t hops = 0;
  std::uint32_t received_tick = 0;  // the node's tick counter when it arrived
  std::uint32_t rounds_spread = 0;  // periods this message was pushed
  std::uint32_t counter = 0;        // Demers counter (consecutive unnecessary contacts)
  Spread spread = Spread::fresh;
  bool necessary_this_tick = false;    // pull counter bookkeeping
  bool unnecessary_this_tick = false;
};

/// Most messages one node keeps at once; the oldest go first beyond this.
inline constexpr std::size_t kStoredMessagesMax = 4096;

class MessageStore {
 public:
  StoredMessage* find(const MessageId& id) noexcept;
  [[nodiscard]] const StoredMessage* find(const MessageId& id) const noexcept;
  /// Adds a message (payload copied); evicts the oldest when full.
  StoredMessage& add(const MessageId& id, std::span<const std::byte> payload, std::uint32_t hops,
                     std::uint32_t tick, Spread spread);
  /// Drops messages received more than `periods` ticks before `tick` (0 = keep forever).
  void expire(std::uint32_t tick, std::uint32_t periods) noexcept;

  std::span<StoredMessage> all() noexcept { return messages_; }
  [[nodiscard]] std::span<const StoredMessage> all() const noexcept { return messages_; }
  [[nodiscard]] std::size_t size() const noexcept { return messages_.size(); }
  /// Prefetch hint for the first messages (what a lookup reads first).
  void prefetch() const noexcept {
    if (!messages_.empty()) __builtin_prefetch(messages_.data());
  }

 private:
  std::vector<StoredMessage> messages_;
};

}  // namespace grapevine::detail
