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
  const std::uint64_t h =
      hash_bytes(payload, hash_bytes(std::as_bytes(std::span(name.data(), name.size())), ltime));
  entries_.push_back(Entry{ltime, coalesce, std::string(name),
                           std::vector<std::byte>(payload.begin(), payload.end()), mix64(h)});
  bytes_ += name.size() + payload.size();
  while (entries_.size() > kEventsMax || bytes_ > kBytesMax) {
    bytes_ -= entries_.front().name.size() + entries_.front().payload.size();
    entries_.pop_front();
  }
}

std::uint64_t RecentEvents::digest(std::uint64_t clock) const noexcept {
  if (clock <= 1) return 0;  // no event yet
  std::uint64_t d = mix64(clock ^ 0x7573657276656e74ULL);
  const std::uint64_t from = clock > kDigestWindow ? clock - kDigestWindow : 0;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->ltime >= from) d += it->hash;  // a sum: arrival order does not matter
  }
  return d;
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
    // Sent before our join (no replay): never delivered, but kept among the recent events
    // (as the members that delivered it keep it), so our event digest agrees with theirs.
    if (user_events_.record(f.ltime, f.name, f.payload) == UserEventLog::Verdict::fresh) {
      recent_events_.add(f.ltime, f.name, f.payload, f.coalesce);
    }
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

// Anti-entropy of user events (our deviation from the native dialect's first design, and
// serf's semantics: serf's every push-pull carries its event buffer and MergeRemoteState
// handles each event). Gossip sends an event at most retransmit_limit() times per holder
// (2 at the local profile's retransmit_mult, below ~10 members): in the simulator a 6-member
// local-profile group left some member without the event in 103 of 300 seeds, for good, as
// nothing repaired it. Now:
//  - the state digest folds in the event clock and the recent events of the last
//    kDigestWindow Lamport times (RecentEvents::digest), so a member that missed one of them
//    disagrees with one that has it, and the two push-pull;
//  - every native push-pull but a join request carries the event clock and recent events
//    (once there were events), and the receiver witnesses the clock and handles the events as
//    a replay: delivered if new, not re-gossiped, below event_min_time_ dropped;
//  - a joiner still waiting for its join reply without replay takes none (the reply first
//    sets event_min_time_, else it could deliver events sent before it joined); events under
//    event_min_time_ are kept among its recent events, not delivered, so digests agree.
// Limits: an event missed and older than kDigestWindow Lamport times is repaired only by a
// push-pull that happens for another reason; buffers whose bounds (512 events, 64 KiB, 64 a
// slot) evicted or refused different events within the window disagree, and push-pull at
// digest ticks (at most once a second each), until the window moves past them.
bool MembershipNode::takes_repair_events() const noexcept {
  return config_.dialect == Dialect::native && (!join_events_pending_ || join_replay_);
}

void MembershipNode::on_repair_events_clock(std::uint64_t event_clock) {
  if (event_clock > 0) user_events_.witness(event_clock - 1);
}

void MembershipNode::on_repair_event(const wire::UserEventFrame& f, Effects& fx) {
  const std::uint64_t before = stats_.user_events;
  on_user_event(f, fx, true);
  if (stats_.user_events != before) ++stats_.user_events_repaired;
}

bool MembershipNode::sends_events(bool join, bool reply) const noexcept {
  if (config_.dialect != Dialect::native) return false;
  if (join) return reply;  // a join's reply; a join request carries none
  return user_events_.clock() > 1;
}

std::uint64_t MembershipNode::event_digest() const noexcept {
  if (config_.dialect != Dialect::native) return 0;
  return recent_events_.digest(user_events_.clock());
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
