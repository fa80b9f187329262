// Prompt gossip of joins (MembershipConfig::join_gossip_delay). 64 nodes join at 200 per second
// through one seed, LAN timings, 1-5 ms links, fixed seeds: with the prompt round every node
// lists every other well before the same run without it (memberlist's behaviour, where the news
// of the last joiners waits for a 200 ms gossip tick at each hop), the join costs at most a
// bounded share more bytes (more, emptier datagrams), and once the group is at rest no prompt
// round runs and idle traffic is unchanged.
#include <gtest/gtest.h>

#include <cstdio>

#include "sim/node_cluster.h"
#include "tests/sim/node_cluster_util.h"

namespace grapevine::sim {
namespace {

struct JoinRun {
  double converged_s = -1;      // from the first join until every node lists all 64 alive
  double join_bytes_per_node = 0;  // sent until then
  double idle_bytes_per_node_second = 0;  // a 30 s window at rest, 10 s after convergence
  std::uint64_t idle_prompt_rounds = 0;   // prompt rounds in that window (all nodes)
  std::uint64_t false_failures = 0;
};

std::uint64_t prompt_rounds(NodeCluster& c) {
  std::uint64_t n = 0;
  for (std::uint32_t i = 0; i < c.size(); ++i) {
    n += c.node(i).membership().stats().join_gossip_rounds;
  }
  return n;
}

JoinRun join_64(Duration prompt_delay, Dialect dialect, std::uint64_t seed) {
  NodeClusterOptions o = test::lan_cluster(dialect, 64, seed);
  o.join_rate = 200;
  o.record_events = false;
  o.config.membership.join_gossip_delay = prompt_delay;
  NodeCluster c(o);
  JoinRun r;
  const auto took = test::run_until_done(
      c, [&] { return c.converged(); }, Duration::seconds(20), Duration::milliseconds(5));
  if (!took) return r;
  r.converged_s = took->to_seconds();  // the first join is at time 0
  r.join_bytes_per_node = double(c.bytes_sent()) / 64.0;
  c.run_for(Duration::seconds(10));
  const std::uint64_t bytes0 = c.bytes_sent(), rounds0 = prompt_rounds(c);
  c.run_for(Duration::seconds(30));
  r.idle_bytes_per_node_second = double(c.bytes_sent() - bytes0) / 64.0 / 30.0;
  r.idle_prompt_rounds = prompt_rounds(c) - rounds0;
  r.false_failures = c.false_failures();
  return r;
}

class NodeJoinGossip : public ::testing::TestWithParam<Dialect> {};

TEST_P(NodeJoinGossip, SixtyFourJoinersConvergeSoonerAtTheSameCost) {
  for (std::uint64_t seed : {3, 11}) {
    const JoinRun on = join_64(MembershipConfig{}.join_gossip_delay, GetParam(), seed);
    const JoinRun off = join_64(Duration::zero(), GetParam(), seed);
    std::printf("seed %llu: prompt gossip %.3f s (%.0f B/node to join, %.1f B/node/s idle), "
                "off %.3f s (%.0f B/node, %.1f B/node/s)\n",
                static_cast<unsigned long long>(seed), on.converged_s, on.join_bytes_per_node,
                on.idle_bytes_per_node_second, off.converged_s, off.join_bytes_per_node,
                off.idle_bytes_per_node_second);
    ASSERT_GT(on.converged_s, 0.0);
    ASSERT_GT(off.converged_s, 0.0);
    // The last join starts at 63 / 200 = 0.315 s.
    EXPECT_LT(on.converged_s, 0.45);
    EXPECT_LT(on.converged_s, 0.6 * off.converged_s);
    // The same updates, each sent as often, in more datagrams: more headers. The memberlist
    // dialect's are larger (its datagrams carry ~20 updates against the native ~45).
    EXPECT_LT(on.join_bytes_per_node,
              (GetParam() == Dialect::native ? 1.15 : 1.6) * off.join_bytes_per_node);
    // At rest: no prompt round, and the same idle traffic.
    EXPECT_EQ(on.idle_prompt_rounds, 0u);
    EXPECT_LT(on.idle_bytes_per_node_second, 1.05 * off.idle_bytes_per_node_second);
    EXPECT_GT(on.idle_bytes_per_node_second, 0.95 * off.idle_bytes_per_node_second);
    EXPECT_EQ(on.false_failures, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Dialects, NodeJoinGossip,
                         ::testing::Values(Dialect::native, Dialect::memberlist),
                         [](const auto& info) {
                           return info.param == Dialect::native ? "native" : "memberlist";
                         });

}  // namespace
}  // namespace grapevine::sim
