// NodeStateStore: owner writes, merges of received blocks, tombstone collection (see store.h).
#include "core/state/store.h"

#include <algorithm>
#include <set>
#include <vector>

#include "util/assert.h"

namespace grapevine::detail {

namespace {
std::uint64_t mix(std::uint64_t id, std::uint64_t gen, std::uint64_t max) noexcept {
  std::uint64_t z = id * 0x9e3779b97f4a7c15ULL ^ gen * 0xbf58476d1ce4e5b9ULL ^ max;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::size_t record_bytes(std::string_view key, const KeyRecord& r) noexcept {
  return key.size() + r.value.size();
}
}  // namespace

NodeStateStore::NodeStateStore(const StateConfig& config, std::uint64_t self_id)
    : config_(config), self_id_(self_id) {
  nodes_[self_id].id = self_id;
}

void NodeStateStore::set_generation(std::uint64_t generation) noexcept {
  NodeRecord& n = self();
  const std::uint64_t old = n.generation;
  n.generation = generation;
  rehash(n, old, n.max_version);
}

const NodeRecord* NodeStateStore::find(std::uint64_t id) const noexcept {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}
NodeRecord* NodeStateStore::find(std::uint64_t id) noexcept {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

void NodeStateStore::rehash(const NodeRecord& n, std::uint64_t old_gen,
                            std::uint64_t old_max) noexcept {
  std::uint32_t& bucket = buckets_.hash[wire::state_bucket(n.id)];
  if (old_max > 0) {
    const std::uint64_t h = mix(n.id, old_gen, old_max);
    hash_ ^= h;
    bucket ^= std::uint32_t(h);
    --count_;
  }
  if (n.max_version > 0) {
    const std::uint64_t h = mix(n.id, n.generation, n.max_version);
    hash_ ^= h;
    bucket ^= std::uint32_t(h);
    ++count_;
  }
}

void NodeStateStore::account(const NodeRecord& n, std::ptrdiff_t delta) noexcept {
  if (n.id != self_id_) peer_bytes_ = std::size_t(std::ptrdiff_t(peer_bytes_) + delta);
}

// Replaces (or inserts) one key of `n`, keeping the indexes and byte counts right.
void NodeStateStore::put(NodeRecord& n, std::string_view key, KeyRecord rec, ChangeSink& sink) {
  auto it = n.keys.find(key);
  StateOp op = rec.tombstone ? StateOp::erase : StateOp::set;
  bool notify = !rec.tombstone;
  if (it != n.keys.end()) {
    if (!it->second.tombstone) op = rec.tombstone ? StateOp::erase : StateOp::update;
    notify = !(rec.tombstone && it->second.tombstone);
    remove_key(n, it);
  }
  std::ptrdiff_t bytes = std::ptrdiff_t(record_bytes(key, rec));
  if (rec.tombstone) ++n.tombstones;
  if (rec.expires_at != Time::max()) ++n.ttl_keys;
  auto [pos, inserted] = n.keys.emplace(std::string(key), std::move(rec));
  GV_ASSERT(inserted);
  n.by_version[pos->second.version] = &*pos;
  n.bytes += std::size_t(bytes);
  account(n, bytes);
  if (notify) sink.on_change(n, pos->first, pos->second, op);
}

void NodeStateStore::remove_key(NodeRecord& n, NodeRecord::Keys::iterator it) {
  const std::size_t bytes = record_bytes(it->first, it->second);
  if (it->second.tombstone) --n.tombstones;
  if (it->second.expires_at != Time::max()) --n.ttl_keys;
  n.by_version.erase(it->second.version);
  n.bytes -= bytes;
  account(n, -std::ptrdiff_t(bytes));
  n.keys.erase(it);
}

Result<std::uint64_t> NodeStateStore::set(Time now, std::string_view key, std::string_view value,
                                          Duration ttl, ChangeSink& sink) {
  if (key.empty()) return make_error(Errc::invalid_argument, "empty key");
  if (key.size() > config_.key_bytes_max) return make_error(Errc::too_large, "key over key_bytes_max");
  if (value.size() > config_.value_bytes_max) {
    return make_error(Errc::too_large, "value over value_bytes_max");
  }
  NodeRecord& n = self();
  const Time expires = ttl > Duration::zero() ? now + ttl : Time::max();
  auto it = n.keys.find(key);
  std::size_t after = n.bytes + key.size() + value.size();
  if (it != n.keys.end()) {
    if (!it->second.tombstone && it->second.value == value && it->second.expires_at == expires) {
      return it->second.version;  // unchanged: no new version
    }
    after -= record_bytes(it->first, it->second);
  } else if (n.keys.size() >= config_.keys_per_node_max) {
    return make_error(Errc::too_large, "keys over keys_per_node_max");
  }
  if (after > config_.node_bytes_max) return make_error(Errc::too_large, "over node_bytes_max");
  const std::uint64_t old = n.max_version;
  put(n, key, KeyRecord{std::string(value), ++n.max_version, false, expires, {}}, sink);
  rehash(n, n.generation, old);
  return n.max_version;
}

Result<std::uint64_t> NodeStateStore::erase(Time now, std::string_view key, ChangeSink& sink) {
  NodeRecord& n = self();
  auto it = n.keys.find(key);
  if (it == n.keys.end() || it->second.tombstone) return make_error(Errc::rejected, "no such key");
  const std::uint64_t old = n.max_version;
  put(n, key, KeyRecord{{}, ++n.max_version, true, Time::max(), now}, sink);
  rehash(n, n.generation, old);
  return n.max_version;
}

std::uint32_t NodeStateStore::expire(Time now, ChangeSink& sink) {
  NodeRecord& n = self();
  if (n.ttl_keys == 0) return 0;
  std::vector<std::string> due;
  for (const auto& [key, rec] : n.keys) {
    if (rec.expires_at <= now && !rec.tombstone) due.push_back(key);
  }
  for (const auto& key : due) (void)erase(now, key, sink);
  stats_.ttl_expired += due.size();
  return std::uint32_t(due.size());
}

std::uint32_t NodeStateStore::collect(Time now) {
  std::uint32_t collected = 0;
  for (auto& [id, n] : nodes_) {
    if (n.tombstones == 0) continue;
    for (auto it = n.keys.begin(); it != n.keys.end();) {
      auto next = std::next(it);
      if (it->second.tombstone && it->second.deleted_at + config_.tombstone_grace <= now) {
        n.last_gc = std::max(n.last_gc, it->second.version);
        remove_key(n, it);
        ++collected;
      }
      it = next;
    }
  }
  stats_.tombstones_collected += collected;
  return collected;
}

void NodeStateStore::clear(NodeRecord& n, ChangeSink& sink) {
  while (!n.keys.empty()) {
    auto it = n.keys.begin();
    if (!it->second.tombstone) {
      KeyRecord gone{{}, it->second.version, true, Time::max(), {}};
      sink.on_change(n, it->first, gone, StateOp::erase);
    }
    remove_key(n, it);
  }
  const std::uint64_t old = n.max_version;
  n.max_version = 0;
  n.last_gc = 0;
  rehash(n, n.generation, old);
}

void NodeStateStore::drop(std::uint64_t id, Time now, ChangeSink& sink) {
  NodeRecord* n = find(id);
  if (n == nullptr || id == self_id_) return;
  clear(*n, sink);
  dropped_[id] = Dropped{n->generation, now};
  nodes_.erase(id);
  ++stats_.nodes_dropped;
}

void NodeStateStore::forget_drops(Time before) {
  std::erase_if(dropped_, [&](const auto& d) { return d.second.at < before; });
}

// The configured limits, checked before a received key is stored (counted when refused).
bool NodeStateStore::admit(NodeRecord& n, const wire::StateKeyOp& op) {
  if (op.key.empty() || op.key.size() > config_.key_bytes_max) {
    ++stats_.refused_key_bytes;
    return false;
  }
  if (op.value.size() > config_.value_bytes_max) {
    ++stats_.refused_value_bytes;
    return false;
  }
  auto it = n.keys.find(op.key);
  std::ptrdiff_t delta = std::ptrdiff_t(op.key.size() + op.value.size());
  if (it != n.keys.end()) {
    delta -= std::ptrdiff_t(record_bytes(it->first, it->second));
  } else if (n.keys.size() >= config_.keys_per_node_max) {
    ++stats_.refused_keys_per_node;
    return false;
  }
  if (std::ptrdiff_t(n.bytes) + delta > std::ptrdiff_t(config_.node_bytes_max)) {
    ++stats_.refused_node_bytes;
    return false;
  }
  if (delta > 0 && peer_bytes_ + std::size_t(delta) > config_.peer_bytes_max) {
    ++stats_.refused_peer_bytes;
    return false;
  }
  return true;
}

void NodeStateStore::apply(Time now, const wire::StateBlockHeader& h,
                           wire::StateDeltaReader& reader, ChangeSink& sink) {
  if (h.node == self_id_) return;  // ours: only we write it (an older generation's echo)
  if (auto d = dropped_.find(h.node); d != dropped_.end()) {
    if (h.generation <= d->second.generation) return void(++stats_.stale);
    dropped_.erase(d);
  }
  NodeRecord* n = find(h.node);
  bool reset = false;
  if (n == nullptr) {
    if (h.from != 0) return void(++stats_.gaps);
    n = &nodes_[h.node];
    n->id = h.node;
    n->generation = h.generation;
  } else if (h.generation < n->generation) {
    return void(++stats_.stale);
  } else if (h.generation > n->generation) {
    if (h.from != 0) return void(++stats_.gaps);
    clear(*n, sink);  // a restart: the old incarnation's state is gone for good
    n->generation = h.generation;
    ++stats_.generations_replaced;
  } else {
    if (h.from > n->max_version) return void(++stats_.gaps);
    if (h.up_to <= n->max_version && h.last_gc <= n->last_gc) return void(++stats_.stale);
    reset = h.from == 0 && n->max_version < h.last_gc;  // deletes we missed were collected
  }
  const std::uint64_t old_max = n->max_version;
  std::uint64_t last_ok = h.from;
  bool stopped = false;
  std::set<std::string_view> seen;
  wire::StateKeyOp op;
  while (reader.next_key(op)) {
    if (stopped) continue;
    auto it = n->keys.find(op.key);
    const bool known = (op.version <= n->max_version && !reset) ||
                       (it != n->keys.end() && it->second.version >= op.version);
    if (!known) {
      if (!admit(*n, op)) {
        stopped = true;
        continue;
      }
      std::string value(reinterpret_cast<const char*>(op.value.data()), op.value.size());
      put(*n, op.key, KeyRecord{std::move(value), op.version, op.tombstone, Time::max(), now},
          sink);
      ++stats_.keys_applied;
    }
    if (reset) seen.insert(op.key);
    last_ok = op.version;
  }
  if (!reader.ok()) stopped = true;
  if (!stopped) last_ok = h.up_to;
  if (reset) {
    ++stats_.resets;
    for (auto it = n->keys.begin(); it != n->keys.end();) {
      auto next = std::next(it);
      if (it->second.version <= last_ok && !seen.contains(it->first)) {
        if (!it->second.tombstone) {
          sink.on_change(*n, it->first, KeyRecord{{}, it->second.version, true, {}, {}},
                         StateOp::erase);
        }
        remove_key(*n, it);
      }
      it = next;
    }
  }
  n->max_version = std::max(n->max_version, last_ok);
  if (!stopped) n->last_gc = std::max(n->last_gc, h.last_gc);
  rehash(*n, n->generation, old_max);
}

}  // namespace grapevine::detail
