// ConsistentNode, part 1: frame dispatch, edge monitoring, alert gossip, proposals and installing
// configurations. The protocol is described in consistent_node.h.
#include "core/consistent/consistent_node.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "util/assert.h"
#include "wire/native.h"

namespace grapevine::detail {

void ConfigGroup::assign(const Address& self, std::span<const Address> members) {
  list_.clear();
  list_.push_back(self);
  for (const Address& a : members) {
    if (a != self) list_.push_back(a);
  }
  sorted_.clear();
  for (std::uint32_t i = 0; i < list_.size(); ++i) sorted_.emplace_back(list_[i], i);
  std::sort(sorted_.begin(), sorted_.end());
}

std::optional<std::uint32_t> ConfigGroup::index_of(const Address& a) const noexcept {
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), std::make_pair(a, 0u));
  if (it == sorted_.end() || it->first != a) return std::nullopt;
  return it->second;
}

ConsistentNode::ConsistentNode(const MembershipConfig& config, const Address& self,
                               std::uint64_t seed)
    : config_(config),
      opts_(config.consistent),
      self_(self),
      rng_(seed),
      view_(std::span(&self, 1), config.consistent.rings),
      cut_(CutThresholds{config.consistent.high, config.consistent.low,
                         config.consistent.unstable_timeout,
                         config.consistent.probe_interval * 2}),
      consensus_(*this, self) {
  group_.assign(self_, view_.members());
  consensus_.reset(view_);
  profiles_[self_] = wire::Profile{1, config.name, config.meta};
}

// ---- frames ----

void ConsistentNode::on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                                 Effects& fx) {
  fx_ = &fx;
  ++stats_.datagrams_received;
  stats_.bytes_received += bytes.size();
  wire::FrameIterator it(bytes);
  wire::Frame f;
  while (it.next(f)) {
    if (!wire::is_rapid_frame(f.type)) {
      if (!wire::other_component(f.type, wire::FrameFamily::consistent)) ++stats_.unknown_frames;
      continue;
    }
    if (!wire::decode_rapid(f.type, f.body, in_)) {
      ++stats_.malformed_received;
      continue;
    }
    dispatch(now, from, in_);
  }
  if (!it.ok()) ++stats_.malformed_received;
}

void ConsistentNode::dispatch(Time now, const Address& from, const wire::RapidMessage& m) {
  using wire::RapidFrame;
  switch (m.type) {
    case RapidFrame::probe: on_probe(now, from, m); return;
    case RapidFrame::probe_ack: on_probe_ack(now, from, m); return;
    case RapidFrame::pre_join: on_pre_join(now, from, m); return;
    case RapidFrame::join_info: on_join_info(now, from, m); return;
    case RapidFrame::join: on_join(now, from, m); return;
    case RapidFrame::sync_request: on_sync_request(now, from, m); return;
    case RapidFrame::decision: on_decision_frame(now, from, m); return;
    case RapidFrame::leave: on_leave(now, from, m); return;
    case RapidFrame::cut_request: on_cut_request(now, from, m); return;
    case RapidFrame::profiles: on_profiles(now, from, m); return;
    default: break;
  }
  // Alerts, votes and Paxos messages count only within this configuration.
  if (m.config != view_.ref()) {
    compare_config(now, from, m.config);
    return;
  }
  if (!member_ || !view_.contains(from)) return;
  switch (m.type) {
    case RapidFrame::alerts: on_alerts(now, m); break;
    case RapidFrame::vote: consensus_.on_vote(view_, m); break;
    case RapidFrame::phase1a: consensus_.on_phase1a(view_, from, m); break;
    case RapidFrame::phase1b: consensus_.on_phase1b(view_, from, m); break;
    case RapidFrame::phase2a: consensus_.on_phase2a(view_, from, m); break;
    case RapidFrame::phase2b: consensus_.on_phase2b(view_, from, m); break;
    default: break;
  }
  after_consensus(now);
}

void ConsistentNode::send(const Address& to, const wire::RapidMessage& m) {
  std::array<std::byte, wire::kPacketBudgetBytesMax> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  if (!wire::write_rapid(w, m)) return;
  ++stats_.datagrams_sent;
  stats_.bytes_sent += w.size();
  fx_->send(to, w.written());
}

void ConsistentNode::send_to_members(const wire::RapidMessage& m) {
  for (const Address& a : view_.members()) {
    if (a != self_) send(a, m);
  }
}

