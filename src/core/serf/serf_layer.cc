// SerfLayer: dispatch, intents and push-pull state (serf.go handleNodeJoinIntent,
// handleNodeLeaveIntent; delegate.go NotifyMsg, LocalState, MergeRemoteState). See
// serf_layer.h for the algorithm and our deviations.
#include "core/serf/serf_layer.h"

#include <algorithm>

namespace grapevine::detail::serf {

Layer::Layer(LayerConfig config, Host& host, std::uint64_t seed)
    : config_(std::move(config)), host_(host), rng_(seed) {}

void Layer::on_message(Time now, std::span<const std::byte> message, Effects& fx) {
  if (message.empty()) return;
  ++stats_.messages;
  const auto type = MessageType(std::to_integer<std::uint8_t>(message[0]));
  const ByteSpan body = message.subspan(1);
  bool rebroadcast = false;
  bool ok = true;
  switch (type) {
    case MessageType::leave:
      if (auto m = decode_leave(body)) rebroadcast = on_leave_intent(*m); else ok = false;
      break;
    case MessageType::join:
      if (auto m = decode_join(body)) rebroadcast = on_join_intent(*m); else ok = false;
      break;
    case MessageType::user_event:
      if (auto m = decode_user_event(body)) rebroadcast = on_user_event(*m, fx); else ok = false;
      break;
    case MessageType::query:
      if (auto m = decode_query(body)) rebroadcast = on_query(now, *m, fx); else ok = false;
      break;
    case MessageType::query_response:
      if (auto m = decode_query_response(body)) on_query_response(now, *m); else ok = false;
      break;
    case MessageType::relay:
      on_relay(body, fx);
      break;
    default:  // serf warns on other types and drops them
      ok = false;
      break;
  }
  if (!ok) ++stats_.malformed;
  if (rebroadcast) host_.gossip(message);
}

Layer::MemberStatus* Layer::status(std::string_view name) {
  auto it = members_.find(name);
  if (it != members_.end()) return &it->second;
  if (members_.size() >= kMembersMax || name.empty()) return nullptr;
  return &members_.emplace(std::string(name), MemberStatus{}).first->second;
}

bool Layer::intent_of(std::string_view name, std::uint64_t& ltime, bool& leaving) const {
  auto it = members_.find(name);
  if (it == members_.end()) return false;
  ltime = it->second.ltime;
  leaving = it->second.leaving;
  return true;
}

bool Layer::on_join_intent(const Join& m) {
  ++stats_.intents;
  witness(member_clock_, m.ltime);
  MemberStatus* s = status(m.node);
  if (s == nullptr || m.ltime <= s->ltime) return false;
  s->ltime = m.ltime;
  s->leaving = false;
  return true;
}

bool Layer::on_leave_intent(const Leave& m) {
  ++stats_.intents;
  witness(member_clock_, m.ltime);
  MemberStatus* s = status(m.node);
  if (s == nullptr || m.ltime <= s->ltime) return false;
  if (m.node == config_.name && !s->leaving) {
    // Someone says we leave while we are alive (serf force-leave): refute.
    ++stats_.refutes;
    joined();
    return false;
  }
  s->ltime = m.ltime;
  s->leaving = true;
  return true;
}

void Layer::joined() {
  // serf's broadcastJoin: the current time, witnessed locally, then gossiped.
  const Join m{member_clock_, config_.name};
  if (MemberStatus* s = status(config_.name)) {
    s->ltime = std::max(s->ltime, m.ltime);
    s->leaving = false;
  }
  witness(member_clock_, m.ltime);
  host_.gossip(encode(m));
}

void Layer::leave() {
  const Leave m{member_clock_++, config_.name, false};
  if (MemberStatus* s = status(config_.name)) {
    s->ltime = m.ltime;
    s->leaving = true;
  }
  host_.gossip(encode(m));
}

Bytes Layer::local_state() const {
  PushPull pp;
  pp.ltime = member_clock_;
  pp.event_ltime = events_.clock();
  pp.query_ltime = query_clock_;
  scratch_.clear();
  host_.members(scratch_);
  for (const HostMember& m : scratch_) {
    auto it = members_.find(m.name);
    const std::uint64_t t = it == members_.end() ? 0 : it->second.ltime;
    pp.status_ltimes.emplace_back(m.name, t);
    if (m.state == MemberState::left) pp.left_members.push_back(m.name);
  }
  for (const RecentEvents::Entry& e : recent_.entries()) {  // serf's Events, for -replay
    pp.events.push_back(UserEvent{e.ltime, e.name, e.payload, e.coalesce});
  }
  return encode(pp);
}

void Layer::merge_remote_state(Time /*now*/, std::span<const std::byte> state, bool join,
                               Effects& fx) {
  if (state.empty() || state[0] != std::byte(MessageType::push_pull)) return;
  auto pp = decode_push_pull(state.subspan(1));
  if (!pp) {
    ++stats_.malformed;
    return;
  }
  if (pp->ltime > 0) witness(member_clock_, pp->ltime - 1);
  if (pp->event_ltime > 0) events_.witness(pp->event_ltime - 1);
  if (pp->query_ltime > 0) witness(query_clock_, pp->query_ltime - 1);
  // Left members first, one past their status time (serf's rule), then the others' joins.
  for (std::string_view name : pp->left_members) {
    std::uint64_t t = 0;
    for (const auto& [n, lt] : pp->status_ltimes) {
      if (n == name) t = lt;
    }
    on_leave_intent(Leave{t + 1, name, false});
  }
  for (const auto& [name, t] : pp->status_ltimes) {
    if (std::find(pp->left_members.begin(), pp->left_members.end(), name) !=
        pp->left_members.end()) {
      continue;
    }
    on_join_intent(Join{t, name});
  }
  if (join && !replay_) {
    // serf's agent (-replay off): events from before our join are not ours to deliver, now or
    // when a later push-pull replays them.
    event_min_time_ = std::max(event_min_time_, pp->event_ltime);
    return;
  }
  // Replayed (a periodic exchange, or a join with -replay): delivered once each, not gossiped.
  for (const UserEvent& e : pp->events) on_user_event(e, fx);
}

}  // namespace grapevine::detail::serf
