// GossipPopulation (flat per-node state) must run exactly the runs that one GossipMulticast per
// node runs: the same delivery hash, curve, and counters, for every gossip variant and fault the
// multicast experiment offers.
#include <gtest/gtest.h>

#include <vector>

#include "core/multicast/gossip_population.h"
#include "sim/multicast_experiment.h"
#include "sim/sim_group.h"

namespace grapevine::sim {
namespace {

MulticastExperiment base(MulticastProtocolKind protocol, std::uint32_t nodes) {
  MulticastExperiment e;
  e.config.protocol = protocol;
  e.config.fanout = 2;
  e.nodes = nodes;
  e.runs = 2;
  e.threads = 1;
  e.seed = 7;
  return e;
}

void expect_same_runs(MulticastExperiment e) {
  e.flat_gossip = false;
  const MulticastSummary classic = run_multicast(e, {});
  e.flat_gossip = true;
  const MulticastSummary flat = run_multicast(e, {});
  ASSERT_EQ(classic.runs.size(), flat.runs.size());
  EXPECT_EQ(classic.delivery_hash, flat.delivery_hash);
  for (std::size_t r = 0; r < flat.runs.size(); ++r) {
    const MulticastRun& a = classic.runs[r];
    const MulticastRun& b = flat.runs[r];
    EXPECT_EQ(a.delivery_hash, b.delivery_hash) << r;
    EXPECT_EQ(a.curve, b.curve) << r;
    EXPECT_EQ(a.delivered, b.delivered) << r;
    EXPECT_EQ(a.rounds_run, b.rounds_run) << r;
    EXPECT_EQ(a.datagrams, b.datagrams) << r;
    EXPECT_EQ(a.bytes, b.bytes) << r;
    EXPECT_EQ(a.data_frames, b.data_frames) << r;
    EXPECT_EQ(a.data_received, b.data_received) << r;
    EXPECT_EQ(a.origin_datagrams, b.origin_datagrams) << r;
    EXPECT_EQ(a.events, b.events) << r;
  }
}

TEST(GossipPopulation, PushPullSyncAsOneMachinePerNode) {
  expect_same_runs(base(MulticastProtocolKind::pushpull, 2000));
}

TEST(GossipPopulation, PushStopRulesAsOneMachinePerNode) {
  for (StopRule stop : {StopRule::rounds, StopRule::infect_and_die, StopRule::counter,
                        StopRule::coin}) {
    for (bool feedback : {true, false}) {
      MulticastExperiment e = base(MulticastProtocolKind::push, 600);
      e.config.stop = stop;
      e.config.stop_rounds = 4;
      e.config.stop_k = 2;
      e.config.feedback = feedback;
      e.until_quiescent = true;
      SCOPED_TRACE(int(stop) * 2 + int(feedback));
      expect_same_runs(e);
    }
  }
}

TEST(GossipPopulation, PullCountingAndQuietPullAsOneMachinePerNode) {
  for (StopRule stop : {StopRule::none, StopRule::counter, StopRule::coin}) {
    MulticastExperiment e = base(MulticastProtocolKind::pull, 500);
    e.config.stop = stop;
    e.config.stop_k = 3;
    e.max_rounds = 40;
    SCOPED_TRACE(int(stop));
    expect_same_runs(e);
  }
  MulticastExperiment quiet = base(MulticastProtocolKind::pushpull, 500);
  quiet.config.pull_when_idle = false;
  quiet.config.stop = StopRule::rounds;
  quiet.config.stop_rounds = 3;
  quiet.until_quiescent = true;
  expect_same_runs(quiet);
}

TEST(GossipPopulation, FaultsAsyncTopologyAndRetentionAsOneMachinePerNode) {
  MulticastExperiment e = base(MulticastProtocolKind::pushpull, 1500);
  e.loss = 0.05;
  e.crashed_fraction = 0.1;
  e.synchronous = false;
  e.config.period_jitter = 0.1;
  e.config.fanout_poisson_mean = 2.5;
  expect_same_runs(e);

  MulticastExperiment t = base(MulticastProtocolKind::push, 1200);
  t.subnets = 6;
  t.config.topology_aware = true;
  t.origin_crash_after_sends = 1;
  t.config.retention_periods = 5;
  t.uplink_bytes_per_second = 100000;
  expect_same_runs(t);
}

TEST(GossipPopulation, OneMessageAndOneLinePerMember) {
  static_assert(sizeof(detail::GossipMember) == 64);
  MulticastConfig c;
  SimGroup group(4, 1);
  detail::GossipPopulation pop(c, group, 1);
  struct NullEffects final : Effects {
    void send(const Address&, std::span<const std::byte>) override {}
    void emit(const Event& e) override { delivered += e.kind == EventKind::delivered; }
    int delivered = 0;
  } fx;
  std::vector<std::byte> payload(10, std::byte{1});
  auto id = pop.multicast(2, payload, fx);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(fx.delivered, 1);
  EXPECT_TRUE(pop.has(2, *id));
  EXPECT_FALSE(pop.has(1, *id));
  EXPECT_FALSE(pop.quiescent(2));
  EXPECT_TRUE(pop.quiescent(1));
  auto second = pop.multicast(1, payload, fx);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, Errc::invalid_argument);
  EXPECT_EQ(pop.total_stats().delivered, 1u);
  EXPECT_EQ(pop.member0_stats().delivered, 0u);
}

}  // namespace
}  // namespace grapevine::sim
