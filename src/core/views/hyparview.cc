#include "core/views/hyparview.h"

#include <algorithm>

#include "core/views/frame_batch.h"
#include "util/assert.h"

namespace grapevine::views {
namespace hpv = wire::hpv;
namespace {

std::uint8_t clamp_u8(std::uint32_t v, std::size_t max) {
  return std::uint8_t(std::min<std::size_t>(v, max));
}

}  // namespace

HyParView::HyParView(const ViewConfig& config, const HyParViewTuning& tuning, const Address& self,
                     std::uint64_t seed)
    : ViewMachine(0, derive_seed(seed, 7)),
      p_{clamp_u8(config.hyparview_active_size, kActiveMax),
         clamp_u8(config.hyparview_passive_size, kPassiveMax),
         clamp_u8(config.hyparview_arwl, hpv::kWalkTtlMax),
         clamp_u8(config.hyparview_prwl, hpv::kWalkTtlMax),
         clamp_u8(config.hyparview_shuffle_active, kActiveMax),
         clamp_u8(config.hyparview_shuffle_passive, hpv::kShufflePeersMax - 1 - kActiveMax),
         clamp_u8(config.hyparview_shuffle_walk_length, hpv::kWalkTtlMax),
         clamp_u8(std::max<std::uint32_t>(tuning.keepalive_misses, 1), 200),
         clamp_u8(std::max<std::uint32_t>(tuning.keepalive_idle_periods == 0
                                              ? std::max(tuning.keepalive_misses, 1u) - 1
                                              : tuning.keepalive_idle_periods,
                                          1),
                  200),
         config.period,
         tuning.keepalive_period,
         tuning.neighbor_timeout,
         tuning.plumtree},
      self_(peer_of(self)),
      tree_(p_.plumtree),
      rng_(seed) {
  GV_ASSERT(p_.active_size >= 1 && p_.passive_size >= 1);
  if (config.contact.valid() && config.contact != self) contact_ = peer_of(config.contact);
}

// ---- bookkeeping ----------------------------------------------------------------------------

int HyParView::active_slot(Peer p) const noexcept {
  for (std::size_t i = 0; i < active_n_; ++i) {
    if (active_[i] == p) return int(i);
  }
  return -1;
}

int HyParView::passive_slot(Peer p) const noexcept {
  for (std::size_t i = 0; i < passive_n_; ++i) {
    if (passive_[i] == p) return int(i);
  }
  return -1;
}

int HyParView::pending_slot(Peer p) const noexcept {
  for (std::size_t i = 0; i < pending_n_; ++i) {
    if (pending_[i] == p) return int(i);
  }
  return -1;
}

void HyParView::refresh_view_cache() noexcept {
  for (std::size_t i = 0; i < active_n_; ++i) view_[i] = address_of(active_[i]);
}

void HyParView::send_to(Peer to, std::span<const std::byte> datagram, Effects& fx) {
  int s = active_slot(to);
  if (s >= 0) sent_mask_ |= std::uint8_t(1u << s);
  fx.send(address_of(to), datagram);
}

void HyParView::send_control(Peer to, hpv::ControlKind kind, Effects& fx) {
  std::array<std::byte, 8> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  hpv::write_control(w, kind);
  ++stats_.control_sent;
  send_to(to, w.written(), fx);
}

// NEIGHBOR_REJECT with a sample of our passive view in the same datagram. Our deviation: a
// node refused by the few passive peers it knows (a small clique cut off from the rest, whose
// shuffles never leave it) would otherwise retry the same refusals forever; the sample gives
// it fresh candidates, some with room.
void HyParView::send_reject(Peer to, Effects& fx) {
  std::array<Peer, kPassiveMax> p = passive_;
  rng_.shuffle(std::span(p.data(), passive_n_));
  std::size_t n = std::min<std::size_t>(passive_n_, p_.kp);
  std::array<std::byte, 256> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  hpv::write_control(w, hpv::ControlKind::neighbor_reject);
  if (n > 0) hpv::write_shuffle_reply(w, std::span(p.data(), n));
  ++stats_.control_sent;
  send_to(to, w.written(), fx);
}

// Adds `p` to the active view, dropping a random neighbour (DISCONNECT) if full. The caller
// makes sure `p` learns about it (JOIN_ACCEPT, NEIGHBOR_ACCEPT), keeping links symmetric.
void HyParView::add_active(Peer p, Effects& fx) {
  if (p == self_ || p == kNoPeer || active_slot(p) >= 0) return;
  if (active_n_ >= p_.active_size) {
    auto victim = std::size_t(rng_.below(active_n_));
    send_control(active_[victim], hpv::ControlKind::disconnect, fx);
    remove_active(victim, true);
  }
  remove_passive(p);
  if (int s = pending_slot(p); s >= 0) remove_pending(std::size_t(s));
  std::size_t s = active_n_++;
  active_[s] = p;
  silent_[s] = 0;
  idle_[s] = 0;
  heard_mask_ |= std::uint8_t(1u << s);  // a fresh link gets a full timeout before judgement
  sent_mask_ &= std::uint8_t(~(1u << s));
  tree_.neighbor_up(now_, p);
  refresh_view_cache();
}

// Swap-removes active slot `slot`; moves the slot bits with the peer that takes its place.
void HyParView::remove_active(std::size_t slot, bool to_passive) {
  GV_ASSERT(slot < active_n_);
  Peer p = active_[slot];
  std::size_t last = active_n_ - 1u;
  auto move_bit = [&](std::uint8_t& mask) {
    bool b = (mask >> last) & 1u;
    mask &= std::uint8_t(~(1u << slot));
    if (b) mask |= std::uint8_t(1u << slot);
    mask &= std::uint8_t(~(1u << last));
  };
  move_bit(heard_mask_);
  move_bit(sent_mask_);
  active_[slot] = active_[last];
  silent_[slot] = silent_[last];
  idle_[slot] = idle_[last];
  active_[last] = kNoPeer;
  --active_n_;
  tree_.neighbor_down(p, to_passive);  // to_passive: closed by DISCONNECT, the peer lives
  refresh_view_cache();
  if (to_passive) add_passive(p);
}

void HyParView::add_passive(Peer p) {
  if (p == self_ || p == kNoPeer || active_slot(p) >= 0 || passive_slot(p) >= 0) return;
  if (passive_n_ >= p_.passive_size) {
    passive_[rng_.below(passive_n_)] = p;  // random eviction
    return;
  }
  passive_[passive_n_++] = p;
}

void HyParView::remove_passive(Peer p) noexcept {
  int s = passive_slot(p);
  if (s < 0) return;
  passive_[std::size_t(s)] = passive_[passive_n_ - 1u];
  passive_[--passive_n_] = kNoPeer;
}

void HyParView::remove_pending(std::size_t slot) noexcept {
  pending_[slot] = pending_[pending_n_ - 1u];
  pending_deadline_[slot] = pending_deadline_[pending_n_ - 1u];
  --pending_n_;
}

Peer HyParView::random_active_except(Peer a, Peer b) {
  std::array<Peer, kActiveMax> pick;
  std::size_t n = 0;
  for (std::size_t i = 0; i < active_n_; ++i) {
    if (active_[i] != a && active_[i] != b) pick[n++] = active_[i];
  }
  return n == 0 ? kNoPeer : pick[rng_.below(n)];
}

void HyParView::sync_stats() noexcept {
  const auto& t = tree_.stats();
  stats_.payload_sent = t.payload_sent;
  stats_.payload_received = t.payload_received;
  stats_.duplicates = t.duplicates;
  cache_hint_ = tree_.cache_hint();
}

// ---- joining and leaving --------------------------------------------------------------------

void HyParView::join(Time now, const Address& contact, Effects& fx) {
  now_ = now;
  left_ = false;
  start_timers(now);
  Peer c = peer_of(contact);
  if (c != kNoPeer && c != self_) contact_ = c;
  if (contact_ != kNoPeer) send_control(contact_, hpv::ControlKind::join, fx);
}

// Random phases: a million nodes started at once must not tick in lockstep.
void HyParView::start_timers(Time now) {
  next_keepalive_ = now + Duration::nanoseconds(rng_.between(1, p_.keepalive_period.ns()));
  next_shuffle_ = now + Duration::nanoseconds(rng_.between(1, p_.shuffle_period.ns()));
}

void HyParView::leave(Time now, Effects& fx) {
  now_ = now;
  while (active_n_ > 0) {
    send_control(active_[0], hpv::ControlKind::disconnect, fx);
    remove_active(0, false);
  }
  left_ = true;
  next_keepalive_ = next_shuffle_ = Time::max();
}

void HyParView::broadcast(Time now, std::uint64_t msg_id, std::span<const std::byte> payload,
                          Effects& fx) {
  now_ = now;
  if (left_ || payload.size() > wire::kMulticastPayloadBytesMax) return;
  FrameBatch batch(*this);
  tree_.broadcast(now, msg_id, payload, batch, fx);
  batch.flush(fx);
  sync_stats();
}

// ---- receiving ------------------------------------------------------------------------------

void HyParView::on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                            Effects& fx) {
  now_ = now;
  Peer src = peer_of(from);
  if (left_ || src == kNoPeer || src == self_) return;
  if (int s = active_slot(src); s >= 0) {
    heard_mask_ |= std::uint8_t(1u << s);
    silent_[std::size_t(s)] = 0;
  }
  wire::FrameIterator it(bytes);  // checks the version byte
  wire::Frame f;
  FrameBatch batch(*this);  // Plumtree's answers to this datagram, one datagram per peer
  while (it.next(f)) on_frame(now, src, f.type, f.body, batch, fx);
  batch.flush(fx);
  if (!it.ok()) ++stats_.malformed;
  sync_stats();
}

