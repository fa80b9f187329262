// NodeStateStore: the versioned key-value maps of every node this node knows, its own included,
// and the merge rules of scuttlebutt (van Renesse et al. 2008; chitchat's variant). No I/O and no
// protocol here: scuttlebutt.h decides what to send; this file decides what a write or a
// received block does to the maps.
//
// Rules:
//  - Only the owner writes its map. Each write (set, delete, TTL expiry) takes max_version + 1,
//    so a node's versions are unique and say the order of its writes.
//  - A node's (generation, max_version) only grows. A higher generation (a restart) replaces the
//    whole map; a lower one is stale and ignored.
//  - A block (wire/native_state.h) holding the keys in (from, up_to] applies when from <= our
//    max_version; we then hold up_to. A block stopped by a limit stops at its last applied key,
//    still a consistent prefix.
//  - Deletes are tombstones; tombstones older than the grace period are collected and raise
//    last_gc. A peer whose max_version is below our last_gc gets a reset (full state), so a
//    collected delete is never missed (chitchat's rule).
//  - Dropped nodes (departed members) are remembered with their generation: a gossip of that
//    generation or older does not bring them back.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "grapevine/result.h"
#include "grapevine/state.h"
#include "grapevine/time.h"
#include "wire/native_state.h"

namespace grapevine::detail {

struct KeyRecord {
  std::string value;
  std::uint64_t version = 0;
  bool tombstone = false;
  Time expires_at = Time::max();  // owner only: when a TTL'd key turns into a tombstone
  Time deleted_at{};              // local time the tombstone was written or learnt
};

struct NodeRecord {
  std::uint64_t id = 0;
  std::uint64_t generation = 0;
  std::uint64_t max_version = 0;
  std::uint64_t last_gc = 0;
  using Keys = std::map<std::string, KeyRecord, std::less<>>;
  Keys keys;
  std::map<std::uint64_t, const Keys::value_type*> by_version;  // version -> entry of `keys`
  std::size_t bytes = 0;                                   // key + value bytes held
  std::uint32_t tombstones = 0;
  std::uint32_t ttl_keys = 0;
  Time absent_since = Time::max();  // peers: when it stopped being a live member
};

/// Told about every change a write or a merge makes (for watchers).
class ChangeSink {
 public:
  virtual ~ChangeSink() = default;
  virtual void on_change(const NodeRecord& node, std::string_view key, const KeyRecord& rec,
                         StateOp op) = 0;
};

class NodeStateStore {
 public:
  NodeStateStore(const StateConfig& config, std::uint64_t self_id);

  /// Owner writes. Errors: invalid_argument (empty key), too_large (key, value, keys per node
  /// or node bytes over their limit), rejected (erase of a key that is not set).
  Result<std::uint64_t> set(Time now, std::string_view key, std::string_view value, Duration ttl,
                            ChangeSink& sink);
  Result<std::uint64_t> erase(Time now, std::string_view key, ChangeSink& sink);
  /// Turns our TTL'd keys whose time has come into tombstones. Returns how many.
  std::uint32_t expire(Time now, ChangeSink& sink);
  /// Forgets tombstones older than the grace period, in every map. Returns how many.
  std::uint32_t collect(Time now);

  /// Applies a received block (its key ops are read from `reader`); counts what it refuses.
  void apply(Time now, const wire::StateBlockHeader& h, wire::StateDeltaReader& reader,
             ChangeSink& sink);
  /// Forgets a peer's map (a departed member), remembering its generation.
  void drop(std::uint64_t id, Time now, ChangeSink& sink);
  /// Whether `id` was dropped at generation >= `generation` (its gossip must not revive it).
  [[nodiscard]] bool dropped(std::uint64_t id, std::uint64_t generation) const noexcept {
    auto it = dropped_.find(id);
    return it != dropped_.end() && generation <= it->second.generation;
  }
  /// Forgets remembered drops older than `before`.
  void forget_drops(Time before);

  [[nodiscard]] NodeRecord& self() noexcept { return nodes_.at(self_id_); }
  [[nodiscard]] const NodeRecord* find(std::uint64_t id) const noexcept;
  [[nodiscard]] NodeRecord* find(std::uint64_t id) noexcept;
  [[nodiscard]] const std::map<std::uint64_t, NodeRecord>& nodes() const noexcept {
    return nodes_;
  }
  [[nodiscard]] std::uint64_t self_id() const noexcept { return self_id_; }
  /// Digest summary: entries (nodes with max_version > 0) and their order-free hash.
  [[nodiscard]] wire::StateSummary summary() const noexcept { return {count_, hash_}; }
  /// The same hash split by digest bucket (wire::state_bucket).
  [[nodiscard]] const wire::StateBuckets& buckets() const noexcept { return buckets_; }
  [[nodiscard]] std::size_t peer_bytes() const noexcept { return peer_bytes_; }
  [[nodiscard]] StateStats& stats() noexcept { return stats_; }
  [[nodiscard]] const StateStats& stats() const noexcept { return stats_; }
  void set_generation(std::uint64_t generation) noexcept;

 private:
  struct Dropped {
    std::uint64_t generation;
    Time at;
  };
  void put(NodeRecord& n, std::string_view key, KeyRecord rec, ChangeSink& sink);
  void remove_key(NodeRecord& n, NodeRecord::Keys::iterator it);
  void clear(NodeRecord& n, ChangeSink& sink);
  bool admit(NodeRecord& n, const wire::StateKeyOp& op);
  void rehash(const NodeRecord& n, std::uint64_t old_gen, std::uint64_t old_max) noexcept;
  void account(const NodeRecord& n, std::ptrdiff_t delta) noexcept;

  const StateConfig& config_;
  std::uint64_t self_id_;
  std::map<std::uint64_t, NodeRecord> nodes_;
  std::map<std::uint64_t, Dropped> dropped_;
  std::uint64_t count_ = 0, hash_ = 0;
  wire::StateBuckets buckets_;
  std::size_t peer_bytes_ = 0;
  StateStats stats_;
};

}  // namespace grapevine::detail
