#include "core/membership/broadcast_queue.h"

namespace grapevine::detail {

// Smallest frame we ever queue (type, length, three one-byte varints): below this much room
// nothing fits and the walk can stop.
constexpr std::size_t kFrameBytesMin = 5;

void BroadcastQueue::erase_subject(NodeId subject) {
  auto it = by_subject_.find(subject);
  if (it == by_subject_.end()) return;
  order_.erase(it->second.key);
  by_subject_.erase(it);
}

void BroadcastQueue::push(NodeId subject, std::span<const std::byte> frame) {
  erase_subject(subject);
  Key key{0, std::uint32_t(UINT32_MAX - frame.size()), UINT64_MAX - seq_++, subject};
  by_subject_[subject] = Entry{key, std::vector<std::byte>(frame.begin(), frame.end())};
  order_.insert(key);
  while (order_.size() > kQueuedMax) erase_subject(std::prev(order_.end())->subject);
}

std::size_t BroadcastQueue::fill(wire::Writer& w, std::uint32_t limit) {
  std::vector<Key> sent;
  for (auto it = order_.begin(); it != order_.end() && w.remaining() >= kFrameBytesMin; ++it) {
    const Entry& e = by_subject_.at(it->subject);
    if (e.frame.size() > w.remaining()) continue;
    w.bytes(e.frame);
    sent.push_back(*it);
  }
  for (const Key& k : sent) {
    order_.erase(k);
    auto& entry = by_subject_.at(k.subject);
    if (k.transmits + 1 >= limit) {
      by_subject_.erase(k.subject);
      continue;
    }
    entry.key.transmits = k.transmits + 1;
    order_.insert(entry.key);
  }
  return sent.size();
}

}  // namespace grapevine::detail
