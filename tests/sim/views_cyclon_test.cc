// Cyclon's defining properties (literature P2): in-degrees concentrate at the view size c with a
// spread far narrower than a random graph's (binomial, sqrt(c)); clustering near random-graph
// level; links to crashed nodes leave within a few tens of cycles (one per node per shuffle).
#include <gtest/gtest.h>

#include <cmath>

#include "sim/views_experiment.h"

namespace grapevine::sim {
namespace {

ViewsExperiment cyclon(std::uint32_t nodes, double fail, std::uint64_t seed) {
  ViewsExperiment e;
  e.config.kind = ViewKind::cyclon;
  e.config.cyclon_view_size = 20;
  e.config.cyclon_shuffle_length = 5;
  e.nodes = nodes;
  e.cycles = 30;
  e.fail_fraction = fail;
  e.seed = seed;
  e.multicasts = 2;
  e.after_cycles = 40;
  e.path_samples = 20;
  e.clustering_samples = 300;
  return e;
}

TEST(ViewsCyclon, InDegreeIsNarrowAndTheGraphLooksRandom) {
  const ViewsRun r = run_views_once(cyclon(1000, 0.0, 1), 0);
  EXPECT_NEAR(r.view_size_mean, 20.0, 0.1);
  EXPECT_NEAR(r.in_degree_mean, 20.0, 0.1);
  const double random_sd = std::sqrt(20.0 * (1 - 20.0 / 999));
  EXPECT_LT(r.in_degree_stddev, 0.6 * random_sd);
  EXPECT_LT(r.clustering, 2.0 * 40.0 / 999);  // random-graph level: ~2c/N
  EXPECT_GT(r.reachable_fraction, 0.999);
  EXPECT_LT(r.path_length_mean, 3.5);
  for (double f : r.delivered_before) EXPECT_EQ(f, 1.0);
}

TEST(ViewsCyclon, DeadLinksAgeOutAfterMassiveFailure) {
  const ViewsRun r = run_views_once(cyclon(1000, 0.3, 2), 0);
  ASSERT_GT(r.dead_links_at_failure, 2000u);  // ~30% of 20 000 links
  // Every shuffle drops the oldest entry, and dead entries never come back fresh: gone within
  // about 1.5 c cycles; half of them within c.
  EXPECT_LT(r.dead_links_curve[19], r.dead_links_at_failure / 2);
  EXPECT_EQ(r.dead_links_curve[39], 0u);
  for (double f : r.delivered_after) EXPECT_GE(f, 0.999);
}

TEST(ViewsCyclon, SameSeedSameRunDifferentSeedDifferentRun) {
  ViewsExperiment e = cyclon(300, 0.2, 5);
  e.cycles = 10;
  e.after_cycles = 5;
  const ViewsRun a = run_views_once(e, 0);
  const ViewsRun b = run_views_once(e, 0);
  EXPECT_EQ(a.delivery_hash, b.delivery_hash);
  EXPECT_EQ(a.in_degree_histogram, b.in_degree_histogram);
  EXPECT_EQ(a.dead_links_curve, b.dead_links_curve);
  const ViewsRun c = run_views_once(e, 1);
  EXPECT_NE(a.delivery_hash, c.delivery_hash);
}

}  // namespace
}  // namespace grapevine::sim
