// ConsistentNode, part 2: joins through seeds, anti-entropy of decisions, leave and rejoin.
//
// Join [P §4.1; reference MembershipService]: the joiner sends pre_join to a seed (rotating
// through its seeds every join_retry_interval until admitted). A member seed answers join_info
// (to at most kJoinsPerConfigMax joiners per configuration: ours, so that a join storm becomes
// cuts of bounded size instead of an alert flood; the rest retry):
// its configuration and the joiner's K gatekeepers (configuration.h). The joiner sends join to
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

void ConsistentNode::on_pre_join(Time, const Address& from, const wire::RapidMessage&) {
  if (!member_) return;
  if (view_.contains(from)) {
    send_config_state(from);
    return;
  }
  // Admission control: a seed hands out gatekeepers to at most kJoinsPerConfigMax joiners per
  // configuration; the others hear nothing and retry, so joins arrive in batches one cut holds.
  if (std::find(granted_.begin(), granted_.end(), from) == granted_.end()) {
    if (granted_.size() >= kJoinsPerConfigMax) return;
    granted_.push_back(from);
  }
  fill_join_info(from, out_);
  send(from, out_);
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
  if (consensus_.voted() || consensus_.decided()) return;  // too late for this configuration
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
    out_.type = wire::RapidFrame::decision;
    out_.config = it->from;
    out_.count = std::uint32_t(it->cut.size());
    std::copy(it->cut.begin(), it->cut.end(), out_.addrs);
    send(from, out_);
  }
}

void ConsistentNode::on_decision_frame(Time now, const Address& from, const wire::RapidMessage& m) {
  if (m.config != view_.ref()) {
    compare_config(now, from, m.config);
    return;
  }
  if (!member_ || consensus_.decided() || m.count == 0) return;
  std::vector<Address> cut(m.addrs, m.addrs + m.count);
  std::vector<Address> canon = cut;
  canonical_cut(canon);
  if (canon != cut) return;
  const bool mine = consensus_.active();
  consensus_.on_decision(m);
  if (!mine) {
    ++stats_.classic_decisions;  // counted here, not in after_consensus
    install(now, view_.next(cut), cut, true);
    return;
  }
  after_consensus(now);
}

void ConsistentNode::send_config_state(const Address& to) {
  std::vector<std::byte> bytes = wire::encode_config_state(view_.ref(), view_.members());
  if (bytes.empty()) return;
  ++stats_.streams_sent;
  stats_.stream_bytes_sent += bytes.size();
  fx_->send_stream(to, bytes);
}

void ConsistentNode::on_stream(Time now, const Address&, std::span<const std::byte> message,
                               StreamId, Effects& fx) {
  fx_ = &fx;
  ++stats_.streams_received;
  wire::ConfigRef ref;
  std::vector<Address> members;
  if (!wire::decode_config_state(message, ref, members)) {
    ++stats_.malformed_received;
    return;
  }
  if (left_ || members.empty() || ref == view_.ref()) return;
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
    const std::string name = a.to_string();
    e.subject_name = name;
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
