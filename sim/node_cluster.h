// NodeCluster: the test DSL on the full grapevine `Node` (membership + multicast + optional
// view), the same object the runtime hosts, built from the same NodeConfig an agent reads.
// Modelled on Tarantool's SWIM tests and sim/membership_cluster.h:
//   NodeCluster c(opts);  c.wait_converged(60s);  c.crash(3);  c.leave(4);
//   c.partition({{1, 2}, {3, 4}});  c.run_for(10s);  c.heal();
//   auto id = c.multicast(0, payload);  c.wait_all_delivered(*id, 5s);
//   EXPECT_TRUE(c.all_see(3, MemberState::failed));
//
// Node i is named "node-i" (the memberlist dialect's identity) and lives at sim_address(i).
// Bootstrap: `join` (node i > 0 starts its join at (i - 1) / join_rate seconds, through the
// first `seeds` nodes) or `preloaded` (every node starts knowing every other one).
//
// What the cluster records, for tests and experiments: every membership event and delivery
// (with its simulated time), the deliveries of each multicast sent through multicast(), and
// false failures: a `failed` event about a member that was up, had not left and could reach
// the observer. Failures across an active partition are counted apart (they are correct
// verdicts, as are all those within kGrace after the heal: suspicions started while cut off,
// and each side's "dead" gossip reaching members that could still see the subject), and so
// are failures about a member
// restarted less than kGrace ago (the tail of the verdict about its previous life).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <span>
#include <vector>

#include "grapevine/node.h"
#include "grapevine/query.h"
#include "sim/simulator.h"
#include "sim/view_log.h"

namespace grapevine::sim {

enum class Bootstrap : std::uint8_t { join, preloaded };

struct NodeClusterOptions {
  std::uint32_t nodes = 16;
  /// Copied to every node; membership.name is replaced by "node-i".
  NodeConfig config;
  NetworkConfig network = NetworkConfig::uniform(LinkProfile{});
  std::uint64_t seed = 1;
  Bootstrap bootstrap = Bootstrap::join;
  /// Joins started per second (join bootstrap); node 0 starts alone at time 0.
  double join_rate = 200.0;
  /// Node i joins through nodes 0 .. min(seeds, i) - 1.
  std::uint32_t seeds = 1;
  /// Keep every event in events() (tests). Experiments on large groups turn it off and use
  /// the on_event callback: a join of N nodes emits N^2 events.
  bool record_events = true;
  /// K > 1: K zones, each a subnet behind its own router (the simulator's subnets; traffic
  /// between them takes network.cross and counts in router_crossings). Node i is in zone
  /// zone_of(i) = i % K and gets membership.zone = "zI" (native dialect) or, in the memberlist
  /// dialect, which has no zone on the wire, nothing (the simulated addresses are not laid out
  /// by subnet, so zone_prefix cannot stand in; topology awareness stays off there).
  std::uint32_t zones = 0;
};

struct ClusterEvent {
  Time time;
  NodeIndex observer;
  NodeIndex subject;       // membership kinds: the member (UINT32_MAX if not a cluster node)
  EventKind kind;
  MessageId message;       // delivered: the multicast
};

class NodeCluster {
 public:
  /// Failures about a member restarted less than this long ago are stale, not false; those
  /// this soon after a heal count as partition failures.
  static constexpr Duration kGrace = Duration::seconds(60);

  /// Aborts on an invalid config (check it with validate() first).
  explicit NodeCluster(const NodeClusterOptions& options);
  ~NodeCluster();
  NodeCluster(const NodeCluster&) = delete;
  NodeCluster& operator=(const NodeCluster&) = delete;

