// ShardedSimulator: the same run on 1, 2, 3 and 4 shards (threads): same delivery hash, same
// counters, same inputs at every node, with loss, jitter, duplication, reordering, two subnets,
// a crash, a restart and a partition between runs.
#include "sim/sharded_simulator.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "util/hash.h"
#include "util/rng.h"

namespace grapevine::sim {
namespace {

constexpr Duration kPeriod = Duration::milliseconds(100);

// Every period sends to a random peer; answers some datagrams (its own PRNG decides, so what it
// does depends on the order it hears things in). Keeps a rolling digest of its inputs.
class Chatter final : public Machine {
 public:
  Chatter(std::uint32_t self, std::uint32_t nodes, std::uint64_t seed)
      : rng_(seed), self_(self), nodes_(nodes) {
    next_ = Time::zero() + Duration::nanoseconds(rng_.between(1, kPeriod.ns()));
  }
  void on_datagram(Time now, const Address& from, std::span<const std::byte> bytes,
                   Effects& fx) override {
    digest_ = hash_bytes(bytes, mix64(digest_ ^ std::uint64_t(now.ns())) ^ from.ipv4_u32());
    ++received_;
    if (rng_.chance(0.3)) send(now, from, fx);
    if (rng_.chance(0.1)) next_ = std::min(next_, now + Duration::milliseconds(3));
  }
  void on_timeout(Time now, Effects& fx) override {
    if (now < next_) return;
    auto peer = std::uint32_t(rng_.below(nodes_ - 1));
    if (peer >= self_) ++peer;
    send(now, sim_address(peer), fx);
    if (rng_.chance(0.2)) fx.send(sim_address(nodes_ + 5), {});  // unroutable
    next_ = now + kPeriod;
  }
  [[nodiscard]] Time next_deadline() const noexcept override { return next_; }
  void send(Time now, const Address& to, Effects& fx) {
    const std::uint64_t word[2] = {std::uint64_t(now.ns()) ^ self_, digest_};
    fx.send(to, std::as_bytes(std::span(word, 1 + rng_.below(2))));
    ++sent_;
  }
  std::uint64_t digest_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t sent_ = 0;

