// The merge rules (memberlist's aliveNode / suspectNode / deadNode): what an alive, suspect or
// dead/left update does to this node's list, and the helpers the detectors call to suspect,
// fail, learn and revive members. Split from membership_node.cc for size; the same class.
#include <algorithm>

#include "core/membership/membership_node.h"
#include "core/membership/rumor_version.h"
#include "util/assert.h"

namespace grapevine::detail {

// ---- merge rules (memberlist's aliveNode / suspectNode / deadNode) ----------------------------

void MembershipNode::regossip_alive(const MemberRecord& r, AliveFrom from) {
  switch (from) {
    case AliveFrom::gossip: ++stats_.alive_queued_gossip; break;
    case AliveFrom::push_pull: ++stats_.alive_queued_push_pull; break;
    case AliveFrom::quiet_join_reply: ++stats_.alive_join_reply_quiet; return;
  }
  broadcast_alive(r);
}

void MembershipNode::apply_alive(Time now, const wire::AliveFrame& a, Effects& fx,
                                 std::uint8_t pmax, AliveFrom from) {
  if (a.id == 0 || !a.address.valid()) return;
  if (a.id == self_id_) {
    const MemberRecord& self = list_.self();
    if (a.address != self_address_) {  // memberlist: our name elsewhere is a conflict, checked
      report_conflict(fx, self, a.address);  // before refuting (no incarnation war)
      return;
    }
    if (a.incarnation < self.incarnation) return;
    bool same_meta = std::equal(a.meta.begin(), a.meta.end(), list_.meta_of(self_id_).begin(),
                                list_.meta_of(self_id_).end());
    if (a.incarnation == self.incarnation && same_meta) {
      heard_again(self_id_, rumor_version(Rumor::alive, a.incarnation), false);
      return;
    }
    refute(now, a.incarnation, fx);  // someone spreads an alive of ours we never sent
    return;
  }
  std::uint32_t slot = list_.find(a.id);
  if (slot == MemberList::kNone) {
    if (retired(a.id, a.incarnation)) return;  // stale news of a replaced instance
    slot = list_.add(a.id, a.address, a.incarnation, MemberState::alive, now);
    if (slot == MemberList::kNone) return;  // list full
    list_.at(slot).pmax = pmax;
    list_.set_extra(a.id, a.name, a.meta);
    list_.set_zone(a.id, a.zone);
    if (a.vsn[1] != 0) list_.set_vsn(a.id, a.vsn);
    regossip_alive(list_.at(slot), from);
    detector_->on_member_added(a.id);
    emit(fx, EventKind::joined, list_.at(slot));
    if (config_.dialect == Dialect::native && !a.name.empty()) on_name_claim(now, a.id, fx);
    return;
  }
  MemberRecord& r = list_.at(slot);
  const bool moved = r.address != a.address;
  if (moved && r.state != MemberState::left) {  // a conflict: someone else's address
    report_conflict(fx, r, a.address);
    return;
  }
  if (a.incarnation <= r.incarnation && !moved) {
    // Our own news, heard again: rumor mongering's counter (an older one is not: its sender
    // has not heard ours).
    if (a.incarnation == r.incarnation && r.state == MemberState::alive) {
      heard_again(a.id, rumor_version(Rumor::alive, a.incarnation), false);
    }
    return;
  }
  const MemberState old = r.state;
  const bool meta_changed = !std::equal(a.meta.begin(), a.meta.end(), list_.meta_of(a.id).begin(),
                                        list_.meta_of(a.id).end());
  r.incarnation = a.incarnation;
  r.address = a.address;
  if (pmax != 0) r.pmax = pmax;
  list_.touch_beat(slot, now);
  list_.set_state(slot, MemberState::alive, now);
  list_.set_extra(a.id, a.name, a.meta);
  list_.set_zone(a.id, a.zone);
  if (a.vsn[1] != 0) list_.set_vsn(a.id, a.vsn);
  detector_->on_unsuspect(a.id);
  regossip_alive(r, from);
  if (old == MemberState::failed || old == MemberState::left) {
    detector_->on_member_added(a.id);
    emit(fx, EventKind::joined, r);
  } else if (old == MemberState::suspect) {
    emit(fx, EventKind::alive, r);
  }
  if (meta_changed) emit(fx, EventKind::updated, r);
  // A member suspected because another id claimed its name refuted: two live claimants.
  if (contested_.erase(a.id) != 0) report_conflict(fx, r, r.address);
}

void MembershipNode::apply_suspect(Time now, const wire::AccuseFrame& s, Effects& fx) {
  if (!detector_->accepts_accusations()) return;
  std::uint32_t slot = list_.find(s.id);
  if (slot == MemberList::kNone) return;
  MemberRecord& r = list_.at(slot);
  if (s.incarnation < r.incarnation) return;
  if (r.state == MemberState::suspect) {
    // A running suspicion: an independent confirmation is re-gossiped, a repeat is not.
    if (detector_->on_suspect(now, s.id, s.incarnation, s.from)) {
      broadcast_accuse(wire::MemberFrame::suspect, s);
    } else if (s.incarnation == r.incarnation) {
      heard_again(s.id, rumor_version(Rumor::suspect, s.incarnation), true);
    }
    return;
  }
  if (r.state != MemberState::alive) return;
  if (s.id == self_id_) {
    if (!leaving_) refute(now, s.incarnation, fx);
    return;
  }
  r.incarnation = s.incarnation;
  list_.set_state(slot, MemberState::suspect, now);
  broadcast_accuse(wire::MemberFrame::suspect, s);
  ++stats_.suspicions;
  detector_->on_suspect(now, s.id, s.incarnation, s.from);
  emit(fx, EventKind::suspected, r);
}

void MembershipNode::apply_dead(Time now, const wire::AccuseFrame& d, Effects& fx) {
  std::uint32_t slot = list_.find(d.id);
  if (slot == MemberList::kNone) return;
  MemberRecord& r = list_.at(slot);
  if (d.incarnation < r.incarnation) return;
  const bool left = d.from == d.id;
  // A leave supersedes a failure verdict (force-leave of a failed member); nothing else moves a
  // failed or left member except a newer alive.
  const bool departed = r.state == MemberState::left || r.state == MemberState::failed;
  if (departed && d.incarnation == r.incarnation && left == (r.state == MemberState::left)) {
    heard_again(d.id, rumor_version(left ? Rumor::left : Rumor::failed, d.incarnation), true);
  }
  if (r.state == MemberState::left) return;
  if (r.state == MemberState::failed && !left) return;
  if (!left && !detector_->accepts_accusations()) return;
  if (d.id == self_id_) {
    if (!leaving_) refute(now, d.incarnation, fx);
    return;
  }
  r.incarnation = d.incarnation;
  broadcast_accuse(wire::MemberFrame::dead, d);
  if (r.state == MemberState::failed) {
    list_.set_state(slot, MemberState::left, now);  // already in departed_
  } else {
    depart(slot, left ? MemberState::left : MemberState::failed, now);
  }
  if (left) {
    ++stats_.leaves;
  } else {
    ++stats_.failures;
  }
  emit(fx, left ? EventKind::left : EventKind::failed, r);
}

void MembershipNode::depart(std::uint32_t slot, MemberState state, Time now) {
  const bool walk_current = departed_walk_current();
  list_.set_state(slot, state, now);
  const MemberRecord& r = list_.at(slot);
  detector_->on_unsuspect(r.id);
  departed_.push_back(r.id);
  ++departed_changes_;
  if (walk_current) {  // the newest entry: what a fresh walk would see first
    departed_walk_.push_back(DepartedSeen{r.state_since, r.id, r.state == MemberState::failed});
    walk_list_changes_ = list_.departure_changes();
    walk_departed_changes_ = departed_changes_;
  }
}

void MembershipNode::refute(Time /*now*/, std::uint32_t accused_incarnation, Effects& /*fx*/) {
  MemberRecord& self = list_.self();
  self.incarnation = std::max(self.incarnation + 1, accused_incarnation + 1);
  broadcast_alive(self);
  ++stats_.refutations;
  detector_->on_refuted();
}

// ---- helpers for the detectors ----------------------------------------------------------------

void MembershipNode::suspect(Time now, NodeId id, Effects& fx) {
  std::uint32_t slot = list_.find(id);
  if (slot == MemberList::kNone) return;
  const MemberRecord& r = list_.at(slot);
  // Already suspect: our own failed probe is an independent confirmation (Lifeguard), which
  // apply_suspect counts and re-gossips.
  if (r.state != MemberState::alive && r.state != MemberState::suspect) return;
  apply_suspect(now, wire::AccuseFrame{id, r.incarnation, self_id_}, fx);
}

void MembershipNode::declare_failed(Time now, NodeId id, Effects& fx) {
  std::uint32_t slot = list_.find(id);
  if (slot == MemberList::kNone) return;
  const MemberRecord& r = list_.at(slot);
  apply_dead(now, wire::AccuseFrame{id, r.incarnation, self_id_}, fx);
}

std::uint32_t MembershipNode::learn(Time now, NodeId id, const Address& address, Effects& fx) {
  std::uint32_t slot = list_.find(id);
  if (slot != MemberList::kNone || id == 0 || !address.valid()) return slot;
  slot = list_.add(id, address, 0, MemberState::alive, now);
  if (slot == MemberList::kNone) return slot;
  broadcast_alive(list_.at(slot));
  detector_->on_member_added(id);
  emit(fx, EventKind::joined, list_.at(slot));
  return slot;
}

void MembershipNode::mark_failed_locally(Time now, std::uint32_t slot, Effects& fx) {
  depart(slot, MemberState::failed, now);
  ++stats_.failures;
  emit(fx, EventKind::failed, list_.at(slot));
}

void MembershipNode::revive_locally(Time now, std::uint32_t slot, Effects& fx) {
  list_.set_state(slot, MemberState::alive, now);
  list_.touch_beat(slot, now);
  emit(fx, EventKind::joined, list_.at(slot));
}

}  // namespace grapevine::detail
