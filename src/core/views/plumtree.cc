#include "core/views/plumtree.h"

#include <algorithm>

#include "util/assert.h"

namespace grapevine::views {
namespace {

constexpr std::size_t kQueueMax = 256;         // queued announcements before an early flush
constexpr std::size_t kAnnounceOnLinkMax = 8;  // newest cached ids announced to a new link

// One frame per datagram: Plumtree messages go to different peers, nothing to batch.
template <class WriteFn>
void send_frame(Peer to, PlumtreeTransport& tx, Effects& fx, WriteFn write) {
  std::array<std::byte, wire::kPacketBudgetBytesMax> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  if (write(w)) tx.send_to(to, w.written(), fx);
}

}  // namespace

Plumtree::Plumtree(const PlumtreeConfig& config) : cfg_(config) {
  received_.reset(config.received_ids);
  // A GRAFT for a payload we announced comes at most ihave_interval (our IHAVE's wait) +
  // graft_timeout + two retries (we may be the third announcer) after we received it; two
  // more retries cover link delays.
  cache_.reset(config.cache_messages, 4u * config.cache_messages,
               config.ihave_interval + config.graft_timeout + config.graft_retry * 4);
}

int Plumtree::slot_of(Peer p) const noexcept {
  for (std::size_t i = 0; i < kPeersMax; ++i) {
    if (peers_[i] == p) return int(i);
  }
  return -1;
}

void Plumtree::neighbor_up(Time now, Peer p) {
  if (p == kNoPeer || slot_of(p) >= 0) return;
  int s = slot_of(kNoPeer);
  GV_ASSERT(s >= 0);  // HyParView never has more than kPeersMax neighbours
  peers_[std::size_t(s)] = p;
  dups_[std::size_t(s)] = 0;
  auto bit = std::uint8_t(1u << s);
  eager_mask_ |= bit;  // new links start eager: they may be tree edges
  // Only the newest few: an old id may have left the peer's seen ring (it can be far ahead of
  // us), and it would then deliver that message twice. Seen at 10^6 nodes with all 32 cached
  // ids announced: 1.5M duplicate deliveries.
  const std::size_t n = std::min(cache_.size(), kAnnounceOnLinkMax);
  if (n == 0) return;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t slot = cache_.newest(k);
    cache_.touch(slot, now);  // announced again: kept through the GRAFTs it may draw
    const PayloadCache::Entry& c = cache_.entry(slot);
    auto q =
        std::find_if(queue_.begin(), queue_.end(), [&](const Queued& x) { return x.id == c.id; });
    if (q != queue_.end()) {
      q->mask |= bit;
    } else if (queue_.size() < kQueueMax) {
      queue_.push_back(Queued{c.id, c.hops + 1u, bit});
    }
  }
  if (flush_at_ == Time::max()) flush_at_ = now + cfg_.ihave_interval;
}

void Plumtree::neighbor_down(Peer p, bool reachable) noexcept {
  int s = slot_of(p);
  if (s < 0 || p == kNoPeer) return;
  peers_[std::size_t(s)] = kNoPeer;
  auto bit = std::uint8_t(1u << s);
  eager_mask_ &= std::uint8_t(~bit);
  for (auto& q : queue_) q.mask &= std::uint8_t(~bit);
  if (reachable) return;  // it still answers GRAFTs (on_graft needs no link)
  // A dead announcer cannot answer a GRAFT: forget it as a source.
  for (auto& m : missing_) {
    auto end = std::remove(m.sources.begin(), m.sources.begin() + m.source_count, p);
    m.source_count = std::uint8_t(end - m.sources.begin());
  }
}

std::size_t Plumtree::eager_count() const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < kPeersMax; ++i) n += (eager_mask_ >> i) & 1u;
  return n;
}

void Plumtree::prefetch() const noexcept {
  const auto* at = reinterpret_cast<const char*>(this);
  const auto* end = reinterpret_cast<const char*>(&received_);
  for (; at < end; at += 64) __builtin_prefetch(at);
  received_.prefetch();
}

bool Plumtree::is_eager(Peer p) const noexcept {
  int s = slot_of(p);
  return s >= 0 && ((eager_mask_ >> s) & 1u);
}

void Plumtree::remember(Time now, std::uint64_t id, std::uint32_t hops, Peer parent,
                        std::span<const std::byte> payload) {
  received_.insert(id);
  cache_.put(now, id, parent, hops, payload);
}

void Plumtree::send_gossip(Peer to, std::uint64_t id, std::uint32_t hops,
                           std::span<const std::byte> payload, PlumtreeTransport& tx, Effects& fx) {
  ++stats_.payload_sent;
  send_frame(to, tx, fx, [&](wire::Writer& w) {
    return wire::hpv::write_gossip(w, wire::hpv::GossipFrame{id, hops, payload});
  });
}