 private:
  Rng rng_;
  Time next_;
  std::uint32_t self_;
  std::uint32_t nodes_;
};

NetworkConfig lossy_network() {
  LinkProfile p;
  p.latency_min = Duration::milliseconds(8);
  p.latency_max = Duration::milliseconds(20);
  p.jitter = Duration::milliseconds(3);
  p.loss = 0.1;
  p.duplicate = 0.05;
  p.reorder = 0.1;
  p.reorder_delay = Duration::milliseconds(10);
  NetworkConfig net = NetworkConfig::uniform(p);
  net.cross.latency_min = Duration::milliseconds(15);
  net.cross.latency_max = Duration::milliseconds(40);
  return net;
}

struct Outcome {
  std::uint64_t hash = 0;
  NetworkCounters counters;
  std::uint64_t router0 = 0, router1 = 0;
  std::vector<std::uint64_t> digests, received, sent;
  std::uint64_t events_observed = 0;
  std::size_t pending = 0, in_flight = 0;
};

Outcome run_chatter(unsigned shards, std::uint32_t nodes) {
  ShardedSimulator sim(lossy_network(), 7, shards);
  EXPECT_EQ(sim.shards(), shards);
  sim.reserve(nodes);
  for (std::uint32_t i = 0; i < nodes; ++i) {
    sim.add_node(std::make_unique<Chatter>(i, nodes, derive_seed(7, i)), i < nodes / 3 ? 0 : 1);
  }
  auto chatter = [&](std::uint32_t i) -> Chatter& { return static_cast<Chatter&>(sim.machine(i)); };
  sim.run_for(Duration::seconds(1));
  sim.set_drop(3, 0.5);
  sim.with_node(0, [&](Machine& m, Effects& fx) {
    for (std::uint32_t p = 1; p < nodes; p += 7) static_cast<Chatter&>(m).send(sim.now(), sim_address(p), fx);
  });
  sim.run_for(Duration::seconds(1));
  sim.crash(nodes / 2);
  for (std::uint32_t i = 0; i < nodes; i += 5) sim.set_partition(i, 1);
  sim.run_for(Duration::milliseconds(700));
  sim.heal_partitions();
  sim.restart(nodes / 2, std::make_unique<Chatter>(nodes / 2, nodes, 99));
  sim.run_for(Duration::milliseconds(1300));
  Outcome o;
  o.hash = sim.delivery_hash();
  o.counters = sim.counters();
  o.router0 = sim.router_crossings(0);
  o.router1 = sim.router_crossings(1);
  o.pending = sim.pending_events();
  o.in_flight = sim.packets_in_flight();
  for (std::uint32_t i = 0; i < nodes; ++i) {
    o.digests.push_back(chatter(i).digest_);
    o.received.push_back(chatter(i).received_);
    o.sent.push_back(chatter(i).sent_);
  }
  return o;
}

void expect_same(const Outcome& a, const Outcome& b) {
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_EQ(a.counters.sent, b.counters.sent);
  EXPECT_EQ(a.counters.bytes_sent, b.counters.bytes_sent);
  EXPECT_EQ(a.counters.delivered, b.counters.delivered);
  EXPECT_EQ(a.counters.lost, b.counters.lost);
  EXPECT_EQ(a.counters.to_crashed, b.counters.to_crashed);
  EXPECT_EQ(a.counters.partitioned, b.counters.partitioned);
  EXPECT_EQ(a.counters.unroutable, b.counters.unroutable);
  EXPECT_EQ(a.counters.duplicated, b.counters.duplicated);
  EXPECT_EQ(a.counters.cross_router, b.counters.cross_router);
  EXPECT_EQ(a.counters.events, b.counters.events);
  EXPECT_EQ(a.router0, b.router0);
  EXPECT_EQ(a.router1, b.router1);
  EXPECT_EQ(a.pending, b.pending);
  EXPECT_EQ(a.in_flight, b.in_flight);
  EXPECT_EQ(a.digests, b.digests);
  EXPECT_EQ(a.received, b.received);
  EXPECT_EQ(a.sent, b.sent);
}

TEST(ShardedSimulator, SameRunOnOneToFourThreads) {
  const Outcome one = run_chatter(1, 300);
  // The run exercised what it claims to.
  EXPECT_GT(one.counters.delivered, 5000u);
  EXPECT_GT(one.counters.lost, 100u);
  EXPECT_GT(one.counters.duplicated, 10u);
  EXPECT_GT(one.counters.partitioned, 0u);
  EXPECT_GT(one.counters.to_crashed, 0u);
  EXPECT_GT(one.counters.unroutable, 0u);
  EXPECT_GT(one.counters.cross_router, 100u);
  for (unsigned k : {2u, 3u, 4u}) {
    SCOPED_TRACE(k);
    expect_same(one, run_chatter(k, 300));
  }
}

TEST(ShardedSimulator, SameSeedTwiceSameRun) { expect_same(run_chatter(2, 100), run_chatter(2, 100)); }

TEST(ShardedSimulator, ZeroLookaheadRunsOneShard) {
  LinkProfile p;
  p.latency_min = Duration::zero();
  p.latency_max = Duration::milliseconds(5);
  ShardedSimulator sim(NetworkConfig::uniform(p), 1, 4);
  EXPECT_EQ(sim.shards(), 1u);
  EXPECT_EQ(sim.lookahead(), Duration::zero());
}

TEST(ShardedSimulator, WindowsFollowTheLookahead) {
  ShardedSimulator sim(lossy_network(), 3, 2);
  EXPECT_EQ(sim.lookahead(), Duration::milliseconds(8));
  sim.reserve(50);
  for (std::uint32_t i = 0; i < 50; ++i) sim.add_node(std::make_unique<Chatter>(i, 50, i));
  EXPECT_EQ(sim.shard_of(0), 0u);
  EXPECT_EQ(sim.shard_of(24), 0u);
  EXPECT_EQ(sim.shard_of(25), 1u);
  sim.run_for(Duration::seconds(1));
  // Events every few ms: at most one window per lookahead, and more than a few.
  EXPECT_LE(sim.windows(), 1000u / 8 + 1);
  EXPECT_GT(sim.windows(), 30u);
  EXPECT_EQ(sim.now(), Time::zero() + Duration::seconds(1));
}

}  // namespace
}  // namespace grapevine::sim