// ---- edge monitoring ----

void ConsistentNode::on_probe(Time now, const Address& from, const wire::RapidMessage& m) {
  out_.type = wire::RapidFrame::probe_ack;
  out_.config = view_.ref();
  out_.seq = m.seq;
  send(from, out_);
  compare_config(now, from, m.config);
}

void ConsistentNode::on_probe_ack(Time now, const Address& from, const wire::RapidMessage& m) {
  for (Subject& s : subjects_) {
    if (s.address == from && s.waiting && s.seq == m.seq) {
      s.waiting = false;
      if (now >= s.calm_at) s.urgent = false;  // a flaky subject stays urgent (calm_at)
      s.detector->on_ack(now, now - s.sent);
    }
  }
  compare_config(now, from, m.config);
}

// One tick per probe_interval (at this member's own phase): the subject of ring (slot mod K),
// round-robin, where slot = now / probe_interval counts intervals, so on each interval the
// members probe along the same ring and every subject gets about one probe per interval from
// one of its observers; and every urgent subject not probed in the last half interval. Urgent
// subjects follow the observer's phase, not the first miss: the observers of a failed subject
// then report it spread over about one interval, as when every observer probed every subject,
// so several failures in one interval cross L before any crosses H and make one cut. Alerted
// subjects stay urgent while they do not answer: their answers carry their configuration
// (anti-entropy, and how a healed minority learns it was removed).
void ConsistentNode::probe_subjects(Time now) {
  const auto ring = std::uint32_t((now.ns() / opts_.probe_interval.ns()) % view_.rings());
  for (Subject& s : subjects_) {
    if (s.waiting) continue;
    const bool turn = (s.rings >> ring) & 1u;
    const bool due = s.urgent && now - s.sent >= opts_.probe_interval / 2;
    if (turn || due) probe(now, s);
  }
}

void ConsistentNode::probe(Time now, Subject& s) {
  s.seq++;
  s.waiting = true;
  s.sent = now;
  s.detector->on_probe_sent(now);
  out_.type = wire::RapidFrame::probe;
  out_.config = view_.ref();
  out_.seq = s.seq;
  send(s.address, out_);
  probe_check_ = std::min(probe_check_, now + opts_.probe_timeout);
}

void ConsistentNode::check_probes(Time now) {
  probe_check_ = Time::max();
  for (Subject& s : subjects_) {
    if (s.waiting && now >= s.sent + opts_.probe_timeout) {
      s.waiting = false;
      s.detector->on_probe_timeout(now);
      s.calm_at = now + opts_.probe_interval * std::int64_t(opts_.probe_misses);
      // The first miss: tell the subject's other observers, so they probe it now.
      if (!std::exchange(s.urgent, true)) send_suspect(s);
    } else if (s.waiting) {
      probe_check_ = std::min(probe_check_, s.sent + opts_.probe_timeout);
    }
    if (!s.alerted && (s.leaving || s.detector->faulty(now))) {
      s.alerted = true;
      s.realert_at = now + opts_.probe_interval;
      raise_alert(now, s.address, s.leaving ? wire::AlertKind::leave : wire::AlertKind::remove,
                  s.rings);
    } else if (s.alerted && !s.leaving && now >= s.realert_at && s.detector->faulty(now)) {
      // Standing alert, configuration undecided: gossip it again (consistent_node.h).
      s.realert_at = now + opts_.probe_interval;
      const wire::Alert a{s.address, wire::AlertKind::remove, s.rings};
      if (a.rings == 0) continue;
      enqueue_alert(a);
      if (next_gossip_ == Time::max()) next_gossip_ = now;
    }
  }
}

// A suspect goes straight to the subject's other observers (one datagram each), not by gossip.
void ConsistentNode::send_suspect(const Subject& s) {
  const auto idx = view_.index_of(s.address);
  if (!idx || !member_) return;
  out_.type = wire::RapidFrame::alerts;
  out_.config = view_.ref();
  out_.alert_count = 1;
  out_.alerts[0] = wire::Alert{s.address, wire::AlertKind::suspect, s.rings};
  std::vector<std::uint32_t> sent;
  for (std::uint32_t k = 0; k < view_.rings(); ++k) {
    const std::uint32_t o = view_.observer_of(*idx, k);
    if (view_.member(o) == self_ || std::find(sent.begin(), sent.end(), o) != sent.end()) continue;
    sent.push_back(o);
    send(view_.member(o), out_);
  }
}

