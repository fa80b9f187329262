// Consistent membership (Rapid): a small group split 5 / 2, as tests/integration/
// netns_consistent_partition.sh does on real sockets. With K = 10 rings over 7 members the two
// minority members observe few rings of each majority member, so they may never see H reports
// and never propose; they must still say they are stalled (view_stalled, stats().view_stalls,
// configuration().stalled), keep their configuration, and merge back after the heal. Before
// standing alerts were re-gossiped and the stall clock started at L reports, some seeds left a
// minority member silent (its peer's alerts went to cut-off gossip targets): 82 of the 400
// minority members of seeds 1-200 reported nothing; after, none of 1600 (seeds 1-800).
#include <gtest/gtest.h>

#include "sim/consistent_cluster.h"

namespace grapevine::sim {
namespace {

TEST(ConsistentSmallPartition, TwoOfSevenCutOffStallThenMergeForEverySeed) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    ConsistentClusterOptions o;
    o.nodes = 7;
    o.seed = seed;
    o.preloaded = true;
    ConsistentOptions& r = o.config.consistent;
    r.stall_timeout = Duration::seconds(5);
    ConsistentCluster c(o);
    c.run_for(Duration::seconds(2));
    ASSERT_TRUE(c.agreed()) << "seed " << seed;
    const std::uint64_t before = c.node(0).configuration().id;
    const std::vector<NodeIndex> majority{0, 1, 2, 3, 4}, minority{5, 6};
    c.partition({majority, minority});
    ASSERT_TRUE(c.wait_agreed_on(majority, Duration::seconds(40))) << "seed " << seed;
    EXPECT_EQ(c.node(0).configuration().size, 5u) << "seed " << seed;
    // Detection (10 misses, ~10.5 s) + stall_timeout, with room for the classic rounds.
    c.run_for(Duration::seconds(15));
    for (NodeIndex i : minority) {
      const ConfigurationInfo ci = c.node(i).configuration();
      EXPECT_EQ(ci.id, before) << "seed " << seed << " node " << i;
      EXPECT_TRUE(ci.stalled) << "seed " << seed << " node " << i;
      EXPECT_EQ(c.node(i).stats().view_stalls, 1u) << "seed " << seed << " node " << i;
    }
    for (NodeIndex i : majority) EXPECT_FALSE(c.node(i).configuration().stalled);
    c.heal();
    ASSERT_TRUE(c.wait_agreed(Duration::seconds(60))) << "seed " << seed;
    EXPECT_EQ(c.node(5).configuration().size, 7u) << "seed " << seed;
    EXPECT_FALSE(c.node(5).configuration().stalled) << "seed " << seed;
    EXPECT_EQ(c.agreement_error(), "") << "seed " << seed;
  }
}

}  // namespace
}  // namespace grapevine::sim
