// NodeCluster: the full grapevine Node (membership + multicast) in the simulator, in both
// dialects. A group joins and converges; a crash is detected by all; a leave is seen as left; a
// partition heals and merges; a multicast reaches every live node; a restarted node (same name,
// fresh state) comes back alive. Also the fault-spec parser and a small cluster experiment
// (determinism). Seeds are fixed: a failure is a regression and its seed the reproduction.
#include <gtest/gtest.h>

#include <string>

#include "sim/cluster_experiment.h"
#include "sim/node_cluster.h"
#include "tests/sim/node_cluster_util.h"

namespace grapevine::sim {
namespace {

NodeClusterOptions options(Dialect d, std::uint32_t nodes, std::uint64_t seed = 7) {
  return test::lan_cluster(d, nodes, seed);
}

using test::bytes;

class NodeClusterDialects : public ::testing::TestWithParam<Dialect> {};

TEST_P(NodeClusterDialects, JoinConvergesAndNamesAreNodeI) {
  NodeCluster c(options(GetParam(), 32));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  EXPECT_EQ(c.false_failures(), 0u);
  bool named = false;
  for (const MemberInfo& m : c.node(0).membership().members()) {
    if (c.index_of(m.id) == 5) named = m.name == "node-5";
  }
  EXPECT_TRUE(named);
  EXPECT_FALSE(c.events().empty());
}

TEST_P(NodeClusterDialects, CrashIsDetectedByAll) {
  NodeCluster c(options(GetParam(), 32));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  c.crash(7);
  EXPECT_TRUE(c.wait_all_see(7, MemberState::failed, Duration::seconds(40)));
  EXPECT_TRUE(c.wait_converged(Duration::seconds(5)));
  EXPECT_EQ(c.false_failures(), 0u);
}

TEST_P(NodeClusterDialects, LeaveIsSeenAsLeft) {
  NodeCluster c(options(GetParam(), 32));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  c.leave(9);
  EXPECT_TRUE(c.wait_all_see(9, MemberState::left, Duration::seconds(15)));
  EXPECT_EQ(c.false_failures(), 0u);
}

TEST_P(NodeClusterDialects, MulticastReachesEveryLiveNode) {
  NodeCluster c(options(GetParam(), 32));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  c.crash(3);
  auto id = c.multicast(12, bytes("hello"));
  ASSERT_TRUE(id);
  EXPECT_TRUE(c.wait_all_delivered(*id, Duration::seconds(10)));
  EXPECT_EQ(c.delivered_count(*id), 31u);
  const auto& m = c.multicasts().at(*id);
  EXPECT_EQ(m.origin, 12u);
}

TEST_P(NodeClusterDialects, PartitionHealsAndMerges) {
  NodeCluster c(options(GetParam(), 24));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  c.partition({{0, 1, 2, 3, 4, 5, 6, 7}});
  c.run_for(Duration::seconds(40));
  EXPECT_GT(c.partition_failures(), 0u);  // each side gave the other up
  EXPECT_FALSE(c.converged());
  c.heal();
  EXPECT_TRUE(c.wait_converged(Duration::seconds(90)));
}

TEST_P(NodeClusterDialects, RestartWithTheSameNameComesBackAlive) {
  NodeCluster c(options(GetParam(), 24));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  c.crash(5);
  ASSERT_TRUE(c.wait_all_see(5, MemberState::failed, Duration::seconds(40)));
  c.restart(5);
  EXPECT_TRUE(c.wait_all_see(5, MemberState::alive, Duration::seconds(40)));
  EXPECT_TRUE(c.wait_converged(Duration::seconds(30)));
  EXPECT_EQ(c.false_failures(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Both, NodeClusterDialects,
                         ::testing::Values(Dialect::native, Dialect::memberlist),
                         [](const auto& info) { return std::string(dialect_name(info.param)); });

TEST(NodeCluster, PreloadedStartsConverged) {
  auto o = options(Dialect::native, 64);
  o.bootstrap = Bootstrap::preloaded;
  NodeCluster c(o);
  EXPECT_TRUE(c.converged());
  c.run_for(Duration::seconds(10));
  EXPECT_TRUE(c.converged());
  EXPECT_EQ(c.false_failures(), 0u);
}

TEST(NodeCluster, LossOnEveryLinkStillDelivers) {
  NodeCluster c(options(Dialect::native, 32));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  c.set_loss(0.1);
  auto id = c.multicast(0, bytes("through loss"));
  ASSERT_TRUE(id);
  EXPECT_TRUE(c.wait_all_delivered(*id, Duration::seconds(20)));
}

TEST(FaultSpec, ParsesEveryKind) {
  Fault f;
  ASSERT_EQ(parse_fault("crash:10@60s", f), "");
  EXPECT_EQ(f.kind, FaultKind::crash);
  EXPECT_EQ(f.count, 10u);
  EXPECT_EQ(f.at, Duration::seconds(60));
  ASSERT_EQ(parse_fault("partition:0.3@150s-210s", f), "");
  EXPECT_EQ(f.kind, FaultKind::partition);
  EXPECT_DOUBLE_EQ(f.fraction, 0.3);
  EXPECT_EQ(f.until, Duration::seconds(210));
  ASSERT_EQ(parse_fault("lossy:3:0.5@1m-90s", f), "");
  EXPECT_EQ(f.count, 3u);
  EXPECT_EQ(f.at, Duration::seconds(60));
  ASSERT_EQ(parse_fault("loss:0.05@500ms-2", f), "");
  EXPECT_EQ(f.at, Duration::milliseconds(500));
  ASSERT_EQ(parse_fault("restart:2@90", f), "");
  ASSERT_EQ(parse_fault("slow:1@10s", f), "");
  ASSERT_EQ(parse_fault("leave:5@90s", f), "");
  for (const char* bad : {"crash", "crash:10", "crash:x@1s", "crash:0@1s", "boom:1@1s",
                          "partition:1.5@1s-2s", "partition:0.3@5s", "partition:0.3@5s-2s",
                          "loss:0.1@1s-x", "lossy:3@1s-2s", "crash:1@-1s"}) {
    EXPECT_NE(parse_fault(bad, f), "") << bad;
  }
}

TEST(ClusterExperiment, SameSeedSameRunAndTheMetricsAddUp) {
  ClusterExperiment e;
  e.config.membership = MembershipConfig::lan();
  e.config.multicast.period = Duration::milliseconds(200);
  e.nodes = 32;
  e.duration = Duration::seconds(100);
  e.multicasts = 3;
  Fault f;
  for (const char* spec : {"crash:2@20s", "leave:1@30s", "restart:1@60s"}) {
    ASSERT_EQ(parse_fault(spec, f), "");
    e.faults.push_back(f);
  }
  ASSERT_EQ(check(e), "");
  const ClusterResult a = run_cluster(e, {});
  const ClusterResult b = run_cluster(e, {});
  EXPECT_EQ(a.delivery_hash, b.delivery_hash);
  EXPECT_GE(a.join_convergence_seconds, 0.0);
  EXPECT_EQ(a.crashed, 2u);
  EXPECT_EQ(a.restarted, 1u);
  EXPECT_DOUBLE_EQ(a.completeness, 1.0);
  EXPECT_DOUBLE_EQ(a.leaves_seen_as_left, 1.0);
  EXPECT_EQ(a.false_failures, 0u);
  EXPECT_EQ(a.multicasts, 3u);
  EXPECT_DOUBLE_EQ(a.multicast_delivered_fraction, 1.0);
  EXPECT_TRUE(a.final_converged);
  EXPECT_GT(a.steady_bytes_per_node_per_second, 0.0);
  e.seed = 2;
  EXPECT_NE(run_cluster(e, {}).delivery_hash, a.delivery_hash);
}

}  // namespace
}  // namespace grapevine::sim
