// Anti-entropy by summary (native dialect): the periodic push-pull sends a state digest, and a
// peer whose list differs answers with a full exchange. A member nobody has heard of (nothing
// queued, no gossip) is learned through that path alone.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "grapevine/node.h"
#include "sim/simulator.h"

namespace grapevine::sim {
namespace {

TEST(NodeAntiEntropy, ADigestMismatchStartsAFullExchangeAndTheListsMerge) {
  NodeConfig config;
  config.membership = MembershipConfig::lan();
  config.membership.gossip_interval = Duration::zero();  // piggyback only: no separate gossip
  config.membership.push_pull_interval = Duration::seconds(5);
  constexpr std::uint32_t kN = 8;
  Simulator sim(NetworkConfig::uniform(LinkProfile{}), 3);
  std::vector<Address> first, last;
  for (std::uint32_t i = 0; i + 1 < kN; ++i) first.push_back(sim_address(i));
  last = {sim_address(0), sim_address(kN - 1)};
  std::vector<Node*> nodes;
  for (std::uint32_t i = 0; i < kN; ++i) {
    auto n = std::make_unique<Node>(config, sim_address(i), 100 + i);
    // Nodes 0..6 know each other; node 7 knows only node 0, and nobody knows node 7.
    n->preload(Time::zero(), i + 1 < kN ? std::span<const Address>(first)
                                        : std::span<const Address>(last));
    nodes.push_back(n.get());
    sim.add_node(std::move(n));
  }
  sim.run_for(Duration::seconds(1));
  EXPECT_EQ(nodes[0]->membership().member_count(MemberState::alive), kN - 1);
  const bool merged = sim.run_until(
      [&] {
        for (Node* n : nodes) {
          if (n->membership().member_count(MemberState::alive) != kN) return false;
        }
        return true;
      },
      sim.now() + Duration::seconds(60));
  EXPECT_TRUE(merged);
  EXPECT_GT(sim.counters().streams, 0u);  // the full exchange the digest asked for
}

}  // namespace
}  // namespace grapevine::sim
