#include "grapevine/node.h"

#include <algorithm>

#include "core/node_keyring.h"
#include "core/node_seal.h"
#include "core/state/scuttlebutt.h"
#include "core/frame_router.h"
#include "util/assert.h"
#include "util/rng.h"
#include "wire/native.h"
#include "wire/native_membership.h"

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
  if (auto ok = validate(config.state); !ok) return ok;
  if (config.view) {
    if (config.membership.dialect == Dialect::memberlist) {
      return make_error(Errc::invalid_argument, "view: the memberlist dialect has no views");
    }
    if (auto ok = validate(*config.view); !ok) return ok;
  }
  if (config.membership.dialect == Dialect::native) {
    for (const auto& k : config.membership.memberlist.keys) {
      if (k.size() != wire::seal::kKeyBytes) {
        return make_error(Errc::invalid_argument, "native dialect keys must be 32 bytes");
      }
    }
  }
  return validate(config.multicast);
}

Node::Node(const NodeConfig& config, const Address& self, std::uint64_t seed)
    : config_(config),
      memberlist_(config.membership.dialect == Dialect::memberlist),
      seal_(std::make_unique<detail::NodeSeal>(config, self, derive_seed(seed, 5))),
      router_(std::make_unique<detail::FrameRouter>()) {
  GV_ASSERT(validate(config_));
  // Sealing adds bytes to every datagram: the components fill less.
  const std::size_t overhead = seal_->overhead();
  auto shrink = [overhead](std::size_t& budget, std::size_t floor) {
    budget = std::max(budget - std::min(budget, overhead), floor);
  };
  shrink(config_.membership.packet_budget_bytes, 256);  // validate()'s minimums
  shrink(config_.multicast.packet_budget_bytes, 64);
  // A sealed packet stays fresh for max_age, and a copy replayed to a member it was not sent
  // to passes that member's tag cache: the multicast must remember ids as long as the seal's
  // window (2 x max_age, as the tag cache), or such a replay is delivered again (and
  // re-spread to everyone). docs/security.md, tests/integration/netns_hostile.sh.
  if (seal_->keyed() && config_.multicast.retention_periods > 0 &&
      config_.multicast.period > Duration::zero()) {
    const std::int64_t period = config_.multicast.period.ns();
    const std::int64_t need = (2 * config_.seal.max_age.ns() + period - 1) / period;
    config_.multicast.retention_periods = std::uint32_t(std::min<std::int64_t>(
        std::max<std::int64_t>(config_.multicast.retention_periods, need), UINT32_MAX));
  }
  membership_ = make_membership(config_.membership, self, derive_seed(seed, 1));
  keyring_queries_ = std::make_unique<detail::KeyringQueries>(*seal_);
  membership_->set_internal_queries(keyring_queries_.get());
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
  if (config_.state.enabled && !memberlist_) {
    state_ = std::make_unique<detail::Scuttlebutt>(config_.state, self, membership_->live_group(),
                                                   derive_seed(seed, 6));
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

void Node::seed_nonces(std::span<const std::byte> entropy) { seal_->seed_nonces(entropy); }
void Node::set_clock_offset(Duration offset) noexcept { seal_->set_clock_offset(offset); }
const SealStats& Node::seal_stats() const noexcept { return seal_->stats(); }
Result<void> Node::change_keyring(KeyringOp op, std::span<const std::byte> key) {
  return seal_->change_keyring(op, key);
}
std::vector<std::vector<std::byte>> Node::keyring() const { return seal_->keyring(); }
Effects& Node::sealed(Time now, Effects& fx) { return seal_->wrap(now, fx); }

Result<std::size_t> Node::stream_message_length(std::span<const std::byte> received) const {
  if (!seal_->frames_streams()) return membership_->stream_message_length(received);
  if (received.size() < 4) return std::size_t(0);
  std::size_t len = 0;
  for (int i = 0; i < 4; ++i) len = len << 8 | std::to_integer<std::uint8_t>(received[i]);
  if (len > wire::kStreamBytesMax + seal_->overhead()) {
    return make_error(Errc::too_large, "sealed stream over 20 MB");
  }
  return received.size() >= len + 4 ? len + 4 : std::size_t(0);
}

void Node::on_datagram(Time now, const Address& from, std::span<const std::byte> sealed_bytes,
                       Effects& driver_fx) {
  // Open once (refused input is counted and dropped), then route the plaintext.
  auto opened = seal_->open_datagram(now, sealed_bytes);
  if (!opened) return;
  const std::span<const std::byte> bytes = *opened;
  Effects& fx = sealed(now, driver_fx);
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
    if (state_) route_state_frames(now, from, bytes, fx);
    return;
  }
  using R = detail::FrameRouter;
  const auto ours = router_->part(R::kMembership);
  const auto multicast = router_->part(R::kMulticast);
  const auto view = router_->part(R::kViews);
  const auto state = router_->part(R::kState);
  if (!ours.empty()) membership_->on_datagram(now, from, ours, fx);
  if (!multicast.empty()) multicast_->on_datagram(now, from, multicast, fx);
  if (view_ && !view.empty()) view_->on_datagram(now, from, view, fx);
  if (state_ && !state.empty()) route_state_frames(now, from, state, fx);
}

void Node::on_stream(Time now, const Address& from, std::span<const std::byte> framed,
                     StreamId stream, Effects& fx) {
  auto message = seal_->open_stream(now, framed);
  if (!stream_peer_names_.empty()) {  // mutual TLS: the sender must be the certified member
    const bool ok = message && stream_identity_ok(*message);
    stream_peer_names_.clear();
    if (!ok && message) ++stream_identity_refused_;
    if (!ok) return;
  }
  if (!message) return;
  if (state_ && wire::is_state_stream(*message)) {
    return state_->on_stream(now, from, *message, sealed(now, fx));
  }
  membership_->on_stream(now, from, *message, stream, sealed(now, fx));
}

void Node::on_timeout(Time now, Effects& driver_fx) {
  Effects& fx = sealed(now, driver_fx);
  if (now >= membership_->next_deadline()) membership_->on_timeout(now, fx);
  if (!memberlist_ && now >= multicast_->next_deadline()) multicast_->on_timeout(now, fx);
  if (view_ && now >= view_->next_deadline()) view_->on_timeout(now, fx);
  if (state_ && now >= state_->next_deadline()) state_->on_timeout(now, fx);
}

Time Node::next_deadline() const noexcept {
  if (memberlist_) return membership_->next_deadline();
  Time t = std::min(membership_->next_deadline(), multicast_->next_deadline());
  if (state_) t = std::min(t, state_->next_deadline());
  return view_ ? std::min(t, view_->next_deadline()) : t;
}

}  // namespace grapevine
