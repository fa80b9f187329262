// Consistent membership (Rapid): join batching and cuts by digest. A join storm through one
// seed becomes a few large view changes (Rapid's Table 1: 4 distinct sizes at N = 2000), every
// node agrees on every configuration, and the same seed gives the same run.
#include <gtest/gtest.h>

#include "sim/consistent_cluster.h"

namespace grapevine::sim {
namespace {

ConsistentClusterOptions storm(std::uint32_t n, Duration spread, std::uint64_t seed) {
  ConsistentClusterOptions o;
  o.nodes = n;
  o.seed = seed;
  o.join_spread = spread;
  return o;
}

// 250 joiners at 200 per second (the rate of docs/experiments.md's bootstrap table): the first
// batch is decided by the seed alone, the rest (over kCutMembersMax, so by digest) by all.
TEST(ConsistentBatching, JoinStormTakesFewViewChanges) {
  for (std::uint64_t seed : {1, 2}) {
    ConsistentCluster c(storm(250, Duration::milliseconds(1250), seed));
    ASSERT_TRUE(c.wait_agreed(Duration::seconds(30))) << "seed " << seed;
    EXPECT_EQ(c.agreement_error(), "") << "seed " << seed;
    EXPECT_EQ(c.log().view_agreement(250), 1.0);
    EXPECT_LE(c.distinct_sizes().size(), 2u) << "seed " << seed;
    EXPECT_LT(c.last_install().to_seconds(), 6.0) << "seed " << seed;
    EXPECT_EQ(c.false_removals(), 0u);
  }
}

// Batches of 1 s while joins spread over 2 s: the seed alone admits the first ~200, then those
// ~200 members decide the rest, a cut of well over kCutMembersMax voted by its digest.
TEST(ConsistentBatching, LargeCutDecidedByDigest) {
  auto o = storm(400, Duration::seconds(2), 3);
  o.config.consistent.join_batch_window = Duration::seconds(1);
  ConsistentCluster c(o);
  ASSERT_TRUE(c.wait_agreed(Duration::seconds(40)));
  EXPECT_EQ(c.agreement_error(), "");
  EXPECT_LE(c.distinct_sizes().size(), 3u);
  std::uint32_t biggest_step = 0, prev = 1;
  for (std::uint32_t s : c.distinct_sizes()) biggest_step = std::max(biggest_step, s - prev), prev = s;
  EXPECT_GT(biggest_step, 128u);
  std::uint64_t fast = 0;
  for (NodeIndex i = 0; i < c.size(); ++i) fast += c.node(i).stats().fast_decisions;
  EXPECT_GT(fast, 0u);
}

TEST(ConsistentBatching, Deterministic) {
  auto run = [] {
    ConsistentCluster c(storm(120, Duration::seconds(2), 9));
    c.run_for(Duration::seconds(8));
    return c.sim().delivery_hash();
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace grapevine::sim