void HyParView::on_frame(Time now, Peer from, std::uint8_t type, std::span<const std::byte> body,
                         PlumtreeTransport& tx, Effects& fx) {
  if (type < std::uint8_t(hpv::Frame::control) ||
      !wire::in_family(type, wire::FrameFamily::views)) {
    if (!wire::other_component(type, wire::FrameFamily::views)) ++stats_.unknown_frames;
    return;  // another component's frame (the other view protocols', multicast, membership)
  }
  switch (hpv::Frame(type)) {
    case hpv::Frame::control:
      if (auto c = hpv::decode_control(body)) return on_control(now, from, c->kind, fx);
      break;
    case hpv::Frame::forward_join:
      if (auto fj = hpv::decode_forward_join(body)) return on_forward_join(from, *fj, fx);
      break;
    case hpv::Frame::shuffle:
    case hpv::Frame::shuffle_reply: {
      hpv::ShuffleFrame sf;
      bool reply = hpv::Frame(type) == hpv::Frame::shuffle_reply;
      auto ok = reply ? hpv::decode_shuffle_reply(body, sf) : hpv::decode_shuffle(body, sf);
      if (!ok) break;
      if (!reply) return on_shuffle(from, sf, fx);
      for (std::size_t i = 0; i < sf.count; ++i) add_passive(sf.peers[i]);
      return;
    }
    case hpv::Frame::gossip:
      if (auto g = hpv::decode_gossip(body)) return tree_.on_gossip(now, from, *g, tx, fx);
      break;
    case hpv::Frame::ihave: {
      hpv::IHaveFrame ih;
      if (!hpv::decode_ihave(body, ih)) break;
      return tree_.on_ihave(now, from, ih, tx, fx);
    }
    case hpv::Frame::graft: {
      hpv::GraftFrame g;
      if (!hpv::decode_graft(body, g)) break;
      return tree_.on_graft(from, g, tx, fx);
    }
    default:
      ++stats_.unknown_frames;
      return;
  }
  ++stats_.malformed;
}