// A suspect may be the first sign of a partition or of several failures: probe every subject
// now (at most once per probe_interval), so that the failures of one moment are first missed
// together rather than over several intervals of round-robin. Free at rest (no suspects); under
// heavy loss it brings back up to K probes per interval.
void ConsistentNode::sweep(Time now) {
  if (now < sweep_allowed_) return;
  sweep_allowed_ = now + opts_.probe_interval;
  for (Subject& s : subjects_) {
    if (!s.waiting && now - s.sent >= opts_.probe_interval / 2) probe(now, s);
  }
}

// Alert-triggered confirmation: another observer suspects or reports one of our subjects; probe
// it now (unless a probe is out or went out in the last half interval), then every interval.
void ConsistentNode::confirm(Time now, const Address& subject) {
  for (Subject& s : subjects_) {
    if (s.address != subject) continue;
    s.urgent = true;
    if (!s.waiting && now - s.sent >= opts_.probe_interval / 2) probe(now, s);
  }
}

// ---- alerts ----

void ConsistentNode::raise_alert(Time now, const Address& subject, wire::AlertKind kind,
                                 std::uint16_t rings) {
  wire::Alert a{subject, kind, rings};
  if (accept_alert(now, a)) {
    ++stats_.alerts_sent;
    cut_.apply_implicit(view_, now);
    schedule_propose(now);
  }
}

bool ConsistentNode::accept_alert(Time now, wire::Alert a) {
  const bool is_member = view_.contains(a.subject);
  if ((a.kind == wire::AlertKind::join) == is_member) return false;
  // Relays merge reports per subject, so the observers behind a ring mask are not named; the
  // originator (raise_alert) sets only its own rings.
  a.rings = std::uint16_t(a.rings & ((1u << view_.rings()) - 1));
  if (a.rings == 0) return false;
  const bool fresh = cut_.tally(a.subject) == 0;
  if (!cut_.add(view_, a, now)) return false;
  // A change is pending: undecided for stall_timeout, this configuration stalls.
  if (stall_at_ == Time::max() && cut_.tally(a.subject) >= opts_.low) {
    stall_at_ = now + opts_.stall_timeout;
  }
  fresh_subject_ |= fresh;
  enqueue_alert(a);
  if (next_gossip_ == Time::max()) next_gossip_ = now;
  return true;
}

void ConsistentNode::enqueue_alert(const wire::Alert& a) {
  for (QueuedAlert& q : alerts_) {
    if (q.alert.subject == a.subject) {
      q.alert.rings = std::uint16_t(q.alert.rings | a.rings);
      if (a.kind == wire::AlertKind::leave) q.alert.kind = a.kind;
      q.transmits = 0;
      return;
    }
  }
  if (alerts_.size() >= kAlertQueueMax) {
    // Drop the most-sent alert; votes and anti-entropy repair what gossip misses.
    auto worst = std::max_element(alerts_.begin(), alerts_.end(),
                                  [](auto& x, auto& y) { return x.transmits < y.transmits; });
    alerts_.erase(worst);
  }
  alerts_.push_back(QueuedAlert{a, 0});
}

void ConsistentNode::on_alerts(Time now, const wire::RapidMessage& m) {
  bool changed = false;
  for (const wire::Alert& a : m.alert_list()) {
    if (a.kind == wire::AlertKind::suspect || a.kind == wire::AlertKind::remove) {
      confirm(now, a.subject);
    }
    if (a.kind == wire::AlertKind::suspect) sweep(now);
    if (a.kind != wire::AlertKind::suspect) changed |= accept_alert(now, a);
  }
  if (!changed) return;
  cut_.apply_implicit(view_, now);
  schedule_propose(now);
}

std::uint32_t ConsistentNode::retransmit_limit() const noexcept {
  // Each member forwards an alert to about retransmit_mult * log2(n) others (push epidemic:
  // ~ln n copies per member reach everyone w.h.p.); votes and anti-entropy repair the rest.
  const std::uint32_t sends = opts_.retransmit_mult * std::uint32_t(std::bit_width(view_.size() + 1));
  return std::max<std::uint32_t>(2, (sends + opts_.gossip_nodes - 1) / opts_.gossip_nodes);
}

