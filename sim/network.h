// The simulated network: per-link latency, loss, duplication and reordering, per link class
// (inside a subnet, or across the routers joining subnets), plus an optional uplink bandwidth
// per node that serializes a node's sends. O(1) memory per node: a link's base latency comes
// from a hash of its endpoints, not from a stored matrix.
#pragma once

#include <cstdint>

#include "grapevine/time.h"

namespace grapevine::sim {

struct LinkProfile {
  /// Each link (ordered pair) has a fixed base latency in [latency_min, latency_max], from a hash.
  Duration latency_min = Duration::milliseconds(1);
  Duration latency_max = Duration::milliseconds(1);
  /// Extra per-packet delay, uniform in [0, jitter]: packets on one link can overtake each other.
  Duration jitter = Duration::zero();
  double loss = 0.0;       // probability a packet is dropped
  /// Probability a stream message (Effects::send_stream or a reply) never arrives: a connection
  /// that fails or times out. Streams are not subject to `loss` nor to per-node drop: TCP
  /// retransmits what datagram loss takes.
  double stream_loss = 0.0;
  double duplicate = 0.0;  // probability a packet is delivered twice
  double reorder = 0.0;    // probability a packet is held back an extra [0, reorder_delay]
  Duration reorder_delay = Duration::zero();
};

struct NetworkConfig {
  LinkProfile local;  // both ends in the same subnet
  LinkProfile cross;  // ends in different subnets (through routers)
  /// Bytes per second a node can put on the wire; 0 = unlimited. Sends queue behind each other,
  /// so an origin sending to everyone takes O(N) time, and a crash loses what has not left.
  std::uint64_t uplink_bytes_per_second = 0;

  /// The same profile inside and across subnets.
  static NetworkConfig uniform(const LinkProfile& p) {
    NetworkConfig c;
    c.local = p;
    c.cross = p;
    return c;
  }
};

}  // namespace grapevine::sim