void HyParView::on_control(Time now, Peer from, hpv::ControlKind kind, Effects& fx) {
  switch (kind) {
    case hpv::ControlKind::join: {
      add_active(from, fx);
      send_control(from, hpv::ControlKind::join_accept, fx);
      for (std::size_t i = 0; i < active_n_; ++i) {
        if (active_[i] == from) continue;
        std::array<std::byte, 16> buf;
        wire::Writer w(buf);
        wire::begin_datagram(w);
        hpv::write_forward_join(w, hpv::ForwardJoinFrame{from, p_.arwl});
        ++stats_.control_sent;
        send_to(active_[i], w.written(), fx);
      }
      return;
    }
    case hpv::ControlKind::join_accept:
      return add_active(from, fx);
    case hpv::ControlKind::neighbor_high:
    case hpv::ControlKind::neighbor_low: {
      bool take = kind == hpv::ControlKind::neighbor_high || active_n_ < p_.active_size ||
                  active_slot(from) >= 0;
      if (take) {
        add_active(from, fx);
        return send_control(from, hpv::ControlKind::neighbor_accept, fx);
      }
      return send_reject(from, fx);
    }
    case hpv::ControlKind::neighbor_accept: {
      int s = pending_slot(from);
      if (s < 0 && active_slot(from) < 0) {
        // Late answer to a request we gave up on: we may have no room; undo their half.
        if (active_n_ >= p_.active_size)
          return send_control(from, hpv::ControlKind::disconnect, fx);
      }
      if (s >= 0) remove_pending(std::size_t(s));
      ++counters_.promotions;
      return add_active(from, fx);
    }
    case hpv::ControlKind::neighbor_reject:
      if (int s = pending_slot(from); s >= 0) remove_pending(std::size_t(s));
      return;  // stays in the passive view; fill_active tries another at the next tick
    case hpv::ControlKind::disconnect:
      if (int s = active_slot(from); s >= 0) {
        remove_active(std::size_t(s), true);
        fill_active(now, fx);
      }
      return;
    case hpv::ControlKind::heartbeat:
      if (active_slot(from) < 0 && pending_slot(from) < 0) {
        send_control(from, hpv::ControlKind::disconnect, fx);  // a one-sided link: close it
      }
      return;
    case hpv::ControlKind::prune:
      return tree_.on_prune(from);
  }
}

