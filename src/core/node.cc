#include "grapevine/node.h"

#include <algorithm>

#include "util/assert.h"
#include "util/rng.h"

namespace grapevine {

Result<void> validate(const NodeConfig& config) noexcept {
  if (auto ok = validate(config.membership); !ok) return ok;
  return validate(config.multicast);
}

Node::Node(const NodeConfig& config, const Address& self, std::uint64_t seed)
    : config_(config),
      memberlist_(config.membership.dialect == Dialect::memberlist),
      membership_(make_membership(config_.membership, self, derive_seed(seed, 1))) {
  GV_ASSERT(validate(config_));
  // The live view lists this node first: the multicast's own index is always 0.
  multicast_ = make_multicast(config_.multicast, membership_->live_group(), 0, derive_seed(seed, 2));
}

Node::~Node() = default;

void Node::on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                       Effects& fx) {
  // Each component walks the frames and takes its own family (wire/native.h). In the
  // memberlist dialect everything is memberlist's, multicast included (user messages).
  membership_->on_datagram(now, from, bytes, fx);
  if (!memberlist_) multicast_->on_datagram(now, from, bytes, fx);
}

void Node::on_stream(Time now, const Address& from, std::span<const std::byte> message,
                     StreamId stream, Effects& fx) {
  membership_->on_stream(now, from, message, stream, fx);
}

void Node::on_timeout(Time now, Effects& fx) {
  if (now >= membership_->next_deadline()) membership_->on_timeout(now, fx);
  if (!memberlist_ && now >= multicast_->next_deadline()) multicast_->on_timeout(now, fx);
}

Time Node::next_deadline() const noexcept {
  if (memberlist_) return membership_->next_deadline();
  return std::min(membership_->next_deadline(), multicast_->next_deadline());
}

}  // namespace grapevine
