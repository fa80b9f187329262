// MembershipCluster: the test DSL for membership protocols. Node 0 is the introducer; the
// others start at random times within join_spread and join through it.
//   MembershipCluster c(opts); c.wait_converged(60s); c.crash(3); c.leave(4);
//   c.run_for(30s); EXPECT_TRUE(c.all_see(3, MemberState::failed));
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "grapevine/membership.h"
#include "sim/simulator.h"

namespace grapevine::sim {

struct MembershipClusterOptions {
  std::uint32_t nodes = 10;
  MembershipConfig config;
  NetworkConfig network = NetworkConfig::uniform(LinkProfile{});
  std::uint64_t seed = 1;
  /// Node i > 0 starts at a random time in [0, join_spread) and joins node 0.
  Duration join_spread = Duration::seconds(1);
  /// Instead of joining, every member starts knowing every other one (steady-state studies of
  /// large groups, where the join storm is not what is measured).
  bool preloaded = false;
  /// Optional: wraps node i's machine before the simulator gets it (a harness tapping what the
  /// node sends). The wrapper owns the membership machine and forwards every call to it.
  std::function<std::unique_ptr<Machine>(std::unique_ptr<Membership>, NodeIndex)> wrap;
};

struct MembershipEventRecord {
  Time time;
  NodeIndex observer;
  NodeIndex subject;
  EventKind kind;
};

class MembershipCluster {
 public:
  explicit MembershipCluster(const MembershipClusterOptions& options);

  Simulator& sim() noexcept { return sim_; }
  Membership& node(NodeIndex i);
  [[nodiscard]] std::uint32_t size() const noexcept { return options_.nodes; }
  /// Node index of a member id (members are at sim addresses), or UINT32_MAX.
  [[nodiscard]] NodeIndex index_of(NodeId id) const noexcept;

  void run_for(Duration d) { sim_.run_for(d); }
  void crash(NodeIndex i) { sim_.crash(i); }
  /// Graceful leave; the node keeps running (and answering) until crashed or the run ends.
  void leave(NodeIndex i);
  [[nodiscard]] bool has_left(NodeIndex i) const { return left_[i]; }
  void set_drop(NodeIndex i, double p) { sim_.set_drop(i, p); }
  void set_slow(NodeIndex i, Duration service) { sim_.set_slow(i, service); }
  void pause(NodeIndex i, Duration d) { sim_.pause(i, d); }
  void partition(const std::vector<std::vector<NodeIndex>>& groups);
  void heal() { sim_.heal_partitions(); }

  /// Members that are up and have not left.
  [[nodiscard]] bool active(NodeIndex i) const { return !sim_.crashed(i) && !left_[i]; }
  /// Every active node lists every other active node as alive or suspect, and nobody else so.
  [[nodiscard]] bool converged();
  /// Runs until converged() (checked every 100 ms) or timeout; returns whether it converged.
  bool wait_converged(Duration timeout);
  /// Does every active node other than `subject` list it in state `s`?
  [[nodiscard]] bool all_see(NodeIndex subject, MemberState s);
  bool wait_all_see(NodeIndex subject, MemberState s, Duration timeout);

  [[nodiscard]] const std::vector<MembershipEventRecord>& events() const { return events_; }
  /// Failed events about members that were active (not crashed, not left) at that moment.
  [[nodiscard]] std::uint32_t false_failures() const { return false_failures_; }

 private:
  MembershipClusterOptions options_;
  Simulator sim_;
  std::vector<Membership*> members_;  // the membership machines (inside any wrapper)
  std::vector<bool> left_;
  std::vector<MembershipEventRecord> events_;
  std::uint32_t false_failures_ = 0;
};

}  // namespace grapevine::sim
