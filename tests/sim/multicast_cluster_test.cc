// Deterministic behaviour of the multicast family, written in the cluster DSL: reproducibility,
// delivery under loss, crashes, partitions and pauses, and the baselines' documented weak spots
// (a tree's interior node, a centralized sender dying half-way).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/cluster.h"
#include "util/rng.h"

namespace grapevine::sim {
namespace {

constexpr MulticastProtocolKind kAll[] = {
    MulticastProtocolKind::push,     MulticastProtocolKind::pull,
    MulticastProtocolKind::pushpull, MulticastProtocolKind::centralized,
    MulticastProtocolKind::tree_ack, MulticastProtocolKind::tree_nack,
};
constexpr MulticastProtocolKind kGossip[] = {
    MulticastProtocolKind::push,
    MulticastProtocolKind::pull,
    MulticastProtocolKind::pushpull,
};

ClusterOptions options(MulticastProtocolKind p, std::uint32_t nodes, std::uint64_t seed = 1,
                       double loss = 0.0) {
  ClusterOptions o;
  o.nodes = nodes;
  o.seed = seed;
  o.config.protocol = p;
  o.config.fanout = 2;
  o.network.local.loss = o.network.cross.loss = loss;
  // Some per-packet jitter so that the network's PRNG, too, shapes the run.
  o.network.local.jitter = o.network.cross.jitter = Duration::milliseconds(5);
  return o;
}

Duration seconds(std::int64_t s) {
  return Duration::seconds(s);
}

// ---- reproducibility ------------------------------------------------------------------------

// Two multicasts from different origins over a lossy, jittery network, for a fixed time (the
// centralized baseline has no repair, so "until delivered" would not end for it).
std::uint64_t run_and_hash(const ClusterOptions& o) {
  MulticastCluster c(o);
  auto a = c.multicast(0, "first");
  c.run_for(seconds(2));
  auto b = c.multicast(o.nodes / 2, "second");
  c.run_for(seconds(60));
  EXPECT_GT(c.delivered_count(a), o.nodes / 2) << protocol_name(o.config.protocol);
  EXPECT_GT(c.delivered_count(b), o.nodes / 2) << protocol_name(o.config.protocol);
  return c.sim().delivery_hash();
}

TEST(MulticastCluster, SameSeedGivesTheSameRunToTheByte) {
  for (auto p : kAll) {
    auto o = options(p, 50, 7, 0.05);
    EXPECT_EQ(run_and_hash(o), run_and_hash(o)) << protocol_name(p);
  }
}

TEST(MulticastCluster, DifferentSeedGivesADifferentRun) {
  for (auto p : kAll) {
    EXPECT_NE(run_and_hash(options(p, 50, 7, 0.05)), run_and_hash(options(p, 50, 8, 0.05)))
        << protocol_name(p);
  }
}

// ---- delivery -------------------------------------------------------------------------------

TEST(MulticastCluster, EveryProtocolDeliversToAllExactlyOnceWithoutLoss) {
  for (auto p : kAll) {
    MulticastCluster c(options(p, 64));
    auto id = c.multicast(5, "hello group");
    ASSERT_TRUE(c.wait_all_delivered(id, seconds(60))) << protocol_name(p);
    c.run_for(seconds(20));  // later duplicates must not deliver again
    for (std::uint32_t i = 0; i < c.size(); ++i) {
      ASSERT_EQ(c.payloads(i), std::vector<std::string>{"hello group"})
          << protocol_name(p) << " node " << i;
    }
  }
}

TEST(MulticastCluster, GossipDeliversDespiteLossAndCrashedNodes) {
  // 20% packet loss and 30% of the nodes dead before the multicast: every survivor delivers,
  // for each gossip variant, over several seeds.
  for (auto p : kGossip) {
    for (std::uint64_t seed = 1; seed <= 4; ++seed) {
      MulticastCluster c(options(p, 200, seed, 0.2));
      Rng rng(seed);
      std::uint32_t crashed = 0;
      while (crashed < 60) {
        auto i = std::uint32_t(1 + rng.below(199));
        if (c.sim().crashed(i)) continue;
        c.crash(i);
        ++crashed;
      }
      auto id = c.multicast(0, "still there?");
      EXPECT_TRUE(c.wait_all_delivered(id, seconds(120)))
          << protocol_name(p) << " seed " << seed << ": " << c.delivered_count(id) << " of "
          << c.live_count();
    }
  }
}

// ---- partitions, pauses, restarts -----------------------------------------------------------

TEST(MulticastCluster, PartitionBlocksDeliveryAndHealingLetsAntiEntropyFinish) {
  for (auto p : {MulticastProtocolKind::pull, MulticastProtocolKind::pushpull}) {
    MulticastCluster c(options(p, 40));
    std::vector<NodeIndex> far;
    for (NodeIndex i = 20; i < 40; ++i) far.push_back(i);
    c.partition({far});
    auto id = c.multicast(0, "across");
    c.run_for(seconds(30));
    for (NodeIndex i = 0; i < 40; ++i) {
      EXPECT_EQ(c.delivered(i, id), i < 20) << protocol_name(p) << " node " << i;
    }
    c.heal();
    EXPECT_TRUE(c.wait_all_delivered(id, seconds(30))) << protocol_name(p);
  }
}

TEST(MulticastCluster, RumorMongeringDiesInAPartitionWhereAntiEntropyWouldNot) {
  // Push with a stop rule (each node pushes 4 rounds) loses interest while the far side is cut
  // off; healing later does not help. This is why Demers backs rumor mongering with
  // anti-entropy (the previous test).
  auto o = options(MulticastProtocolKind::push, 40);
  o.config.stop = StopRule::rounds;
  o.config.stop_rounds = 4;
  MulticastCluster c(o);
  std::vector<NodeIndex> far;
  for (NodeIndex i = 20; i < 40; ++i) far.push_back(i);
  c.partition({far});
  auto id = c.multicast(0, "rumor");
  c.run_for(seconds(60));
  c.heal();
  c.run_for(seconds(60));
  EXPECT_EQ(c.delivered_count(id), 20u);
  for (NodeIndex i = 20; i < 40; ++i) EXPECT_FALSE(c.delivered(i, id));
}

TEST(MulticastCluster, PausedNodeCatchesUpWhenItResumes) {
  for (auto p : kGossip) {
    MulticastCluster c(options(p, 30));
    c.pause(7, seconds(25));
    auto id = c.multicast(0, "wake up");
    c.run_for(seconds(20));
    EXPECT_FALSE(c.delivered(7, id)) << protocol_name(p);
    EXPECT_EQ(c.delivered_count(id), 29u) << protocol_name(p);
    c.run_for(seconds(10));
    EXPECT_TRUE(c.delivered(7, id)) << protocol_name(p);
  }
}

TEST(MulticastCluster, RestartedNodeIsBroughtUpToDateByPull) {
  for (auto p : {MulticastProtocolKind::pull, MulticastProtocolKind::pushpull}) {
    MulticastCluster c(options(p, 30));
    c.crash(9);
    auto id = c.multicast(0, "missed it");
    ASSERT_TRUE(c.wait_all_delivered(id, seconds(60)));
    EXPECT_FALSE(c.delivered(9, id));
    c.restart(9);
    EXPECT_TRUE(c.wait_all_delivered(id, seconds(20))) << protocol_name(p);
    EXPECT_TRUE(c.delivered(9, id));
  }
}

// ---- the baselines' weak spots --------------------------------------------------------------

// In a binary tree rooted at node 0 over 63 nodes (positions = indices), is `i` below node 1?
bool below_node_1(std::uint32_t i) {
  while (i > 1) i = (i - 1) / 2;
  return i == 1;
}

TEST(MulticastCluster, TreeInteriorCrashLosesExactlyTheSubtree) {
  for (auto p : {MulticastProtocolKind::tree_ack, MulticastProtocolKind::tree_nack}) {
    auto o = options(p, 63);
    o.config.tree_degree = 2;
    MulticastCluster c(o);
    c.crash(1);  // the root's first child: 31 nodes hang below it, itself included
    auto id = c.multicast(0, "down the tree");
    c.run_for(seconds(60));  // long past every ACK retry and NACK session
    for (std::uint32_t i = 2; i < 63; ++i) {
      EXPECT_EQ(c.delivered(i, id), !below_node_1(i)) << protocol_name(p) << " node " << i;
    }
    EXPECT_EQ(c.delivered_count(id), 32u) << protocol_name(p);
  }
}

TEST(MulticastCluster, GossipRoutesAroundTheSameCrashedNode) {
  for (auto p : {MulticastProtocolKind::push, MulticastProtocolKind::pushpull}) {
    MulticastCluster c(options(p, 63));
    c.crash(1);
    auto id = c.multicast(0, "around it");
    EXPECT_TRUE(c.wait_all_delivered(id, seconds(60))) << protocol_name(p);
    EXPECT_EQ(c.delivered_count(id), 62u);
  }
}

TEST(MulticastCluster, CentralizedOriginCrashHalfwayReachesOnlyTheFirstHalf) {
  MulticastCluster c(options(MulticastProtocolKind::centralized, 101));
  c.sim().crash_after_sends(0, 50);
  auto id = c.multicast(0, "half");
  c.run_for(seconds(30));
  EXPECT_EQ(c.delivered_count(id), 51u);  // the origin and its first 50 unicasts
  for (NodeIndex i = 1; i <= 100; ++i) EXPECT_EQ(c.delivered(i, id), i <= 50);
}

TEST(MulticastCluster, GossipSurvivesTheOriginDyingAfterItsFirstRound) {
  // The origin crashes right after its first round's two pushes: the two targets carry on.
  for (auto p : {MulticastProtocolKind::push, MulticastProtocolKind::pushpull}) {
    for (std::uint64_t seed = 1; seed <= 3; ++seed) {
      MulticastCluster c(options(p, 101, seed));
      c.sim().crash_after_sends(0, 2);
      auto id = c.multicast(0, "carry on");
      EXPECT_TRUE(c.wait_all_delivered(id, seconds(60))) << protocol_name(p) << " seed " << seed;
      EXPECT_TRUE(c.sim().crashed(0));
      EXPECT_EQ(c.node(0).stats().data_sent, 2u);
    }
  }
}

}  // namespace
}  // namespace grapevine::sim
