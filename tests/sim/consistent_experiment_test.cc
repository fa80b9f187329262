// `grapevine sim cluster --membership consistent`: the cluster experiment on full Nodes in
// consistent mode reports the view-log metrics (sim/view_log.h); eventual mode leaves them out.
#include <gtest/gtest.h>

#include "sim/cluster_experiment.h"

namespace grapevine::sim {
namespace {

ClusterExperiment experiment(MembershipMode mode) {
  ClusterExperiment e;
  e.config.membership.mode = mode;
  e.nodes = 20;
  e.duration = Duration::seconds(40);
  e.faults.push_back(Fault{FaultKind::crash, 2, 0.0, Duration::seconds(20), Duration::seconds(20)});
  e.seed = 3;
  return e;
}

TEST(ConsistentClusterExperiment, CrashRunReportsViewMetrics) {
  const ClusterExperiment e = experiment(MembershipMode::consistent);
  ASSERT_EQ(check(e), "");
  const ClusterResult r = run_cluster(e, {});
  ASSERT_TRUE(r.consistent);
  EXPECT_DOUBLE_EQ(r.view_agreement, 1.0);
  EXPECT_GE(r.configurations, 2u);  // at least the bootstrap and the crash
  EXPECT_GE(r.distinct_membership_sizes, 2u);
  EXPECT_GT(r.bootstrap_seconds, 0.0);
  ASSERT_EQ(r.view_change_samples.size(), 18u);  // one per survivor
  for (double s : r.view_change_samples) EXPECT_GT(s, 0.0);
  const ClusterSummary sum = summarize(e.nodes, {r});
  EXPECT_TRUE(sum.consistent);
  EXPECT_EQ(sum.configurations, r.configurations);
  ASSERT_TRUE(sum.view_change_seconds_p99.has_value());
  EXPECT_GE(*sum.view_change_seconds_p99, *sum.view_change_seconds_p50);
}

TEST(ConsistentClusterExperiment, EventualRunHasNoViewMetrics) {
  const ClusterResult r = run_cluster(experiment(MembershipMode::eventual), {});
  EXPECT_FALSE(r.consistent);
  EXPECT_FALSE(summarize(20, {r}).consistent);
}

}  // namespace
}  // namespace grapevine::sim