void ConsistentNode::gossip(Time now) {
  next_gossip_ = Time::max();
  if (!member_ || view_.size() < 2) return;
  const bool votes = !consensus_.has_decided() && consensus_.active();
  if (alerts_.empty() && profile_queue_.empty() && !votes) return;
  next_gossip_ = now + opts_.gossip_interval;
  // Alerts: least-sent first, up to kAlertFramesPerRound frames (one datagram each) per target.
  std::stable_sort(alerts_.begin(), alerts_.end(),
                   [](auto& x, auto& y) { return x.transmits < y.transmits; });
  const std::size_t frames = std::min<std::size_t>(
      kAlertFramesPerRound, (alerts_.size() + wire::kAlertsPerFrameMax - 1) / wire::kAlertsPerFrameMax);
  std::vector<std::uint32_t> targets;
  const std::uint32_t n = view_.size();
  for (std::uint32_t t = 0; t < opts_.gossip_nodes && t + 1 < n; ++t) {
    const auto i = std::uint32_t(rng_.below(n));
    if (view_.member(i) != self_) targets.push_back(i);
  }
  out_.type = wire::RapidFrame::alerts;
  out_.config = view_.ref();
  for (std::size_t f = 0; f < frames; ++f) {
    out_.alert_count = 0;
    for (std::size_t k = f * wire::kAlertsPerFrameMax;
         k < alerts_.size() && out_.alert_count < wire::kAlertsPerFrameMax; ++k) {
      out_.alerts[out_.alert_count++] = alerts_[k].alert;
      ++alerts_[k].transmits;
    }
    for (std::uint32_t i : targets) send(view_.member(i), out_);
  }
  const std::uint32_t limit = retransmit_limit();
  std::erase_if(alerts_, [&](auto& q) { return q.transmits >= limit; });
  gossip_profiles(targets);
  if (!votes) return;
  wire::RapidMessage& v = in_;  // in_ is free outside on_datagram
  for (std::uint32_t i : targets) {
    if (consensus_.next_gossip(view_, v)) send(view_.member(i), v);
  }
}

// ---- proposals and decisions ----

// The settle time runs from the first alert; a subject first reported during it extends it to
// propose_delay after that report (the alert stream has not settled: joiners released a little
// later by another seed, failures detected a little later), up to kSettleMax propose_delays
// after the first alert of the configuration.
void ConsistentNode::schedule_propose(Time now) {
  const bool fresh = std::exchange(fresh_subject_, false);
  if (consensus_.voted() || consensus_.has_decided()) return;
  if (settle_from_ == Time::max()) settle_from_ = now;
  const Time cap = settle_from_ + opts_.propose_delay * kSettleMax;
  if (propose_at_ == Time::max()) {
    propose_at_ = now + opts_.propose_delay;
  } else if (fresh) {
    propose_at_ = std::min(std::max(propose_at_, now + opts_.propose_delay * kSettleFresh),
                           std::max(propose_at_, cap));
  }
}

void ConsistentNode::try_propose(Time now) {
  propose_at_ = drop_check_ = Time::max();
  if (!member_ || consensus_.voted() || consensus_.has_decided()) return;
  std::vector<Address> cut = cut_.proposal(now);
  if (cut.empty()) {
    drop_check_ = cut_.next_change(now);  // else re-checked on the next alert
    return;
  }
  // Adopt the most-voted proposal when this member has evidence (>= L reports) for every
  // subject in it: it differs from ours only by alerts still in flight, and voting for it
  // avoids a fast-round conflict (any value may be voted in a fast round).
  const auto most = consensus_.most_voted();
  if (const std::vector<Address>* best = most ? consensus_.known(most->digest) : nullptr) {
    const bool supported = std::all_of(best->begin(), best->end(), [&](const Address& a) {
      return cut_.tally(a) >= opts_.low;
    });
    if (supported) cut = *best;
  }
  if (consensus_.vote(view_, cut) && next_gossip_ == Time::max()) next_gossip_ = now;
  after_consensus(now);
}