  Simulator& sim() noexcept { return sim_; }
  /// The node now at index i (a restart replaces it).
  Node& node(NodeIndex i) { return *nodes_[i]; }
  [[nodiscard]] std::uint32_t size() const noexcept { return options_.nodes; }
  /// Node i's zone (0 without zones).
  [[nodiscard]] std::uint32_t zone_of(NodeIndex i) const noexcept {
    return options_.zones > 1 ? i % options_.zones : 0;
  }
  [[nodiscard]] Time now() const noexcept { return sim_.now(); }
  /// Node index of a member id, or UINT32_MAX. Native ids come from the address (arithmetic);
  /// memberlist ids from the name (a table).
  [[nodiscard]] NodeIndex index_of(NodeId id) const noexcept;
  /// The member id of node i, as the other members list it.
  [[nodiscard]] NodeId id_of(NodeIndex i) const noexcept;

  void run_for(Duration d) { sim_.run_for(d); }
  void run_until(Time t) { sim_.run_until(t); }
  /// Called with every event as it happens (after it is counted and recorded).
  void set_on_event(std::function<void(const ClusterEvent&)> f) { on_event_ = std::move(f); }

  // ---- faults ----
  void crash(NodeIndex i);
  /// A fresh Node (new state, same name and address, a new seed) in place of node i, which
  /// joins again through the first active seed node (or any active node).
  void restart(NodeIndex i);
  /// Graceful leave; the node keeps running (and answering) until crashed or the run ends.
  void leave(NodeIndex i);
  /// Nodes in different groups cannot exchange packets; nodes in no group form one more.
  void partition(const std::vector<std::vector<NodeIndex>>& groups);
  void heal();
  /// Loss probability on every link from now on.
  void set_loss(double p);
  /// Drops each packet to or from node i with probability p.
  void set_drop(NodeIndex i, double p) { sim_.set_drop(i, p); }
  /// Every event node i handles costs `service` of its CPU, queued FIFO (0 = normal).
  void set_slow(NodeIndex i, Duration service) { sim_.set_slow(i, service); }

  // ---- the application ----
  /// Multicasts `payload` from node i and tracks its deliveries. Errors as Node::multicast.
  Result<MessageId> multicast(NodeIndex i, std::span<const std::byte> payload);

  // ---- queries (grapevine/query.h) ----
  /// Answers node i's `query` events: the response, or nullopt to stay silent. Called inside
  /// the event; the answer goes out through Node::respond right after the machine call.
  using QueryHandler = std::function<std::optional<std::string>(NodeIndex i, const Event& query)>;
  void set_query_handler(QueryHandler h) { query_handler_ = std::move(h); }
  /// Node i issues a query (Node::query) and the cluster records its acks and responses.
  Result<QueryTicket> query(NodeIndex i, std::string_view name, std::string_view payload,
                            const QueryParams& params);
  /// Node i issues a keyring query (Node::keyring_query); answers recorded as query()'s.
  Result<QueryTicket> keyring_query(NodeIndex i, KeyringCommand command,
                                    std::span<const std::byte> key, const QueryParams& params = {});
  struct QueryOutcome {
    std::set<NodeIndex> acks;
    std::map<NodeIndex, std::string> responses;  // by answering node: its payload
    std::uint32_t events = 0;                    // ack and response events (duplicates would show)
    bool done = false;
    Time done_at = Time::max();
  };
  /// What node i's query `id` gathered so far (nullptr: no such query).
  [[nodiscard]] const QueryOutcome* query_outcome(NodeIndex i, std::uint32_t id) const;
  /// Runs until node i's query `id` is done (query_done) or timeout.
  bool wait_query_done(NodeIndex i, std::uint32_t id, Duration timeout);

