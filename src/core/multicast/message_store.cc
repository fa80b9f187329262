#include "core/multicast/message_store.h"

#include <algorithm>

namespace grapevine::detail {

StoredMessage* MessageStore::find(const MessageId& id) noexcept {
  for (auto& m : messages_) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const StoredMessage* MessageStore::find(const MessageId& id) const noexcept {
  for (const auto& m : messages_) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

StoredMessage& MessageStore::add(const MessageId& id, std::span<const std::byte> payload,
                                 std::uint32_t hops, std::uint32_t tick, Spread spread) {
  if (messages_.size() >= kStoredMessagesMax) messages_.erase(messages_.begin());
  StoredMessage& m = messages_.emplace_back();
  m.id = id;
  m.payload.assign(payload.begin(), payload.end());
  m.hops = hops;
  m.received_tick = tick;
  m.spread = spread;
  return m;
}

void MessageStore::expire(std::uint32_t tick, std::uint32_t periods) noexcept {
  if (periods == 0) return;
  std::erase_if(messages_, [&](const StoredMessage& m) { return tick - m.received_tick > periods; });
}

}  // namespace grapevine::detail
