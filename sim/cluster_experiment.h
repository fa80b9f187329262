// Cluster experiments: N full grapevine Nodes (NodeCluster) join (or start preloaded), run for
// `duration` under a fault schedule (sim/fault_spec.h) while M user multicasts leave random live
// members, and every membership event and delivery is measured: join convergence, completeness
// and latency of crash detection, accuracy and false failures, leaves told apart from failures,
// how long a healed partition takes to merge, multicast delivery, and the load per node.
// `grapevine sim cluster` prints this; the field names match `grapevine sim membership --json`
// where they overlap.
//
// Randomness: which members a fault hits and which member sends each multicast come from one
// PRNG seeded from the experiment's seed, drawn in schedule order; the same seed gives the same
// run to the byte (delivery_hash).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "grapevine/node.h"
#include "sim/fault_spec.h"
#include "sim/node_cluster.h"

namespace grapevine::sim {

struct ClusterExperiment {
  NodeConfig config;
  std::uint32_t nodes = 64;
  Bootstrap bootstrap = Bootstrap::join;
  double join_rate = 200.0;  // joins started per second (join bootstrap)
  std::uint32_t seeds = 1;   // node i joins through the first `seeds` nodes
  Duration latency_min = Duration::milliseconds(1);
  Duration latency_max = Duration::milliseconds(5);
  std::vector<Fault> faults;
  std::uint32_t multicasts = 0;
  std::uint32_t payload_bytes = 64;
  /// K > 1: K equal zones behind routers (NodeClusterOptions::zones), node i in zone i % K;
  /// `cross_latency_*` is the latency between zones.
  std::uint32_t zones = 0;
  Duration cross_latency_min = Duration::milliseconds(5);
  Duration cross_latency_max = Duration::milliseconds(20);
  Duration slow_service = Duration::milliseconds(50);  // slow:K@T
  Duration duration = Duration::seconds(120);
  std::uint64_t seed = 1;
};

/// Checks the experiment (node counts, fault counts and times against nodes and duration).
/// Returns "" or what is wrong, one line.
std::string check(const ClusterExperiment& e);

/// One sample of the live-members series (every second).
struct LiveSample {
  double seconds = 0;
  std::uint32_t active = 0;      // members up and not left
  std::uint32_t live_min = 0;    // fewest live members any active member lists
  double live_mean = 0;          // mean over active members
};

struct ClusterResult {
  std::uint32_t nodes = 0, crashed = 0, restarted = 0, left = 0, survivors = 0;
  double duration_seconds = 0;
  double join_convergence_seconds = -1;  // until every node listed every node alive; -1 never
  double completeness = 1.0;   // (survivor, crashed) pairs marked failed (down >= 30 s)
  double accuracy = 1.0;       // survivors that never marked a live, reachable member failed
  std::uint64_t false_failures = 0, partition_failures = 0, stale_failures = 0;
  std::uint64_t leaves_as_failed = 0;
  std::vector<double> detection_first_samples, detection_all_samples;  // per crash, seconds
  double leaves_seen_as_left = 1.0;  // (survivor, leaver) pairs that saw "left"
  bool had_partition = false;
  /// From the (last) heal until every live node lists every live node alive; -1 never.
  double partition_heal_seconds = -1;
  std::uint32_t multicasts = 0;
  double multicast_delivered_fraction = 1.0;  // (multicast, member up throughout) pairs
  std::vector<double> multicast_delivery_samples;  // seconds, per delivered pair
  /// Multicast datagrams (first frame of the multicast family) between zones, and the gossip
  /// rounds (multicast periods) in which any multicast datagram was sent; their ratio is the
  /// cross-zone multicast messages per round of a multicast (-1 without zones or multicasts).
  std::uint64_t cross_zone_multicast_messages = 0, multicast_rounds = 0;
  double cross_zone_messages_per_round = -1;
  double messages_per_node_per_second = 0, bytes_per_node_per_second = 0;
  /// Over the longest stretch with no fault (from 30 s after the join converged or a fault),
  /// per member up; -1 when there is none of at least 2 s.
  double steady_messages_per_node_per_second = -1, steady_bytes_per_node_per_second = -1;
  double steady_from_seconds = 0, steady_to_seconds = 0;
  bool final_converged = false;
  /// Summed over the nodes (MembershipStats; a restarted node's from its restart): alive
  /// records queued for gossip as learned by gossip / from a push-pull, those a join reply
  /// taught but that were not queued (MembershipConfig::join_reply_gossip), and queued
  /// updates piggybacked (every transmission).
  std::uint64_t alive_queued_gossip = 0, alive_queued_push_pull = 0, alive_join_reply_quiet = 0;
  std::uint64_t updates_sent = 0;
  std::uint64_t rumors_stopped = 0;  // dropped by rumor_stop_after's counter (MembershipStats)
  std::vector<LiveSample> live;
  std::uint64_t events = 0, delivery_hash = 0;
  double wall_seconds = 0;
  /// Consistent membership only (config.membership.mode == consistent), from the view_changed
  /// events (sim/view_log.h): configurations installed, view agreement over all N nodes,
  /// distinct member counts installed, time until all N installed one N-member configuration
  /// (0 preloaded, -1 never), and per (crash/leave/restart fault, member surviving to the
  /// end) the seconds from the fault to that member's next install.
  bool consistent = false;
  std::uint32_t configurations = 0, distinct_membership_sizes = 0;
  double view_agreement = 1.0;
  double bootstrap_seconds = -1;
  std::vector<double> view_change_samples;
};

/// Runs the experiment (check() it first); `on_event` (may be empty) sees every membership
/// event and delivery as it happens.
ClusterResult run_cluster(const ClusterExperiment& e,
                          const std::function<void(const ClusterEvent&)>& on_event);

}  // namespace grapevine::sim

