#include "core/multicast/tree.h"

#include <algorithm>
#include <array>

#include "core/multicast/sender.h"
#include "util/assert.h"

namespace grapevine::detail {
namespace {

constexpr std::uint32_t kDegreeMax = 256;
constexpr std::uint32_t kRequestsMax = 12;  // NACKs a member sends before it gives up on a gap
constexpr std::uint32_t kBackoffMax = 3;    // request timers grow to at most 2^3 times the base
constexpr std::size_t kForwardedRepairsMax = 256;

template <class T>
void remove_id(std::vector<T>& v, const MessageId& id) {
  std::erase_if(v, [&](const T& x) { return x.id == id; });
}

}  // namespace

TreeMulticast::TreeMulticast(const MulticastConfig& config, const Group& group,
                             std::uint32_t self_index, std::uint64_t seed)
    : config_(config),
      group_(group),
      self_(self_index),
      node_id_(node_id_of(group.address(self_index))),
      nack_mode_(config.protocol == MulticastProtocolKind::tree_nack),
      rng_(seed) {
  GV_ASSERT(config.tree_degree >= 1 && config.tree_degree <= kDegreeMax);
}

// ---- geometry -------------------------------------------------------------------------------

std::uint32_t TreeMulticast::position(std::uint32_t index, std::uint32_t root) const noexcept {
  const std::uint32_t n = group_.size();
  return (index + n - root) % n;
}

std::uint32_t TreeMulticast::index_at(std::uint32_t pos, std::uint32_t root) const noexcept {
  return std::uint32_t((std::uint64_t(pos) + root) % group_.size());
}

std::uint32_t TreeMulticast::depth(std::uint32_t root) const noexcept {
  std::uint32_t p = position(self_, root);
  std::uint32_t d = 0;
  while (p > 0) {
    p = (p - 1) / config_.tree_degree;
    ++d;
  }
  return d;
}

std::uint32_t TreeMulticast::neighbours(std::uint32_t root, std::uint32_t* out,
                                        bool children_only) const {
  const std::uint64_t n = group_.size();
  const std::uint64_t p = position(self_, root);
  const std::uint64_t deg = config_.tree_degree;
  std::uint32_t count = 0;
  if (!children_only && p > 0) out[count++] = index_at(std::uint32_t((p - 1) / deg), root);
  for (std::uint64_t c = deg * p + 1; c <= deg * p + deg && c < n; ++c) {
    out[count++] = index_at(std::uint32_t(c), root);
  }
  return count;
}

TreeMulticast::OriginState* TreeMulticast::origin_state(std::uint64_t origin) {
  for (auto& o : origins_) {
    if (o.origin == origin) return &o;
  }
  std::optional<std::uint32_t> root;
  if ((origin >> 63) == 0) {
    root = group_.index_of(Address::ipv4_u32(std::uint32_t(origin >> 16), origin & 0xffff));
  } else {
    for (std::uint32_t i = 0; i < group_.size() && !root; ++i) {
      if (node_id_of(group_.address(i)) == origin) root = i;
    }
  }
  if (!root) return nullptr;
  origins_.push_back(OriginState{origin, *root, 0});
  return &origins_.back();
}

Duration TreeMulticast::uniform(double lo, double hi, Duration unit) {
  double k = lo + (hi - lo) * rng_.unit();
  return Duration::nanoseconds(std::int64_t(k * double(unit.ns())));
}

// ---- sending --------------------------------------------------------------------------------

Result<MessageId> TreeMulticast::multicast(Time now, std::span<const std::byte> payload,
                                           Effects& fx) {
  if (payload.size() > wire::kMulticastPayloadBytesMax) {
    return make_error(Errc::too_large, "payload over kMulticastPayloadBytesMax");
  }
  if (group_.size() < 2) return make_error(Errc::not_ready, "group has no other member");
  MessageId id{node_id_, next_seq_++};
  OriginState* o = origin_state(node_id_);
  GV_ASSERT(o != nullptr);
  o->highest_seq = id.seq;
  StoredMessage& m = store_.add(id, payload, 0, 0, Spread::removed);
  emit_delivered(fx, stats_, m);
  send_down(now, m, self_, fx);
  if (nack_mode_) {
    session_left_ = kSessionPeriods;
    session_ticker_.start(now, config_.period, false, rng_);
  }
  return id;
}

void TreeMulticast::send_down(Time now, const StoredMessage& m, std::uint32_t root,
                              Effects& fx) {
  std::array<std::uint32_t, kDegreeMax + 1> kids;
  std::uint32_t n = neighbours(root, kids.data(), true);
  StoredMessage* one[] = {const_cast<StoredMessage*>(&m)};
  for (std::uint32_t i = 0; i < n; ++i) {
    send_data(fx, stats_, group_.address(kids[i]), one, wire::kDataPush,
              config_.packet_budget_bytes);
    if (!nack_mode_ && pending_.size() < kPendingAcksMax) {
      pending_.push_back(PendingAck{m.id, kids[i], 0, now + config_.ack_timeout});
    }
  }
}

void TreeMulticast::flood(const Address& except, std::uint32_t root, const StoredMessage* repair,
                          const wire::NackFrame* nack, Effects& fx) {
  std::array<std::uint32_t, kDegreeMax + 1> nbrs;
  std::uint32_t n = neighbours(root, nbrs.data(), false);
  for (std::uint32_t i = 0; i < n; ++i) {
    Address to = group_.address(nbrs[i]);
    if (to == except) continue;
    if (repair != nullptr) {
      StoredMessage* one[] = {const_cast<StoredMessage*>(repair)};
      send_data(fx, stats_, to, one, wire::kDataRepair, config_.packet_budget_bytes);
    } else {
      send_control(fx, stats_, to, [&](wire::Writer& w) { return wire::write_nack(w, *nack); });
    }
  }
}

// ---- receiving ------------------------------------------------------------------------------

void TreeMulticast::on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                                Effects& fx) {
  ++stats_.datagrams_received;
  wire::FrameIterator frames(bytes);
  wire::Frame frame;
  while (frames.next(frame)) {
    bool ok = true;
    switch (wire::FrameType(frame.type)) {
      case wire::FrameType::data:
        if (auto f = wire::decode_data(frame.body)) on_data(now, from, *f, fx); else ok = false;
        break;
      case wire::FrameType::ack:
        if (auto f = wire::decode_ack(frame.body)) on_ack(from, *f); else ok = false;
        break;
      case wire::FrameType::nack:
        if (auto f = wire::decode_nack(frame.body)) on_nack(now, from, *f, fx); else ok = false;
        break;
      case wire::FrameType::session:
        if (auto f = wire::decode_session(frame.body)) on_session(now, from, *f, fx);
        else ok = false;
        break;
      default:
        if (!wire::other_component(frame.type, wire::FrameFamily::multicast)) ++stats_.unknown_frames;
    }
    if (!ok) {
      ++stats_.malformed_received;
      return;
    }
  }
  if (!frames.ok()) ++stats_.malformed_received;
}

