// The `grapevine demo` scenario replayed in the simulator on the same Node, so the two can be
// compared (`grapevine sim cluster --scenario demo`): N nodes join through node 0 at join_rate
// per second; once every node lists all N alive, node N/2 multicasts one message; then `crashes`
// nodes (1 + k (N - 2) / crashes) crash at once; once every survivor marked them failed, node
// N - 1 leaves. The same waits and timeouts as tools/demo.cc (30 s + N / rate for the join,
// 10 s for the multicast, 90 s for the detections, 15 s for the leave), polled every 20 ms.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "sim/cluster_experiment.h"

namespace grapevine::sim {

struct DemoCrash {
  NodeIndex node = 0;
  double detection_first_seconds = -1, detection_all_seconds = -1;
};

struct DemoResult {
  std::uint32_t nodes = 0;
  double join_convergence_seconds = -1;
  double multicast_delivery_seconds = -1;
  double multicast_delivered_fraction = 0;
  std::vector<DemoCrash> crashes;
  double leave_seen_as_left_fraction = 0;
  std::uint64_t false_failures = 0;
  double messages_per_node_per_second = 0, bytes_per_node_per_second = 0;
  double elapsed_seconds = 0;  // simulated
  std::uint64_t events = 0, delivery_hash = 0;
  double wall_seconds = 0;
};

/// Uses e.nodes, config, bootstrap, join_rate, latency and seed (not the faults, multicasts or
/// duration). Needs nodes >= 4 and crashes + 2 <= nodes.
DemoResult run_demo_scenario(const ClusterExperiment& e, std::uint32_t crashes,
                             const std::function<void(const ClusterEvent&)>& on_event);

}  // namespace grapevine::sim