void HyParView::on_forward_join(Peer from, const hpv::ForwardJoinFrame& f, Effects& fx) {
  Peer joiner = f.peer;
  if (joiner == self_) return;
  if (f.ttl == 0 || active_n_ <= 1) {
    if (active_slot(joiner) >= 0) return;
    add_active(joiner, fx);
    send_control(joiner, hpv::ControlKind::join_accept, fx);
    return;
  }
  if (f.ttl == p_.prwl) add_passive(joiner);
  Peer next = random_active_except(from, joiner);
  if (next == kNoPeer) {
    if (active_slot(joiner) < 0) {
      add_active(joiner, fx);
      send_control(joiner, hpv::ControlKind::join_accept, fx);
    }
    return;
  }
  std::array<std::byte, 16> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  hpv::write_forward_join(w, hpv::ForwardJoinFrame{joiner, std::uint8_t(f.ttl - 1)});
  ++stats_.control_sent;
  send_to(next, w.written(), fx);
}

// ---- shuffle --------------------------------------------------------------------------------

void HyParView::start_shuffle(Time now, Effects& fx) {
  if (active_n_ == 0) return;
  // A full active view with a half-empty passive view: the sign of a small closed component
  // whose links all point inside (its shuffles never leave it, so passive views stop growing).
  // Ask a passive peer (likely an outsider) for a link; if it has room, accepting it drops a
  // random link of ours.
  if (active_n_ >= p_.active_size && passive_n_ > 0 && passive_n_ < p_.passive_size / 2 &&
      pending_n_ == 0) {
    Peer c = passive_[rng_.below(passive_n_)];
    pending_[0] = c;
    pending_deadline_[0] = now + p_.neighbor_timeout;
    pending_n_ = 1;
    ++counters_.escapes;
    send_control(c, hpv::ControlKind::neighbor_low, fx);
  }
  Peer to = active_[rng_.below(active_n_)];
  std::array<Peer, hpv::kShufflePeersMax> list;
  std::size_t n = 0;
  list[n++] = self_;
  std::array<Peer, kActiveMax> a = active_;
  rng_.shuffle(std::span(a.data(), active_n_));
  for (std::size_t i = 0; i < active_n_ && n < 1u + p_.ka; ++i) {
    if (a[i] != to) list[n++] = a[i];
  }
  std::array<Peer, kPassiveMax> p = passive_;
  rng_.shuffle(std::span(p.data(), passive_n_));
  for (std::size_t i = 0; i < passive_n_ && i < p_.kp; ++i) list[n++] = p[i];
  std::array<std::byte, 256> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  hpv::write_shuffle(w, self_, p_.shuffle_ttl, std::span(list.data(), n));
  ++stats_.control_sent;
  ++counters_.shuffles;
  send_to(to, w.written(), fx);
}

void HyParView::on_shuffle(Peer from, const hpv::ShuffleFrame& f, Effects& fx) {
  if (f.origin == self_) return;
  if (f.ttl > 1 && active_n_ > 1) {
    Peer next = random_active_except(from, f.origin);
    if (next != kNoPeer) {
      std::array<std::byte, 256> buf;
      wire::Writer w(buf);
      wire::begin_datagram(w);
      hpv::write_shuffle(w, f.origin, std::uint8_t(f.ttl - 1), std::span(f.peers, f.count));
      ++stats_.control_sent;
      send_to(next, w.written(), fx);
      return;
    }
  }
  // The walk ends here: answer with as many of our passive peers, then take theirs.
  std::array<Peer, kPassiveMax> p = passive_;
  rng_.shuffle(std::span(p.data(), passive_n_));
  std::size_t n = std::min<std::size_t>(f.count, passive_n_);
  std::array<std::byte, 256> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  hpv::write_shuffle_reply(w, std::span(p.data(), n));
  ++stats_.control_sent;
  send_to(f.origin, w.written(), fx);
  for (std::size_t i = 0; i < f.count; ++i) add_passive(f.peers[i]);
}

// ---- timers ---------------------------------------------------------------------------------

