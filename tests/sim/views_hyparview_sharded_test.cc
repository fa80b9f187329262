// HyParView + Plumtree on the sharded simulator (ShardedHyParViewCluster, issue 12 item 3): the
// same run on 1, 2 and 3 threads (deliveries, hops, events, datagrams, delivery hash), joins
// through ShardedSimulator::at_node, broadcasts reaching every node before and after a crash of
// 30% of the nodes; and at_node's own contract (keyed like the node's timer, skipped once the
// node has crashed).
#include <gtest/gtest.h>

#include <vector>

#include "sim/hyparview_cluster.h"

namespace grapevine::sim {
namespace {

struct Outcome {
  std::vector<std::uint32_t> deliveries, hops;
  std::vector<NodeIndex> missed;
  std::uint64_t events = 0, sent = 0, hash = 0, duplicates = 0, payloads = 0;
  std::uint32_t live = 0;
};

Outcome run(unsigned threads) {
  HyParViewClusterOptions o;
  o.nodes = 1200;
  o.seed = 7;
  o.config.kind = ViewKind::hyparview;
  o.config.period = Duration::seconds(2);
  o.join_spacing = Duration::milliseconds(2);
  o.sim_threads = threads;
  ShardedHyParViewCluster c(o);
  EXPECT_EQ(c.sim().shards(), threads);
  c.join_all();
  c.run_for(Duration::seconds(8));
  for (int k = 0; k < 5; ++k) {
    c.broadcast(c.random_live());
    c.run_for(Duration::milliseconds(100));
  }
  c.run_for(Duration::seconds(3));
  c.crash_random(0.3);
  c.run_for(Duration::seconds(12));
  for (int k = 0; k < 5; ++k) {
    c.broadcast(c.random_live());
    c.run_for(Duration::milliseconds(100));
  }
  c.run_for(Duration::seconds(4));
  Outcome r;
  for (std::uint32_t m = 0; m < c.message_count(); ++m) {
    r.deliveries.push_back(c.deliveries(m));
    r.hops.push_back(c.max_hops(m));
  }
  r.missed = c.missed(c.message_count() - 1);
  r.events = c.sim().counters().events;
  r.sent = c.sim().counters().sent;
  r.hash = c.sim().delivery_hash();
  r.duplicates = c.duplicate_deliveries();
  r.payloads = c.payload_sent_total();
  r.live = c.live_count();
  return r;
}

TEST(HyParViewSharded, SameRunOnOneTwoAndThreeThreadsAndEveryBroadcastDelivered) {
  const Outcome one = run(1);
  ASSERT_EQ(one.deliveries.size(), 10u);
  for (std::size_t m = 0; m < 5; ++m) EXPECT_EQ(one.deliveries[m], 1200u) << "message " << m;
  for (std::size_t m = 5; m < 10; ++m) EXPECT_EQ(one.deliveries[m], one.live) << "message " << m;
  EXPECT_EQ(one.live, 840u);
  EXPECT_TRUE(one.missed.empty());
  EXPECT_EQ(one.duplicates, 0u);
  EXPECT_GT(one.events, 100000u);
  for (unsigned k : {2u, 3u}) {
    SCOPED_TRACE(k);
    const Outcome r = run(k);
    EXPECT_EQ(r.deliveries, one.deliveries);
    EXPECT_EQ(r.hops, one.hops);
    EXPECT_EQ(r.events, one.events);
    EXPECT_EQ(r.sent, one.sent);
    EXPECT_EQ(r.hash, one.hash);
    EXPECT_EQ(r.payloads, one.payloads);
    EXPECT_EQ(r.duplicates, 0u);
  }
}

// A machine that records the times it was called through at_node (and its timer's).
class Recorder final : public Machine {
 public:
  void on_datagram(Time, const Address&, std::span<const std::byte>, Effects&) override {}
  void on_timeout(Time now, Effects&) override {
    if (now >= deadline_) deadline_ = Time::from_ns(INT64_MAX);
  }
  [[nodiscard]] Time next_deadline() const noexcept override { return deadline_; }
  std::vector<std::int64_t> calls;
  Time deadline_ = Time::from_ns(INT64_MAX);
};

TEST(HyParViewSharded, AtNodeRunsInTheNodesShardAtItsTimeAndSkipsCrashedNodes) {
  NetworkConfig net = NetworkConfig::uniform(LinkProfile{
      Duration::milliseconds(1), Duration::milliseconds(5), Duration::nanoseconds(0)});
  ShardedSimulator sim(net, 3, 2);
  sim.reserve(4);
  std::vector<std::unique_ptr<Recorder>> nodes;
  for (int i = 0; i < 4; ++i) {
    nodes.push_back(std::make_unique<Recorder>());
    sim.add_borrowed_node(*nodes.back());
  }
  for (NodeIndex i = 0; i < 4; ++i) {
    for (int k = 1; k <= 3; ++k) {
      sim.at_node(i, Time::from_ns(k * 1'000'000 + i), [](Time now, Machine& m, Effects&) {
        static_cast<Recorder&>(m).calls.push_back(now.ns());
      });
    }
  }
  sim.run_until(Time::from_ns(1'500'000));
  sim.crash(2);
  sim.run_until(Time::from_ns(10'000'000));
  EXPECT_EQ(nodes[0]->calls, (std::vector<std::int64_t>{1'000'000, 2'000'000, 3'000'000}));
  EXPECT_EQ(nodes[3]->calls, (std::vector<std::int64_t>{1'000'003, 2'000'003, 3'000'003}));
  EXPECT_EQ(nodes[2]->calls, (std::vector<std::int64_t>{1'000'002}));  // crashed at 1.5 ms
  EXPECT_EQ(sim.pending_events(), 0u);
}

}  // namespace
}  // namespace grapevine::sim
