// ConsistentNode, part 2: joins through seeds, anti-entropy of decisions, leave and rejoin.
//
// Join [P §4.1; reference MembershipService]: the joiner sends pre_join to a seed (rotating
// through its seeds every join_retry_interval until admitted). A member seed holds the joiners
// that ask in one configuration and answers them together (ours: join batching, so that a join
// storm becomes a few large cuts): once no new joiner came for join_batch_quiet, or
// join_batch_window after the batch opened, it sends each join_info: its configuration and the
// joiner's K gatekeepers (configuration.h). Joiners that ask after that, or while a view change
// is under way, wait for the next configuration's batch (opened when it is installed). The joiner sends join to
// each distinct gatekeeper; a gatekeeper whose configuration matches raises a JOIN alert with the
// rings it gatekeeps on, which the cut detector batches with every other join and removal of
// that configuration. Once a configuration admits the joiner, its ring-0 observer sends it the
// configuration on a stream; should that be lost, the joiner's next pre_join or join reaches a
// member that sees it is already a member and sends the configuration again. A join that
// missed its configuration (it changed meanwhile) is simply retried in the next one.
//
// Anti-entropy: see consistent_node.h.
#include <algorithm>

#include "core/consistent/consistent_node.h"
#include "wire/native.h"

namespace grapevine::detail {

Result<void> ConsistentNode::join(Time now, std::span<const Address> seeds, Effects& fx) {
  fx_ = &fx;
  seeds_.clear();
  for (const Address& a : seeds) {
    if (a != self_ && a.valid() && seeds_.size() < kSeedsMax) seeds_.push_back(a);
  }
  if (seeds_.empty()) return make_error(Errc::invalid_argument, "join: no seeds (other than self)");
  left_ = false;
  member_ = false;
  reset_for_config(now);
  joining_ = true;
  join_at_ = now;
  return {};
}

void ConsistentNode::preload(Time now, std::span<const Address> members) {
  view_ = Configuration(members, opts_.rings);
  member_ = view_.contains(self_);
  in_chain_ = true;
  history_.clear();
  reset_for_config(now);
}

void ConsistentNode::start_rejoin(Time now) {
  if (left_) return;
  // Seeds: a few members of the configuration that removed us, then the original seeds.
  std::vector<Address> seeds;
  const std::uint32_t n = view_.size();
  for (std::uint32_t t = 0; t < 8 && n > 0; ++t) {
    const Address& a = view_.member(std::uint32_t(rng_.below(n)));
    if (a != self_ && std::find(seeds.begin(), seeds.end(), a) == seeds.end()) seeds.push_back(a);
  }
  for (const Address& a : seeds_) {
    if (seeds.size() < kSeedsMax && std::find(seeds.begin(), seeds.end(), a) == seeds.end()) {
      seeds.push_back(a);
    }
  }
  if (seeds.empty()) return;
  seeds_ = std::move(seeds);
  joining_ = true;
  join_at_ = now;
}

void ConsistentNode::join_tick(Time now) {
  join_at_ = Time::max();
  if (!joining_ || member_ || seeds_.empty()) return;
  join_at_ = now + config_.join_retry_interval;
  out_.type = wire::RapidFrame::pre_join;
  out_.config = view_.ref();
  out_.address = self_;
  send(seeds_[seed_cursor_++ % seeds_.size()], out_);
}

void ConsistentNode::fill_join_info(const Address& joiner, wire::RapidMessage& out) const {
  out.type = wire::RapidFrame::join_info;
  out.config = view_.ref();
  out.count = view_.rings();
  for (std::uint32_t k = 0; k < view_.rings(); ++k) {
    out.addrs[k] = view_.member(view_.gatekeeper_of(joiner, k));
  }
}

void ConsistentNode::on_pre_join(Time now, const Address& from, const wire::RapidMessage&) {
  if (!member_) return;
  if (view_.contains(from)) {
    send_config_state(from);
    return;
  }
  if (std::find(granted_.begin(), granted_.end(), from) != granted_.end()) {
    fill_join_info(from, out_);  // released in this configuration: the answer was lost
    send(from, out_);
    return;
  }
  auto it = std::find_if(parked_.begin(), parked_.end(),
                         [&](const Parked& p) { return p.joiner == from; });
  if (it != parked_.end()) {
    it->last = now;
    if (released_) schedule_release(now);  // may start a second batch (schedule_release)
    return;
  }
  if (parked_.size() >= kJoinsParkedMax) return;
  parked_.push_back(Parked{from, now});
  last_parked_ = now;
  schedule_release(now);
}

void ConsistentNode::schedule_release(Time now) {
  if (!member_) return;
  if (released_) {
    // A batch went out in this configuration but no view change followed (its joiners gone,
    // or admitted through another seed): after stall_timeout, the next batch may go too.
    if (now < released_at_ + opts_.stall_timeout) return;
    released_ = false;
    batch_open_ = Time::max();
  }
  if (batch_open_ == Time::max()) batch_open_ = now;
  // The quiet deadline is rounded up to a whole number of join_batch_quiet periods since this
  // configuration was installed, so that seeds holding a few joiners each (rejoins after a
  // fault pick random members as seeds) release them together and one cut takes them all.
  const std::int64_t q = std::max<std::int64_t>(1, opts_.join_batch_quiet.ns());
  const std::int64_t quiet = (std::max(last_parked_, batch_open_) - config_since_).ns() + q;
  const Time aligned = config_since_ + Duration::nanoseconds((quiet + q - 1) / q * q);
  release_at_ = std::min(batch_open_ + opts_.join_batch_window, aligned);
}

// A new configuration: held joiners (those that asked during the view change) form its batch.
void ConsistentNode::reopen_batch(Time now) {
  granted_.clear();
  released_ = false;
  batch_open_ = release_at_ = Time::max();
  if (!member_) {
    parked_.clear();
    return;
  }
  if (!parked_.empty()) schedule_release(now);
}

void ConsistentNode::release_joiners(Time now) {
  release_at_ = Time::max();
  if (!member_ || released_) return;
  // Too late in this configuration: gatekeepers would drop the joins; wait for the next.
  if (consensus_.voted() || consensus_.has_decided()) return;
  const Time fresh = now - config_.join_retry_interval - config_.join_retry_interval;
  bool any = false;
  for (const Parked& p : parked_) {
    if (p.last < fresh || view_.contains(p.joiner)) continue;  // gone quiet: it asks again
    granted_.push_back(p.joiner);
    fill_join_info(p.joiner, out_);
    send(p.joiner, out_);
    any = true;
  }
  parked_.clear();
  batch_open_ = Time::max();
  if (any) {
    released_ = true;
    released_at_ = now;
  }
}

void ConsistentNode::on_join_info(Time now, const Address&, const wire::RapidMessage& m) {
  if (!joining_ || member_) return;
  // One round of joins per configuration and join tick (duplicated or late answers ignored).
  if (m.config == joined_under_ && now < joined_at_ + config_.join_retry_interval) return;
  joined_under_ = m.config;
  joined_at_ = now;
  std::vector<Address> sent;
  for (const Address& g : m.cut()) {
    if (std::find(sent.begin(), sent.end(), g) != sent.end()) continue;
    sent.push_back(g);
    out_.type = wire::RapidFrame::join;
    out_.config = m.config;
    out_.address = self_;
    send(g, out_);
    send_own_profile(g);  // consistent_profiles.cc
  }
}

void ConsistentNode::on_join(Time now, const Address& from, const wire::RapidMessage& m) {
  if (!member_) return;
  if (view_.contains(from)) {
    send_config_state(from);
    return;
  }
  // A stale join is dropped, not answered: answering with join_info let a joiner bounce
  // between members of two configurations, each answer fanning out K joins (a storm). The
  // joiner asks a seed again on its next join tick.
  if (m.config != view_.ref()) return;
  if (consensus_.voted() || consensus_.has_decided()) return;  // too late for this configuration
  const std::uint16_t rings = view_.rings_observed(self_, from);
  if (rings != 0) raise_alert(now, from, wire::AlertKind::join, rings);
}

void ConsistentNode::leave(Time now, Effects& fx) {
  fx_ = &fx;
  (void)now;
  left_ = true;
  joining_ = false;
  join_at_ = Time::max();
  if (!member_) return;
  out_.type = wire::RapidFrame::leave;
  out_.config = view_.ref();
  const std::uint32_t me = *view_.index_of(self_);
  std::vector<Address> sent;
  for (std::uint32_t k = 0; k < view_.rings(); ++k) {
    const Address& o = view_.member(view_.observer_of(me, k));
    if (o == self_ || std::find(sent.begin(), sent.end(), o) != sent.end()) continue;
    sent.push_back(o);
    send(o, out_);
  }
}

void ConsistentNode::on_leave(Time now, const Address& from, const wire::RapidMessage& m) {
  if (!member_ || m.config != view_.ref()) return;
  for (Subject& s : subjects_) {
    if (s.address != from || s.alerted) continue;
    s.leaving = s.alerted = true;
    raise_alert(now, from, wire::AlertKind::leave, s.rings);
  }
}

// ---- anti-entropy ----

void ConsistentNode::compare_config(Time now, const Address& peer, wire::ConfigRef theirs) {
  const wire::ConfigRef mine = view_.ref();
  if (theirs == mine || left_) return;
  const bool behind = theirs.epoch > mine.epoch || (!member_ && theirs.id != mine.id);
  if (!behind || now < sync_allowed_at_) return;
  sync_allowed_at_ = now + Duration::milliseconds(500);
  out_.type = wire::RapidFrame::sync_request;
  out_.config = mine;
  send(peer, out_);
}

void ConsistentNode::on_sync_request(Time, const Address& from, const wire::RapidMessage& m) {
  if (!member_ || m.config == view_.ref() || m.config.epoch > view_.ref().epoch) return;
  auto it = std::find_if(history_.begin(), history_.end(),
                         [&](const Decision& d) { return d.from == m.config; });
  if (it == history_.end()) {
    send_config_state(from);
    return;
  }
  for (int sent = 0; it != history_.end() && sent < 8; ++it, ++sent) {
    if (it->cut.size() > wire::kCutMembersMax) {  // too big for a frame: the whole state
      send_config_state(from);
      return;
    }
    out_.type = wire::RapidFrame::decision;
    out_.config = it->from;
    out_.digest = cut_digest(it->from, it->cut);
    out_.total = out_.count = std::uint32_t(it->cut.size());
    std::copy(it->cut.begin(), it->cut.end(), out_.addrs);
    send(from, out_);
  }
}

void ConsistentNode::on_decision_frame(Time now, const Address& from, const wire::RapidMessage& m) {
  if (m.config != view_.ref()) {
    compare_config(now, from, m.config);
    return;
  }
  if (!member_ || consensus_.has_decided()) return;
  const bool mine = consensus_.active();
  consensus_.on_decision(view_, m);
  if (!consensus_.has_decided()) return;
  cut_hint_ = from;
  after_consensus(now, !mine);
}

void ConsistentNode::send_config_state(const Address& to) {
  std::vector<std::byte> bytes =
      wire::encode_config_state(view_.ref(), view_.members(), member_profiles());
  if (bytes.empty()) return;
  ++stats_.streams_sent;
  stats_.stream_bytes_sent += bytes.size();
  fx_->send_stream(to, bytes);
}

void ConsistentNode::on_stream(Time now, const Address&, std::span<const std::byte> message,
                               StreamId, Effects& fx) {
  fx_ = &fx;
  ++stats_.streams_received;
  if (wire::consistent_stream_type(message) == wire::kCutStateStreamType) {
    on_cut_state(now, message);
    return;
  }
  wire::ConfigRef ref;
  std::vector<Address> members;
  std::vector<wire::Profile> profiles;
  if (!wire::decode_config_state(message, ref, members, &profiles)) {
    ++stats_.malformed_received;
    return;
  }
  if (left_ || members.empty() || ref == view_.ref()) return;
  learn_config_profiles(members, profiles);
  // Epochs never go back: once this node has been in a chain it only moves forward in it (a
  // removed node asking a lagging member must not reinstall the configuration it was removed
  // from). A node that never joined (its own first configuration) takes any that holds it.
  const bool newer = ref.epoch > view_.ref().epoch;
  Configuration next(ref, members, opts_.rings);
  const bool in = next.contains(self_);
  if (in && (newer || !in_chain_)) install_whole(now, next);
  else if (!in && member_ && newer && in_chain_) install_whole(now, next);
}

void ConsistentNode::install_whole(Time now, const Configuration& next) {
  auto notify = [&](const Address& a, EventKind kind) {
    if (a == self_) return;
    Event e;
    e.kind = kind;
    e.subject = a;
    e.subject_id = node_id_of(a);
    const std::string name = name_of(a);
    e.subject_name = name;
    e.subject_meta = meta_of(a);
    fx_->emit(e);
  };
  if (member_) {
    for (const Address& a : view_.members()) {
      if (!next.contains(a)) notify(a, EventKind::failed);
    }
  }
  for (const Address& a : next.members()) {
    if (!member_ || !view_.contains(a)) notify(a, EventKind::joined);
  }
  history_.clear();  // the chain before `next` is unknown here
  ++stats_.view_changes;
  ++stats_.catch_ups;
  const bool was_member = member_;
  view_ = next;
  in_chain_ = true;
  member_ = view_.contains(self_);
  reset_for_config(now);
  emit_view(now, EventKind::view_changed);
  if (!member_) {
    if (was_member) ++stats_.removed_self;
    start_rejoin(now);
  }
}

}  // namespace grapevine::detail
