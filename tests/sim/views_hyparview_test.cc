// HyParView in the simulator: bounded symmetric active views after joins, a connected overlay,
// and views that heal (dead neighbours replaced from the passive view) after mass failures.
#include <gtest/gtest.h>

#include <deque>
#include <string>

#include "sim/hyparview_cluster.h"

namespace grapevine::sim {
namespace {

HyParViewClusterOptions options(std::uint32_t nodes, std::uint64_t seed) {
  HyParViewClusterOptions o;
  o.nodes = nodes;
  o.seed = seed;
  o.config.kind = ViewKind::hyparview;
  o.config.period = Duration::seconds(2);  // shuffle period
  o.join_spacing = Duration::milliseconds(5);
  return o;
}

// Live nodes reachable from a live node over active links.
std::uint32_t reachable(HyParViewCluster& c) {
  std::vector<bool> seen(c.size(), false);
  NodeIndex start = c.random_live();
  std::deque<NodeIndex> todo{start};
  seen[start] = true;
  std::uint32_t n = 0;
  while (!todo.empty()) {
    NodeIndex i = todo.front();
    todo.pop_front();
    ++n;
    for (views::Peer p : c.node(i).active()) {
      auto j = NodeIndex(((p >> 16) & 0xffffffu) - 1);
      if (j < c.size() && !seen[j] && !c.crashed(j)) {
        seen[j] = true;
        todo.push_back(j);
      }
    }
  }
  return n;
}

TEST(HyParView, JoinsGiveSymmetricBoundedConnectedViews) {
  HyParViewCluster c(options(300, 11));
  c.join_all();
  c.run_for(Duration::seconds(12));
  std::string why;
  EXPECT_TRUE(c.views_symmetric(&why)) << why;
  std::uint32_t full = 0;
  for (NodeIndex i = 0; i < c.size(); ++i) {
    auto& n = c.node(i);
    EXPECT_GE(n.active().size(), 1u) << "node " << i;
    EXPECT_LE(n.active().size(), 5u);
    EXPECT_EQ(n.view().size(), n.active().size());
    EXPECT_GT(n.passive_size(), 0u) << "node " << i;
    EXPECT_LE(n.passive_size(), 30u);
    full += n.active().size() >= 4 ? 1 : 0;
  }
  EXPECT_GE(full, c.size() * 9 / 10);  // views fill up, not just stay non-empty
  EXPECT_EQ(reachable(c), c.size());
}

TEST(HyParView, SameSeedSameRun) {
  std::uint64_t hash[2];
  for (int k = 0; k < 2; ++k) {
    HyParViewCluster c(options(100, 5));
    c.join_all();
    c.run_for(Duration::seconds(5));
    hash[k] = c.sim().delivery_hash();
  }
  EXPECT_EQ(hash[0], hash[1]);
}

TEST(HyParView, ViewsHealAfterHalfTheNodesCrash) {
  HyParViewCluster c(options(400, 3));
  c.join_all();
  c.run_for(Duration::seconds(15));
  c.crash_random(0.5);
  c.run_for(Duration::seconds(15));
  std::string why;
  EXPECT_TRUE(c.views_symmetric(&why)) << why;
  std::uint64_t detected = 0;
  for (NodeIndex i = 0; i < c.size(); ++i) {
    if (c.crashed(i)) continue;
    auto& n = c.node(i);
    detected += n.counters().failures_detected;
    for (views::Peer p : n.active()) {
      auto j = NodeIndex(((p >> 16) & 0xffffffu) - 1);
      EXPECT_FALSE(c.crashed(j)) << "node " << i << " still has crashed " << j;
    }
    EXPECT_GE(n.active().size(), 1u) << "node " << i;
  }
  EXPECT_GT(detected, 0u);
  EXPECT_EQ(reachable(c), c.live_count());
}

}  // namespace
}  // namespace grapevine::sim
