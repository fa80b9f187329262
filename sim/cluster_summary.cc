// summarize(): pools the runs of a cluster experiment into what `sim cluster --json` prints.
#include <algorithm>

#include "sim/cluster_experiment.h"
#include "sim/stats.h"

namespace grapevine::sim {
namespace {

std::optional<double> pct(const std::vector<double>& v, double q) {
  if (v.empty()) return std::nullopt;
  return percentile(v, q);
}

double mean_of(const std::vector<ClusterResult>& runs, double ClusterResult::*field) {
  double s = 0;
  for (const auto& r : runs) s += r.*field;
  return runs.empty() ? 0 : s / double(runs.size());
}

// The mean of the runs where the field is >= 0 (measured), or nullopt if none.
std::optional<double> mean_measured(const std::vector<ClusterResult>& runs,
                                    double ClusterResult::*field) {
  double s = 0;
  std::uint32_t n = 0;
  for (const auto& r : runs) {
    if (r.*field < 0) continue;
    s += r.*field;
    ++n;
  }
  if (n == 0) return std::nullopt;
  return s / double(n);
}

// Consistent membership: the view-log metrics pooled over the runs.
void consistent_summary(const std::vector<ClusterResult>& runs, ClusterSummary& s) {
  if (runs.empty() || !runs.front().consistent) return;
  s.consistent = true;
  std::vector<double> changes;
  for (const auto& r : runs) {
    s.configurations += r.configurations;
    s.distinct_membership_sizes =
        std::max(s.distinct_membership_sizes, r.distinct_membership_sizes);
    changes.insert(changes.end(), r.view_change_samples.begin(), r.view_change_samples.end());
  }
  s.view_agreement = mean_of(runs, &ClusterResult::view_agreement);
  s.bootstrap_seconds = mean_measured(runs, &ClusterResult::bootstrap_seconds);
  s.view_change_seconds_p50 = pct(changes, 0.5);
  s.view_change_seconds_p99 = pct(changes, 0.99);
}

}  // namespace

ClusterSummary summarize(std::uint32_t nodes, const std::vector<ClusterResult>& runs) {
  ClusterSummary s;
  s.nodes = nodes;
  s.runs = std::uint32_t(runs.size());
  std::vector<double> first, all, delivery;
  bool partition = false, unmerged = false;
  for (const auto& r : runs) {
    s.crashed += r.crashed, s.restarted += r.restarted, s.left += r.left;
    s.false_failures += r.false_failures;
    s.partition_failures += r.partition_failures;
    s.stale_failures += r.stale_failures;
    s.leaves_seen_as_failed += r.leaves_as_failed;
    s.multicasts += r.multicasts;
    s.events += r.events;
    s.alive_queued_gossip += r.alive_queued_gossip;
    s.alive_queued_push_pull += r.alive_queued_push_pull;
    s.alive_join_reply_quiet += r.alive_join_reply_quiet;
    s.updates_sent += r.updates_sent;
    s.rumors_stopped += r.rumors_stopped;
    s.wall_seconds += r.wall_seconds;
    s.runs_join_converged += r.join_convergence_seconds >= 0 ? 1 : 0;
    s.runs_final_converged += r.final_converged ? 1 : 0;
    first.insert(first.end(), r.detection_first_samples.begin(), r.detection_first_samples.end());
    all.insert(all.end(), r.detection_all_samples.begin(), r.detection_all_samples.end());
    delivery.insert(delivery.end(), r.multicast_delivery_samples.begin(),
                    r.multicast_delivery_samples.end());
    partition = partition || r.had_partition;
    unmerged = unmerged || (r.had_partition && r.partition_heal_seconds < 0);
  }
  if (!runs.empty()) {
    s.duration_seconds = runs.front().duration_seconds;
    s.delivery_hash = runs.front().delivery_hash;
    s.steady_from_seconds = runs.front().steady_from_seconds;
    s.steady_to_seconds = runs.front().steady_to_seconds;
  }
  s.join_convergence_seconds = mean_measured(runs, &ClusterResult::join_convergence_seconds);
  s.completeness = mean_of(runs, &ClusterResult::completeness);
  s.accuracy = mean_of(runs, &ClusterResult::accuracy);
  s.detection_first_seconds_p50 = pct(first, 0.5);
  s.detection_first_seconds_p99 = pct(first, 0.99);
  s.detection_all_seconds_p50 = pct(all, 0.5);
  s.detection_all_seconds_p99 = pct(all, 0.99);
  s.leaves_seen_as_left = mean_of(runs, &ClusterResult::leaves_seen_as_left);
  if (partition) {
    s.partition_heal_seconds =
        unmerged ? -1.0 : *mean_measured(runs, &ClusterResult::partition_heal_seconds);
  }
  s.multicast_delivered_fraction = mean_of(runs, &ClusterResult::multicast_delivered_fraction);
  s.multicast_delivery_seconds_p50 = pct(delivery, 0.5);
  s.multicast_delivery_seconds_p99 = pct(delivery, 0.99);
  s.cross_zone_messages_per_round_mean =
      mean_measured(runs, &ClusterResult::cross_zone_messages_per_round);
  s.messages_per_node_per_second = mean_of(runs, &ClusterResult::messages_per_node_per_second);
  s.bytes_per_node_per_second = mean_of(runs, &ClusterResult::bytes_per_node_per_second);
  s.steady_messages_per_node_per_second =
      mean_measured(runs, &ClusterResult::steady_messages_per_node_per_second);
  s.steady_bytes_per_node_per_second =
      mean_measured(runs, &ClusterResult::steady_bytes_per_node_per_second);
  consistent_summary(runs, s);
  return s;
}

}  // namespace grapevine::sim
