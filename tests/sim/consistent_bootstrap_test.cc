// Consistent membership (Rapid): bootstrap through one seed ends with every member in the same
// configuration, and every node's installed sequence agrees with one chain.
#include <gtest/gtest.h>

#include "sim/consistent_cluster.h"

namespace grapevine::sim {
namespace {

ConsistentClusterOptions opts(std::uint32_t n, std::uint64_t seed) {
  ConsistentClusterOptions o;
  o.nodes = n;
  o.seed = seed;
  o.join_spread = Duration::seconds(2);
  return o;
}

TEST(ConsistentBootstrap, FiftyThroughOneSeed) {
  ConsistentCluster c(opts(50, 1));
  ASSERT_TRUE(c.wait_agreed(Duration::seconds(60)));
  EXPECT_EQ(c.agreement_error(), "");
  EXPECT_EQ(c.node(7).configuration().size, 50u);
  EXPECT_EQ(c.node(7).live_group().size(), 50u);
  EXPECT_EQ(c.false_removals(), 0u);
}

TEST(ConsistentBootstrap, TwoHundredThroughOneSeed) {
  ConsistentCluster c(opts(200, 2));
  ASSERT_TRUE(c.wait_agreed(Duration::seconds(90)));
  EXPECT_EQ(c.agreement_error(), "");
  // Rapid batches joins: a handful of configurations, not one per joiner.
  EXPECT_LT(c.distinct_sizes().size(), 12u);
}

TEST(ConsistentBootstrap, SeveralSeedsStayInAgreement) {
  for (std::uint64_t seed = 10; seed < 14; ++seed) {
    ConsistentCluster c(opts(80, seed));
    ASSERT_TRUE(c.wait_agreed(Duration::seconds(60))) << "seed " << seed;
    EXPECT_EQ(c.agreement_error(), "") << "seed " << seed;
  }
}

TEST(ConsistentBootstrap, Deterministic) {
  auto run = [] {
    ConsistentCluster c(opts(40, 5));
    c.run_for(Duration::seconds(20));
    return c.sim().delivery_hash();
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace grapevine::sim
