// Zones and topology-aware gossip on the full Node (membership-backed multicast): K zones, each
// a subnet behind a router; every member learns every other's zone through membership, and with
// topology_aware the multicast crosses zones with probability 1/n_i, so cross-zone multicast
// traffic per round falls from ~N*b*(K-1)/K to ~K while every member still delivers. Fixed
// seeds.
#include <gtest/gtest.h>

#include "sim/cluster_experiment.h"
#include "sim/node_cluster.h"

namespace grapevine::sim {
namespace {

ClusterExperiment zoned(bool topology_aware) {
  ClusterExperiment e;
  e.config.membership = MembershipConfig::lan();
  e.config.multicast.period = Duration::milliseconds(200);
  e.config.multicast.topology_aware = topology_aware;
  e.nodes = 64;
  e.zones = 4;
  e.duration = Duration::seconds(40);
  e.multicasts = 4;
  e.seed = 3;
  return e;
}

TEST(Zones, EveryMemberLearnsEveryZone) {
  NodeClusterOptions o;
  o.nodes = 24;
  o.zones = 3;
  o.config.membership = MembershipConfig::lan();
  o.seed = 5;
  NodeCluster c(o);
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  for (NodeIndex i : {0u, 7u, 23u}) {
    std::uint32_t seen = 0;
    for (const MemberInfo& m : c.node(i).membership().members()) {
      const NodeIndex s = c.index_of(m.id);
      ASSERT_LT(s, 24u);
      EXPECT_EQ(m.zone, "z" + std::to_string(c.zone_of(s))) << i << " about " << s;
      ++seen;
    }
    EXPECT_EQ(seen, 24u);
  }
}

TEST(Zones, TopologyAwareCutsCrossZoneTrafficAndStillDelivers) {
  const ClusterExperiment oblivious = zoned(false), aware = zoned(true);
  ASSERT_EQ(check(aware), "");
  const ClusterResult a = run_cluster(oblivious, {});
  const ClusterResult b = run_cluster(aware, {});
  EXPECT_EQ(a.multicasts, 4u);
  EXPECT_EQ(b.multicasts, 4u);
  EXPECT_DOUBLE_EQ(a.multicast_delivered_fraction, 1.0);
  EXPECT_DOUBLE_EQ(b.multicast_delivered_fraction, 1.0);
  ASSERT_GT(a.cross_zone_messages_per_round, 0.0);
  ASSERT_GE(b.cross_zone_messages_per_round, 0.0);
  // Oblivious: about 3/4 of every push crosses; aware: about one per zone per round.
  EXPECT_LT(b.cross_zone_messages_per_round, a.cross_zone_messages_per_round / 5)
      << "oblivious " << a.cross_zone_messages_per_round << " aware "
      << b.cross_zone_messages_per_round;
}

TEST(Zones, WithoutZonesNothingIsMeasured) {
  ClusterExperiment e = zoned(true);
  e.zones = 0;
  e.duration = Duration::seconds(15);
  e.multicasts = 1;
  const ClusterResult r = run_cluster(e, {});
  EXPECT_DOUBLE_EQ(r.cross_zone_messages_per_round, -1.0);
  EXPECT_DOUBLE_EQ(r.multicast_delivered_fraction, 1.0);
}

}  // namespace
}  // namespace grapevine::sim