// Eager push to the eager peers, announcement queued for the lazy ones; never back to the
// peer it came from. `hops` is the count the copies carry.
void Plumtree::spread(Time now, std::uint64_t id, std::uint32_t hops,
                      std::span<const std::byte> payload, int except_slot, PlumtreeTransport& tx,
                      Effects& fx) {
  std::uint8_t lazy = 0;
  for (std::size_t i = 0; i < kPeersMax; ++i) {
    if (peers_[i] == kNoPeer || int(i) == except_slot) continue;
    if ((eager_mask_ >> i) & 1u) {
      send_gossip(peers_[i], id, hops, payload, tx, fx);
    } else {
      lazy |= std::uint8_t(1u << i);
    }
  }
  if (lazy == 0) return;
  if (queue_.size() >= kQueueMax) flush_ihave(tx, fx);
  queue_.push_back(Queued{id, hops, lazy});
  if (flush_at_ == Time::max()) flush_at_ = now + cfg_.ihave_interval;
}

void Plumtree::broadcast(Time now, std::uint64_t id, std::span<const std::byte> payload,
                         PlumtreeTransport& tx, Effects& fx) {
  if (seen(id)) return;
  remember(now, id, 0, kNoPeer, payload);
  ++stats_.delivered;
  Event e;
  e.kind = EventKind::delivered;
  e.message = MessageId{id, 0};
  e.payload = payload;
  e.hops = 0;
  fx.emit(e);
  spread(now, id, 1, payload, -1, tx, fx);
}

void Plumtree::on_gossip(Time now, Peer from, const wire::hpv::GossipFrame& f,
                         PlumtreeTransport& tx, Effects& fx) {
  int s = slot_of(from);
  ++stats_.payload_received;
  if (seen(f.id)) {
    ++stats_.duplicates;
    // A second eager path: keep this link for announcements only.
    if (s >= 0 && ((eager_mask_ >> s) & 1u) &&
        ++dups_[std::size_t(s)] >= std::max<std::uint8_t>(cfg_.prune_after_duplicates, 1)) {
      dups_[std::size_t(s)] = 0;
      eager_mask_ &= std::uint8_t(~(1u << s));
      ++stats_.prune_sent;
      send_frame(from, tx, fx, [](wire::Writer& w) {
        return wire::hpv::write_control(w, wire::hpv::ControlKind::prune);
      });
    }
    return;
  }
  remember(now, f.id, f.hops, from, f.payload);
  drop_missing(f.id);
  ++stats_.delivered;
  Event e;
  e.kind = EventKind::delivered;
  e.message = MessageId{f.id, 0};
  e.payload = f.payload;
  e.hops = f.hops;
  fx.emit(e);
  if (s >= 0) {
    eager_mask_ |= std::uint8_t(1u << s);  // the link that delivered is a tree edge
    dups_[std::size_t(s)] = 0;
  }
  spread(now, f.id, f.hops + 1, f.payload, s, tx, fx);
}

void Plumtree::on_ihave(Time now, Peer from, const wire::hpv::IHaveFrame& f, PlumtreeTransport& tx,
                        Effects& fx) {
  for (std::uint32_t i = 0; i < f.count; ++i) {
    std::uint64_t id = f.entries[i].id;
    if (seen(id)) {
      maybe_optimize(from, f.entries[i], tx, fx);
      continue;
    }
    auto it = std::find_if(missing_.begin(), missing_.end(),
                           [&](const Missing& m) { return m.id == id; });
    if (it == missing_.end()) {
      if (missing_.size() >= cfg_.missing_max) {
        // Full: the entry due first is the one most likely given up on anyway.
        auto oldest = std::min_element(
            missing_.begin(), missing_.end(),
            [](const Missing& a, const Missing& b) { return a.deadline < b.deadline; });
        missing_.erase(oldest);
      }
      it = missing_.insert(missing_.end(), Missing{id, now + cfg_.graft_timeout, {}, 0});
    }
    if (it->source_count < it->sources.size() &&
        std::find(it->sources.begin(), it->sources.begin() + it->source_count, from) ==
            it->sources.begin() + it->source_count) {
      it->sources[it->source_count++] = from;
    }
  }
}