void TreeMulticast::on_data(Time now, const Address& from, const wire::DataFrame& f,
                            Effects& fx) {
  ++stats_.data_received;
  OriginState* o = origin_state(f.id.origin);
  if (o == nullptr) {
    ++stats_.malformed_received;  // an origin outside the group
    return;
  }
  if (!nack_mode_) {
    send_control(fx, stats_, from, [&](wire::Writer& w) {
      return wire::write_ack(w, wire::AckFrame{f.id});
    });
  }
  const bool repair = (f.flags & wire::kDataRepair) != 0;
  if (repair) remove_id(repairs_, f.id);  // someone else repaired it: ours is not needed
  StoredMessage* m = store_.find(f.id);
  if (m != nullptr) {
    ++stats_.duplicates_received;
    if (repair) forward_repair(from, o->root, *m, fx);
    return;
  }
  m = &store_.add(f.id, f.payload, f.hops + 1, 0, Spread::removed);
  emit_delivered(fx, stats_, *m);
  remove_id(missing_, f.id);
  if (nack_mode_) note_highest(now, *o, f.id.seq);
  if (repair) {
    forward_repair(from, o->root, *m, fx);
  } else {
    send_down(now, *m, o->root, fx);
  }
}

void TreeMulticast::on_ack(const Address& from, const wire::AckFrame& f) {
  auto child = group_.index_of(from);
  if (!child) return;
  std::erase_if(pending_, [&](const PendingAck& p) { return p.id == f.id && p.child == *child; });
}

