// Plumtree over HyParView in the simulator (Leitão et al., SRDS 2007, claim P5 of
// literature.md): every broadcast reaches every node; once the tree has formed, payload
// redundancy (RMR) is near 0; after 50% and 80% of the nodes crash at once and a healing
// period, later broadcasts reach every live node (P4).
#include <gtest/gtest.h>

#include "sim/hyparview_cluster.h"

namespace grapevine::sim {
namespace {

HyParViewClusterOptions options(std::uint32_t nodes, std::uint64_t seed) {
  HyParViewClusterOptions o;
  o.nodes = nodes;
  o.seed = seed;
  o.config.kind = ViewKind::hyparview;
  o.config.period = Duration::seconds(2);
  o.join_spacing = Duration::milliseconds(5);
  return o;
}

// Broadcasts `count` messages from random live nodes, 100 ms apart, then lets them settle.
std::vector<std::uint32_t> broadcasts(HyParViewCluster& c, int count) {
  std::vector<std::uint32_t> ms;
  for (int k = 0; k < count; ++k) {
    ms.push_back(c.broadcast(c.random_live()));
    c.run_for(Duration::milliseconds(100));
  }
  c.run_for(Duration::seconds(3));
  return ms;
}

TEST(Plumtree, EveryBroadcastReachesEveryNodeAndTheTreeMakesRedundancySmall) {
  HyParViewCluster c(options(500, 21));
  c.join_all();
  c.run_for(Duration::seconds(10));
  for (auto m : broadcasts(c, 10)) EXPECT_EQ(c.deliveries(m), c.size()) << "message " << m;
  // Steady state: the eager links form a tree, so about one payload per delivery.
  std::uint64_t before = c.payload_sent_total();
  auto steady = broadcasts(c, 20);
  std::uint64_t payloads = c.payload_sent_total() - before;
  std::uint64_t useful = 0;
  for (auto m : steady) {
    EXPECT_EQ(c.deliveries(m), c.size()) << "message " << m;
    useful += c.deliveries(m) - 1;
  }
  double rmr = double(payloads) / double(useful) - 1.0;
  EXPECT_LT(rmr, 0.05) << payloads << " payloads for " << useful << " deliveries";
  EXPECT_EQ(c.duplicate_deliveries(), 0u);
  // Last delivery hop: a tree over 500 nodes of degree <= 5 is a few hops deep.
  EXPECT_LT(c.max_hops(steady.back()), 30u);
}

void crash_then_broadcast(double fraction, std::uint64_t seed) {
  HyParViewCluster c(options(500, seed));
  c.join_all();
  c.run_for(Duration::seconds(15));
  for (auto m : broadcasts(c, 3)) EXPECT_EQ(c.deliveries(m), c.size());
  c.crash_random(fraction);
  // Healing: failures detected (3 keepalive periods), neighbours promoted from passive views.
  // A few broadcasts during healing help the tree repair (and are allowed to miss nodes).
  c.run_for(Duration::seconds(5));
  broadcasts(c, 5);
  c.run_for(Duration::seconds(10));
  for (auto m : broadcasts(c, 5)) {
    EXPECT_EQ(c.deliveries(m), c.live_count()) << "message " << m << " after crashing " << fraction;
  }
  EXPECT_EQ(c.duplicate_deliveries(), 0u);
}

TEST(Plumtree, BroadcastsReachEveryLiveNodeAfterHalfCrash) {
  crash_then_broadcast(0.5, 31);
}

TEST(Plumtree, BroadcastsReachEveryLiveNodeAfterEightyPercentCrash) {
  crash_then_broadcast(0.8, 41);
}

// The seen set is stored inline up to 64 ids (the default) and on the heap beyond: both, and a
// smaller inline one, deliver every broadcast exactly once. (8 ids, shorter than the 20
// broadcasts, delivers everything too but twice at some nodes: an id re-announced on a new link
// after it left the ring is taken as new, as the header says.)
TEST(Plumtree, SeenSetsInlineAndOnTheHeapDeliverEveryBroadcastOnce) {
  for (std::uint16_t ids : {std::uint16_t{32}, std::uint16_t{64}, std::uint16_t{200}}) {
    HyParViewClusterOptions o = options(300, 51);
    o.tuning.plumtree.received_ids = ids;
    HyParViewCluster c(o);
    c.join_all();
    c.run_for(Duration::seconds(10));
    for (auto m : broadcasts(c, 20)) EXPECT_EQ(c.deliveries(m), c.size()) << "ids " << ids;
    EXPECT_EQ(c.duplicate_deliveries(), 0u) << "ids " << ids;
  }
}

// HyParView::prefetch() is a hint: calling it on every node before every step leaves the run
// identical (the simulator calls it too, a few events ahead, in every run).
TEST(Plumtree, PrefetchChangesNothing) {
  auto run = [](bool prefetch) {
    HyParViewCluster c(options(200, 61));
    c.join_all();
    std::vector<std::uint64_t> out;
    for (int step = 0; step < 150; ++step) {
      if (prefetch) {
        for (NodeIndex i = 0; i < c.size(); ++i) c.node(i).prefetch();
      }
      if (step >= 100 && step % 5 == 0) c.broadcast(c.random_live());
      c.run_for(Duration::milliseconds(100));
    }
    for (std::uint32_t m = 0; m < c.message_count(); ++m) out.push_back(c.deliveries(m));
    out.push_back(c.payload_sent_total());
    out.push_back(c.sim().counters().events);
    return out;
  };
  auto plain = run(false);
  EXPECT_EQ(plain, run(true));
  EXPECT_GT(plain.back(), 0u);
}

}  // namespace
}  // namespace grapevine::sim
