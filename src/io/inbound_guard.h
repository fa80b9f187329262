// InboundGuard: the runtime's checks on who may reach a node, before any byte is parsed:
// RuntimeOptions::allowed_cidrs for datagrams and connections, and the optional per-source
// datagram rate (a token bucket per source IP, in a table of bounded size that forgets the
// source it saw first when full). Counts what it refuses in the node's IoStats. Loop thread
// only; one per hosted node.
#pragma once

#include <cstdint>
#include <list>
#include <unordered_map>
#include <vector>

#include "grapevine/cidr.h"
#include "grapevine/runtime.h"
#include "grapevine/time.h"

namespace grapevine::io {

class InboundGuard {
 public:
  explicit InboundGuard(const RuntimeOptions& o)
      : cidrs_(o.allowed_cidrs),
        rate_(o.datagrams_per_source_per_second),
        sources_max_(o.rate_limited_sources_max > 0 ? o.rate_limited_sources_max : 1) {}

  /// True if a datagram from `from` at `now` may be parsed; else counts it in `io`
  /// (datagrams_denied or datagrams_rate_limited).
  bool admit_datagram(const Address& from, Time now, IoStats& io);
  /// True if a connection from `from` may be served; else counts io.streams_denied.
  bool admit_stream(const Address& from, IoStats& io);
  /// True if `from` is inside allowed_cidrs (or the list is empty).
  [[nodiscard]] bool allowed(const Address& from) const noexcept;
  /// Sources the rate limiter tracks now (<= rate_limited_sources_max).
  [[nodiscard]] std::size_t tracked_sources() const noexcept { return buckets_.size(); }

 private:
  struct Key {
    std::array<std::uint8_t, 16> ip;
    std::uint8_t family;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept;
  };
  struct Bucket {
    std::int64_t tokens;   // in 1e-9 datagram units (rate * elapsed_ns adds up exactly)
    std::int64_t last_ns;  // last refill
    std::list<Key>::iterator age;
  };
  bool take_token(const Address& from, Time now);

  std::vector<Cidr> cidrs_;
  std::uint32_t rate_;
  std::uint32_t sources_max_;
  std::unordered_map<Key, Bucket, KeyHash> buckets_;  // never iterated: order does not matter
  std::list<Key> ages_;                               // oldest first
};

}  // namespace grapevine::io