void TreeMulticast::on_session(Time now, const Address& /*from*/, const wire::SessionFrame& f,
                               Effects& fx) {
  OriginState* o = origin_state(f.origin);
  if (o == nullptr || !nack_mode_) return;
  std::array<std::uint32_t, kDegreeMax + 1> kids;
  std::uint32_t n = neighbours(o->root, kids.data(), true);
  for (std::uint32_t i = 0; i < n; ++i) {
    send_control(fx, stats_, group_.address(kids[i]),
                 [&](wire::Writer& w) { return wire::write_session(w, f); });
  }
  note_highest(now, *o, f.highest_seq);
}

// A sequence number above what we have seen reveals the gaps below it.
void TreeMulticast::note_highest(Time now, OriginState& o, std::uint32_t seq) {
  if (seq <= o.highest_seq) return;
  const Duration d = config_.hop_delay * std::max<std::uint32_t>(1, depth(o.root));
  for (std::uint32_t s = o.highest_seq + 1; s <= seq && missing_.size() < kMissingMax; ++s) {
    MessageId id{o.origin, s};
    if (store_.find(id) != nullptr) continue;
    missing_.push_back(
        Missing{id, now + uniform(config_.srm_c1, config_.srm_c1 + config_.srm_c2, d), 0, 0});
  }
  o.highest_seq = seq;
}

void TreeMulticast::on_nack(Time now, const Address& from, const wire::NackFrame& f,
                            Effects& fx) {
  OriginState* o = origin_state(f.id.origin);
  if (o == nullptr || !nack_mode_) return;
  wire::NackFrame fwd{f.id, f.requester_hops + 1};
  flood(from, o->root, nullptr, &fwd, fx);
  std::erase(forwarded_repairs_, f.id);  // a new request episode: its repair must flood again
  if (store_.find(f.id) != nullptr) {
    bool pending = std::any_of(repairs_.begin(), repairs_.end(),
                               [&](const RepairTimer& r) { return r.id == f.id; });
    if (!pending) {
      Duration d = config_.hop_delay * (f.requester_hops + 1);
      repairs_.push_back(
          RepairTimer{f.id, now + uniform(config_.srm_d1, config_.srm_d1 + config_.srm_d2, d)});
    }
    return;
  }
  for (Missing& m : missing_) {  // someone asked for what we lack too: back off our request
    if (m.id != f.id) continue;
    m.backoff = std::min<std::uint32_t>(m.backoff + 1, kBackoffMax);
    Duration d = config_.hop_delay * std::max<std::uint32_t>(1, depth(o->root));
    m.deadline = now + uniform(config_.srm_c1, config_.srm_c1 + config_.srm_c2, d) *
                           (std::int64_t(1) << m.backoff);
  }
}

// ---- timers ---------------------------------------------------------------------------------

Time TreeMulticast::next_deadline() const noexcept {
  Time t = Time::max();
  for (const auto& p : pending_) t = std::min(t, p.deadline);
  for (const auto& m : missing_) t = std::min(t, m.deadline);
  for (const auto& r : repairs_) t = std::min(t, r.deadline);
  if (session_left_ > 0) t = std::min(t, session_ticker_.deadline());
  return t;
}

