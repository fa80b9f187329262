// Partial-view experiments: N nodes join one by one through a contact, run C cycles (periods),
// then the overlay is measured (view sizes, in-degree distribution, clustering, path length,
// T-MAN's ring), multicasts are flooded over it (or Plumtree for HyParView), a fraction F of
// the nodes crashes at once, and the same multicasts run again while dead links are counted
// cycle by cycle.
//
// Timeline of one run (period T = config.period, one cycle = one T):
//   joins     node i joins at i * join_spacing through node 0 or a random earlier node
//   cycles    C periods after the last join; T-MAN's ring fraction is sampled after each
//   leaves    (leave_fraction > 0) round(L * N) random nodes leave gracefully (leave()), one
//             every leave_spacing, then one settling period; they count as gone from here on
//   measure   the overlay graph of view() edges among live nodes
//   before    M multicasts, one per period from random nodes, then one settling period
//   failure   round(F * N) random nodes crash at once
//   after     after_cycles periods (at least M + 2); multicast k goes out at the start of
//             period k (k < M); dead links are counted at the end of each period
// Deliveries are counted until the end of the run, so a late repair (Plumtree GRAFT) counts.
//
// Redundancy (Leitao et al.): RMR = m / (n - 1) - 1 per phase, with m the payload copies sent
// (sum of ViewStats::payload_sent) and n - 1 summed over the phase's messages. Last delivery hop
// is the largest Event::hops among a message's deliveries, averaged over messages.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "grapevine/time.h"
#include "grapevine/view.h"

namespace grapevine::sim {

struct ViewsExperiment {
  ViewConfig config;
  std::uint32_t nodes = 1000;
  std::uint32_t cycles = 30;
  double fail_fraction = 0.0;
  /// Fraction of the nodes that leave gracefully, one by one, before the measurement.
  double leave_fraction = 0.0;
  /// Time between two leaves (zero = the join spacing).
  Duration leave_spacing = Duration::zero();
  std::uint64_t seed = 1;
  std::uint32_t runs = 1;
  std::uint32_t threads = 0;  // 0 = one per core, capped by runs
  /// Multicasts before and (again) after the failure.
  std::uint32_t multicasts = 5;
  /// Periods run after the failure (raised to multicasts + 2).
  std::uint32_t after_cycles = 20;
  /// Join through a random earlier node (the papers' setting) or always node 0.
  bool random_contact = true;
  Duration join_spacing = Duration::milliseconds(10);
  Duration latency_min = Duration::milliseconds(1);
  Duration latency_max = Duration::milliseconds(10);
  /// BFS sources for the path length; nodes sampled for the clustering coefficient.
  std::uint32_t path_samples = 100;
  std::uint32_t clustering_samples = 2000;
  std::uint32_t payload_bytes = 16;
};

struct ViewsRun {
  std::uint32_t live_before = 0, live_after = 0;
  std::uint32_t left = 0;              // nodes that left gracefully
  std::uint64_t links_to_leavers = 0;  // view() links of remaining nodes to them, at measure
  double view_size_mean = 0, view_size_p50 = 0;
  std::uint32_t view_size_max = 0;
  double passive_size_mean = 0;
  double in_degree_mean = 0, in_degree_stddev = 0;
  std::uint32_t in_degree_max = 0;
  std::vector<std::uint32_t> in_degree_histogram;  // [d] = live nodes with in-degree d
  double clustering = 0;
  double path_length_mean = 0;
  double reachable_fraction = 0;  // of (source, live node) pairs reached by BFS
  std::uint64_t dead_links_at_failure = 0;
  std::uint64_t dead_links = 0;                           // at the end of the run
  std::vector<std::uint64_t> dead_links_curve;            // after each period since the failure
  std::vector<double> delivered_before, delivered_after;  // per message, fraction of live nodes
  double rmr_before = 0, rmr_after = 0;
  double last_delivery_hop_before = 0, last_delivery_hop_after = 0;
  std::vector<double> ring_curve;  // T-MAN: fraction of nodes holding both ring neighbours
  int ring_converged_cycle = -1;   // first cycle where that fraction is 1 (-1 = never)
  std::uint64_t control_sent = 0;
  std::uint64_t events = 0;
  std::uint64_t delivery_hash = 0;
};

struct ViewsSummary {
  ViewsExperiment experiment;
  std::vector<ViewsRun> runs;
  // Means over runs.
  double view_size_mean = 0, view_size_p50 = 0, view_size_max = 0, passive_size_mean = 0;
  double in_degree_mean = 0, in_degree_stddev = 0, in_degree_max = 0;
  /// What a random graph with the same mean out-degree would show (binomial in-degree).
  double in_degree_stddev_random = 0, clustering_random = 0;
  std::vector<std::uint64_t> in_degree_histogram;  // summed over runs
  double clustering = 0, path_length_mean = 0, reachable_fraction = 0;
  double dead_links_at_failure = 0, dead_links = 0;
  double links_to_leavers = 0;
  std::vector<double> dead_links_curve;
  double delivered_fraction_before = 0, delivered_fraction_before_min = 0;
  double delivered_fraction_after = 0, delivered_fraction_after_min = 0;
  std::uint32_t runs_fully_delivered_before = 0, runs_fully_delivered_after = 0;
  double rmr = 0, rmr_after = 0, last_delivery_hop = 0, last_delivery_hop_after = 0;
  std::vector<double> ring_curve;
  double ring_converged_cycle = -1;  // mean over runs that converged; -1 if none did
  std::uint32_t runs_ring_converged = 0;
  double control_messages_per_node_per_cycle = 0;
  std::uint64_t delivery_hash = 0;
  std::uint64_t events = 0;
  double wall_seconds = 0;
};

/// One seeded run (deterministic: same experiment and run index, same result).
ViewsRun run_views_once(const ViewsExperiment& e, std::uint32_t run_index);

/// e.runs runs on e.threads threads, aggregated. `progress(done, total)` may be empty.
ViewsSummary run_views(const ViewsExperiment& e,
                       const std::function<void(std::uint32_t, std::uint32_t)>& progress);

}  // namespace grapevine::sim
