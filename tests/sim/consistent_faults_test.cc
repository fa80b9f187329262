// Consistent membership (Rapid) under faults: simultaneous crashes, a partition and its heal, a
// member that misses a decision, random loss. Every test also checks agreement of the installed
// sequences (ConsistentCluster::agreement_error).
#include <gtest/gtest.h>

#include <algorithm>

#include "sim/consistent_cluster.h"

namespace grapevine::sim {
namespace {

ConsistentClusterOptions preloaded(std::uint32_t n, std::uint64_t seed) {
  ConsistentClusterOptions o;
  o.nodes = n;
  o.seed = seed;
  o.preloaded = true;
  return o;
}

std::vector<NodeIndex> range(NodeIndex from, NodeIndex to) {
  std::vector<NodeIndex> v;
  for (NodeIndex i = from; i < to; ++i) v.push_back(i);
  return v;
}

TEST(ConsistentFaults, TenCrashesRemovedInOneViewChange) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    ConsistentCluster c(preloaded(100, seed));
    c.run_for(Duration::seconds(5));
    ASSERT_TRUE(c.agreed());
    const Time crash_at = c.sim().now();
    for (NodeIndex i = 0; i < 10; ++i) c.crash(7 * i + 3);
    ASSERT_TRUE(c.wait_agreed(Duration::seconds(40))) << "seed " << seed;
    EXPECT_EQ(c.configurations_after(crash_at), 1u) << "seed " << seed;
    EXPECT_EQ(c.node(0).configuration().size, 90u);
    EXPECT_EQ(c.agreement_error(), "");
    EXPECT_EQ(c.false_removals(), 0u);
  }
}

// Round-robin probing: at rest each member sends one probe and one ack per probe_interval
// (Rapid's K probes per interval were 20 datagrams per second); a crash is still removed by
// every live member about 13 s after it (10 misses of 1 s once its observers confirm it).
TEST(ConsistentFaults, RoundRobinProbesKeepLoadLowAndDetectionFast) {
  ConsistentCluster c(preloaded(200, 3));
  c.run_for(Duration::seconds(10));
  const NetworkCounters before = c.sim().counters();
  c.run_for(Duration::seconds(20));
  const NetworkCounters after = c.sim().counters();
  const double per_s = double(after.sent - before.sent) / 200 / 20;
  EXPECT_LE(per_s, 2.2);
  EXPECT_GE(per_s, 1.8);
  const Time crash_at = c.sim().now();
  c.crash(17);
  ASSERT_TRUE(c.wait_agreed(Duration::seconds(30)));
  EXPECT_EQ(c.configurations_after(crash_at), 1u);
  EXPECT_EQ(c.node(0).configuration().size, 199u);
  EXPECT_LT((c.last_install() - crash_at).to_seconds(), 15.0);
  EXPECT_EQ(c.agreement_error(), "");
}

TEST(ConsistentFaults, PartitionMinorityStallsThenMergesAfterHeal) {
  ConsistentCluster c(preloaded(60, 4));
  c.run_for(Duration::seconds(3));
  ASSERT_TRUE(c.agreed());
  const std::uint64_t before = c.node(0).configuration().id;
  auto minority = range(42, 60);  // 30%
  auto majority = range(0, 42);
  c.partition({majority, minority});
  ASSERT_TRUE(c.wait_agreed_on(majority, Duration::seconds(60)));
  c.run_for(Duration::seconds(40));
  for (NodeIndex i : minority) {
    EXPECT_EQ(c.node(i).configuration().id, before) << "minority node " << i << " moved";
    EXPECT_EQ(c.node(i).configuration().size, 60u);
  }
  EXPECT_GT(c.stalls(), 0u);
  EXPECT_GE(c.node(50).stats().view_stalls, 1u);
  EXPECT_EQ(c.node(0).configuration().size, 42u);
  c.heal();
  ASSERT_TRUE(c.wait_agreed(Duration::seconds(90)));
  EXPECT_EQ(c.node(0).configuration().size, 60u);
  EXPECT_GE(c.node(50).stats().removed_self, 1u);
  EXPECT_EQ(c.agreement_error(), "");
}