bool TreeMulticast::quiescent() const noexcept {
  return pending_.empty() && missing_.empty() && repairs_.empty() && session_left_ == 0;
}

void TreeMulticast::on_timeout(Time now, Effects& fx) {
  fire_acks(now, fx);
  fire_requests(now, fx);
  fire_repairs(now, fx);
  if (session_left_ > 0 && session_ticker_.due(now)) {
    session_ticker_.advance(now, config_.period, 0.0, rng_);
    --session_left_;
    OriginState* o = origin_state(node_id_);
    wire::SessionFrame f{node_id_, o->highest_seq};
    std::array<std::uint32_t, kDegreeMax + 1> kids;
    std::uint32_t n = neighbours(self_, kids.data(), true);
    for (std::uint32_t i = 0; i < n; ++i) {
      send_control(fx, stats_, group_.address(kids[i]),
                   [&](wire::Writer& w) { return wire::write_session(w, f); });
    }
  }
}

void TreeMulticast::fire_acks(Time now, Effects& fx) {
  for (std::size_t i = 0; i < pending_.size();) {
    PendingAck& p = pending_[i];
    if (p.deadline > now) {
      ++i;
      continue;
    }
    StoredMessage* m = store_.find(p.id);
    if (m == nullptr || p.retries >= config_.ack_retries_max) {
      pending_[i] = pending_.back();  // give the child up
      pending_.pop_back();
      continue;
    }
    StoredMessage* one[] = {m};
    send_data(fx, stats_, group_.address(p.child), one, wire::kDataRetransmit,
              config_.packet_budget_bytes);
    ++p.retries;
    p.deadline = now + config_.ack_timeout;
    ++i;
  }
}

void TreeMulticast::fire_requests(Time now, Effects& fx) {
  for (std::size_t i = 0; i < missing_.size();) {
    Missing& m = missing_[i];
    if (m.deadline > now) {
      ++i;
      continue;
    }
    OriginState* o = origin_state(m.id.origin);
    if (store_.find(m.id) != nullptr || o == nullptr || m.sent >= kRequestsMax) {
      missing_[i] = missing_.back();
      missing_.pop_back();
      continue;
    }
    wire::NackFrame f{m.id, 0};
    flood(Address{}, o->root, nullptr, &f, fx);
    ++m.sent;
    m.backoff = std::min<std::uint32_t>(m.backoff + 1, kBackoffMax);
    Duration d = config_.hop_delay * std::max<std::uint32_t>(1, depth(o->root));
    m.deadline = now + uniform(config_.srm_c1, config_.srm_c1 + config_.srm_c2, d) *
                           (std::int64_t(1) << m.backoff);
    ++i;
  }
}

void TreeMulticast::fire_repairs(Time now, Effects& fx) {
  for (std::size_t i = 0; i < repairs_.size();) {
    if (repairs_[i].deadline > now) {
      ++i;
      continue;
    }
    MessageId id = repairs_[i].id;
    repairs_[i] = repairs_.back();
    repairs_.pop_back();
    StoredMessage* m = store_.find(id);
    OriginState* o = origin_state(id.origin);
    if (m != nullptr && o != nullptr) forward_repair(Address{}, o->root, *m, fx);
  }
}

void TreeMulticast::forward_repair(const Address& except, std::uint32_t root,
                                   const StoredMessage& m, Effects& fx) {
  if (std::find(forwarded_repairs_.begin(), forwarded_repairs_.end(), m.id) !=
      forwarded_repairs_.end()) {
    return;
  }
  if (forwarded_repairs_.size() >= kForwardedRepairsMax) {
    forwarded_repairs_.erase(forwarded_repairs_.begin());
  }
  forwarded_repairs_.push_back(m.id);
  flood(except, root, &m, nullptr, fx);
}

}  // namespace grapevine::detail
