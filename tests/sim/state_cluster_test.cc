// The replicated node state (scuttlebutt) in full Nodes in the simulator: spread, cold start,
// restarts, large state to a joiner, loss, silence, tombstones, TTL, departed members.
#include <gtest/gtest.h>

#include <cstdio>

#include "core/state/scuttlebutt.h"
#include "sim/state_cluster.h"

namespace grapevine::sim {
namespace {

StateClusterOptions opts(std::uint32_t n, std::uint64_t seed = 7) {
  StateClusterOptions o;
  o.nodes = n;
  o.seed = seed;
  return o;
}

TEST(StateCluster, SetIsSeenByEveryLiveNodeAndWatched) {
  StateCluster c(opts(20));
  std::vector<std::string> seen;
  c.sim().set_observer([&](Time, NodeIndex i, const Event& e) {
    if (e.kind == EventKind::state_changed && i == 5) {
      seen.push_back(std::string(e.key) + "=" +
                     std::string(reinterpret_cast<const char*>(e.payload.data()),
                                 e.payload.size()) + "/" + state_op_name(e.state_op));
    }
  });
  c.watch(5, "svc/");
  c.run_for(Duration::seconds(1));
  ASSERT_TRUE(c.set(3, "svc/web", "up"));
  ASSERT_TRUE(c.set(3, "other", "x"));
  c.run_for(Duration::seconds(3));
  EXPECT_TRUE(c.all_hold(3, "svc/web", "up"));
  EXPECT_TRUE(c.all_hold(3, "other", "x"));
  ASSERT_TRUE(c.set(3, "svc/web", "down"));
  c.run_for(Duration::seconds(3));
  EXPECT_TRUE(c.all_hold(3, "svc/web", "down"));
  ASSERT_TRUE(c.erase(3, "svc/web"));
  c.run_for(Duration::seconds(3));
  EXPECT_TRUE(c.all_hold(3, "svc/web", std::nullopt));
  EXPECT_EQ(seen, (std::vector<std::string>{"svc/web=up/set", "svc/web=down/update",
                                            "svc/web=/delete"}));
  // The other components skip the state frames without counting them as unknown.
  for (NodeIndex i = 0; i < 20; ++i) {
    EXPECT_EQ(c.node(i).membership().stats().unknown_frames, 0u);
    EXPECT_EQ(c.node(i).membership().stats().malformed_received, 0u);
    EXPECT_EQ(c.node(i).multicast_protocol().stats().unknown_frames, 0u);
    EXPECT_EQ(c.node(i).state_stats().malformed, 0u);
  }
}

TEST(StateCluster, ColdStart200NodesWith20KeysEachConverges) {
  StateCluster c(opts(200));
  for (NodeIndex i = 0; i < 200; ++i) {
    for (int k = 0; k < 20; ++k) {
      ASSERT_TRUE(c.set(i, "key/" + std::to_string(k), "value-" + std::to_string(i * 100 + k)));
    }
  }
  auto t = c.run_until_all_hold(200 * 20, Duration::seconds(30));
  ASSERT_TRUE(t.has_value());
  EXPECT_LT(t->to_seconds(), 10.0);
  EXPECT_TRUE(c.all_hold(77, "key/13", "value-7713"));
  std::printf("cold start 200x20: %.2f s, %llu bytes\n", t->to_seconds(),
              (unsigned long long)c.state_bytes());
}

TEST(StateCluster, RestartedNodesOldStateIsNotResurrected) {
  StateCluster c(opts(12));
  ASSERT_TRUE(c.set(4, "old/a", "1"));
  ASSERT_TRUE(c.set(4, "old/b", "2"));
  c.run_for(Duration::seconds(3));
  ASSERT_TRUE(c.all_hold(4, "old/a", "1"));
  c.crash(4);
  c.run_for(Duration::seconds(2));
  c.restart(4);
  ASSERT_TRUE(c.set(4, "new/c", "3"));
  c.run_for(Duration::seconds(10));
  EXPECT_TRUE(c.all_hold(4, "new/c", "3"));
  EXPECT_TRUE(c.all_hold(4, "old/a", std::nullopt));
  EXPECT_TRUE(c.all_hold(4, "old/b", std::nullopt));
  EXPECT_GT(c.node(0).state_stats().generations_replaced, 0u);
}

TEST(StateCluster, TenMegabytesReachAJoinerCompletely) {
  StateClusterOptions o = opts(10);
  o.config.state.node_bytes_max = 2u << 20;
  StateCluster c(o);
  const std::string value(1000, 'v');
  for (NodeIndex i = 0; i < 10; ++i) {
    for (int k = 0; k < 1000; ++k) ASSERT_TRUE(c.set(i, "blob/" + std::to_string(k), value));
  }
  ASSERT_TRUE(c.run_until_all_hold(10 * 1000, Duration::seconds(60)).has_value());
  const NodeIndex j = c.add_joiner();
  auto t = c.run_until_all_hold(10 * 1000, Duration::seconds(60));
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(c.keys_held(j), 10'000u);
  EXPECT_GT(c.node(j).state_stats().keys_applied, 9'999u);
  EXPECT_LT(t->to_seconds(), 10.0);
  std::printf("joiner 10 MB: %.2f s, %llu streams\n", t->to_seconds(),
              (unsigned long long)c.sim().counters().streams);
}

TEST(StateCluster, ConvergesUnderFivePercentLoss) {
  StateClusterOptions o = opts(50);
  LinkProfile lossy;
  lossy.loss = 0.05;
  o.network = NetworkConfig::uniform(lossy);
  StateCluster c(o);
  for (NodeIndex i = 0; i < 50; ++i) {
    for (int k = 0; k < 5; ++k) ASSERT_TRUE(c.set(i, "k" + std::to_string(k), "v"));
  }
  auto t = c.run_until_all_hold(250, Duration::seconds(30));
  ASSERT_TRUE(t.has_value());
  EXPECT_LT(t->to_seconds(), 10.0);
}

// Idle bytes per node per second of the state component once converged.
double idle_rate(std::uint32_t n) {
  StateCluster c(opts(n));
  for (NodeIndex i = 0; i < n; ++i) EXPECT_TRUE(c.set(i, "k", "v"));
  EXPECT_TRUE(c.run_until_all_hold(n, Duration::seconds(30)).has_value());
  c.run_for(Duration::seconds(2));
  const std::uint64_t before = c.state_bytes();
  c.run_for(Duration::seconds(20));
  return double(c.state_bytes() - before) / n / 20.0;
}

TEST(StateCluster, SilenceIsSmallAndFlatInN) {
  const double small = idle_rate(20), large = idle_rate(160);
  std::printf("idle bytes/node/s: %.1f at 20, %.1f at 160\n", small, large);
  EXPECT_LT(small, 200.0);
  EXPECT_LT(large, 200.0);
  EXPECT_LT(large, small * 1.5);
  // No keys anywhere: nothing at all.
  StateCluster c(opts(20));
  c.run_for(Duration::seconds(10));
  EXPECT_EQ(c.state_bytes(), 0u);
}

TEST(StateCluster, TombstonesAreCollectedAfterTheGracePeriod) {
  StateClusterOptions o = opts(10);
  o.config.state.tombstone_grace = Duration::seconds(5);
  StateCluster c(o);
  ASSERT_TRUE(c.set(2, "a", "1"));
  ASSERT_TRUE(c.set(2, "b", "2"));
  c.run_for(Duration::seconds(3));
  ASSERT_TRUE(c.erase(2, "a"));
  c.run_for(Duration::seconds(3));
  EXPECT_TRUE(c.all_hold(2, "a", std::nullopt));
  c.run_for(Duration::seconds(8));
  for (NodeIndex i = 0; i < 10; ++i) {
    const auto* rec = c.node(i).state()->store().find(node_id_of(sim_address(2)));
    ASSERT_NE(rec, nullptr);
    EXPECT_EQ(rec->tombstones, 0u) << i;
    EXPECT_EQ(rec->keys.size(), 1u) << i;
  }
  EXPECT_TRUE(c.all_hold(2, "b", "2"));
}

TEST(StateCluster, MissedCollectedDeleteArrivesByReset) {
  StateClusterOptions o = opts(6);
  o.config.state.tombstone_grace = Duration::seconds(2);
  StateCluster c(o);
  ASSERT_TRUE(c.set(1, "a", "1"));
  ASSERT_TRUE(c.set(1, "b", "2"));
  c.run_for(Duration::seconds(3));
  c.sim().pause(5, Duration::seconds(8));  // node 5 misses the delete and its collection
  c.run_for(Duration::milliseconds(100));
  ASSERT_TRUE(c.erase(1, "a"));
  ASSERT_TRUE(c.set(1, "c", "3"));
  c.run_for(Duration::seconds(15));
  EXPECT_TRUE(c.all_hold(1, "a", std::nullopt));
  EXPECT_TRUE(c.all_hold(1, "c", "3"));
  EXPECT_GT(c.node(5).state_stats().resets, 0u);
}

TEST(StateCluster, TtlKeysExpireAtTheirOwner) {
  StateCluster c(opts(8));
  ASSERT_TRUE(c.set(3, "lease", "mine", Duration::seconds(4)));
  c.run_for(Duration::seconds(2));
  EXPECT_TRUE(c.all_hold(3, "lease", "mine"));
  c.run_for(Duration::seconds(5));
  EXPECT_TRUE(c.all_hold(3, "lease", std::nullopt));
  EXPECT_EQ(c.node(3).state_stats().ttl_expired, 1u);
}

TEST(StateCluster, DepartedMembersStateIsDropped) {
  StateClusterOptions o = opts(10);
  o.config.state.departed_grace = Duration::seconds(5);
  StateCluster c(o);
  ASSERT_TRUE(c.set(6, "x", "1"));
  ASSERT_TRUE(c.set(1, "y", "1"));
  c.run_for(Duration::seconds(3));
  c.crash(6);
  c.run_for(Duration::seconds(60));
  for (NodeIndex i = 0; i < 10; ++i) {
    if (i == 6) continue;
    EXPECT_EQ(c.node(i).state()->store().find(node_id_of(sim_address(6))), nullptr) << i;
    EXPECT_EQ(c.nodes_held(i), i == 1 ? 1u : 2u) << i;  // itself and node 1
  }
}

TEST(StateCluster, MemberlistDialectRefusesSet) {
  StateClusterOptions o = opts(2);
  o.config.membership.dialect = Dialect::memberlist;
  o.config.membership.name = "n";
  StateCluster c(o);
  auto r = c.set(0, "k", "v");
  ASSERT_FALSE(r);
  EXPECT_NE(std::string(r.error().detail).find("native"), std::string::npos);
}

TEST(StateCluster, LimitsAreRefusedAtSet) {
  StateClusterOptions o = opts(2);
  o.config.state.keys_per_node_max = 2;
  StateCluster c(o);
  EXPECT_EQ(c.set(0, std::string(300, 'k'), "v").error().code, Errc::too_large);
  EXPECT_EQ(c.set(0, "k", std::string(70000, 'v')).error().code, Errc::too_large);
  EXPECT_TRUE(c.set(0, "a", "1"));
  EXPECT_TRUE(c.set(0, "b", "1"));
  EXPECT_EQ(c.set(0, "c", "1").error().code, Errc::too_large);
  EXPECT_EQ(c.set(0, "", "1").error().code, Errc::invalid_argument);
  EXPECT_EQ(c.erase(0, "zz").error().code, Errc::rejected);
}

TEST(StateCluster, SameSeedSameRun) {
  auto run = [] {
    StateCluster c(opts(30, 11));
    for (NodeIndex i = 0; i < 30; ++i) (void)c.set(i, "k", std::to_string(i));
    c.run_for(Duration::seconds(5));
    return c.sim().delivery_hash();
  };
  EXPECT_EQ(run(), run());
}

}  // namespace
}  // namespace grapevine::sim
