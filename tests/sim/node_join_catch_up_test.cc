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

// A join storm: 20 joiners, one every 250 ms through one seed, into 24 preloaded members.
// Before, a member ran a catch-up round a second after each new member while the storm went on
// (the lists always differ by the joins in flight: a full push-pull per member per second,
// O(N^2) state a second at scale). Now a member waits for the news to stop (at most 5 delays
// after the first): each preloaded member runs 1 or 2 rounds, and every list is complete soon
// after the storm.
TEST(NodeJoinCatchUp, AJoinStormGetsOneRoundAtItsEndNotOneASecond) {
  NodeConfig config;
  config.membership = MembershipConfig::lan();
  constexpr std::uint32_t kPreloaded = 24, kJoiners = 20, kN = kPreloaded + kJoiners;
  Simulator sim(NetworkConfig::uniform(LinkProfile{}), 11);
  std::vector<Address> roster;
  for (std::uint32_t i = 0; i < kPreloaded; ++i) roster.push_back(sim_address(i));
  std::vector<Node*> nodes;
  for (std::uint32_t i = 0; i < kN; ++i) {
    auto n = std::make_unique<Node>(config, sim_address(i), 300 + i);
    if (i < kPreloaded) n->preload(Time::zero(), roster);
    nodes.push_back(n.get());
    sim.add_node(std::move(n));
  }
  const Address seed = sim_address(0);
  sim.run_for(Duration::milliseconds(100));
  for (std::uint32_t j = kPreloaded; j < kN; ++j) {  // 5 s of joins
    sim.with_node(j, [&](Machine&, Effects& fx) { (void)nodes[j]->join(sim.now(), {&seed, 1}, fx); });
    sim.run_for(Duration::milliseconds(250));
  }
  const bool complete = sim.run_until(
      [&] {
        for (Node* n : nodes) {
          if (n->membership().member_count(MemberState::alive) != kN) return false;
        }
        return true;
      },
      sim.now() + Duration::seconds(10));
  EXPECT_TRUE(complete);
  sim.run_for(Duration::seconds(2));  // the last rounds, a delay after the last news
  for (std::uint32_t i = 1; i < kPreloaded; ++i) {
    const std::uint64_t rounds = nodes[i]->membership().stats().catch_up_rounds;
    EXPECT_GE(rounds, 1u) << "member " << i;
    EXPECT_LE(rounds, 2u) << "member " << i << ": a round a second would be ~5";
  }
}

}  // namespace
}  // namespace grapevine::sim
