// Scuttlebutt rounds and exchanges (see scuttlebutt.h): summary, digest, delta, requests.
#include "core/state/scuttlebutt.h"

#include <algorithm>
#include <array>

#include "util/assert.h"
#include "wire/framing.h"
#include "wire/native_state.h"

namespace grapevine::detail {

namespace {
constexpr Duration kHousekeepingInterval = Duration::seconds(1);
// Body room in one datagram: budget minus version byte, frame type and a 3-byte length.
std::size_t body_budget(const StateConfig& c) noexcept { return c.packet_budget_bytes - 5; }

std::size_t entries_size(std::span<const wire::StateDigestEntry> entries) noexcept {
  std::size_t n = wire::varint_size(entries.size());
  std::uint64_t prev = 0;
  for (const auto& e : entries) {
    n += wire::state_entry_size(e, prev);
    prev = e.node;
  }
  return n;
}

// Bytes of the block carrying everything of `n` above `from`; `largest` = its largest key op.
std::size_t block_size(const NodeRecord& n, std::uint64_t from, std::size_t& largest) noexcept {
  wire::StateBlockHeader h{n.id, n.generation, n.last_gc, from, n.max_version, n.keys.size()};
  std::size_t size = wire::state_block_header_size(h);
  for (auto it = n.by_version.upper_bound(from); it != n.by_version.end(); ++it) {
    const std::size_t op = wire::state_key_op_size(it->second->first.size(),
                                                   it->second->second.value.size(), it->first);
    largest = std::max(largest, op);
    size += op;
  }
  return size;
}

bool is_reset(const NodeRecord& n, std::uint64_t from) noexcept {
  return from == 0 && n.last_gc > 0;
}

// Appends the longest prefix of `n` above `from` that fits in `w` (a reset only whole), and
// advances `from` to where the block reached. False when not even one key fits.
bool append_block(wire::Writer& w, const NodeRecord& n, std::uint64_t& from) noexcept {
  wire::StateBlockHeader h{n.id, n.generation, n.last_gc, from, n.max_version, n.keys.size()};
  std::size_t need = wire::state_block_header_size(h);
  if (need > w.remaining()) return false;
  const auto first = n.by_version.upper_bound(from);
  auto end = first;
  std::uint64_t count = 0, last = from;
  for (; end != n.by_version.end(); ++end) {
    const std::size_t op = wire::state_key_op_size(end->second->first.size(),
                                                   end->second->second.value.size(), end->first);
    if (need + op > w.remaining()) break;
    need += op;
    ++count;
    last = end->first;
  }
  const bool all = end == n.by_version.end();
  if (!all && (count == 0 || is_reset(n, from))) return false;
  h.keys = count;
  h.up_to = all ? n.max_version : last;
  wire::write_state_block_header(w, h);
  for (auto it = first; it != end; ++it) {
    const auto& [key, rec] = *it->second;
    wire::write_state_key_op(w, {key, std::as_bytes(std::span(rec.value.data(), rec.value.size())),
                                 rec.version, rec.tombstone});
  }
  from = h.up_to;
  return true;
}
}  // namespace

Scuttlebutt::Scuttlebutt(const StateConfig& config, const Address& self, const Group& live,
                         std::uint64_t seed)
    : config_(config), self_(self), live_(live), rng_(seed), store_(config_, node_id_of(self)) {
  GV_ASSERT(config_.packet_budget_bytes >= 64 &&
            config_.packet_budget_bytes <= wire::kDatagramBytesMax);
}

void Scuttlebutt::start(Time now) {
  if (started_) return;
  started_ = true;
  generation_ = config_.generation != 0 ? config_.generation : std::uint64_t(now.ns()) + 1;
  store_.set_generation(generation_);
  const auto interval = config_.gossip_interval.ns();
  next_round_ = now + Duration::nanoseconds(std::int64_t(rng_.below(std::uint64_t(interval))));
  next_housekeeping_ = now + kHousekeepingInterval;
}

void Scuttlebutt::on_timeout(Time now, Effects& fx) {
  start(now);
  fx_ = &fx;
  if (now >= next_housekeeping_) {
    housekeeping(now);
    next_housekeeping_ = now + kHousekeepingInterval;
  }
  if (now >= next_round_) {
    round(now, fx);
    next_round_ = now + config_.gossip_interval;
  }
  fx_ = nullptr;
}

void Scuttlebutt::round(Time now, Effects& fx) {
  ++store_.stats().rounds;
  store_.expire(now, *this);
  const wire::StateSummary mine = store_.summary();
  const std::uint32_t n = live_.size();
  if (mine.count == 0 || n <= 1) return;  // nothing anywhere we know of: say nothing
  const std::uint32_t k = std::min<std::uint32_t>(config_.fanout, n - 1);
  std::uint32_t picked[8];
  std::uint32_t count = 0;
  for (std::uint32_t tries = 0; count < std::min<std::uint32_t>(k, 8) && tries < 32; ++tries) {
    auto i = std::uint32_t(1 + rng_.below(n - 1));
    if (std::find(picked, picked + count, i) != picked + count) continue;
    picked[count++] = i;
    std::array<std::byte, 32> buf;
    wire::Writer w(buf);
    wire::begin_datagram(w);
    wire::write_state_summary(w, mine);
    send_bytes(live_.address(i), w.written(), fx);
    ++store_.stats().summaries_sent;
  }
}

void Scuttlebutt::housekeeping(Time now) {
  store_.collect(now);
  // Nothing held about other nodes (the common case without keys): nothing to check, and no
  // O(N log N) sort of the live ids every second on every node.
  const auto& held = store_.nodes();
  if (held.empty() || (held.size() == 1 && held.begin()->first == store_.self_id())) {
    store_.forget_drops(now - config_.departed_grace * 4);
    return;
  }
  std::vector<std::uint64_t> live_ids;
  live_ids.reserve(live_.size());
  for (std::uint32_t i = 0; i < live_.size(); ++i) live_ids.push_back(node_id_of(live_.address(i)));
  std::sort(live_ids.begin(), live_ids.end());
  std::vector<std::uint64_t> gone;
  for (const auto& [id, rec] : store_.nodes()) {
    if (id == store_.self_id()) continue;
    NodeRecord& n = *store_.find(id);
    if (std::binary_search(live_ids.begin(), live_ids.end(), id)) {
      n.absent_since = Time::max();
    } else if (n.absent_since == Time::max()) {
      n.absent_since = now;
    } else if (now - n.absent_since >= config_.departed_grace) {
      gone.push_back(id);
    }
  }
  for (auto id : gone) store_.drop(id, now, *this);
  store_.forget_drops(now - config_.departed_grace * 4);
}

// ---- exchanges ----------------------------------------------------------------------------

void Scuttlebutt::on_frame(Time now, const Address& from, const wire::Frame& frame,
                           Effects& fx) {
  start(now);
  fx_ = &fx;
  switch (wire::StateFrame(frame.type)) {
    case wire::StateFrame::summary:
      if (auto s = wire::decode_state_summary(frame.body)) on_summary(from, *s, fx);
      else ++store_.stats().malformed;
      break;
    case wire::StateFrame::buckets:
      if (auto b = wire::decode_state_buckets(frame.body)) on_buckets(from, *b, fx);
      else ++store_.stats().malformed;
      break;
    case wire::StateFrame::digest:
      if (auto d = wire::decode_state_digest(frame.body)) on_digest(from, *d, fx);
      else ++store_.stats().malformed;
      break;
    case wire::StateFrame::delta:
      on_delta(now, from, frame.body, fx);
      break;
    default:
      ++store_.stats().malformed;  // a state frame type we do not know
  }
  fx_ = nullptr;
}

void Scuttlebutt::on_stream(Time now, const Address& from, std::span<const std::byte> message,
                            Effects& fx) {
  start(now);
  auto body = wire::decode_state_stream(message);
  if (!body) return void(++store_.stats().malformed);
  fx_ = &fx;
  on_delta(now, from, *body, fx);
  fx_ = nullptr;
}

void Scuttlebutt::on_summary(const Address& from, const wire::StateSummary& s, Effects& fx) {
  const wire::StateSummary mine = store_.summary();
  if (s.count == mine.count && s.hash == mine.hash) return;  // in sync: silence
  if (mine.count == 0) return send_digest(from, wire::kAllBuckets, fx);  // we hold nothing
  std::array<std::byte, 160> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  if (!wire::write_state_buckets(w, store_.buckets())) return;
  send_bytes(from, w.written(), fx);
}

void Scuttlebutt::on_buckets(const Address& from, const wire::StateBuckets& b, Effects& fx) {
  std::uint32_t mask = 0;
  for (std::uint32_t i = 0; i < wire::kStateBuckets; ++i) {
    if (b.hash[i] != store_.buckets().hash[i]) mask |= 1u << i;
  }
  if (mask != 0) send_digest(from, mask, fx);
}

// Our digest for the id window starting at the cursor, as much as one datagram holds.
void Scuttlebutt::send_digest(const Address& to, std::uint32_t mask, Effects& fx) {
  wire::StateDigest d;
  d.mask = mask;
  d.lo = digest_cursor_;
  const std::size_t room = body_budget(config_) - 3 * 10 - 4;
  std::size_t size = 0;
  std::uint64_t prev = 0;
  const auto& nodes = store_.nodes();
  auto it = nodes.lower_bound(digest_cursor_);
  for (; it != nodes.end(); ++it) {
    const NodeRecord& n = it->second;
    if (n.max_version == 0 || (mask & (1u << wire::state_bucket(n.id))) == 0) continue;
    wire::StateDigestEntry e{n.id, n.generation, n.max_version};
    const std::size_t add = wire::state_entry_size(e, prev);
    if (size + add > room) break;
    size += add;
    prev = n.id;
    d.entries.push_back(e);
  }
  d.hi = it == nodes.end() ? 0 : it->first;
  digest_cursor_ = d.hi;
  std::vector<std::byte> buf(config_.packet_budget_bytes);
  wire::Writer w(buf);
  wire::begin_datagram(w);
  if (!wire::write_state_digest(w, d)) return;
  send_bytes(to, w.written(), fx);
  ++store_.stats().digests_sent;
}

void Scuttlebutt::plan_for(const NodeRecord& n, bool known, std::uint64_t gen, std::uint64_t max,
                           std::vector<Plan>& out) const {
  if (n.max_version == 0) return;
  if (!known || gen < n.generation) {
    out.push_back({&n, 0});
  } else if (gen == n.generation && max < n.max_version) {
    out.push_back({&n, max < n.last_gc ? 0 : max});  // below our collected deletes: reset
  }
}

void Scuttlebutt::on_digest(const Address& from, const wire::StateDigest& d, Effects& fx) {
  std::vector<wire::StateDigestEntry> requests;
  for (const auto& e : d.entries) {
    if (e.node == store_.self_id() &&
        (e.generation > generation_ ||
         (e.generation == generation_ && e.max_version > store_.self().max_version))) {
      // Peers hold a generation of ours at least as new as this one (our clock went back, or
      // a configured generation was reused): move past it, or our writes would look stale.
      generation_ = e.generation + 1;
      store_.set_generation(generation_);
      ++store_.stats().generations_replaced;
    }
    if (e.node == store_.self_id() || e.max_version == 0 || store_.dropped(e.node, e.generation)) {
      continue;
    }
    const NodeRecord* n = store_.find(e.node);
    if (n == nullptr || e.generation > n->generation) {
      requests.push_back({e.node, 0, 0});
    } else if (e.generation == n->generation && e.max_version > n->max_version) {
      requests.push_back({e.node, n->generation, n->max_version});
    }
  }
  std::vector<Plan> plans;
  const auto& nodes = store_.nodes();
  for (auto it = nodes.lower_bound(d.lo); it != nodes.end() && (d.hi == 0 || it->first < d.hi);
       ++it) {
    if ((d.mask & (1u << wire::state_bucket(it->first))) == 0) continue;
    auto e = std::lower_bound(d.entries.begin(), d.entries.end(), it->first,
                              [](const auto& x, std::uint64_t id) { return x.node < id; });
    const bool known = e != d.entries.end() && e->node == it->first;
    plan_for(it->second, known, known ? e->generation : 0, known ? e->max_version : 0, plans);
  }
  send_delta(from, requests, plans, fx);
}

void Scuttlebutt::on_delta(Time now, const Address& from, std::span<const std::byte> body,
                           Effects& fx) {
  wire::StateDeltaReader r(body);
  wire::StateBlockHeader h;
  while (r.next_block(h)) store_.apply(now, h, r, *this);
  if (!r.ok()) return void(++store_.stats().malformed);
  if (r.requests().empty()) return;
  std::vector<Plan> plans;
  for (const auto& q : r.requests()) {
    if (const NodeRecord* n = store_.find(q.node)) {
      plan_for(*n, q.generation != 0, q.generation, q.max_version, plans);
    }
  }
  send_delta(from, {}, plans, fx);
}

// Picks the carrier: one datagram when it all fits; a stream when it is big, holds a key no
// datagram can carry, or a reset that must arrive whole; else a few datagrams, the rest later.
void Scuttlebutt::send_delta(const Address& to, std::span<const wire::StateDigestEntry> requests,
                             std::vector<Plan>& plans, Effects& fx) {
  if (plans.empty() && requests.empty()) return;
  std::sort(plans.begin(), plans.end(), [](const Plan& a, const Plan& b) {
    const std::uint64_t da = a.node->max_version - a.from, db = b.node->max_version - b.from;
    return da != db ? da < db : a.node->id < b.node->id;
  });
  const std::size_t room = body_budget(config_);
  std::size_t total = entries_size(requests);
  bool needs_stream = false;
  for (const Plan& p : plans) {
    std::size_t largest = 0;
    const std::size_t b = block_size(*p.node, p.from, largest);
    total += b;
    if (largest + 64 > room || (is_reset(*p.node, p.from) && b > room / 2)) needs_stream = true;
  }
  if (total > room && (needs_stream || total > config_.stream_threshold_bytes)) {
    send_stream(to, requests, plans, std::min(total, config_.stream_bytes_max), fx);
  } else {
    send_datagrams(to, requests, plans, fx);
  }
}

void Scuttlebutt::send_datagrams(const Address& to,
                                 std::span<const wire::StateDigestEntry> requests,
                                 std::vector<Plan>& plans, Effects& fx) {
  const std::size_t room = body_budget(config_);
  // Requests come from one digest, so they fit one datagram; trim them if a peer's did not.
  while (!requests.empty() && entries_size(requests) > room / 2) {
    requests = requests.first(requests.size() / 2);
  }
  std::vector<std::byte> body(room), dgram(config_.packet_budget_bytes);
  std::size_t next = 0;
  for (std::uint32_t sent = 0; sent < config_.datagrams_per_reply_max; ++sent) {
    wire::Writer b(body);
    wire::write_state_entries(b, sent == 0 ? requests : std::span<const wire::StateDigestEntry>{});
    bool any = sent == 0 && !requests.empty();
    for (std::size_t i = next; i < plans.size(); ++i) {
      Plan& p = plans[i];
      if (!append_block(b, *p.node, p.from)) break;
      any = true;
      if (p.from != p.node->max_version) break;  // the datagram is full
      next = i + 1;
    }
    if (!any) break;
    wire::Writer w(dgram);
    wire::begin_datagram(w);
    if (!wire::framing::put(w, std::uint8_t(wire::StateFrame::delta), b)) break;
    send_bytes(to, w.written(), fx);
    ++store_.stats().deltas_sent;
    if (next >= plans.size()) break;
  }
}

void Scuttlebutt::send_stream(const Address& to, std::span<const wire::StateDigestEntry> requests,
                              std::vector<Plan>& plans, std::size_t bytes, Effects& fx) {
  std::vector<std::byte> body(bytes);
  wire::Writer b(body);
  wire::write_state_entries(b, requests);
  for (Plan& p : plans) {
    if (!append_block(b, *p.node, p.from) || p.from != p.node->max_version) break;
  }
  auto msg = wire::make_state_stream(b.written());
  fx.send_stream(to, msg);
  ++store_.stats().streams_sent;
  store_.stats().stream_bytes_sent += msg.size();
}

void Scuttlebutt::send_bytes(const Address& to, std::span<const std::byte> datagram,
                             Effects& fx) {
  fx.send(to, datagram);
  store_.stats().bytes_sent += datagram.size();
}

// ---- the owner's API and watchers -----------------------------------------------------------

Result<std::uint64_t> Scuttlebutt::set(Time now, std::string_view key, std::string_view value,
                                       Duration ttl, Effects& fx) {
  start(now);
  fx_ = &fx;
  auto r = store_.set(now, key, value, ttl, *this);
  fx_ = nullptr;
  return r;
}

Result<std::uint64_t> Scuttlebutt::erase(Time now, std::string_view key, Effects& fx) {
  start(now);
  fx_ = &fx;
  auto r = store_.erase(now, key, *this);
  fx_ = nullptr;
  return r;
}

std::optional<StateEntry> Scuttlebutt::get(std::uint64_t node_id, std::string_view key) const {
  const NodeRecord* n = store_.find(node_id);
  if (n == nullptr) return std::nullopt;
  auto it = n->keys.find(key);
  if (it == n->keys.end() || it->second.tombstone) return std::nullopt;
  return StateEntry{node_id, it->first, it->second.value, it->second.version};
}

std::vector<StateEntry> Scuttlebutt::entries(std::string_view prefix) const {
  std::vector<StateEntry> out;
  for (const auto& [id, n] : store_.nodes()) {
    for (auto it = n.keys.lower_bound(prefix);
         it != n.keys.end() && it->first.starts_with(prefix); ++it) {
      if (!it->second.tombstone) out.push_back({id, it->first, it->second.value, it->second.version});
    }
  }
  return out;
}

std::uint64_t Scuttlebutt::watch(std::string_view prefix) {
  watches_.emplace_back(next_watch_, std::string(prefix));
  return next_watch_++;
}

void Scuttlebutt::unwatch(std::uint64_t id) {
  std::erase_if(watches_, [&](const auto& w) { return w.first == id; });
}

void Scuttlebutt::on_change(const NodeRecord& node, std::string_view key, const KeyRecord& rec,
                            StateOp op) {
  if (fx_ == nullptr || watches_.empty()) return;
  const bool watched = std::any_of(watches_.begin(), watches_.end(), [&](const auto& w) {
    return key.starts_with(w.second);
  });
  if (!watched) return;
  Event e;
  e.kind = EventKind::state_changed;
  e.subject_id = node.id;
  if (node.id >> 48 == 0) {
    e.subject = Address::ipv4_u32(std::uint32_t(node.id >> 16), std::uint16_t(node.id));
  }
  e.key = key;
  e.payload = std::as_bytes(std::span(rec.value.data(), rec.value.size()));
  e.version = rec.version;
  e.state_op = op;
  fx_->emit(e);
}

}  // namespace grapevine::detail
