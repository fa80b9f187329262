// Centralized multicast: the origin unicasts the payload to every other member, at once, with no
// repair. The baseline of the lecture: origin load O(N) per message, and an origin that crashes
// part-way through its sends leaves an arbitrary subset informed (with a bandwidth-limited
// uplink in the simulator, the sends leave one after another).
#pragma once

#include "core/multicast/message_store.h"
#include "grapevine/multicast.h"

namespace grapevine::detail {

class CentralizedMulticast final : public MulticastProtocol {
 public:
  CentralizedMulticast(const MulticastConfig& config, const Group& group,
                       std::uint32_t self_index);

  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override;
  void on_timeout(Time /*now*/, Effects& /*fx*/) override {}
  [[nodiscard]] Time next_deadline() const noexcept override { return Time::max(); }
  Result<MessageId> multicast(Time now, std::span<const std::byte> payload,
                              Effects& fx) override;
  [[nodiscard]] bool quiescent() const noexcept override { return true; }
  [[nodiscard]] bool has(const MessageId& id) const noexcept override {
    return store_.find(id) != nullptr;
  }

 private:
  const MulticastConfig& config_;
  const Group& group_;
  std::uint32_t self_;
  std::uint64_t node_id_;
  std::uint32_t next_seq_ = 1;
  MessageStore store_;
};

}  // namespace grapevine::detail
