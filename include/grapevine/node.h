// Node: one grapevine member, composed of a membership machine (who is in the group) and a
// multicast protocol that draws its targets from that membership's live list rather than from
// a global roster. This is what the runtime runs on sockets and what applications embed.
//
// Both components share the node's datagrams: frames of each family go to their owner (see
// wire/native.h). Tree and centralized multicast work over the live list too, but a tree is only
// stable while membership is; gossip (push, pull, push-pull) is what this mode is for.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "grapevine/machine.h"
#include "grapevine/membership.h"
#include "grapevine/multicast.h"
#include "grapevine/view.h"

namespace grapevine {

struct NodeConfig {
  MembershipConfig membership;
  MulticastConfig multicast;
  /// A partial-view overlay (HyParView) beside the membership: when set, multicast() broadcasts
  /// over the view's own tree (Plumtree) instead of the gossip multicast, and join() also joins
  /// the overlay through the first seed. Native dialect only.
  std::optional<ViewConfig> view;
};

Result<void> validate(const NodeConfig& config) noexcept;

class Node final : public Machine {
 public:
  /// `config` is copied. Check it with validate() first: a bad config is a programming error.
  Node(const NodeConfig& config, const Address& self, std::uint64_t seed);
  ~Node() override;

  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_stream(Time now, const Address& from, std::span<const std::byte> message,
                 StreamId stream, Effects& fx) override;
  void on_timeout(Time now, Effects& fx) override;
  [[nodiscard]] Result<std::size_t> stream_message_length(
      std::span<const std::byte> received) const override {
    return membership_->stream_message_length(received);
  }
  [[nodiscard]] Time next_deadline() const noexcept override;

  Result<void> join(Time now, std::span<const Address> seeds, Effects& fx) {
    if (view_) view_->join(now, seeds.empty() ? Address{} : seeds.front(), fx);
    return membership_->join(now, seeds, fx);
  }
  void leave(Time now, Effects& fx) {
    if (view_) view_->leave(now, fx);
    membership_->leave(now, fx);
  }
  void preload(Time now, std::span<const Address> members) { membership_->preload(now, members); }
  /// Multicasts `payload` to the live members. Errors as MulticastProtocol::multicast. In the
  /// memberlist dialect the payload travels as memberlist user messages (Membership::broadcast),
  /// which Go members receive through their delegate's NotifyMsg.
  Result<MessageId> multicast(Time now, std::span<const std::byte> payload, Effects& fx) {
    if (view_) return view_broadcast(now, payload, fx);
    if (config_.membership.dialect == Dialect::memberlist) {
      return membership_->broadcast(now, payload, fx);
    }
    return multicast_->multicast(now, payload, fx);
  }

  /// A serf-style user event through the membership (Membership::user_event; native dialect).
  Result<std::uint64_t> user_event(Time now, std::string_view name,
                                   std::span<const std::byte> payload, bool coalesce,
                                   Effects& fx) {
    return membership_->user_event(now, name, payload, coalesce, fx);
  }

  [[nodiscard]] Membership& membership() noexcept { return *membership_; }
  [[nodiscard]] const Membership& membership() const noexcept { return *membership_; }
  [[nodiscard]] MulticastProtocol& multicast_protocol() noexcept { return *multicast_; }
  [[nodiscard]] const MulticastProtocol& multicast_protocol() const noexcept {
    return *multicast_;
  }
  /// The partial-view overlay, or nullptr when NodeConfig::view is unset.
  [[nodiscard]] const ViewMachine* view() const noexcept { return view_.get(); }

 private:
  NodeConfig config_;
  bool memberlist_;
  std::unique_ptr<Membership> membership_;
  std::unique_ptr<MulticastProtocol> multicast_;
  std::unique_ptr<ViewMachine> view_;
  std::uint64_t view_id_base_ = 0;  // broadcast ids: our address and a counter
  std::uint64_t view_seq_ = 0;

  Result<MessageId> view_broadcast(Time now, std::span<const std::byte> payload, Effects& fx);
};

}  // namespace grapevine
