#include "core/membership/membership_node.h"

#include <algorithm>
#include <cmath>

#include "core/membership/memberlist_codec.h"
#include "core/membership/rumor_version.h"
#include "core/targets.h"
#include "util/assert.h"
#include "util/hash.h"

namespace grapevine::detail {
namespace {

wire::WireState to_wire(MemberState s) noexcept {
  return wire::WireState(std::uint8_t(s));
}

// rumor_stop_after applies from this many members listed (failed and left included).
constexpr std::size_t kRumorStopMembersMin = 256;

}  // namespace

MembershipNode::MembershipNode(const MembershipConfig& config, const Address& self,
                               std::uint64_t seed)
    : config_(config),
      self_id_(config.dialect == Dialect::memberlist ? memberlist_id(config.name)
                                                     : node_id_of(self)),
      self_address_(self),
      rng_(seed),
      list_(self_id_, self, Time::zero()),
      codec_(config.dialect == Dialect::memberlist
                 ? make_memberlist_codec(config_, self, list_, rng_)
                 : make_native_codec(self_id_)) {
  if (config_.expected_members > 1) list_.reserve(config_.expected_members);
  list_.set_extra(self_id_, config_.name, config_.meta);
  list_.set_zone_prefix(config_.zone_prefix);
  list_.set_zone(self_id_, config_.zone);
  if (config_.dialect == Dialect::memberlist) {
    // memberlist creates a member's state at incarnation 0 and then ignores alive messages
    // that are not newer: a member must announce itself with incarnation >= 1, as
    // memberlist's own setAlive does.
    list_.self().incarnation = 1;
    // What we speak: protocol 1..5, currently 2 (memberlist's ProtocolVersion2Compatible).
    const auto& ml = config_.memberlist;
    list_.set_vsn(self_id_, wire::Vsn{1, 5, 2, ml.delegate_min, ml.delegate_max, ml.delegate_cur});
  }
  switch (config_.detector) {
    case Detector::swim:
      detector_ = make_swim_detector(*this, false);
      break;
    case Detector::lifeguard:
      detector_ = make_swim_detector(*this, true);
      break;
    case Detector::gossip_heartbeat:
      detector_ = make_gossip_heartbeat_detector(*this);
      break;
    case Detector::all_to_all:
      detector_ = make_all_to_all_detector(*this);
      break;
    case Detector::phi:
      detector_ = make_phi_detector(*this);
      break;
  }
  start_serf();
}

std::uint32_t MembershipNode::health_score() const noexcept {
  return detector_->health_score();
}

std::uint32_t MembershipNode::retransmit_limit() const noexcept {
  // memberlist's estNumNodes counts every member it holds, failed and left ones included (until
  // reaped). Counting only live ones cut the budget from 12 to 8 when 2 of 100 left, and one
  // member in ~1,000 then heard of neither leave (e^-8 per member and leave) and reported failed.
  double n = double(list_.record_count());
  return config_.retransmit_mult * std::uint32_t(std::max(1.0, std::ceil(std::log10(n + 1.0))));
}

Duration MembershipNode::push_pull_period() const noexcept {
  // memberlist's pushPullScale: slower anti-entropy in big groups, constant total load.
  const double n = double(list_.live_size());
  if (n <= 32) return config_.push_pull_interval;
  auto mult = std::int64_t(std::ceil(std::log2(n) - std::log2(32.0)) + 1.0);
  return config_.push_pull_interval * mult;
}

// ---- timers ---------------------------------------------------------------------------------

Time MembershipNode::next_deadline() const noexcept {
  if (!started_) return Time::zero();
  Time t = detector_->deadline();
  if (config_.gossip_interval > Duration::zero()) t = std::min(t, gossip_ticker_.deadline());
  if (config_.push_pull_interval > Duration::zero()) {
    t = std::min(t, push_pull_ticker_.deadline());
  }
  if (config_.reconnect_interval > Duration::zero()) {
    t = std::min(t, reconnect_ticker_.deadline());
  }
  t = std::min(t, house_ticker_.deadline());
  if (!seeds_.empty() && join_ticker_.started()) t = std::min(t, join_ticker_.deadline());
  if (queries_) t = std::min(t, queries_->next_deadline());
  if (serf_) t = std::min(t, serf_->next_deadline());  // its queries' re-asks and deadlines
  return std::min({t, catch_up_at_, join_gossip_at_, rumor_settle_at_});
}

void MembershipNode::on_timeout(Time now, Effects& fx) {
  clock_ = now;
  if (!started_) {
    started_ = true;
    detector_->start(now);
    gossip_ticker_.start(now, std::max(config_.gossip_interval, Duration::milliseconds(1)), true,
                         rng_);
    push_pull_ticker_.start(now, push_pull_period(), true, rng_);
    reconnect_ticker_.start(now, std::max(config_.reconnect_interval, Duration::seconds(1)), true,
                            rng_);
    house_ticker_.start(now, Duration::seconds(1), true, rng_);
    return;
  }
  if (now >= detector_->deadline()) detector_->on_timeout(now, fx);
  if (queries_) expire_queries(now, fx);
  if (serf_ && now >= serf_->next_deadline()) {
    // The serf layer's re-asks (its own queries) count here too: one counter, either dialect.
    const std::uint64_t reasks = serf_->stats().query_reasks;
    serf_->on_timeout(now, fx);
    stats_.query_reasks += serf_->stats().query_reasks - reasks;
  }
  if (config_.gossip_interval > Duration::zero() && gossip_ticker_.due(now)) {
    gossip_ticker_.advance(now, config_.gossip_interval, 0.0, rng_);
    gossip_round(now, fx);
  }
  if (config_.push_pull_interval > Duration::zero() && push_pull_ticker_.due(now)) {
    push_pull_ticker_.advance(now, push_pull_period(), 0.0, rng_);
    if (list_.live_size() > 1 && !leaving_) {
      auto i = 1 + std::uint32_t(rng_.below(list_.live_size() - 1));
      anti_entropy(fx, list_.address(i));
    }
  }
  if (config_.reconnect_interval > Duration::zero() && reconnect_ticker_.due(now)) {
    reconnect_ticker_.advance(now, config_.reconnect_interval, 0.0, rng_);
    std::vector<NodeId> failed;
    for (NodeId id : departed_) {
      std::uint32_t slot = list_.find(id);
      if (slot != MemberList::kNone && list_.at(slot).state == MemberState::failed) {
        failed.push_back(id);
      }
    }
    if (!failed.empty() && !leaving_) {
      NodeId id = failed[rng_.below(failed.size())];
      send_push_pull(fx, list_.at(list_.find(id)).address, true);
    }
  }
  if (now >= join_gossip_at_) join_gossip_round(now, fx);
  if (now >= catch_up_at_) fire_catch_up(now, fx);
  if (now >= rumor_settle_at_) {  // rumor mongering's settle rounds (heard_again)
    rumor_settle_at_ = --rumor_settles_left_ > 0
                           ? now + config_.churn_anti_entropy_delay * 2
                           : Time::max();
    if (list_.live_size() > 1 && !leaving_) {
      const std::uint64_t h = mix64(std::uint64_t(now.ns()) ^ self_id_ ^ 0x72756d6f72);
      anti_entropy(fx, list_.address(1 + std::uint32_t(h % (list_.live_size() - 1))));
    }
  }
  if (house_ticker_.due(now)) {
    house_ticker_.advance(now, Duration::seconds(1), 0.0, rng_);
    housekeeping(now, fx);
    if (serf_) serf_->on_timeout(now);
  }
  if (!seeds_.empty() && join_ticker_.due(now)) {
    join_ticker_.advance(now, join_retry_delay(), 0.0, rng_);
    if (list_.live_size() < 2) {
      contact_seeds(fx);
    } else {
      seeds_.clear();  // joined: someone answered
    }
  }
}

void MembershipNode::housekeeping(Time now, Effects& fx) {
  // A failed or left member whose name a live member holds now is replaced (identity.cc);
  // done here, not where it fails, because detectors fail members while iterating their lists.
  if (config_.dialect == Dialect::native) {
    const std::vector<NodeId> departed = departed_;
    for (NodeId id : departed) settle_name(now, id, fx);
  }
  // Reap failed members after reap_failed_after and left tombstones after tombstone_timeout.
  std::vector<NodeId> keep;
  for (NodeId id : departed_) {
    std::uint32_t slot = list_.find(id);
    if (slot == MemberList::kNone) continue;
    const MemberRecord& r = list_.at(slot);
    if (r.state != MemberState::failed && r.state != MemberState::left) continue;  // revived
    Duration age = now - r.state_since;
    Duration limit =
        r.state == MemberState::left ? config_.tombstone_timeout : config_.reap_failed_after;
    if (age > limit) {
      detector_->on_unsuspect(id);
      list_.remove(id);
    } else {
      keep.push_back(id);
    }
  }
  if (keep.size() != departed_.size()) ++departed_changes_;  // else the same, in order
  departed_ = std::move(keep);
}

// ---- API ------------------------------------------------------------------------------------

Result<void> MembershipNode::join(Time now, std::span<const Address> seeds, Effects& fx) {
  return join_with(now, seeds, JoinOptions{}, fx);
}

Result<void> MembershipNode::join_with(Time now, std::span<const Address> seeds,
                                       const JoinOptions& options, Effects& fx) {
  join_replay_ = options.replay;
  join_events_pending_ = true;
  if (serf_) serf_->set_replay(options.replay);
  seeds_.clear();
  for (const Address& a : seeds) {
    if (a != self_address_) seeds_.push_back(a);
  }
  if (seeds_.empty()) return make_error(Errc::invalid_argument, "no seed other than self");
  seed_next_ = std::size_t(mix64(self_id_) % seeds_.size());  // joiners spread over the seeds
  join_attempts_ = 0;
  contact_seeds(fx);
  join_ticker_.start(now, config_.join_retry_interval, false, rng_);
  if (serf_) serf_->joined();
  return {};
}

void MembershipNode::preload(Time now, std::span<const Address> members) {
  list_.reserve(list_.record_count() + members.size());
  for (const Address& a : members) {
    const NodeId id = node_id_of(a);
    if (id == 0 || !a.valid() || id == self_id_ || list_.find(id) != MemberList::kNone) continue;
    if (list_.add(id, a, 0, MemberState::alive, now) == MemberList::kNone) return;
    detector_->on_member_added(id);
  }
}

void MembershipNode::leave(Time now, Effects& fx) {
  if (leaving_) return;
  leaving_ = true;
  detector_->stop();
  if (serf_) serf_->leave();  // serf's leave intent first: shown left, not failed
  MemberRecord& self = list_.self();
  broadcast_accuse(wire::MemberFrame::dead,
                   wire::AccuseFrame{self_id_, self.incarnation, self_id_});
  // Say it right away rather than at the next gossip tick.
  for (std::uint32_t i = 0; i < std::max<std::uint32_t>(config_.gossip_nodes, 1); ++i) {
    gossip_round(now, fx);
  }
}

Result<void> MembershipNode::update_meta(Time /*now*/, std::span<const std::byte> meta,
                                         Effects& /*fx*/) {
  if (meta.size() > wire::kMetaBytesMax) {
    return make_error(Errc::too_large, "metadata over 512 bytes");
  }
  config_.meta.assign(meta.begin(), meta.end());
  list_.set_extra(self_id_, config_.name, meta);
  ++list_.self().incarnation;
  broadcast_alive(list_.self());
  return {};
}

Result<void> MembershipNode::force_leave(Time now, std::string_view name, Effects& fx) {
  for (const MemberRecord& r : list_.records()) {
    if (list_.name_of(r.id) != name || r.id == self_id_) continue;
    if (r.state != MemberState::failed) {
      return make_error(Errc::invalid_argument, "member is not failed");
    }
    apply_dead(now, wire::AccuseFrame{r.id, r.incarnation, r.id}, fx);
    return {};
  }
  return make_error(Errc::invalid_argument, "no member with that name");
}

std::vector<MemberInfo> MembershipNode::members() const {
  std::vector<MemberInfo> out;
  out.reserve(list_.record_count());
  for (const MemberRecord& r : list_.records()) {
    MemberInfo m;
    m.id = r.id;
    m.name = std::string(list_.name_of(r.id));
    m.address = r.address;
    m.state = (r.id == self_id_ && leaving_) ? MemberState::left : r.state;
    m.incarnation = r.incarnation;
    auto meta = list_.meta_of(r.id);
    m.meta.assign(meta.begin(), meta.end());
    m.zone = std::string(list_.zone_of(r.id));
    out.push_back(std::move(m));
  }
  return out;
}

// ---- sending --------------------------------------------------------------------------------

Peer MembershipNode::peer(const Address& to) const {
  Peer p{to, 0};
  if (codec_->id_for_name("") == 0) return p;  // native: no per-peer wire features
  if (auto idx = list_.index_of(to)) p.pmax = list_.at(list_.live_slot(*idx)).pmax;
  return p;
}

void MembershipNode::send_messages(Effects& fx, const Address& to, std::size_t primaries,
                                   bool piggyback) {
  // Top the packet up with queued updates (infection-style dissemination), then send it.
  std::size_t used = codec_->packet_overhead();
  for (std::size_t i = 0; i < primaries; ++i) used += out_[i].size() + codec_->message_overhead();
  const std::size_t budget = config_.packet_budget_bytes;
  std::size_t count = primaries;
  if (piggyback && used < budget) {
    stats_.updates_sent +=
        queue_.fill(budget - used, codec_->message_overhead(), retransmit_limit(),
                    [&](std::span<const std::byte> m) {
                      if (out_.size() <= count) out_.emplace_back();
                      out_[count++].assign(m.begin(), m.end());
                    });
  }
  codec_->pack(std::span(out_.data(), count), peer(to), datagram_);
  fx.send(to, datagram_);
  ++stats_.datagrams_sent;
  stats_.bytes_sent += datagram_.size();
}

// Each helper encodes its message(s) into out_[0..] and sends them with piggybacked updates.
Bytes& MembershipNode::primary(std::size_t i) {
  if (out_.size() <= i) out_.resize(i + 1);
  out_[i].clear();
  return out_[i];
}

void MembershipNode::send_ping(Effects& fx, const Address& to, const wire::PingFrame& f,
                               const wire::AccuseFrame* buddy) {
  if (!codec_->ping(f, to, primary(0))) return;
  std::size_t n = 1;
  if (buddy != nullptr && codec_->suspect(*buddy, primary(1))) n = 2;
  send_messages(fx, to, n);
}

void MembershipNode::send_ping_req(Effects& fx, const Address& to, const wire::PingReqFrame& f) {
  if (codec_->ping_req(f, primary(0))) send_messages(fx, to, 1);
}

void MembershipNode::send_ack(Effects& fx, const Address& to, std::uint32_t seq) {
  if (codec_->ack(seq, primary(0))) send_messages(fx, to, 1);
}

void MembershipNode::send_nack(Effects& fx, const Address& to, std::uint32_t seq) {
  if (codec_->nack(seq, primary(0))) send_messages(fx, to, 1);
}

void MembershipNode::send_heartbeat(Effects& fx, const Address& to, const wire::HeartbeatFrame& f) {
  if (codec_->heartbeat(f, primary(0))) send_messages(fx, to, 1);
}

void MembershipNode::send_hb_rows(Effects& fx, const Address& to,
                                  std::span<const wire::HeartbeatEntry> rows) {
  const std::size_t budget = config_.packet_budget_bytes;
  std::size_t i = 0;
  while (i < rows.size()) {
    // As many rows as fit one datagram (version, type, 3-byte length, 3-byte count).
    std::size_t bytes = 1 + 1 + 3 + 3;
    std::size_t j = i;
    while (j < rows.size() && bytes + wire::hb_entry_size(rows[j]) <= budget) {
      bytes += wire::hb_entry_size(rows[j++]);
    }
    if (j == i) return;  // one row over the budget: impossible with a valid budget
    if (!codec_->hb_list(rows.subspan(i, j - i), primary(0))) return;
    send_messages(fx, to, 1);
    i = j;
  }
}

void MembershipNode::broadcast_alive(const MemberRecord& r) {
  Bytes m;
  wire::AliveFrame f{
      r.id, r.incarnation, r.address, list_.meta_of(r.id), list_.name_of(r.id), list_.vsn_of(r.id)};
  f.zone = list_.own_zone_of(r.id);
  if (codec_->alive(f, m)) queue_.push(r.id, m, rumor_version(Rumor::alive, r.incarnation));
}

void MembershipNode::broadcast_accuse(wire::MemberFrame type, const wire::AccuseFrame& f) {
  Bytes m;
  const bool suspect = type == wire::MemberFrame::suspect;
  const Rumor kind = suspect ? Rumor::suspect : f.from == f.id ? Rumor::left : Rumor::failed;
  bool ok = suspect ? codec_->suspect(f, m) : codec_->dead(f, m);
  if (ok) queue_.push(f.id, m, rumor_version(kind, f.incarnation));
}

void MembershipNode::heard_again(NodeId id, std::uint64_t version, bool accusation) {
  if (config_.dialect != Dialect::native) return;  // memberlist's queue, unchanged
  // Small groups keep the full budget: the N^2 x retransmits cost is small there, and the
  // residue's repair (the settle rounds below) would add ~1 s to every join (64 joiners:
  // 0.37 -> 1.2 s in NodeJoinGossip).
  if (list_.record_count() < kRumorStopMembersMin) return;
  const std::uint32_t k =
      accusation ? config_.rumor_stop_after_accusations : config_.rumor_stop_after;
  if (!queue_.heard(id, version, k)) return;
  ++stats_.rumors_stopped;
  // A stopped rumor leaves a residue (members it never reached; Demers et al.: ~e^-(k+1)
  // of them with push and a counter), which anti-entropy repairs. Catch-up rounds (armed by
  // joins) stop with the storm, before the last joiners' rumors have settled, and the
  // periodic push-pull comes 3 to 5 minutes later at 1,000 to 10,000 members: so two more
  // rounds (digests: a push-pull only where lists differ), churn_anti_entropy_delay and 3x it
  // after this node's last stop (each stop pushes them on). One round at 1x left a member
  // short for 20 s in one of three seeded runs (its partner lacked the same joiner); one at
  // 3x made every join storm 3 s longer (docs/performance.md).
  if (started_ && config_.churn_anti_entropy_delay > Duration::zero()) {
    rumor_settle_at_ = clock_ + config_.churn_anti_entropy_delay;
    rumor_settles_left_ = 2;
  }
}

// The catch-up round waits until the news has stopped for churn_anti_entropy_delay (trailing
// edge), and at most kCatchUpWaitMax delays after the first news. In a join storm the lists
// always differ by the joins still in flight, so a round a delay after each new member (as
// before) became a full push-pull per member per second: O(N^2) state a second, ~25% of the
// join's CPU at 5,000 (docs/performance.md, "Catch-up in a storm"). One round when it is over
// repairs what the gossip missed.
//
// A storm longer than the cap (10,000 joins take minutes) still made a full push-pull per
// member every 5 delays, each of the whole list (at 10,000 joining: 115,000 push-pulls, 36 GB
// of streams, turns of 10 s): the cap doubles for each round in a row that fired at it, and a
// full exchange with anyone restarts it (on_stream), so a long storm costs each member a few
// rounds, not one per 5 delays. The trailing edge is unchanged: one round when it is over.
// (A cap scaled with the group as the periodic push-pull is, x10 at 10,000, left 4 of 10,000
// lists 4 members short for over a minute after the storm: the capped rounds repair the tail.)
void MembershipNode::arm_catch_up() {
  const Duration delay = config_.churn_anti_entropy_delay;
  if (catch_up_at_ == Time::max()) catch_up_first_ = clock_;
  const Time cap = catch_up_first_ + delay * catch_up_wait_max_;
  catch_up_capped_ = cap < clock_ + delay;
  catch_up_at_ = std::min(cap, clock_ + delay);
}

void MembershipNode::fire_catch_up(Time now, Effects& fx) {
  catch_up_at_ = Time::max();
  catch_up_wait_max_ =
      catch_up_capped_ ? std::min(catch_up_wait_max_ * 2, kCatchUpWaitCeiling) : kCatchUpWaitMax;
  if (list_.live_size() <= 1 || leaving_) return;
  ++stats_.catch_up_rounds;
  // The partner from a hash, not rng_: the other timers' random draws stay as they were.
  const std::uint64_t h = mix64(std::uint64_t(now.ns()) ^ self_id_);
  anti_entropy(fx, list_.address(1 + std::uint32_t(h % (list_.live_size() - 1))));
}

void MembershipNode::emit(Effects& fx, EventKind kind, const MemberRecord& r) {
  // A new member: arm the catch-up anti-entropy round (churn_anti_entropy_delay), whatever
  // the detector (phi's false failure that once kept it SWIM-only is phi's own: membership.h).
  if (kind == EventKind::joined && config_.churn_anti_entropy_delay > Duration::zero() &&
      started_) {
    arm_catch_up();
  }
  if (kind == EventKind::joined) arm_join_gossip();
  Event e;
  e.kind = kind;
  e.subject_id = r.id;
  e.subject = r.address;
  e.subject_name = list_.name_of(r.id);
  e.incarnation = r.incarnation;
  e.subject_meta = list_.meta_of(r.id);
  fx.emit(e);
}

// memberlist's gossip targets: live members and those *failed* less than gossip_to_the_dead
// ago (so a falsely failed member still hears its own death and refutes). Members that left
// are not targets: a leaver exits, and gossip sent to it is gossip a live member misses.
// The failed ones, newest first, are listed once a round (a partition fails thousands at once:
// listing them per pick, as before, cost O(failed) per pick, 8 times a round).
bool MembershipNode::departed_walk_current() const noexcept {
  return walk_list_changes_ == list_.departure_changes() &&
         walk_departed_changes_ == departed_changes_;
}

void MembershipNode::list_recent_failed(Time now) {
  if (!departed_walk_current()) {
    walk_list_changes_ = list_.departure_changes();
    walk_departed_changes_ = departed_changes_;
    departed_walk_.clear();
    for (auto it = departed_.rbegin(); it != departed_.rend(); ++it) {
      std::uint32_t slot = list_.find(*it);
      if (slot == MemberList::kNone) continue;
      const MemberRecord& r = list_.at(slot);
      departed_walk_.push_back(DepartedSeen{r.state_since, r.id, r.state == MemberState::failed});
      if (now - r.state_since > config_.gossip_to_the_dead) break;
    }
    std::reverse(departed_walk_.begin(), departed_walk_.end());  // kept oldest first
  }
  recent_failed_.clear();
  for (auto it = departed_walk_.rbegin(); it != departed_walk_.rend(); ++it) {
    if (now - it->since > config_.gossip_to_the_dead) break;
    if (it->failed) recent_failed_.push_back(it->id);
  }
}

// A random gossip target: a live member, or one in recent_failed_.
bool MembershipNode::pick_gossip_target(NodeId& out) {
  const auto recent = std::uint32_t(recent_failed_.size());
  const std::uint32_t live = list_.live_size() - 1;
  if (live + recent == 0) return false;
  std::uint64_t k = rng_.below(live + recent);
  if (k < live) {
    out = list_.at(list_.live_slot(std::uint32_t(k) + 1)).id;
    return true;
  }
  out = recent_failed_[k - live];
  return true;
}

void MembershipNode::gossip_round(Time now, Effects& fx) {
  if (queue_.empty()) return;
  NodeId chosen[16];
  std::uint32_t n = 0;
  const std::uint32_t want = std::min<std::uint32_t>(config_.gossip_nodes, 16);
  list_recent_failed(now);
  for (std::uint32_t attempt = 0; n < want && attempt < want * 4; ++attempt) {
    NodeId id;
    if (!pick_gossip_target(id)) break;
    if (std::find(chosen, chosen + n, id) == chosen + n) chosen[n++] = id;
  }
  for (std::uint32_t i = 0; i < n && !queue_.empty(); ++i) {
    send_messages(fx, list_.at(list_.find(chosen[i])).address, 0);
  }
}

Bytes MembershipNode::encode_state(bool join, bool reply) const {
  wire::PushPullHeader h{join, reply, self_id_, self_address_, std::uint32_t(list_.record_count())};
  std::vector<wire::MemberEntry> entries;
  entries.reserve(list_.record_count());
  for (const MemberRecord& r : list_.records()) {
    MemberState s = (r.id == self_id_ && leaving_) ? MemberState::left : r.state;
    entries.push_back(wire::MemberEntry{r.id, r.address, r.incarnation, to_wire(s),
                                        list_.meta_of(r.id), list_.name_of(r.id),
                                        list_.vsn_of(r.id), list_.own_zone_of(r.id)});
    h.zones = h.zones || !entries.back().zone.empty();
  }
  const Bytes user_state = serf_ ? serf_->local_state() : Bytes{};
  h.user_state = user_state;
  // A native seed's reply to a join: its event clock and recent events (flag 8), from which
  // the joiner replays (JoinOptions::replay) or learns what is too old to deliver. Other
  // push-pulls carry them too once there were events: they repair what gossip missed.
  std::vector<wire::UserEventFrame> recent;
  if (sends_events(join, reply)) {
    h.events = true;
    h.event_clock = user_events_.clock();
    recent.reserve(recent_events_.entries().size());
    for (const RecentEvents::Entry& e : recent_events_.entries()) {
      recent.push_back(wire::UserEventFrame{e.ltime, e.coalesce, e.name, e.payload});
    }
    h.recent = recent;
  }
  return codec_->push_pull(h, entries);
}

// Periodic anti-entropy. At rest every list agrees, so a summary (one small datagram) replaces
// the full state: only a peer whose own summary differs answers with a push-pull (see
// on_state_digest). Dialects without summaries (memberlist) push-pull the whole state.
void MembershipNode::anti_entropy(Effects& fx, const Address& to) {
  if (codec_->state_digest(state_digest(), primary(0))) {
    send_messages(fx, to, 1);
  } else {
    send_push_pull(fx, to, false);
  }
}

wire::ListDigestFrame MembershipNode::state_digest() const noexcept {
  wire::ListDigestFrame f;
  for (const MemberRecord& r : list_.records()) {
    const MemberState s = (r.id == self_id_ && leaving_) ? MemberState::left : r.state;
    f.digest += mix64(r.id ^ mix64(std::uint64_t(r.incarnation) << 8 | std::uint64_t(s)));
    ++f.count;
  }
  f.digest += event_digest();  // a member that missed the latest user event disagrees
  return f;
}

void MembershipNode::on_state_digest(Time now, const wire::ListDigestFrame& f,
                                     const Address& from, Effects& fx) {
  // From anyone, members or not: a member that nobody lists is exactly what this repairs.
  if (leaving_) return;
  const wire::ListDigestFrame own = state_digest();
  if (own.count == f.count && own.digest == f.digest) return;  // in agreement: nothing to say
  // A disagreement: exchange full states. At most one such exchange a second, whoever asks
  // (a spoofed digest costs us one TCP connect a second, which the peer must accept).
  if (now < digest_push_pull_after_) return;
  digest_push_pull_after_ = now + Duration::seconds(1);
  send_push_pull(fx, from, false);
}

void MembershipNode::send_push_pull(Effects& fx, const Address& to, bool join) {
  auto state = encode_state(join, false);
  if (state.empty()) return;
  fx.send_stream(to, state);
  ++stats_.streams_sent;
  ++stats_.push_pulls;
  stats_.stream_bytes_sent += state.size();
}

bool MembershipNode::send_stream_ping(Effects& fx, NodeId target, const wire::PingFrame& f) {
  if (!config_.tcp_fallback_ping) return false;
  const std::uint32_t slot = list_.find(target);
  if (slot == MemberList::kNone) return false;
  const MemberRecord& r = list_.at(slot);
  // memberlist pings over TCP only members whose Vsn says protocol >= 3.
  if (config_.dialect == Dialect::memberlist && r.pmax < 3) return false;
  Bytes message = codec_->stream_ping(f);
  if (message.empty()) return false;
  fx.send_stream(r.address, message);
  ++stats_.streams_sent;
  ++stats_.stream_pings;
  stats_.stream_bytes_sent += message.size();
  return true;
}

// ---- receiving ------------------------------------------------------------------------------

// Hands decoded messages to the merge rules and the detector, with the call's time and effects.
class MembershipNode::Inbound final : public StreamSink {
 public:
  Inbound(MembershipNode& n, Time now, Effects& fx) : n_(n), now_(now), fx_(fx) {}
  void on_ping(const wire::PingFrame& f, const Address& reply_to) override {
    n_.detector_->on_ping(now_, f, reply_to, fx_);
  }
  void on_ping_req(const wire::PingReqFrame& f, const Address& from) override {
    n_.detector_->on_ping_req(now_, f, from, fx_);
  }
  void on_ack(std::uint32_t seq) override { n_.detector_->on_ack(now_, seq, fx_); }
  void on_nack(std::uint32_t seq) override { n_.detector_->on_nack(seq); }
  void on_alive(const wire::AliveFrame& f, std::uint8_t pmax) override {
    n_.apply_alive(now_, f, fx_, pmax);
  }
  void on_suspect(const wire::AccuseFrame& f) override { n_.apply_suspect(now_, f, fx_); }
  void on_dead(const wire::AccuseFrame& f) override { n_.apply_dead(now_, f, fx_); }
  void on_heartbeat(const wire::HeartbeatFrame& f, const Address& from) override {
    n_.detector_->on_heartbeat(now_, f, from, fx_);
  }
  void on_hb_entry(const wire::HeartbeatEntry& e) override {
    n_.detector_->on_hb_entry(now_, e, fx_);
  }
  void on_user(std::span<const std::byte> payload) override {
    if (n_.serf_) return n_.serf_->on_message(now_, payload, fx_);  // serf's messages
    n_.on_user(payload, fx_);
  }
  void on_user_state(std::span<const std::byte> state) override {
    if (n_.serf_) n_.serf_->merge_remote_state(now_, state, header_.join, fx_);
  }
  void on_state_digest(const wire::ListDigestFrame& f, const Address& from) override {
    n_.on_state_digest(now_, f, from, fx_);
  }
  void on_user_event(const wire::UserEventFrame& f) override { n_.on_user_event(f, fx_); }
  void on_push_pull_events(std::uint64_t event_clock) override {
    events_ = header_.join && header_.reply && n_.join_events_pending_;
    repair_ = !events_ && n_.takes_repair_events();
    if (events_) n_.on_join_events_clock(event_clock);
    if (repair_) n_.on_repair_events_clock(event_clock);
  }
  void on_push_pull_event(const wire::UserEventFrame& f) override {
    // Without replay the reply's events are all under event_min_time_: kept, not delivered.
    if (events_) n_.on_user_event(f, fx_, true);
    if (repair_) n_.on_repair_event(f, fx_);
  }
  void on_query(const wire::QueryFrame& f) override { n_.on_query(now_, f, fx_); }
  void on_query_response(const wire::QueryResponseFrame& f) override {
    n_.on_query_response(now_, f, fx_);
  }
  void on_malformed() override { ++n_.stats_.malformed_received; }
  void on_unknown() override { ++n_.stats_.unknown_frames; }
  void on_rejected() override { ++n_.stats_.rejected_received; }
  void on_push_pull(const wire::PushPullHeader& h) override {
    push_pull_ = true;
    header_ = h;
  }
  void on_member(const wire::MemberEntry& m, std::uint8_t pmax) override {
    // A join reply's entries but its newest join_reply_gossip_newest (the seed adds members at
    // the end of its list) are merged without re-gossip (MembershipConfig::join_reply_gossip).
    const std::uint32_t newest = n_.config_.join_reply_gossip_newest;
    const bool old_news = header_.join && header_.reply &&
                          std::uint64_t(member_index_) + newest < header_.count;
    ++member_index_;
    n_.merge_member(now_, m, pmax, fx_, old_news);
  }
  void on_stream_ack(std::uint32_t seq) override { n_.detector_->on_stream_ack(now_, seq, fx_); }
  [[nodiscard]] bool got_push_pull() const { return push_pull_; }
  [[nodiscard]] const wire::PushPullHeader& header() const { return header_; }