namespace grapevine::sim {

/// What `sim cluster --json` prints for one run or R runs pooled: counts summed, fractions and
/// rates averaged over the runs, percentiles over the pooled samples. Empty optionals print as
/// null (no sample: no crash, no partition, no multicast, no steady window).
struct ClusterSummary {
  std::uint32_t nodes = 0, runs = 0, crashed = 0, restarted = 0, left = 0;
  double duration_seconds = 0;
  std::optional<double> join_convergence_seconds;  // mean of the runs that converged
  std::uint32_t runs_join_converged = 0;
  double completeness = 1, accuracy = 1;
  std::uint64_t false_failures = 0, partition_failures = 0, stale_failures = 0;
  std::uint64_t leaves_seen_as_failed = 0;
  std::optional<double> detection_first_seconds_p50, detection_first_seconds_p99;
  std::optional<double> detection_all_seconds_p50, detection_all_seconds_p99;
  double leaves_seen_as_left = 1;
  /// Mean over runs that merged; -1 when a run with a partition never merged.
  std::optional<double> partition_heal_seconds;
  std::uint64_t multicasts = 0;
  double multicast_delivered_fraction = 1;
  std::optional<double> multicast_delivery_seconds_p50, multicast_delivery_seconds_p99;
  std::optional<double> cross_zone_messages_per_round_mean;  // over the runs that measured it
  double messages_per_node_per_second = 0, bytes_per_node_per_second = 0;
  std::optional<double> steady_messages_per_node_per_second, steady_bytes_per_node_per_second;
  double steady_from_seconds = 0, steady_to_seconds = 0;  // the first run's window
  std::uint32_t runs_final_converged = 0;
  std::uint64_t alive_queued_gossip = 0, alive_queued_push_pull = 0, alive_join_reply_quiet = 0;
  std::uint64_t updates_sent = 0;  // summed over the runs (ClusterResult)
  std::uint64_t rumors_stopped = 0;  // summed over the runs (ClusterResult)
  std::uint64_t events = 0, delivery_hash = 0;  // hash: the first run's
  double wall_seconds = 0;                      // summed
  /// Consistent membership only: configurations summed, view_agreement averaged,
  /// distinct_membership_sizes the largest, bootstrap the mean of the runs that measured it.
  bool consistent = false;
  std::uint32_t configurations = 0, distinct_membership_sizes = 0;
  double view_agreement = 1;
  std::optional<double> bootstrap_seconds, view_change_seconds_p50, view_change_seconds_p99;
};

ClusterSummary summarize(std::uint32_t nodes, const std::vector<ClusterResult>& runs);

}  // namespace grapevine::sim
