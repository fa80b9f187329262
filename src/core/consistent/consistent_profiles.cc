// ConsistentNode, part 3: members' names and metadata ("profiles"; ours, the reference's
// proposals carry only addresses and node ids: Rapid issue "proposals carry member ids and
// metadata").
//
// A member's profile is (version, name, metadata), name <= kNameBytesMax and metadata <=
// kMetaBytesMax bytes (limits.h); the member itself is its authority and numbers its updates
// (version, from 1). Profiles travel outside the views: a joiner sends its profile to each of
// its gatekeepers with its join frames; members gossip profiles they learn (profiles frames,
// least-sent first, retransmit_limit rounds each, beside the alert gossip); update_meta bumps
// the version and gossips the new profile; a configuration sent whole (config_state: join
// replies, catch-up) carries the profile of every member. A member keeps the highest version
// of each. Neither names nor metadata enter the configuration id (a hash of the member set):
// a metadata change is not a view change, and identity stays the address (node id). A member
// that restarts at version 1 and finds a higher version of itself in a configuration it
// receives takes the next version and gossips its profile again. A member whose profile has
// not reached this node yet is named by its address.
#include <algorithm>

#include "core/consistent/consistent_node.h"
#include "wire/native.h"

namespace grapevine::detail {

void ConsistentNode::on_profiles(Time now, const Address& from, const wire::RapidMessage& m) {
  const bool relay_ok = member_ && view_.contains(from);
  bool queued = false;
  for (const wire::ProfileView& p : m.profile_list()) {
    if (p.address != from && !relay_ok) continue;  // only members relay others' profiles
    queued |= learn_profile(p, member_);
  }
  if (queued && next_gossip_ == Time::max()) next_gossip_ = now;
}

bool ConsistentNode::learn_profile(const wire::ProfileView& p, bool relay) {
  if (p.address == self_ || !p.address.valid() || p.version == 0) return false;
  auto it = profiles_.find(p.address);
  if (it != profiles_.end() && it->second.version >= p.version) return false;
  const bool update = it != profiles_.end() && member_ && view_.contains(p.address);
  wire::Profile& e = profiles_[p.address];
  e.version = p.version;
  e.name.assign(p.name);
  e.meta.assign(p.meta.begin(), p.meta.end());
  if (update && fx_ != nullptr) {  // a member's new metadata (or name): as Lifeguard's updated
    Event ev;
    ev.kind = EventKind::updated;
    ev.subject = p.address;
    ev.subject_id = node_id_of(p.address);
    const std::string name = name_of(p.address);
    ev.subject_name = name;
    ev.subject_meta = e.meta;
    fx_->emit(ev);
  }
  if (relay) queue_profile(p.address);
  prune_profiles();
  return relay;
}

void ConsistentNode::queue_profile(const Address& a) {
  for (QueuedProfile& q : profile_queue_) {
    if (q.address == a) {
      q.transmits = 0;
      return;
    }
  }
  if (profile_queue_.size() >= kAlertQueueMax) profile_queue_.erase(profile_queue_.begin());
  profile_queue_.push_back(QueuedProfile{a, 0});
}

// The joiner's own profile, to a gatekeeper (beside its join frame).
void ConsistentNode::send_own_profile(const Address& to) {
  const wire::Profile& mine = profiles_[self_];
  out_.type = wire::RapidFrame::profiles;
  out_.config = view_.ref();
  out_.profile_count = 1;
  out_.profiles[0] = wire::ProfileView{self_, mine.version, mine.name, mine.meta};
  send(to, out_);
}

void ConsistentNode::gossip_profiles(std::span<const std::uint32_t> targets) {
  if (profile_queue_.empty()) return;
  std::stable_sort(profile_queue_.begin(), profile_queue_.end(),
                   [](auto& x, auto& y) { return x.transmits < y.transmits; });
  out_.type = wire::RapidFrame::profiles;
  out_.config = view_.ref();
  std::size_t k = 0;
  for (std::size_t f = 0; f < kProfileFramesPerRound && k < profile_queue_.size(); ++f) {
    out_.profile_count = 0;
    std::size_t bytes = 64;  // header and config
    for (; k < profile_queue_.size() && out_.profile_count < wire::kProfilesPerFrameMax; ++k) {
      auto it = profiles_.find(profile_queue_[k].address);
      if (it == profiles_.end()) {
        profile_queue_[k].transmits = ~0u;  // forgotten (pruned): drop
        continue;
      }
      const std::size_t size = 29 + it->second.name.size() + it->second.meta.size();
      if (out_.profile_count > 0 && bytes + size > kPacketBudgetBytes) break;
      bytes += size;
      out_.profiles[out_.profile_count++] =
          wire::ProfileView{it->first, it->second.version, it->second.name, it->second.meta};
      ++profile_queue_[k].transmits;
    }
    if (out_.profile_count == 0) continue;
    for (std::uint32_t i : targets) send(view_.member(i), out_);
  }
  const std::uint32_t limit = retransmit_limit();
  std::erase_if(profile_queue_, [&](auto& q) { return q.transmits >= limit; });
}

void ConsistentNode::learn_config_profiles(std::span<const Address> members,
                                           std::span<const wire::Profile> profiles) {
  if (profiles.size() != members.size()) return;
  for (std::size_t i = 0; i < members.size(); ++i) {
    const wire::Profile& p = profiles[i];
    if (members[i] == self_) {
      wire::Profile& mine = profiles_[self_];
      if (p.version >= mine.version && (p.name != mine.name || p.meta != mine.meta)) {
        mine.version = p.version + 1;  // restarted: our old profile is out there; supersede it
        queue_profile(self_);
      }
      continue;
    }
    learn_profile(wire::ProfileView{members[i], p.version, p.name, p.meta}, false);
  }
}

void ConsistentNode::prune_profiles() {
  if (profiles_.size() <= view_.size() + kProfilesNonMembersMax) return;
  for (auto it = profiles_.begin(); it != profiles_.end();) {
    if (it->first != self_ && !view_.contains(it->first)) it = profiles_.erase(it);
    else ++it;
  }
}

std::string ConsistentNode::name_of(const Address& a) const {
  auto it = profiles_.find(a);
  if (it == profiles_.end() || it->second.name.empty()) return a.to_string();
  return it->second.name;
}

std::span<const std::byte> ConsistentNode::meta_of(const Address& a) const {
  auto it = profiles_.find(a);
  if (it == profiles_.end()) return {};
  return it->second.meta;
}

std::vector<wire::ProfileView> ConsistentNode::member_profiles() const {
  std::vector<wire::ProfileView> out;
  out.reserve(view_.size());
  for (const Address& a : view_.members()) {
    auto it = profiles_.find(a);
    if (it == profiles_.end()) out.push_back(wire::ProfileView{a, 0, {}, {}});
    else out.push_back(wire::ProfileView{a, it->second.version, it->second.name, it->second.meta});
  }
  return out;
}

Result<void> ConsistentNode::update_meta(Time now, std::span<const std::byte> meta, Effects& fx) {
  if (meta.size() > kMetaBytesMax) {
    return make_error(Errc::too_large, "update_meta: over kMetaBytesMax bytes");
  }
  fx_ = &fx;
  wire::Profile& mine = profiles_[self_];
  mine.meta.assign(meta.begin(), meta.end());
  ++mine.version;
  if (member_) {
    queue_profile(self_);
    if (next_gossip_ == Time::max()) next_gossip_ = now;
  }
  return {};
}

}  // namespace grapevine::detail