 private:
  MembershipNode& n_;
  Time now_;
  Effects& fx_;
  bool push_pull_ = false;
  bool events_ = false;  // this push-pull's events are a reply to our join
  bool repair_ = false;  // its events may repair what gossip missed here
  std::uint32_t member_index_ = 0;  // entries of this push-pull seen so far
  wire::PushPullHeader header_;
};

void MembershipNode::on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                                 Effects& fx) {
  clock_ = now;
  ++stats_.datagrams_received;
  stats_.bytes_received += bytes.size();
  if (config_.dialect == Dialect::native) warm_members(list_, bytes);
  Inbound in(*this, now, fx);
  codec_->unpack(bytes, from, in);
}

void MembershipNode::on_stream(Time now, const Address& from, std::span<const std::byte> message,
                               StreamId stream, Effects& fx) {
  clock_ = now;
  ++stats_.streams_received;
  Inbound in(*this, now, fx);
  Bytes direct = codec_->unpack_stream(message, from, in);
  // A full state exchange (ours answered, or one asked of us) covers the news so far: a
  // pending catch-up round's cap counts from here (each member of a storm then runs about
  // half the rounds: it answers others' as often as it asks).
  if (in.got_push_pull() && catch_up_at_ != Time::max()) catch_up_first_ = now;
  if (stream == 0) return;  // an answer to our own request
  if (!direct.empty()) {    // e.g. a TCP ping's ack
    fx.reply_stream(stream, direct);
    ++stats_.streams_sent;
    stats_.stream_bytes_sent += direct.size();
  } else if (in.got_push_pull()) {
    if (in.header().join) {
      // A seed's bounded work: past join_answers_per_second the joiner is merged, not answered.
      if (!take_join_answer(now)) {
        ++stats_.joins_refused;
        return;
      }
      ++stats_.joins_answered;
    }
    // A native join gets a join reply, with this node's recent user events (flag 8).
    const bool join = in.header().join && config_.dialect == Dialect::native;
    auto state = encode_state(join, true);
    fx.reply_stream(stream, state);
    ++stats_.streams_sent;
    stats_.stream_bytes_sent += state.size();
  }
}