void ConsistentNode::after_consensus(Time now, bool catch_up) {
  if (consensus_.active() && classic_at_ == Time::max() && !consensus_.has_decided()) {
    const std::int64_t base = opts_.classic_timeout.ns();
    classic_at_ = now + Duration::nanoseconds(base + rng_.between(0, base));
    if (stall_at_ == Time::max()) stall_at_ = now + opts_.stall_timeout;
    if (next_gossip_ == Time::max()) next_gossip_ = now;
  }
  catch_up_pending_ |= catch_up;
  if (consensus_.cut_wanted()) {
    if (cut_fetch_at_ == Time::max()) fetch_cut(now);
    return;
  }
  if (consensus_.decided() == nullptr) return;
  if (consensus_.decided_fast()) ++stats_.fast_decisions;
  else ++stats_.classic_decisions;
  std::vector<Address> cut = *consensus_.decided();
  install(now, view_.next(cut), cut, std::exchange(catch_up_pending_, false));
}

// A decided cut this member lacks: ask a member that voted for it (else whoever sent the
// decision) for its list, again every kCutFetchInterval until it comes (on_cut_state).
void ConsistentNode::fetch_cut(Time now) {
  cut_fetch_at_ = Time::max();
  const auto digest = consensus_.cut_wanted();
  if (!member_ || !digest) return;
  Address to = cut_hint_;
  if (auto v = consensus_.voter_of(*digest, rng_.next()); v && view_.member(*v) != self_) {
    to = view_.member(*v);
  }
  if (!to.valid() || to == self_) return;
  out_.type = wire::RapidFrame::cut_request;
  out_.config = view_.ref();
  out_.digest = *digest;
  send(to, out_);
  cut_fetch_at_ = now + kCutFetchInterval;
}

void ConsistentNode::on_cut_request(Time, const Address& from, const wire::RapidMessage& m) {
  const std::vector<Address>* cut = nullptr;
  if (m.config == view_.ref()) {
    cut = consensus_.known(m.digest);
  } else {
    for (const Decision& d : history_) {
      if (d.from == m.config && cut_digest(d.from, d.cut) == m.digest) cut = &d.cut;
    }
  }
  if (cut == nullptr) return;
  std::vector<std::byte> bytes = wire::encode_cut_state(m.config, m.digest, *cut);
  if (bytes.empty()) return;
  ++stats_.streams_sent;
  stats_.stream_bytes_sent += bytes.size();
  fx_->send_stream(from, bytes);
}

void ConsistentNode::on_cut_state(Time now, std::span<const std::byte> message) {
  wire::ConfigRef ref;
  std::uint64_t digest = 0;
  std::vector<Address> cut;
  if (!wire::decode_cut_state(message, ref, digest, cut)) {
    ++stats_.malformed_received;
    return;
  }
  if (!member_ || ref != view_.ref() || consensus_.known(digest) != nullptr) return;
  if (consensus_.learn(view_, std::move(cut)) != digest) return;
  cut_fetch_at_ = Time::max();
  after_consensus(now);
}

void ConsistentNode::install(Time now, const Configuration& next, std::span<const Address> cut,
                             bool catch_up) {
  history_.push_back(Decision{view_.ref(), std::vector<Address>(cut.begin(), cut.end())});
  if (history_.size() > kHistoryMax) history_.pop_front();
  ++stats_.view_changes;
  if (catch_up) ++stats_.catch_ups;
  bool self_removed = false;
  std::vector<Address> welcome;
  for (const Address& a : cut) {
    Event e;
    e.subject = a;
    e.subject_id = node_id_of(a);
    const std::string name = name_of(a);
    e.subject_name = name;
    e.subject_meta = meta_of(a);
    if (view_.contains(a)) {
      e.kind = cut_.left(a) ? EventKind::left : EventKind::failed;
      if (e.kind == EventKind::left) ++stats_.leaves;
      else ++stats_.failures;
      self_removed |= a == self_;
    } else {
      e.kind = EventKind::joined;
      ++stats_.joins;
      welcome.push_back(a);
    }
    if (a != self_) fx_->emit(e);
  }
  const Configuration old = std::move(view_);
  view_ = next;
  in_chain_ = true;
  member_ = view_.contains(self_);
  reset_for_config(now);
  emit_view(now, EventKind::view_changed);
  if (member_ && !welcome.empty()) {
    // The joiner's ring-0 gatekeeper in the configuration that admitted it (so a member that
    // installs this one itself) hands it the configuration; it also asks, if this is lost.
    for (const Address& j : welcome) {
      if (j != self_ && old.member(old.gatekeeper_of(j, 0)) == self_) send_config_state(j);
    }
  }
  if (self_removed) {
    ++stats_.removed_self;
    start_rejoin(now);
  }
}