  // ---- observation ----
  /// Up and not left.
  [[nodiscard]] bool active(NodeIndex i) const { return !sim_.crashed(i) && !left_[i]; }
  [[nodiscard]] std::uint32_t active_count() const;
  [[nodiscard]] bool partitioned() const noexcept { return partitioned_; }
  /// Can i and j exchange packets now (same partition group)?
  [[nodiscard]] bool reachable(NodeIndex i, NodeIndex j) const { return group_[i] == group_[j]; }
  /// Every active node lists exactly the active nodes as alive (or suspect).
  [[nodiscard]] bool converged() const;
  /// Runs until converged() (checked every 100 ms) or timeout; returns whether it converged.
  bool wait_converged(Duration timeout);
  /// Does every active node other than `subject` list it in state `s`?
  [[nodiscard]] bool all_see(NodeIndex subject, MemberState s) const;
  bool wait_all_see(NodeIndex subject, MemberState s, Duration timeout);
  /// Active nodes that delivered multicast `id` (sent through multicast()).
  [[nodiscard]] std::uint32_t delivered_count(const MessageId& id) const;
  [[nodiscard]] bool all_delivered(const MessageId& id) const;
  bool wait_all_delivered(const MessageId& id, Duration timeout);

  struct Tracked {
    NodeIndex origin;
    Time sent;
    std::vector<Time> delivered_at;  // per node; Time::max() = not delivered
  };
  [[nodiscard]] const std::map<MessageId, Tracked>& multicasts() const { return tracked_; }
  [[nodiscard]] const std::vector<ClusterEvent>& events() const { return events_; }
  /// Every view_changed event (consistent membership; empty in eventual mode).
  [[nodiscard]] const ViewLog& view_log() const { return view_log_; }
  [[nodiscard]] std::uint64_t false_failures() const { return false_failures_; }
  [[nodiscard]] std::uint64_t partition_failures() const { return partition_failures_; }
  [[nodiscard]] std::uint64_t stale_failures() const { return stale_failures_; }
  /// Datagrams plus stream messages, and their bytes, sent by every node so far.
  [[nodiscard]] std::uint64_t messages_sent() const;
  [[nodiscard]] std::uint64_t bytes_sent() const;

 private:
  std::unique_ptr<Node> make_node(NodeIndex i, std::uint64_t seed) const;
  void join_through_seeds(NodeIndex i);
  [[nodiscard]] NodeIndex address_index(const Address& a) const noexcept;
  [[nodiscard]] NodeIndex address_index_of(NodeId native_id) const noexcept;
  void observe(Time now, NodeIndex observer, const Event& e);
  void observe_query(Time now, NodeIndex observer, const Event& e);
  bool wait(const std::function<bool()>& done, Duration timeout);

  NodeClusterOptions options_;
  Simulator sim_;
  std::vector<Node*> nodes_;
  std::vector<bool> left_;
  bool memberlist_ = false;
  std::unordered_map<NodeId, NodeIndex> by_name_id_;  // memberlist dialect only
  std::vector<std::uint32_t> group_;
  Time healed_at_ = Time::zero() - kGrace - kGrace;
  std::vector<std::uint32_t> lives_;    // restarts so far, per node (seeds differ per life)
  std::vector<Time> restarted_at_;
  bool partitioned_ = false;
  std::map<MessageId, Tracked> tracked_;
  std::vector<ClusterEvent> events_;
  ViewLog view_log_;
  std::function<void(const ClusterEvent&)> on_event_;
  QueryHandler query_handler_;
  std::map<std::pair<NodeIndex, std::uint32_t>, QueryOutcome> queries_;
  std::uint64_t false_failures_ = 0, partition_failures_ = 0, stale_failures_ = 0;
};

/// Grows the process's heap by `bytes` (virtual memory) and backs it with transparent huge
/// pages (madvise MADV_HUGEPAGE), so that what is allocated next (a cluster's member lists)
/// faults in as 2 MiB pages; also keeps arrays up to 32 MiB in the heap and turns heap
/// trimming off. Once per process; false where it could not (not Linux/glibc, refused). Changes
/// no result, only the time a big run takes. NodeCluster calls it for runs estimated over
/// kHugeHeapBytesMin. node_cluster_heap.cc
bool back_heap_with_huge_pages(std::size_t bytes);
inline constexpr std::size_t kHugeHeapBytesMin = std::size_t(256) << 20;

}  // namespace grapevine::sim
