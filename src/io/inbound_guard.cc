#include "io/inbound_guard.h"

#include <algorithm>

namespace grapevine::io {

std::size_t InboundGuard::KeyHash::operator()(const Key& k) const noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull ^ k.family;  // FNV-1a
  for (std::uint8_t b : k.ip) h = (h ^ b) * 0x100000001b3ull;
  return std::size_t(h);
}

bool InboundGuard::allowed(const Address& from) const noexcept {
  if (cidrs_.empty()) return true;
  return std::any_of(cidrs_.begin(), cidrs_.end(), [&](const Cidr& c) { return c.contains(from); });
}

bool InboundGuard::admit_stream(const Address& from, IoStats& io) {
  if (allowed(from)) return true;
  ++io.streams_denied;
  return false;
}

bool InboundGuard::admit_datagram(const Address& from, Time now, IoStats& io) {
  if (!allowed(from)) {
    ++io.datagrams_denied;
    return false;
  }
  if (rate_ == 0 || take_token(from, now)) return true;
  ++io.datagrams_rate_limited;
  return false;
}

bool InboundGuard::take_token(const Address& from, Time now) {
  constexpr std::int64_t kOne = 1000000000;              // one datagram, in token units
  const std::int64_t full = std::int64_t(rate_) * kOne;  // burst = one second's worth
  Key key{from.ip, from.family};
  if (from.family == 4) std::fill(key.ip.begin() + 4, key.ip.end(), std::uint8_t(0));
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= sources_max_) {  // forget the source seen first
      buckets_.erase(ages_.front());
      ages_.pop_front();
    }
    ages_.push_back(key);
    it = buckets_.emplace(key, Bucket{full, now.ns(), std::prev(ages_.end())}).first;
  }
  Bucket& b = it->second;
  // Refill: elapsed time (clamped to a second, the bucket's size) times the rate.
  const std::int64_t elapsed = std::clamp<std::int64_t>(now.ns() - b.last_ns, 0, kOne);
  b.last_ns = std::max(b.last_ns, now.ns());
  b.tokens = std::min(full, b.tokens + elapsed * std::int64_t(rate_));
  if (b.tokens < kOne) return false;
  b.tokens -= kOne;
  return true;
}

}  // namespace grapevine::io