void ConsistentNode::reset_for_config(Time now) {
  cut_.reset();
  consensus_.reset(view_);
  alerts_.clear();
  granted_.clear();
  propose_at_ = classic_at_ = stall_at_ = drop_check_ = cut_fetch_at_ = Time::max();
  catch_up_pending_ = false;
  cut_hint_ = Address{};
  settle_from_ = Time::max();
  fresh_subject_ = false;
  stalled_ = false;
  config_since_ = now;
  reopen_batch(now);
  group_.assign(self_, member_ ? view_.members() : std::span(&self_, 1));
  subjects_.clear();
  next_probe_ = probe_check_ = Time::max();
  if (!member_) return;
  joining_ = false;
  join_at_ = Time::max();
  const std::uint32_t me = *view_.index_of(self_);
  for (std::uint32_t k = 0; k < view_.rings(); ++k) {
    const Address& s = view_.member(view_.subject_of(me, k));
    if (s == self_) continue;
    auto it = std::find_if(subjects_.begin(), subjects_.end(),
                           [&](const Subject& x) { return x.address == s; });
    if (it == subjects_.end()) {
      subjects_.push_back(Subject{s, 0, make_edge_detector(opts_.probe_misses)});
      it = subjects_.end() - 1;
    }
    it->rings = std::uint16_t(it->rings | (1u << k));
  }
  if (!subjects_.empty()) {
    next_probe_ = now + Duration::nanoseconds(rng_.between(0, opts_.probe_interval.ns() - 1));
  }
}

void ConsistentNode::emit_view(Time now, EventKind kind) {
  (void)now;
  Event e;
  e.kind = kind;
  e.subject = self_;
  e.subject_id = node_id_of(self_);
  e.configuration_id = view_.ref().id;
  e.configuration_epoch = view_.ref().epoch;
  e.members = view_.members();
  fx_->emit(e);
}

// ---- timers ----

void ConsistentNode::on_timeout(Time now, Effects& fx) {
  fx_ = &fx;
  if (now >= probe_check_) check_probes(now);
  if (now >= next_probe_) {
    next_probe_ = now + opts_.probe_interval;
    probe_subjects(now);
  }
  if (now >= propose_at_ || now >= drop_check_) try_propose(now);
  if (now >= next_gossip_) gossip(now);
  if (now >= classic_at_) {
    classic_at_ = Time::max();
    if (member_ && !consensus_.decided()) {
      ++stats_.classic_rounds;
      consensus_.start_classic(view_);
      after_consensus(now);
    }
  }
  if (now >= stall_at_) {
    stall_at_ = Time::max();
    if (member_ && !stalled_) {
      stalled_ = true;
      ++stats_.view_stalls;
      emit_view(now, EventKind::view_stalled);
    }
  }
  if (now >= join_at_) join_tick(now);
  if (now >= cut_fetch_at_) fetch_cut(now);
  if (now >= release_at_) release_joiners(now);
}

Time ConsistentNode::next_deadline() const noexcept {
  return std::min({next_probe_, probe_check_, next_gossip_, propose_at_, classic_at_, stall_at_,
                   join_at_, drop_check_, cut_fetch_at_, release_at_});
}

// ---- the Membership interface ----

std::vector<MemberInfo> ConsistentNode::members() const {
  std::vector<MemberInfo> out;
  for (std::uint32_t i = 0; i < group_.size(); ++i) {
    MemberInfo m;
    m.address = group_.address(i);
    m.id = node_id_of(m.address);
    m.name = name_of(m.address);
    const auto meta = meta_of(m.address);
    m.meta.assign(meta.begin(), meta.end());
    out.push_back(std::move(m));
  }
  return out;
}

std::size_t ConsistentNode::member_count(MemberState state) const noexcept {
  return state == MemberState::alive ? group_.size() : 0;
}

ConfigurationInfo ConsistentNode::configuration() const noexcept {
  ConfigurationInfo c{true, member_, view_.ref().id, view_.ref().epoch, view_.size()};
  c.stalled = stalled_;
  return c;
}

Result<void> ConsistentNode::force_leave(Time, std::string_view, Effects&) {
  return make_error(Errc::invalid_argument, "force_leave: not supported in consistent mode");
}

Result<MessageId> ConsistentNode::broadcast(Time, std::span<const std::byte>, Effects&) {
  return make_error(Errc::invalid_argument, "broadcast: not supported in consistent mode");
}


}  // namespace grapevine::detail
