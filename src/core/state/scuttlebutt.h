// Scuttlebutt: replicated per-node key-value state by anti-entropy gossip.
//
// Algorithm: van Renesse, Dumitriu, Gough, Polyakov, "Efficient Reconciliation and Flow Control
// for Anti-Entropy Protocols" (LADIS 2008), in the shape chitchat (quickwit-oss) gives it: every
// node owns versioned keys; a digest maps each node to (generation, max_version); a peer answers
// a digest with the keys the digest lacks, per node in version order, so a delta cut short by
// the datagram budget is still a consistent prefix (the receiver then holds up to its last key).
// The exchange is symmetric: the answer also asks for what its sender lacks. Merge rules,
// generations and tombstones are in store.h.
//
// Our deviations from chitchat:
//  - Silence is free: a round sends only a 10-byte summary (digest entry count and an
//    order-free hash of the digest) to `fanout` random live members; a peer with the same
//    summary answers nothing, and a node whose cluster has no keys at all sends nothing.
//    A peer whose summary differs answers with 32 bucket hashes (node ids hashed into 32
//    buckets), and the digest then covers only the differing buckets: one change among 1,000
//    nodes costs a ~30-entry digest, not a 1,000-entry one.
//    SUMMARY -> BUCKETS -> DIGEST -> DELTA(+requests) -> DELTA is two round trips more than
//    chitchat's SYN, SYN-ACK, ACK, paid only when something differs.
//  - Digests are bounded and truncatable: a digest covers the node-id window [lo, hi) that fits
//    one datagram (ids delta-coded, ~6 bytes an entry), and the next digest starts where this one
//    stopped, so no cluster size overflows a datagram (chitchat's full digest overflowed past ~500
//    nodes).
//  - What does not fit in datagrams goes over a stream (Effects::send_stream): a delta above
//    stream_threshold_bytes, a key too big for any datagram, or a reset; so a joiner gets a 10 MB
//    state in one transfer and a 64 KiB value is never stuck (chitchat's "a delta that never
//    fits is never sent", #119). Smaller deltas take up to datagrams_per_reply_max datagrams.
//  - Blocks go smallest catch-up first (chitchat: unknown nodes, then staleness), so nodes with
//    few keys are not starved by one with many.
//  - Liveness comes from the node's membership (its live list), not from a heartbeat in the
//    digest: a member that is not live for departed_grace has its state dropped, and that
//    generation is remembered so gossip does not resurrect it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/state/store.h"
#include "grapevine/address.h"
#include "grapevine/event.h"
#include "grapevine/group.h"
#include "grapevine/result.h"
#include "grapevine/state.h"
#include "util/rng.h"
#include "wire/native.h"

namespace grapevine::detail {

class Scuttlebutt final : private ChangeSink {
 public:
  /// `live` (self at index 0) must outlive this machine. `config` is copied.
  Scuttlebutt(const StateConfig& config, const Address& self, const Group& live,
              std::uint64_t seed);

  /// One frame of the state family (wire/native_state.h) from a datagram.
  void on_frame(Time now, const Address& from, const wire::Frame& frame, Effects& fx);
  /// A state stream message (wire::is_state_stream).
  void on_stream(Time now, const Address& from, std::span<const std::byte> message, Effects& fx);
  void on_timeout(Time now, Effects& fx);
  [[nodiscard]] Time next_deadline() const noexcept { return next_round_; }

  /// Owner writes; errors as NodeStateStore::set / erase. Returns the key's new version.
  Result<std::uint64_t> set(Time now, std::string_view key, std::string_view value, Duration ttl,
                            Effects& fx);
  Result<std::uint64_t> erase(Time now, std::string_view key, Effects& fx);
  /// The live (not deleted) value of `key` at node `node_id`, if held.
  [[nodiscard]] std::optional<StateEntry> get(std::uint64_t node_id, std::string_view key) const;
  /// Every live key starting with `prefix`, of every node held, by (node, key).
  [[nodiscard]] std::vector<StateEntry> entries(std::string_view prefix) const;
  /// Changes of keys starting with `prefix` are emitted as EventKind::state_changed. Returns an
  /// id for unwatch().
  std::uint64_t watch(std::string_view prefix);
  void unwatch(std::uint64_t id);

  [[nodiscard]] const NodeStateStore& store() const noexcept { return store_; }
  [[nodiscard]] const StateStats& stats() const noexcept { return store_.stats(); }
  [[nodiscard]] std::uint64_t generation() const noexcept { return generation_; }

 private:
  struct Plan {
    const NodeRecord* node;
    std::uint64_t from;
  };
  void start(Time now);
  void round(Time now, Effects& fx);
  void housekeeping(Time now);
  void on_summary(const Address& from, const wire::StateSummary& s, Effects& fx);
  void on_buckets(const Address& from, const wire::StateBuckets& b, Effects& fx);
  void on_digest(const Address& from, const wire::StateDigest& d, Effects& fx);
  void on_delta(Time now, const Address& from, std::span<const std::byte> body, Effects& fx);
  void send_digest(const Address& to, std::uint32_t mask, Effects& fx);
  void plan_for(const NodeRecord& n, bool known, std::uint64_t gen, std::uint64_t max,
                std::vector<Plan>& out) const;
  void send_delta(const Address& to, std::span<const wire::StateDigestEntry> requests,
                  std::vector<Plan>& plans, Effects& fx);
  void send_datagrams(const Address& to, std::span<const wire::StateDigestEntry> requests,
                      std::vector<Plan>& plans, Effects& fx);
  void send_stream(const Address& to, std::span<const wire::StateDigestEntry> requests,
                   std::vector<Plan>& plans, std::size_t bytes, Effects& fx);
  void send_bytes(const Address& to, std::span<const std::byte> datagram, Effects& fx);
  void on_change(const NodeRecord& node, std::string_view key, const KeyRecord& rec,
                 StateOp op) override;

  StateConfig config_;
  Address self_;
  const Group& live_;
  Rng rng_;
  NodeStateStore store_;
  std::uint64_t generation_ = 0;
  bool started_ = false;
  Time next_round_{};
  Time next_housekeeping_{};
  std::uint64_t digest_cursor_ = 0;
  std::vector<std::pair<std::uint64_t, std::string>> watches_;
  std::uint64_t next_watch_ = 1;
  Effects* fx_ = nullptr;  // set during calls, for on_change
};

}  // namespace grapevine::detail
