#include "core/membership/broadcast_queue.h"

namespace grapevine::detail {

// Smallest frame we ever queue (type, length, three one-byte varints): below this much room
// nothing fits and the walk can stop.
constexpr std::size_t kFrameBytesMin = 5;

void BroadcastQueue::erase_subject(NodeId subject) {
  auto it = by_subject_.find(subject);
  if (it == by_subject_.end()) return;
  order_.erase(it->second->first);
  by_subject_.erase(it);
}

void BroadcastQueue::push(NodeId subject, std::span<const std::byte> frame) {
  erase_subject(subject);
  Key key{0, std::uint32_t(UINT32_MAX - frame.size()), UINT64_MAX - seq_++, subject};
  auto pos = order_.emplace(key, std::vector<std::byte>(frame.begin(), frame.end()));
  by_subject_.emplace(subject, &*pos.first);
  while (order_.size() > kQueuedMax) erase_subject(std::prev(order_.end())->first.subject);
}

std::size_t BroadcastQueue::fill(std::size_t room, std::size_t per_message, std::uint32_t limit,
                                 const std::function<void(std::span<const std::byte>)>& take) {
  std::vector<Order::node_type> sent;
  auto it = order_.begin();
  while (it != order_.end() && room >= kFrameBytesMin + per_message) {
    const std::size_t cost = it->second.size() + per_message;
    if (cost <= room) {
      take(it->second);
      room -= cost;
      auto next = std::next(it);
      sent.push_back(order_.extract(it));
      it = next;
      continue;
    }
    // Within a tier messages are sorted largest first: jump to the first one that fits (or to
    // the next tier) instead of walking past every message that is too big.
    it = order_.lower_bound(
        Key{it->first.transmits, std::uint32_t(UINT32_MAX - (room - per_message)), 0, 0});
  }
  for (auto& node : sent) {
    Key& k = node.key();
    if (k.transmits + 1 >= limit) {
      by_subject_.erase(k.subject);
      continue;
    }
    ++k.transmits;
    order_.insert(std::move(node));
  }
  return sent.size();
}

}  // namespace grapevine::detail
