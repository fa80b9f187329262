// StateCluster: full grapevine Nodes (membership, multicast, replicated state) in the simulator,
// for the replicated node state's tests and measurements.
//   StateCluster c(opts); c.set(3, "svc/web", "up"); c.run_for(5s); c.all_hold(3, "svc/web", "up");
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "grapevine/node.h"
#include "sim/simulator.h"

namespace grapevine::sim {

struct StateClusterOptions {
  std::uint32_t nodes = 10;
  NodeConfig config;
  NetworkConfig network = NetworkConfig::uniform(LinkProfile{});
  std::uint64_t seed = 1;
  /// Every node starts knowing every other one as alive (else node i > 0 joins node 0 at 0).
  bool preloaded = true;
};

class StateCluster {
 public:
  explicit StateCluster(const StateClusterOptions& options);

  Simulator& sim() noexcept { return sim_; }
  Node& node(NodeIndex i) { return static_cast<Node&>(sim_.machine(i)); }
  [[nodiscard]] std::uint32_t size() const noexcept { return std::uint32_t(sim_.size()); }
  void run_for(Duration d) { sim_.run_for(d); }
  [[nodiscard]] Time now() const noexcept { return sim_.now(); }

  Result<std::uint64_t> set(NodeIndex i, std::string_view key, std::string_view value,
                            Duration ttl = Duration::zero());
  Result<std::uint64_t> erase(NodeIndex i, std::string_view key);
  std::uint64_t watch(NodeIndex i, std::string_view prefix);

  /// A new node (fresh address) that joins through node 0.
  NodeIndex add_joiner();
  /// Node i's process restarts: a fresh Node (new generation) that joins through another node.
  void restart(NodeIndex i);
  void crash(NodeIndex i) { sim_.crash(i); }
  [[nodiscard]] bool running(NodeIndex i) const { return !sim_.crashed(i); }

  /// Whether every running node (the owner included) sees `owner`'s `key` as `value`
  /// (nullopt: absent or deleted).
  [[nodiscard]] bool all_hold(NodeIndex owner, std::string_view key,
                              const std::optional<std::string>& value);
  /// Live (not deleted) keys node i holds, its own included.
  [[nodiscard]] std::size_t keys_held(NodeIndex i);
  /// Node states (owners) node i holds, itself included.
  [[nodiscard]] std::size_t nodes_held(NodeIndex i);
  /// Runs until every running node holds `keys` live keys, checking every `step`. Returns how
  /// long that took, or nullopt after `limit`.
  std::optional<Duration> run_until_all_hold(std::size_t keys, Duration limit,
                                             Duration step = Duration::milliseconds(50));
  /// Bytes the state components of all nodes sent (datagrams and streams).
  [[nodiscard]] std::uint64_t state_bytes();

 private:
  std::unique_ptr<Node> make_node(NodeIndex i);

  StateClusterOptions options_;
  Simulator sim_;
  std::uint32_t incarnations_ = 0;
  std::uint64_t retired_bytes_ = 0;  // bytes of machines replaced by restarts
};

}  // namespace grapevine::sim
