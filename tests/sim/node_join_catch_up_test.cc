// Catch-up anti-entropy after churn (MembershipConfig::churn_anti_entropy_delay). The demo's
// join outliers (12-28 s at N = 64 against ~1 s) were one member that missed the gossip of a
// few joiners (datagrams lost while the process was descheduled) and waited for the periodic
// push-pull (30-60 s) to learn them. Here a member is deaf while the second of two joiners is
// gossiped: it learned the first joiner, so its catch-up round repairs the second in ~1 s.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "grapevine/node.h"
#include "sim/simulator.h"

namespace grapevine::sim {
namespace {

// Seconds until every node lists all kN members alive, or -1 after `limit`.
double join_with_a_deaf_member(Duration catch_up_delay, Duration limit) {
  NodeConfig config;
  config.membership = MembershipConfig::lan();
  config.membership.churn_anti_entropy_delay = catch_up_delay;
  constexpr std::uint32_t kN = 16;
  Simulator sim(NetworkConfig::uniform(LinkProfile{}), 7);
  std::vector<Address> roster;
  for (std::uint32_t i = 0; i + 2 < kN; ++i) roster.push_back(sim_address(i));
  std::vector<Node*> nodes;
  for (std::uint32_t i = 0; i < kN; ++i) {
    auto n = std::make_unique<Node>(config, sim_address(i), 100 + i);
    if (i + 2 < kN) n->preload(Time::zero(), roster);  // the last two join later
    nodes.push_back(n.get());
    sim.add_node(std::move(n));
  }
  const Address seed = sim_address(0);
  sim.run_for(Duration::milliseconds(100));
  sim.with_node(kN - 2, [&](Machine&, Effects& fx) { (void)nodes[kN - 2]->join(sim.now(), {&seed, 1}, fx); });
  // Node 1 learns the first joiner within ~50 ms (prompt gossip of joins), which arms its
  // catch-up round for ~1 s later: after the deaf spell below.
  sim.run_for(Duration::milliseconds(150));
  sim.set_drop(1, 1.0);  // node 1 hears nothing while the second joiner is gossiped
  sim.with_node(kN - 1, [&](Machine&, Effects& fx) { (void)nodes[kN - 1]->join(sim.now(), {&seed, 1}, fx); });
  sim.run_for(Duration::milliseconds(700));
  sim.set_drop(1, 0.0);
  const Time t0 = sim.now();
  const bool ok = sim.run_until(
      [&] {
        for (Node* n : nodes) {
          if (n->membership().member_count(MemberState::alive) != kN) return false;
        }
        return true;
      },
      t0 + limit);
  return ok ? (sim.now() - t0).to_seconds() : -1;
}

TEST(NodeJoinCatchUp, AMemberThatMissedAJoinerLearnsItWithinSeconds) {
  const double s = join_with_a_deaf_member(Duration::seconds(1), Duration::seconds(20));
  EXPECT_GE(s, 0.0);
  EXPECT_LT(s, 3.0);
}

TEST(NodeJoinCatchUp, WithoutCatchUpTheMemberWaitsForThePeriodicPushPull) {
  // The same run with the catch-up off (memberlist's behaviour): still incomplete after 5 s.
  EXPECT_LT(join_with_a_deaf_member(Duration::zero(), Duration::seconds(5)), 0.0);
}

}  // namespace
}  // namespace grapevine::sim
