// Identity across restarts: one entry per member name (see the top of membership_node.h for the
// rules, and why the native dialect needs them while the memberlist dialect keys by name).
#include <algorithm>

#include "core/membership/membership_node.h"

namespace grapevine::detail {
namespace {
bool is_live(MemberState s) noexcept {
  return s == MemberState::alive || s == MemberState::suspect;
}
}  // namespace

// An alive message introduced `claimant` (native dialect); others may hold its name.
void MembershipNode::on_name_claim(Time now, NodeId claimant, Effects& fx) {
  const std::string name(list_.name_of(claimant));
  if (!list_.name_shared(name)) return;  // the claimant alone: the common case, no lists built
  for (NodeId other : list_.ids_named(name)) {
    if (other == claimant) continue;
    const std::uint32_t slot = list_.find(other);
    if (slot == MemberList::kNone) continue;
    if (other == self_id_) {
      // Our name at another address: our own previous instance (we restarted and heard of it),
      // or a second process with our name. Either way the other one must prove it is alive.
      contest(now, claimant, fx);
    } else if (!is_live(list_.at(slot).state)) {
      replace(other, fx);
    } else {
      contest(now, other, fx);
    }
  }
}

void MembershipNode::contest(Time now, NodeId id, Effects& fx) {
  if (!detector_->accepts_accusations()) return;  // heartbeat detectors: wait for the verdict
  const std::uint32_t slot = list_.find(id);
  if (slot == MemberList::kNone || !is_live(list_.at(slot).state)) return;
  contested_.insert(id);
  if (list_.at(slot).state == MemberState::alive) suspect(now, id, fx);
}

// `departed` failed or left: if a live member holds its name now, it is the newer instance.
void MembershipNode::settle_name(Time /*now*/, NodeId departed, Effects& fx) {
  const std::uint32_t slot = list_.find(departed);
  if (slot == MemberList::kNone || departed == self_id_) return;
  if (is_live(list_.at(slot).state)) return;  // came back
  contested_.erase(departed);
  const std::string name(list_.name_of(departed));
  if (name.empty()) return;
  for (NodeId other : list_.ids_named(name)) {
    if (other == departed) continue;
    const std::uint32_t s = list_.find(other);
    if (s != MemberList::kNone && is_live(list_.at(s).state)) {
      replace(departed, fx);
      return;
    }
  }
}

void MembershipNode::replace(NodeId old_id, Effects& fx) {
  const std::uint32_t slot = list_.find(old_id);
  if (slot == MemberList::kNone || old_id == self_id_) return;
  const MemberRecord& r = list_.at(slot);
  emit(fx, EventKind::replaced, r);
  if (retired_.size() >= kRetiredMax) {
    retired_.erase(retired_order_.front());
    retired_order_.erase(retired_order_.begin());
  }
  if (retired_.insert_or_assign(old_id, r.incarnation).second) retired_order_.push_back(old_id);
  contested_.erase(old_id);
  detector_->on_unsuspect(old_id);
  list_.remove(old_id);
  ++stats_.replaced;
}

bool MembershipNode::retired(NodeId id, std::uint32_t incarnation) const {
  auto it = retired_.find(id);
  return it != retired_.end() && incarnation <= it->second;
}

void MembershipNode::report_conflict(Effects& fx, const MemberRecord& r,
                                     const Address& claimed_at) {
  if (config_.dialect == Dialect::memberlist) {
    // memberlist logs every conflicting alive; we report each new address once.
    auto it = conflict_reported_.find(r.id);
    if (it != conflict_reported_.end() && it->second == claimed_at) return;
    if (conflict_reported_.size() >= kRetiredMax) conflict_reported_.clear();
    conflict_reported_.insert_or_assign(r.id, claimed_at);
  }
  ++stats_.name_conflicts;
  Event e;
  e.kind = EventKind::conflict;
  e.subject_id = r.id;
  e.subject = claimed_at;
  e.subject_name = list_.name_of(r.id);
  e.incarnation = r.incarnation;
  e.subject_meta = list_.meta_of(r.id);
  fx.emit(e);
}

}  // namespace grapevine::detail
