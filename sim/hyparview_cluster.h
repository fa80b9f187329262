// HyParViewCluster: HyParView + Plumtree nodes over the simulator, for tests and the scale run.
//   HyParViewCluster c(options);
//   c.join_all();                       // node 0 first, node i through a random earlier node
//   c.run_for(Duration::seconds(30));
//   auto m = c.broadcast(origin);       // Plumtree broadcast of an 8-byte payload
//   c.run_for(...); c.deliveries(m) == c.live_count();
//   c.crash_random(0.5);                // half the nodes crash at once
// Per-message tracking is a count and a highest hop count (no per-node state), so the same
// driver runs a million nodes; redundancy (RMR) comes from the nodes' payload_sent counters.
//
// Two drivers: HyParViewCluster runs on Simulator (one thread; its runs and tests are pinned),
// ShardedHyParViewCluster on ShardedSimulator with options.sim_threads shards. On the sharded
// one the joins are at_node() calls (keyed like node i's timers) and the delivery observer
// keeps one tally per shard (each shard's thread writes its own; latest_[i] is written only by
// i's shard), summed when read: the same deliveries, events and delivery hash on any number of
// threads (tests/sim/views_hyparview_sharded_test.cc), but not Simulator's (another event key
// and per-send random draws).
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "core/views/hyparview.h"
#include "grapevine/view.h"
#include "sim/sharded_simulator.h"
#include "sim/simulator.h"

namespace grapevine::sim {

struct HyParViewClusterOptions {
  std::uint32_t nodes = 100;
  std::uint64_t seed = 1;
  ViewConfig config;  // kind is forced to hyparview
  views::HyParViewTuning tuning;
  NetworkConfig network = NetworkConfig::uniform(LinkProfile{
      Duration::milliseconds(2), Duration::milliseconds(20), Duration::milliseconds(1)});
  /// Node i joins at i * join_spacing.
  Duration join_spacing = Duration::milliseconds(10);
  std::uint32_t payload_bytes = 8;
  /// ShardedHyParViewCluster only: shards (threads) of the ShardedSimulator.
  unsigned sim_threads = 1;
};

template <class Sim>
class BasicHyParViewCluster {
 public:
  explicit BasicHyParViewCluster(const HyParViewClusterOptions& options);

  Sim& sim() noexcept { return sim_; }
  [[nodiscard]] std::uint32_t size() const noexcept { return options_.nodes; }
  views::HyParView& node(NodeIndex i);

  /// Schedules every join (from now on, join_spacing apart).
  void join_all();
  void run_for(Duration d) { sim_.run_for(d); }
  /// Broadcasts from node `origin` now; returns the message index (for deliveries()).
  std::uint32_t broadcast(NodeIndex origin);
  /// Nodes that delivered message `m` (each node delivers a message at most once).
  [[nodiscard]] std::uint32_t deliveries(std::uint32_t m) const;
  [[nodiscard]] std::uint32_t max_hops(std::uint32_t m) const;
  [[nodiscard]] std::uint32_t message_count() const noexcept {
    return std::uint32_t(tallies_[0].messages.size());
  }
  /// Live nodes whose latest delivery is older than message `m` (they missed it or later ones).
  [[nodiscard]] std::vector<NodeIndex> missed(std::uint32_t m) const;
  /// Deliveries of a message beyond one per node (must stay 0).
  [[nodiscard]] std::uint64_t duplicate_deliveries() const noexcept;

  /// Crashes round(fraction * size) distinct random live nodes now; returns how many.
  std::uint32_t crash_random(double fraction);
  [[nodiscard]] bool crashed(NodeIndex i) const { return sim_.crashed(i); }
  [[nodiscard]] std::uint32_t live_count() const noexcept { return live_; }
  /// A random live node (for origins).
  NodeIndex random_live();

  /// Sum of payload_sent over every node (crashed ones included).
  [[nodiscard]] std::uint64_t payload_sent_total();
  /// True if every live node's active view is symmetric among live nodes and within bounds.
  [[nodiscard]] bool views_symmetric(std::string* why = nullptr);

 private:
  static constexpr bool kSharded = std::is_same_v<Sim, ShardedSimulator>;
  struct Tracked {
    std::uint32_t deliveries = 0;
    std::uint32_t max_hops = 0;
  };
  // One shard's view of the deliveries (Simulator: one for all). Only that shard's thread
  // writes it while the simulator runs; its own cache line.
  struct alignas(64) Tally {
    std::vector<Tracked> messages;
    std::uint64_t duplicates = 0;
    std::uint32_t nodes = 0;  // nodes in the shard: a message counted more often is duplicated
  };

  static Sim make_sim(const HyParViewClusterOptions& o);
  [[nodiscard]] unsigned shard_of(NodeIndex i) const noexcept;
  void observe(NodeIndex node, const Event& e);

  HyParViewClusterOptions options_;
  Sim sim_;
  Rng rng_;
  std::vector<Tally> tallies_;         // [shard]
  std::vector<std::uint32_t> latest_;  // per node: 1 + index of the newest message delivered
  std::uint64_t id_base_;
  std::uint32_t live_;
};

using HyParViewCluster = BasicHyParViewCluster<Simulator>;
using ShardedHyParViewCluster = BasicHyParViewCluster<ShardedSimulator>;
extern template class BasicHyParViewCluster<Simulator>;
extern template class BasicHyParViewCluster<ShardedSimulator>;

}  // namespace grapevine::sim
