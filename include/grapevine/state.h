// Replicated per-node key-value state (scuttlebutt anti-entropy): every node owns a small map of
// versioned keys that only it writes; every other live node eventually holds a copy. Settings,
// the public view of an entry, and counters. The machine itself is src/core/state/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "grapevine/event.h"
#include "grapevine/limits.h"
#include "grapevine/result.h"
#include "grapevine/time.h"

namespace grapevine {

struct StateConfig {
  /// Off: the component is not built, Node::set() returns Errc::invalid_argument.
  bool enabled = true;
  /// This incarnation's generation: a restarted node must pick a higher one, and peers then drop
  /// everything the older generation wrote. 0 = the `now` of the node's first call (the runtime
  /// passes wall-clock nanoseconds instead, so a reboot does not go backwards).
  std::uint64_t generation = 0;
  /// One gossip round (a summary to `fanout` random live members) every interval.
  Duration gossip_interval = Duration::milliseconds(200);
  std::uint32_t fanout = 2;
  /// Datagram budget for digests and deltas (bytes of UDP payload).
  std::size_t packet_budget_bytes = 1400;
  /// Most datagrams one delta reply may take before the rest waits for the next round.
  std::uint32_t datagrams_per_reply_max = 4;
  /// A delta larger than this (or one key too big for any datagram) goes over a stream.
  std::size_t stream_threshold_bytes = 16 * 1024;
  /// Most bytes one stream reply carries (the rest follows on later rounds); <= 20 MB.
  std::size_t stream_bytes_max = 16u << 20;
  // Limits (each refusal is counted in StateStats).
  std::size_t key_bytes_max = 256;
  std::size_t value_bytes_max = 64 * 1024;
  std::size_t keys_per_node_max = 10'000;
  /// Key + value bytes one node may own (tombstones count their key).
  std::size_t node_bytes_max = 1u << 20;
  /// Key + value bytes held from all peers together: over it, new peer state is refused.
  std::size_t peer_bytes_max = 256u << 20;
  /// Deleted keys (tombstones) are forgotten this long after the delete was seen.
  Duration tombstone_grace = Duration::seconds(15 * 60);
  /// The state of a member that left or failed is dropped this long after it stopped being live.
  Duration departed_grace = Duration::seconds(60);
};

/// Checks the settings: invalid_argument for a zero interval, fanout outside 1..8, a packet
/// budget outside [64, 65507], stream_bytes_max over 20 MB, key or value limits over the wire's
/// (4096 bytes, 1 MiB).
Result<void> validate(const StateConfig& config) noexcept;

/// One key of one node, as get()/entries() return it (owning copies: valid after the call).
struct StateEntry {
  std::uint64_t node_id = 0;  // node_id_of(the owner's address)
  std::string key;
  std::string value;
  std::uint64_t version = 0;
};

struct StateStats {
  std::uint64_t rounds = 0, summaries_sent = 0, digests_sent = 0, deltas_sent = 0;
  std::uint64_t streams_sent = 0, stream_bytes_sent = 0, bytes_sent = 0;
  std::uint64_t keys_applied = 0, resets = 0, generations_replaced = 0, nodes_dropped = 0;
  std::uint64_t tombstones_collected = 0, ttl_expired = 0;
  std::uint64_t malformed = 0, stale = 0, gaps = 0;
  std::uint64_t refused_key_bytes = 0, refused_value_bytes = 0, refused_keys_per_node = 0;
  std::uint64_t refused_node_bytes = 0, refused_peer_bytes = 0;
};

}  // namespace grapevine
