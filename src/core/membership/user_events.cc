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
  queue_.push(next_user_key(), m);
  deliver_user_event(f, fx);
  return f.ltime;
}

void MembershipNode::on_user_event(const wire::UserEventFrame& f, Effects& fx) {
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
  Bytes m;
  if (codec_->user_event(f, m)) queue_.push(next_user_key(), m);  // serf re-broadcasts news
  deliver_user_event(f, fx);
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
