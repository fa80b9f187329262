// MulticastCluster: the small DSL every multicast test is written in (after Tarantool's SWIM
// tests): build N nodes of one protocol over a simulated network, then
//   cluster.run_for(d); cluster.set_drop(i, p); cluster.crash(i);
//   cluster.partition({{0,1},{2,3}}); auto id = cluster.multicast(0, "x");
//   cluster.wait_all_delivered(id, timeout);
#pragma once

#include <map>
#include <memory>
#include <string_view>
#include <vector>

#include "grapevine/group.h"
#include "grapevine/multicast.h"
#include "sim/sim_group.h"
#include "sim/simulator.h"

namespace grapevine::sim {

struct ClusterOptions {
  std::uint32_t nodes = 16;
  MulticastConfig config;
  NetworkConfig network = NetworkConfig::uniform(LinkProfile{});
  /// Subnets of equal size (the last takes the remainder).
  std::uint32_t subnets = 1;
  std::uint64_t seed = 1;
};

class MulticastCluster {
 public:
  explicit MulticastCluster(const ClusterOptions& options);

  Simulator& sim() noexcept { return sim_; }
  const SimGroup& group() const noexcept { return *group_; }
  MulticastProtocol& node(NodeIndex i);
  [[nodiscard]] std::uint32_t size() const noexcept { return options_.nodes; }

  void run_for(Duration d) { sim_.run_for(d); }
  void set_drop(NodeIndex i, double p) { sim_.set_drop(i, p); }
  void crash(NodeIndex i) { sim_.crash(i); }
  void pause(NodeIndex i, Duration d) { sim_.pause(i, d); }
  /// Restarts node i with a fresh machine (it forgets every message).
  void restart(NodeIndex i);
  /// Puts each listed set of nodes in its own partition; unlisted nodes stay in partition 0.
  void partition(const std::vector<std::vector<NodeIndex>>& groups);
  void heal() { sim_.heal_partitions(); }

  /// Multicasts from node i now; aborts the test on error (use node(i).multicast to see errors).
  MessageId multicast(NodeIndex i, std::string_view payload);
  /// How many nodes (crashed or not) have delivered `id`.
  [[nodiscard]] std::uint32_t delivered_count(const MessageId& id) const;
  [[nodiscard]] bool delivered(NodeIndex i, const MessageId& id) const;
  /// Runs until every live node delivered `id` or `timeout` passes; returns whether they did.
  bool wait_all_delivered(const MessageId& id, Duration timeout);
  [[nodiscard]] std::uint32_t live_count() const;
  /// Delivered events seen at node i, in order (payloads copied).
  [[nodiscard]] const std::vector<std::string>& payloads(NodeIndex i) const {
    return payloads_[i];
  }

 private:
  ClusterOptions options_;
  std::unique_ptr<SimGroup> group_;
  Simulator sim_;
  std::map<MessageId, std::vector<bool>> delivered_;
  std::vector<std::vector<std::string>> payloads_;
  std::uint32_t restarts_ = 0;
};

}  // namespace grapevine::sim