// Asks random passive peers to become neighbours until requests cover the free active slots.
void HyParView::fill_active(Time now, Effects& fx) {
  while (active_n_ + pending_n_ < p_.active_size) {
    std::array<Peer, kPassiveMax> candidates;
    std::size_t n = 0;
    for (std::size_t i = 0; i < passive_n_; ++i) {
      if (pending_slot(passive_[i]) < 0) candidates[n++] = passive_[i];
    }
    if (n == 0) return;
    Peer c = candidates[rng_.below(n)];
    pending_[pending_n_] = c;
    pending_deadline_[pending_n_] = now + p_.neighbor_timeout;
    ++pending_n_;
    send_control(
        c, active_n_ == 0 ? hpv::ControlKind::neighbor_high : hpv::ControlKind::neighbor_low, fx);
  }
}

void HyParView::expire_pending(Time now, Effects& fx) {
  bool expired = false;
  for (std::size_t i = 0; i < pending_n_;) {
    if (pending_deadline_[i] > now) {
      ++i;
      continue;
    }
    ++counters_.neighbor_timeouts;
    remove_passive(pending_[i]);  // a failed connect: the paper drops the candidate
    remove_pending(i);
    expired = true;
  }
  if (expired) fill_active(now, fx);
}

void HyParView::keepalive_tick(Time now, Effects& fx) {
  for (std::size_t i = 0; i < active_n_;) {
    if ((heard_mask_ >> i) & 1u) {
      silent_[i] = 0;
    } else if (++silent_[i] >= p_.misses) {
      ++counters_.failures_detected;
      remove_active(i, false);  // the paper's TCP failure: the peer is gone, not passive
      continue;
    }
    ++i;
  }
  for (std::size_t i = 0; i < active_n_; ++i) {
    if ((sent_mask_ >> i) & 1u) {
      // The send may have been at the period's start: it counts as one idle period already
      // (with idle periods > 1), so the silence we leave on a link never exceeds p_.idle
      // periods. A heartbeat, sent at a tick, restarts the count from 0 below.
      idle_[i] = p_.idle > 1 ? 1 : 0;
    } else if (++idle_[i] >= p_.idle) {
      idle_[i] = 0;
      ++counters_.heartbeats;
      send_control(active_[i], hpv::ControlKind::heartbeat, fx);
    }
  }
  heard_mask_ = 0;
  sent_mask_ = 0;
  fill_active(now, fx);
  // Nothing left to promote and at most one neighbour: we may be cut off with a peer as
  // stranded as we are (a pair left by a mass failure). Join again through the contact; its
  // walks bring fresh links.
  if (active_n_ <= 1 && passive_n_ == 0 && pending_n_ == 0 && contact_ != kNoPeer &&
      active_slot(contact_) < 0) {
    send_control(contact_, hpv::ControlKind::join, fx);
  }
}

void HyParView::on_timeout(Time now, Effects& fx) {
  now_ = now;
  if (left_) return;
  if (next_keepalive_ == Time::zero()) {  // first call, never joined: the first node
    start_timers(now);
    return;
  }
  if (now >= next_keepalive_) {
    next_keepalive_ = now + p_.keepalive_period;
    keepalive_tick(now, fx);
  }
  expire_pending(now, fx);
  if (now >= next_shuffle_) {
    next_shuffle_ = now + p_.shuffle_period;
    start_shuffle(now, fx);
  }
  if (now >= tree_.next_deadline()) {
    FrameBatch batch(*this);  // the grafts one timer fires share a datagram per peer
    tree_.on_timeout(now, batch, fx);
    batch.flush(fx);
  }
  sync_stats();
}

// Loads only cache_hint_ (in the two lines the simulator fetched ahead): every other address is
// this object's own, so no prefetch waits on a miss.
void HyParView::prefetch() const noexcept {
  for (const void* p : cache_hint_) __builtin_prefetch(p);
  const auto* at = reinterpret_cast<const char*>(this) + 128;
  const auto* end = reinterpret_cast<const char*>(&tree_);
  for (; at < end; at += 64) __builtin_prefetch(at);
  tree_.prefetch();
}

Time HyParView::next_deadline() const noexcept {
  if (left_) return Time::max();
  Time t = std::min({next_keepalive_, next_shuffle_, tree_.next_deadline()});
  for (std::size_t i = 0; i < pending_n_; ++i) t = std::min(t, pending_deadline_[i]);
  return t;
}

}  // namespace grapevine::views

namespace grapevine {
std::unique_ptr<ViewMachine> make_hyparview(const ViewConfig& config, const Address& self,
                                            std::uint64_t seed,
                                            const views::HyParViewTuning& tuning) {
  return std::make_unique<views::HyParView>(config, tuning, self, seed);
}
}  // namespace grapevine
