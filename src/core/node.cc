#include "grapevine/node.h"

#include <algorithm>

#include "core/frame_router.h"
#include "util/assert.h"
#include "util/rng.h"
#include "wire/native.h"

namespace grapevine {

MulticastConfig node_multicast_defaults() noexcept {
  MulticastConfig c;
  c.protocol = MulticastProtocolKind::pushpull;
  c.fanout = 3;
  c.stop = StopRule::rounds;
  c.stop_rounds = 5;
  c.retention_periods = 120;
  c.pull_when_idle = false;
  return c;
}

Result<void> validate(const NodeConfig& config) noexcept {
  if (auto ok = validate(config.membership); !ok) return ok;
  if (config.view) {
    if (config.membership.dialect == Dialect::memberlist) {
      return make_error(Errc::invalid_argument, "view: the memberlist dialect has no views");
    }
    if (auto ok = validate(*config.view); !ok) return ok;
  }
  return validate(config.multicast);
}

Node::Node(const NodeConfig& config, const Address& self, std::uint64_t seed)
    : config_(config),
      memberlist_(config.membership.dialect == Dialect::memberlist),
      membership_(make_membership(config_.membership, self, derive_seed(seed, 1))),
      router_(std::make_unique<detail::FrameRouter>()) {
  GV_ASSERT(validate(config_));
  // The live view lists this node first: the multicast's own index is always 0.
  multicast_ = make_multicast(config_.multicast, membership_->live_group(), 0, derive_seed(seed, 2));
  if (config_.view) {
    view_ = make_view(*config_.view, self, derive_seed(seed, 3));
    GV_ASSERT(view_ != nullptr);
    // Ids: the address in the high 48 bits, a counter from a random start below (a restarted
    // node must not reuse the ids its peers still remember).
    view_id_base_ = std::uint64_t(self.ipv4_u32()) << 32 | std::uint64_t(self.port) << 16;
    view_seq_ = derive_seed(seed, 4) & 0xffff;
  }
}

Result<MessageId> Node::view_broadcast(Time now, std::span<const std::byte> payload, Effects& fx) {
  if (payload.size() > wire::kMulticastPayloadBytesMax) {
    return make_error(Errc::too_large, "payload over kMulticastPayloadBytesMax");
  }
  std::uint64_t id = view_id_base_ | (view_seq_++ & 0xffff);
  view_->broadcast(now, id, payload, fx);
  return MessageId{id, 0};
}

Node::~Node() = default;

void Node::on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                       Effects& fx) {
  // In the memberlist dialect everything is memberlist's, multicast included (user messages).
  if (memberlist_) {
    membership_->on_datagram(now, from, bytes, fx);
    return;
  }
  // Native: one walk sorts the frames by family, and each component gets only its own (a
  // component with no frames in this datagram is not called at all).
  if (!router_->route(bytes)) {
    // Malformed: each component takes what it can of it and counts it, as it would alone.
    membership_->on_datagram(now, from, bytes, fx);
    multicast_->on_datagram(now, from, bytes, fx);
    if (view_) view_->on_datagram(now, from, bytes, fx);
    return;
  }
  using R = detail::FrameRouter;
  const auto ours = router_->part(R::kMembership);
  const auto multicast = router_->part(R::kMulticast);
  const auto view = router_->part(R::kViews);
  if (!ours.empty()) membership_->on_datagram(now, from, ours, fx);
  if (!multicast.empty()) multicast_->on_datagram(now, from, multicast, fx);
  if (view_ && !view.empty()) view_->on_datagram(now, from, view, fx);
}

void Node::on_stream(Time now, const Address& from, std::span<const std::byte> message,
                     StreamId stream, Effects& fx) {
  membership_->on_stream(now, from, message, stream, fx);
}

void Node::on_timeout(Time now, Effects& fx) {
  if (now >= membership_->next_deadline()) membership_->on_timeout(now, fx);
  if (!memberlist_ && now >= multicast_->next_deadline()) multicast_->on_timeout(now, fx);
  if (view_ && now >= view_->next_deadline()) view_->on_timeout(now, fx);
}

Time Node::next_deadline() const noexcept {
  if (memberlist_) return membership_->next_deadline();
  Time t = std::min(membership_->next_deadline(), multicast_->next_deadline());
  return view_ ? std::min(t, view_->next_deadline()) : t;
}

}  // namespace grapevine
