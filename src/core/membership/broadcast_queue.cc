#include "core/membership/broadcast_queue.h"

#include <algorithm>

namespace grapevine::detail {

// Smallest frame we ever queue (type, length, three one-byte varints): below this much room
// nothing fits and the walk can stop.
constexpr std::size_t kFrameBytesMin = 5;

// An emptied bucket gives its array back: a node's buckets (tiers x frame sizes) would otherwise
// each keep the most it ever held, ~200 KB a node after a partition.
template <typename V>
void trim_if_empty(V& v) {
  if (v.empty() && v.capacity() > 8) V().swap(v);
}

std::uint32_t BroadcastQueue::find(NodeId subject) const noexcept {
  if (subject == 0) return zero_slot_;
  return index_.find(subject, [this](std::uint32_t s) { return pool_[s].subject; });
}

BroadcastQueue::Bucket& BroadcastQueue::bucket(std::uint32_t transmits, std::uint32_t size) {
  if (tiers_.size() <= transmits) tiers_.resize(std::size_t(transmits) + 1);
  Tier& tier = tiers_[transmits];
  auto it = std::lower_bound(tier.begin(), tier.end(), size,
                             [](const Bucket& b, std::uint32_t s) { return b.size > s; });
  if (it == tier.end() || it->size != size) it = tier.insert(it, Bucket{size, {}});
  return *it;
}

void BroadcastQueue::link(std::uint32_t slot) {
  const Entry& e = pool_[slot];
  std::vector<Ref>& v = bucket(e.transmits, std::uint32_t(e.frame.size())).slots;
  if (v.empty() || v.back().seq < e.seq) {
    v.push_back(Ref{e.seq, slot});  // the newest: a push, or a frame sent on from the tier below
    return;
  }
  auto at = std::upper_bound(v.begin(), v.end(), e.seq,
                             [](std::uint64_t seq, const Ref& r) { return seq < r.seq; });
  v.insert(at, Ref{e.seq, slot});
}

void BroadcastQueue::unlink(std::uint32_t slot) {
  const Entry& e = pool_[slot];
  std::vector<Ref>& v = bucket(e.transmits, std::uint32_t(e.frame.size())).slots;
  auto at = std::lower_bound(v.begin(), v.end(), e.seq,
                             [](const Ref& r, std::uint64_t seq) { return r.seq < seq; });
  v.erase(at);
  trim_if_empty(v);
}

void BroadcastQueue::release(std::uint32_t slot) {
  const NodeId subject = pool_[slot].subject;
  if (subject == 0) {
    zero_slot_ = kNone;
  } else {
    index_.erase(subject, [this](std::uint32_t s) { return pool_[s].subject; });
  }
  free_.push_back(slot);
  --count_;
}

void BroadcastQueue::drop_last() {
  for (auto tier = tiers_.rbegin(); tier != tiers_.rend(); ++tier) {
    for (auto b = tier->rbegin(); b != tier->rend(); ++b) {
      if (b->slots.empty()) continue;
      const std::uint32_t slot = b->slots.front().slot;  // the oldest of the smallest
      b->slots.erase(b->slots.begin());
      trim_if_empty(b->slots);
      release(slot);
      return;
    }
  }
}

void BroadcastQueue::push(NodeId subject, std::span<const std::byte> frame,
                          std::uint64_t version) {
  if (std::uint32_t old = find(subject); old != kNone) {
    unlink(old);
    release(old);
  }
  std::uint32_t slot;
  if (free_.empty()) {
    slot = std::uint32_t(pool_.size());
    pool_.emplace_back();
  } else {
    slot = free_.back();
    free_.pop_back();
  }
  Entry& e = pool_[slot];
  e.subject = subject;
  e.seq = seq_++;
  e.transmits = 0;
  e.heard = 0;
  e.version = version;
  e.frame.assign(frame.begin(), frame.end());
  if (subject == 0) {
    zero_slot_ = slot;
  } else {
    index_.insert(subject, slot);
  }
  ++count_;
  link(slot);
  while (count_ > kQueuedMax) drop_last();
}

bool BroadcastQueue::heard(NodeId subject, std::uint64_t version, std::uint32_t stop_after) {
  if (version == 0 || stop_after == 0) return false;
  const std::uint32_t slot = find(subject);
  if (slot == kNone) return false;
  Entry& e = pool_[slot];
  if (e.version != version || ++e.heard < stop_after) return false;
  unlink(slot);
  release(slot);
  return true;
}

std::size_t BroadcastQueue::fill(std::size_t room, std::size_t per_message, std::uint32_t limit,
                                 const std::function<void(std::span<const std::byte>)>& take) {
  // Least-sent tier first; within it the largest size that fits, newest first. A frame that
  // does not fit ends its bucket (the rest are the same size): on to the next smaller one.
  sent_.clear();
  const std::size_t stop = kFrameBytesMin + per_message;
  for (Tier& tier : tiers_) {
    for (Bucket& b : tier) {
      while (!b.slots.empty()) {
        if (room < stop) goto done;
        const std::size_t cost = b.size + per_message;
        if (cost > room) break;
        const std::uint32_t slot = b.slots.back().slot;
        b.slots.pop_back();
        trim_if_empty(b.slots);
        take(pool_[slot].frame);
        room -= cost;
        sent_.push_back(slot);
      }
    }
  }
done:
  // Sent frames move up a tier after the walk, so none is taken twice in one packet.
  for (std::uint32_t slot : sent_) {
    Entry& e = pool_[slot];
    if (e.transmits + 1 >= limit) {
      release(slot);
      continue;
    }
    ++e.transmits;
    link(slot);
  }
  return sent_.size();
}

}  // namespace grapevine::detail