Result<std::size_t> MembershipNode::stream_message_length(
    std::span<const std::byte> received) const {
  return codec_->stream_message_length(received);
}

void MembershipNode::merge_member(Time now, const wire::MemberEntry& m, std::uint8_t pmax,
                                  Effects& fx, bool join_reply) {
  // A seed's join reply (native): its members are not re-gossiped (join_reply_gossip), with
  // every detector (heartbeat detectors spread counters in their own rows, not in these).
  const bool quiet =
      join_reply && config_.dialect == Dialect::native && !config_.join_reply_gossip;
  switch (m.state) {
    case wire::WireState::alive:
      apply_alive(now,
                  wire::AliveFrame{m.id, m.incarnation, m.address, m.meta, m.name, m.vsn, m.zone},
                  fx, pmax, quiet ? AliveFrom::quiet_join_reply : AliveFrom::push_pull);
      break;
    case wire::WireState::left:
      apply_dead(now, wire::AccuseFrame{m.id, m.incarnation, m.id}, fx);
      break;
    case wire::WireState::dead:
    case wire::WireState::suspect:
      // memberlist's rule: a remote verdict only makes us suspect, never dead directly.
      if (detector_->accepts_accusations()) {
        apply_suspect(now, wire::AccuseFrame{m.id, m.incarnation, self_id_}, fx);
      }
      break;
  }
}

