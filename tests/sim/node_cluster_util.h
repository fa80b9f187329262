// Shared by the NodeCluster tests: a small LAN cluster (memberlist's LAN timings, 1-5 ms links,
// joins at 100 per second, multicast rounds of 200 ms) in one dialect, bytes of a string, and
// a loop that runs a cluster until a condition holds.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "sim/node_cluster.h"

namespace grapevine::sim::test {

inline NodeClusterOptions lan_cluster(Dialect d, std::uint32_t nodes, std::uint64_t seed) {
  NodeClusterOptions o;
  o.nodes = nodes;
  o.config.membership = MembershipConfig::lan();
  o.config.membership.dialect = d;
  o.config.multicast.period = Duration::milliseconds(200);
  o.network = NetworkConfig::uniform(LinkProfile{Duration::milliseconds(1),
                                                 Duration::milliseconds(5)});
  o.seed = seed;
  o.join_rate = 100;
  return o;
}

inline std::span<const std::byte> bytes(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

/// Runs `c` in steps of `step` (NodeCluster::run_for) until `done()` holds or `limit` of
/// simulated time has passed since the call; `done()` is checked before every step and once
/// after the last one (which may end up to a step past the limit). Returns the simulated time
/// it took, or nullopt if `done()` still fails after the limit. Deterministic: the steps are the
/// same for the same cluster and arguments.
template <class Done>
std::optional<Duration> run_until_done(NodeCluster& c, Done&& done, Duration limit, Duration step) {
  const Time t0 = c.now();
  while (c.now() < t0 + limit && !done()) c.run_for(step);
  if (!done()) return std::nullopt;
  return c.now() - t0;
}

}  // namespace grapevine::sim::test