// The paper's tree optimisation: `from` announces a copy that would have reached us in
// e.hops, while ours took optimize_hops more: make `from` our parent (GRAFT with no ids: "push
// to me") and PRUNE the old parent.
void Plumtree::maybe_optimize(Peer from, const wire::hpv::IHaveEntry& e, PlumtreeTransport& tx,
                              Effects& fx) {
  if (cfg_.optimize_hops == 0) return;
  int s = slot_of(from);
  if (s < 0 || ((eager_mask_ >> s) & 1u)) return;
  if (std::size_t k = cache_.find(e.id); k != PayloadCache::npos) {
    PayloadCache::Entry& c = cache_.entry(k);
    if (c.parent == kNoPeer || c.parent == from || c.hops < e.hops + cfg_.optimize_hops) return;
    int ps = slot_of(c.parent);
    if (ps < 0 || !((eager_mask_ >> ps) & 1u)) return;
    ++stats_.optimizations;
    eager_mask_ |= std::uint8_t(1u << s);
    eager_mask_ &= std::uint8_t(~(1u << ps));
    send_frame(from, tx, fx, [](wire::Writer& w) {
      return wire::hpv::write_graft(w, std::span<const std::uint64_t>());
    });
    ++stats_.prune_sent;
    send_frame(c.parent, tx, fx, [](wire::Writer& w) {
      return wire::hpv::write_control(w, wire::hpv::ControlKind::prune);
    });
    c.parent = from;
    c.hops = std::uint16_t(std::min<std::uint32_t>(e.hops, 0xffff));
  }
}

void Plumtree::on_graft(Peer from, const wire::hpv::GraftFrame& f, PlumtreeTransport& tx,
                        Effects& fx) {
  int s = slot_of(from);
  if (s >= 0) eager_mask_ |= std::uint8_t(1u << s);
  for (std::uint32_t i = 0; i < f.count; ++i) {
    std::size_t k = cache_.find(f.ids[i]);
    if (k == PayloadCache::npos) {
      ++stats_.graft_misses;
      continue;
    }
    send_gossip(from, f.ids[i], cache_.entry(k).hops + 1u, cache_.payload(k), tx, fx);
  }
}

void Plumtree::on_prune(Peer from) noexcept {
  int s = slot_of(from);
  if (s >= 0) eager_mask_ &= std::uint8_t(~(1u << s));
}

void Plumtree::drop_missing(std::uint64_t id) noexcept {
  auto it =
      std::find_if(missing_.begin(), missing_.end(), [&](const Missing& m) { return m.id == id; });
  if (it != missing_.end()) missing_.erase(it);
}

// One IHAVE datagram per lazy peer with every id queued for it (split at kIHaveIdsMax).
void Plumtree::flush_ihave(PlumtreeTransport& tx, Effects& fx) {
  std::array<wire::hpv::IHaveEntry, wire::hpv::kIHaveIdsMax> batch;
  for (std::size_t p = 0; p < kPeersMax; ++p) {
    if (peers_[p] == kNoPeer) continue;
    std::size_t n = 0;
    auto send = [&] {
      ++stats_.ihave_sent;
      stats_.ihave_ids_sent += n;
      send_frame(peers_[p], tx, fx, [&](wire::Writer& w) {
        return wire::hpv::write_ihave(w, std::span(batch.data(), n));
      });
      n = 0;
    };
    for (const auto& q : queue_) {
      if (!((q.mask >> p) & 1u)) continue;
      batch[n++] = wire::hpv::IHaveEntry{q.id, q.hops};
      if (n == batch.size()) send();
    }
    if (n > 0) send();
  }
  queue_.clear();
  flush_at_ = Time::max();
}

void Plumtree::fire_missing(Time now, PlumtreeTransport& tx, Effects& fx) {
  for (std::size_t i = 0; i < missing_.size();) {
    Missing& m = missing_[i];
    if (m.deadline > now) {
      ++i;
      continue;
    }
    if (m.source_count == 0) {  // nobody left to ask: give up (a later IHAVE restarts it)
      ++stats_.gave_up;
      missing_.erase(missing_.begin() + std::ptrdiff_t(i));
      continue;
    }
    Peer to = m.sources[0];
    std::copy(m.sources.begin() + 1, m.sources.begin() + m.source_count, m.sources.begin());
    --m.source_count;
    m.deadline = now + cfg_.graft_retry;
    int s = slot_of(to);
    if (s >= 0) eager_mask_ |= std::uint8_t(1u << s);
    ++stats_.graft_sent;
    std::uint64_t id = m.id;
    send_frame(to, tx, fx,
               [&](wire::Writer& w) { return wire::hpv::write_graft(w, std::span(&id, 1)); });
    ++i;
  }
}

void Plumtree::on_timeout(Time now, PlumtreeTransport& tx, Effects& fx) {
  if (now >= flush_at_) flush_ihave(tx, fx);
  fire_missing(now, tx, fx);
}

Time Plumtree::next_deadline() const noexcept {
  Time t = flush_at_;
  for (const auto& m : missing_) t = std::min(t, m.deadline);
  return t;
}

}  // namespace grapevine::views