// User messages (memberlist dialect): delivered once each, and passed on, so a broadcast
// spreads through every grapevine member however the Go members treat it.
void MembershipNode::on_user(std::span<const std::byte> payload, Effects& fx) {
  ++stats_.user_messages_received;
  const std::uint64_t h = hash_bytes(payload, 0x75736572) | 1;
  if (seen_users_.find(h) != FlatIndex::kMissing) return;
  remember_user(h);
  Bytes m;
  if (codec_->user(payload, m)) queue_.push(next_user_key(), m);
  deliver_user(MessageId{h, 0}, payload, 1, fx);
}

Result<MessageId> MembershipNode::broadcast(Time /*now*/, std::span<const std::byte> payload,
                                            Effects& fx) {
  Bytes m;
  if (!codec_->user(payload, m)) {
    return make_error(Errc::invalid_argument,
                      "the native dialect multicasts through core/multicast, not membership");
  }
  if (m.size() + codec_->packet_overhead() + codec_->message_overhead() >
      config_.packet_budget_bytes) {
    return make_error(Errc::too_large, "payload over the packet budget");
  }
  const std::uint64_t h = hash_bytes(payload, 0x75736572) | 1;
  remember_user(h);
  queue_.push(next_user_key(), m);
  const MessageId id{h, 0};
  deliver_user(id, payload, 0, fx);
  return id;
}

void MembershipNode::remember_user(std::uint64_t h) {
  if (seen_user_ring_.size() >= kSeenUsersMax) {
    seen_users_.erase(seen_user_ring_[seen_user_next_]);
    seen_user_ring_[seen_user_next_] = h;
    seen_user_next_ = (seen_user_next_ + 1) % kSeenUsersMax;
  } else {
    seen_user_ring_.push_back(h);
  }
  seen_users_.put(h, 1);
}

NodeId MembershipNode::next_user_key() {
  return (NodeId(3) << 62) | ++user_seq_;
}

void MembershipNode::deliver_user(const MessageId& id, std::span<const std::byte> payload,
                                  std::uint32_t hops, Effects& fx) {
  Event e;
  e.kind = EventKind::delivered;
  e.message = id;
  e.payload = payload;
  e.hops = hops;
  fx.emit(e);
}

}  // namespace grapevine::detail
