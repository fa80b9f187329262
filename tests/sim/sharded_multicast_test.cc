// `grapevine sim multicast` on the sharded simulator (MulticastExperiment::sim_threads): the same
// run on 1, 2 and 3 threads, with loss and jitter, for gossip (the flat population and one
// GossipMulticast per node) and a tree; and the epidemic still behaves as on the
// single-threaded simulator.
#include <gtest/gtest.h>

#include <stdexcept>

#include "sim/multicast_experiment.h"

namespace grapevine::sim {
namespace {

MulticastExperiment lossy(MulticastProtocolKind protocol, bool synchronous) {
  MulticastExperiment e;
  e.config.protocol = protocol;
  e.config.fanout = 2;
  e.nodes = 1500;
  e.subnets = 3;
  e.loss = 0.05;
  e.crashed_fraction = 0.02;
  e.synchronous = synchronous;
  // A 30 ms lookahead: few windows (each costs a barrier; on a loaded machine, a wake-up).
  e.latency_min = Duration::milliseconds(30);
  e.latency_max = Duration::milliseconds(80);
  e.jitter = Duration::milliseconds(20);
  e.until_quiescent = true;
  e.seed = 11;
  e.runs = 1;
  e.threads = 1;
  return e;
}

void expect_same(const MulticastRun& a, const MulticastRun& b) {
  EXPECT_EQ(a.delivery_hash, b.delivery_hash);
  EXPECT_EQ(a.events, b.events);
  EXPECT_EQ(a.live, b.live);
  EXPECT_EQ(a.delivered, b.delivered);
  EXPECT_EQ(a.rounds_run, b.rounds_run);
  EXPECT_EQ(a.curve, b.curve);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(a.rounds_to[i], b.rounds_to[i]);
  EXPECT_EQ(a.seconds_to_all, b.seconds_to_all);
  EXPECT_EQ(a.datagrams, b.datagrams);
  EXPECT_EQ(a.data_frames, b.data_frames);
  EXPECT_EQ(a.bytes, b.bytes);
  EXPECT_EQ(a.origin_datagrams, b.origin_datagrams);
  EXPECT_EQ(a.data_received, b.data_received);
  EXPECT_EQ(a.cross_router, b.cross_router);
  EXPECT_EQ(a.router_max, b.router_max);
}

void same_on_every_thread_count(MulticastExperiment e, bool all_deliver = true) {
  e.sim_threads = 1;
  const MulticastRun one = run_multicast_once(e, 0);
  EXPECT_EQ(one.all_delivered, all_deliver);
  EXPECT_GT(one.events, 3000u);
  for (std::uint32_t k : {2u, 3u}) {
    SCOPED_TRACE(k);
    e.sim_threads = k;
    expect_same(one, run_multicast_once(e, 0));
  }
}

TEST(ShardedMulticast, PushPullAsyncSameOnOneToThreeThreads) {
  MulticastExperiment e = lossy(MulticastProtocolKind::pushpull, false);
  e.nodes = 500;
  same_on_every_thread_count(e);
}

TEST(ShardedMulticast, PushSyncSameOnOneToThreeThreads) {
  same_on_every_thread_count(lossy(MulticastProtocolKind::push, true));
}

TEST(ShardedMulticast, TreeAckSameOnOneToThreeThreads) {
  // 2% of the nodes crashed: the subtrees below them miss the message (as on Simulator).
  same_on_every_thread_count(lossy(MulticastProtocolKind::tree_ack, false), false);
}

// The flat GossipPopulation, striped per shard, gives the same run as one GossipMulticast per
// node, on every thread count.
TEST(ShardedMulticast, FlatPopulationSameAsPerNodeMachines) {
  MulticastExperiment e = lossy(MulticastProtocolKind::pushpull, false);
  e.nodes = 500;
  e.flat_gossip = false;
  e.sim_threads = 2;
  const MulticastRun per_node = run_multicast_once(e, 0);
  e.flat_gossip = true;
  for (std::uint32_t k : {1u, 2u, 3u}) {
    SCOPED_TRACE(k);
    e.sim_threads = k;
    expect_same(per_node, run_multicast_once(e, 0));
  }
}

// Other random draws than the single-threaded simulator, the same epidemic: in synchronous
// rounds, push-pull over 1500 nodes completes in the same few rounds either way.
TEST(ShardedMulticast, RoundsMatchTheSingleThreadedSimulator) {
  MulticastExperiment e = lossy(MulticastProtocolKind::pushpull, true);
  e.until_quiescent = false;
  e.runs = 4;
  const MulticastSummary plain = run_multicast(e, {});
  e.sim_threads = 2;
  const MulticastSummary sharded = run_multicast(e, {});
  EXPECT_EQ(plain.runs_all_delivered, 4u);
  EXPECT_EQ(sharded.runs_all_delivered, 4u);
  EXPECT_NEAR(sharded.rounds_mean, plain.rounds_mean, 1.5);
  EXPECT_NEAR(sharded.messages_per_node_mean, plain.messages_per_node_mean,
              0.25 * plain.messages_per_node_mean);
}

TEST(ShardedMulticast, RefusesWhatItDoesNotModel) {
  MulticastExperiment e = lossy(MulticastProtocolKind::push, true);
  e.sim_threads = 2;
  EXPECT_TRUE(check_sharded(e).empty());
  e.origin_crash_after_sends = 3;
  EXPECT_FALSE(check_sharded(e).empty());
  EXPECT_THROW(run_multicast(e, {}), std::invalid_argument);
  e.origin_crash_after_sends = 0;
  e.uplink_bytes_per_second = 1000000;
  EXPECT_FALSE(check_sharded(e).empty());
}

}  // namespace
}  // namespace grapevine::sim
