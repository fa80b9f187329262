// Config validation and the protocol factory.
#include "core/multicast/centralized.h"
#include "core/multicast/gossip.h"
#include "core/multicast/tree.h"
#include "grapevine/multicast.h"
#include "wire/native.h"

namespace grapevine {

Result<void> validate(const MulticastConfig& c) noexcept {
  if (c.period <= Duration::zero()) return make_error(Errc::invalid_argument, "period must be > 0");
  if (c.period_jitter < 0.0 || c.period_jitter >= 1.0) {
    return make_error(Errc::invalid_argument, "period_jitter must be in [0, 1)");
  }
  if (c.fanout == 0 && c.fanout_poisson_mean <= 0.0 && c.protocol != MulticastProtocolKind::pull) {
    return make_error(Errc::invalid_argument, "fanout must be >= 1");
  }
  if (c.fanout > detail::kFanoutMax || c.pull_fanout > detail::kFanoutMax) {
    return make_error(Errc::invalid_argument, "fanout must be <= 256");
  }
  if (c.fanout_poisson_mean < 0.0 || c.fanout_poisson_mean > 200.0) {
    return make_error(Errc::invalid_argument, "fanout_poisson_mean must be in [0, 200]");
  }
  if ((c.stop == StopRule::counter || c.stop == StopRule::coin) && c.stop_k == 0) {
    return make_error(Errc::invalid_argument, "stop_k must be >= 1");
  }
  if (c.stop == StopRule::rounds && c.stop_rounds == 0) {
    return make_error(Errc::invalid_argument, "stop_rounds must be >= 1");
  }
  if (c.tree_degree < 1 || c.tree_degree > 256) {
    return make_error(Errc::invalid_argument, "tree_degree must be in [1, 256]");
  }
  if (c.packet_budget_bytes < 64 || c.packet_budget_bytes > wire::kPacketBudgetBytesMax) {
    return make_error(Errc::invalid_argument, "packet_budget_bytes must be in [64, 8192]");
  }
  return {};
}

std::unique_ptr<MulticastProtocol> make_multicast(const MulticastConfig& config,
                                                  const Group& group, std::uint32_t self_index,
                                                  std::uint64_t seed) {
  switch (config.protocol) {
    case MulticastProtocolKind::push:
    case MulticastProtocolKind::pull:
    case MulticastProtocolKind::pushpull:
      return std::make_unique<detail::GossipMulticast>(config, group, self_index, seed);
    case MulticastProtocolKind::centralized:
      return std::make_unique<detail::CentralizedMulticast>(config, group, self_index);
    case MulticastProtocolKind::tree_ack:
    case MulticastProtocolKind::tree_nack:
      return std::make_unique<detail::TreeMulticast>(config, group, self_index, seed);
  }
  return nullptr;
}

}  // namespace grapevine
