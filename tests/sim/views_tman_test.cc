// T-MAN's defining property (literature P3): ranking-driven gossip builds the sorted ring in a
// number of cycles that grows with log N (linearly in log N), from random initial views.
#include <gtest/gtest.h>

#include "sim/views_experiment.h"

namespace grapevine::sim {
namespace {

ViewsExperiment tman(std::uint32_t nodes, std::uint64_t seed) {
  ViewsExperiment e;
  e.config.kind = ViewKind::tman;
  e.nodes = nodes;
  e.cycles = 40;
  e.seed = seed;
  e.multicasts = 1;
  e.after_cycles = 3;
  // Everyone joins within the first period, so cycles count from a random start.
  e.join_spacing = Duration::microseconds(50);
  e.path_samples = 10;
  e.clustering_samples = 100;
  return e;
}

TEST(ViewsTman, RingConvergesInLogarithmicCycles) {
  const ViewsRun small = run_views_once(tman(250, 1), 0);
  const ViewsRun large = run_views_once(tman(2000, 1), 0);
  ASSERT_GE(small.ring_converged_cycle, 1);
  ASSERT_GE(large.ring_converged_cycle, 1);
  // 8x the nodes (3 doublings) costs a few cycles, not 8x the cycles.
  EXPECT_LE(large.ring_converged_cycle, small.ring_converged_cycle + 9);
  EXPECT_LE(large.ring_converged_cycle, 25);
  // The ring stays: every later cycle keeps it complete.
  EXPECT_EQ(large.ring_curve.back(), 1.0);
  for (double f : large.delivered_before) EXPECT_EQ(f, 1.0);
}

}  // namespace
}  // namespace grapevine::sim
