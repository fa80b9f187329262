// Shared by the NodeCluster tests: a small LAN cluster (memberlist's LAN timings, 1-5 ms links,
// joins at 100 per second, multicast rounds of 200 ms) in one dialect, and bytes of a string.
#pragma once

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

}  // namespace grapevine::sim::test