TEST(ConsistentFaults, MemberThatMissedADecisionCatchesUp) {
  ConsistentCluster c(preloaded(40, 6));
  c.run_for(Duration::seconds(3));
  c.crash(11);
  c.crash(12);
  // Node 5 is cut off (every packet to or from it dropped) while the others decide, for less
  // than its observers need to suspect it.
  c.run_for(Duration::seconds(10));  // edge detectors fire after 10 misses (~10.5 s)
  c.set_drop(5, 1.0);
  const Time cut_off = c.sim().now();
  while (c.node(0).configuration().epoch == 0 && c.sim().now() < cut_off + Duration::seconds(6)) {
    c.run_for(Duration::milliseconds(50));
  }
  c.run_for(Duration::milliseconds(300));
  ASSERT_EQ(c.node(0).configuration().epoch, 1u);
  EXPECT_EQ(c.node(5).configuration().epoch, 0u);  // missed it
  c.set_drop(5, 0.0);
  ASSERT_TRUE(c.wait_agreed(Duration::seconds(30)));
  EXPECT_EQ(c.node(5).configuration().id, c.node(0).configuration().id);
  EXPECT_EQ(c.node(5).configuration().size, 38u);
  EXPECT_EQ(c.node(5).stats().catch_ups, 1u);
  EXPECT_EQ(c.node(5).stats().removed_self, 0u);
  EXPECT_EQ(c.agreement_error(), "");
}

TEST(ConsistentFaults, TenPercentLossRemovesNoLiveMember) {
  ConsistentClusterOptions o = preloaded(50, 7);
  LinkProfile lossy;
  lossy.loss = 0.10;
  o.network = NetworkConfig::uniform(lossy);
  ConsistentCluster c(o);
  c.run_for(Duration::seconds(120));
  EXPECT_EQ(c.false_removals(), 0u);
  EXPECT_TRUE(c.agreed());
  EXPECT_EQ(c.views().size(), 0u);
  // And a real crash is still removed under that loss.
  c.crash(9);
  ASSERT_TRUE(c.wait_agreed(Duration::seconds(60)));
  EXPECT_EQ(c.false_removals(), 0u);
  EXPECT_EQ(c.agreement_error(), "");
}

TEST(ConsistentFaults, GracefulLeave) {
  ConsistentCluster c(preloaded(30, 8));
  c.run_for(Duration::seconds(2));
  c.sim().with_node(4, [&](Machine&, Effects& fx) { c.node(4).leave(c.sim().now(), fx); });
  std::vector<NodeIndex> rest;
  for (NodeIndex i = 0; i < 30; ++i) {
    if (i != 4) rest.push_back(i);
  }
  ASSERT_TRUE(c.wait_agreed_on(rest, Duration::seconds(20)));
  EXPECT_EQ(c.node(0).stats().leaves, 1u);
  EXPECT_EQ(c.agreement_error(), "");
}

}  // namespace
}  // namespace grapevine::sim

namespace grapevine::sim {
namespace {

ConsistentClusterOptions lossy(double loss, std::uint64_t seed) {
  ConsistentClusterOptions o;
  o.nodes = 64;
  o.seed = seed;
  o.preloaded = true;
  LinkProfile l;
  l.loss = loss;
  o.network = NetworkConfig::uniform(l);
  return o;
}

// The heavy-loss goal: 30% loss on every link, N = 64, 300 s: no live member removed.
TEST(ConsistentFaults, ThirtyPercentLossRemovesNoLiveMember) {
  ConsistentCluster c(lossy(0.3, 3));
  c.run_for(Duration::seconds(300));
  EXPECT_EQ(c.false_removals(), 0u);
  EXPECT_EQ(c.views().size(), 0u);
  EXPECT_TRUE(c.agreed());
}

// Agreement under chaos: a detector far too eager for 30% loss (5 misses) removes live members
// all the time, they rejoin, minorities stall; every install must still agree.
TEST(ConsistentFaults, ChurnUnderHeavyLossKeepsAgreement) {
  for (std::uint64_t seed = 1; seed <= 2; ++seed) {
    ConsistentClusterOptions o = lossy(0.3, seed);
    o.config.consistent.probe_misses = 5;
    ConsistentCluster c(o);
    c.run_for(Duration::seconds(120));
    EXPECT_GT(c.views().size(), 0u);
    EXPECT_EQ(c.agreement_error(), "") << "seed " << seed;
  }
}

}  // namespace
}  // namespace grapevine::sim
