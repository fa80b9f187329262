#include "core/membership/user_events.h"

#include <algorithm>

#include "util/hash.h"

namespace grapevine::detail {

UserEventLog::Verdict UserEventLog::record(std::uint64_t ltime, std::string_view name,
                                           std::span<const std::byte> payload) {
  if (ltime >= clock_ && ltime != UINT64_MAX) clock_ = ltime + 1;  // witness
  if (clock_ > kSlots && ltime < clock_ - kSlots) return Verdict::too_old;
  if (slots_.empty()) slots_.resize(kSlots);
  Slot& slot = slots_[ltime % kSlots];
  const std::uint64_t h =
      hash_bytes(payload, hash_bytes(std::as_bytes(std::span(name.data(), name.size())), 0x7576));
  if (slot.ltime == ltime) {
    if (std::find(slot.hashes.begin(), slot.hashes.end(), h) != slot.hashes.end()) {
      return Verdict::duplicate;
    }
    if (slot.hashes.size() >= kEventsPerSlotMax) return Verdict::full;
  } else {
    slot.ltime = ltime;
    slot.hashes.clear();
  }
  slot.hashes.push_back(h);
  return Verdict::fresh;
}

void RecentEvents::add(std::uint64_t ltime, std::string_view name,
                       std::span<const std::byte> payload, bool coalesce) {
  entries_.push_back(Entry{ltime, coalesce, std::string(name),
                           std::vector<std::byte>(payload.begin(), payload.end())});
  bytes_ += name.size() + payload.size();
  while (entries_.size() > kEventsMax || bytes_ > kBytesMax) {
    bytes_ -= entries_.front().name.size() + entries_.front().payload.size();
    entries_.pop_front();
  }
}

}  // namespace grapevine::detail

// ---- the membership machine's user events (native dialect) ----------------------------------

#include "core/membership/membership_node.h"

namespace grapevine::detail {

Result<std::uint64_t> MembershipNode::user_event(Time /*now*/, std::string_view name,
                                                 std::span<const std::byte> payload,
                                                 bool coalesce, Effects& fx) {
  if (serf_) return serf_->user_event(name, payload, coalesce, fx);  // serf's own events
  if (name.empty()) return make_error(Errc::invalid_argument, "a user event needs a name");
  if (name.size() + payload.size() > wire::kUserEventBytesMax) {
    return make_error(Errc::too_large, "user event name + payload over 512 bytes");
  }
  wire::UserEventFrame f{user_events_.clock(), coalesce, name, payload};
  Bytes m;
  if (!codec_->user_event(f, m)) {
    return make_error(Errc::invalid_argument,
                      "the memberlist dialect carries no grapevine user events (serf's layer)");
  }
  f.ltime = user_events_.stamp();
  user_events_.record(f.ltime, name, payload);
  recent_events_.add(f.ltime, name, payload, coalesce);
  queue_.push(next_user_key(), m);
  deliver_user_event(f, fx);
  return f.ltime;
}

// `replayed`: from a seed's join reply (JoinOptions::replay), delivered but not re-broadcast
// (serf's MergeRemoteState). Events older than event_min_time_ were sent before our join.
void MembershipNode::on_user_event(const wire::UserEventFrame& f, Effects& fx, bool replayed) {
  if (f.ltime < event_min_time_) {
    user_events_.witness(f.ltime);
    ++stats_.user_events_dropped;
    return;
  }
  switch (user_events_.record(f.ltime, f.name, f.payload)) {
    case UserEventLog::Verdict::fresh:
      break;
    case UserEventLog::Verdict::duplicate:
      ++stats_.user_event_duplicates;
      return;
    case UserEventLog::Verdict::too_old:
    case UserEventLog::Verdict::full:
      ++stats_.user_events_dropped;
      return;
  }
  recent_events_.add(f.ltime, f.name, f.payload, f.coalesce);
  Bytes m;
  if (!replayed && codec_->user_event(f, m)) queue_.push(next_user_key(), m);  // news: re-sent
  deliver_user_event(f, fx);
}

// serf's MergeRemoteState on a join: without replay, events older than the seed's clock are
// not ours to deliver, now or later (eventMinTime); with replay they are, once each.
void MembershipNode::on_join_events_clock(std::uint64_t event_clock) {
  join_events_pending_ = false;
  if (event_clock > 0) user_events_.witness(event_clock - 1);
  if (!join_replay_) event_min_time_ = std::max(event_min_time_, event_clock);
}

void MembershipNode::deliver_user_event(const wire::UserEventFrame& f, Effects& fx) {
  ++stats_.user_events;
  Event e;
  e.kind = EventKind::user_event;
  e.user_name = f.name;
  e.payload = f.payload;
  e.ltime = f.ltime;
  e.coalesce = f.coalesce;
  e.subject_id = self_id_;
  e.subject = self_address_;
  fx.emit(e);
}

}  // namespace grapevine::detail
