// ConsistentCluster: the test and experiment harness of consistent membership (Rapid). Node 0 is
// the seed: it starts alone, in the first configuration of the chain; node i > 0 joins through
// the seed at a random time in [0, join_spread) (or all start preloaded in one configuration).
// Every view_changed event is recorded, so checks can ask:
//   - agreement_error(): no two nodes installed different configurations at the same epoch, and
//     each node's epochs strictly increase (so every node's sequence is a subsequence of one
//     common chain; a prefix when no catch-up skipped a decision);
//   - agreed(): every active node is a member of the same configuration, whose members are
//     exactly the active nodes.
//   ConsistentCluster c(opts); c.wait_agreed(60s); c.crash(3); c.wait_agreed(30s);
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "grapevine/membership.h"
#include "sim/simulator.h"
#include "sim/view_log.h"

namespace grapevine::sim {

struct ConsistentClusterOptions {
  std::uint32_t nodes = 50;
  MembershipConfig config = default_config();
  NetworkConfig network = NetworkConfig::uniform(LinkProfile{});
  std::uint64_t seed = 1;
  Duration join_spread = Duration::seconds(1);
  bool preloaded = false;
  /// Node i gets name "node-i" and metadata "meta-i" (the config's name and meta otherwise).
  bool named = false;

  static MembershipConfig default_config() {
    MembershipConfig c;
    c.mode = MembershipMode::consistent;
    return c;
  }
};

class ConsistentCluster {
 public:
  explicit ConsistentCluster(const ConsistentClusterOptions& options);

  Simulator& sim() noexcept { return sim_; }
  Membership& node(NodeIndex i) { return *members_[i]; }
  [[nodiscard]] std::uint32_t size() const noexcept { return options_.nodes; }

  void run_for(Duration d) { sim_.run_for(d); }
  void crash(NodeIndex i) { sim_.crash(i); }
  void set_drop(NodeIndex i, double p) { sim_.set_drop(i, p); }
  void partition(const std::vector<std::vector<NodeIndex>>& groups);
  void heal() { sim_.heal_partitions(); }
  [[nodiscard]] bool active(NodeIndex i) const { return !sim_.crashed(i); }

  /// Every node in `nodes` is a member of one configuration whose members are exactly `nodes`.
  [[nodiscard]] bool agreed_on(const std::vector<NodeIndex>& nodes) const;
  /// agreed_on(every active node).
  [[nodiscard]] bool agreed() const;
  bool wait_agreed(Duration timeout);
  bool wait_agreed_on(const std::vector<NodeIndex>& nodes, Duration timeout);
  /// Empty when the recorded installs satisfy agreement; else a description of the violation.
  [[nodiscard]] std::string agreement_error() const { return log_.agreement_error(); }

  /// Every view_changed event of the run, and the metrics over them (sim/view_log.h).
  [[nodiscard]] const ViewLog& log() const { return log_; }
  [[nodiscard]] const std::vector<ViewRecord>& views() const { return log_.views(); }
  /// Distinct configuration sizes installed by any node (Rapid's Table 1 metric).
  [[nodiscard]] std::set<std::uint32_t> distinct_sizes() const { return log_.distinct_sizes(); }
  /// Distinct configurations (epochs) installed after time t.
  [[nodiscard]] std::uint32_t configurations_after(Time t) const {
    return log_.configurations_after(t);
  }
  /// Time of the last install of any node, or Time::zero().
  [[nodiscard]] Time last_install() const { return log_.last_install(); }
  [[nodiscard]] std::uint32_t false_removals() const { return false_removals_; }
  [[nodiscard]] std::uint32_t stalls() const { return stalls_; }

 private:
  ConsistentClusterOptions options_;
  Simulator sim_;
  std::vector<Membership*> members_;
  ViewLog log_;
  std::uint32_t false_removals_ = 0;
  std::uint32_t stalls_ = 0;
};

}  // namespace grapevine::sim
