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

namespace grapevine::sim {
namespace {

TEST(ConsistentViewLog, DetectsDisagreementAndComputesMetrics) {
  ViewLog log;
  std::vector<Address> four(4, Address::ipv4(10, 0, 0, 1, 1));
  auto install = [&](double t, NodeIndex n, std::uint64_t epoch, std::uint64_t id, std::size_t size) {
    Event e;
    e.kind = EventKind::view_changed;
    e.configuration_epoch = epoch;
    e.configuration_id = id;
    e.members = std::span(four.data(), size);
    log.record(Time::zero() + Duration::milliseconds(std::int64_t(t * 1000)), n, e);
  };
  install(1, 0, 1, 0xa, 2);
  install(2, 1, 1, 0xa, 2);
  install(3, 0, 2, 0xb, 4);
  install(4, 1, 2, 0xb, 4);
  install(5, 2, 2, 0xb, 4);
  install(6, 3, 2, 0xb, 4);
  EXPECT_EQ(log.view_agreement(4), 1.0);
  EXPECT_EQ(log.agreement_error(), "");
  EXPECT_EQ(log.configurations(), 2u);
  EXPECT_EQ(log.distinct_sizes().size(), 2u);
  EXPECT_DOUBLE_EQ(*log.bootstrap_seconds(4), 6.0);
  EXPECT_EQ(log.install_delays(Time::zero() + Duration::milliseconds(2500),
                               std::vector<NodeIndex>{0, 1}),
            (std::vector<double>{0.5, 1.5}));
  install(7, 2, 3, 0xc, 3);
  install(8, 3, 3, 0xd, 3);  // a different configuration at the same epoch
  EXPECT_EQ(log.view_agreement(4), 0.75);
  EXPECT_NE(log.agreement_error(), "");
  EXPECT_DOUBLE_EQ(quantile({3, 1, 2}, 0.5), 2.0);
}

}  // namespace
}  // namespace grapevine::sim
