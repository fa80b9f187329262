// Multicast experiments: one protocol configuration run R times over N simulated nodes, with the
// measurements a user and a researcher want (delivered fraction, rounds to each fraction,
// messages and bytes per node, redundancy, origin load, router crossings) and the infection
// curve, optionally beside the mean-field recursion it should follow.
//
// Synchronous mode (the analyses' model): every node ticks at k*period exactly, every packet
// takes period/10, so a node infected in round k spreads in round k+1. Rounds are integers:
// the origin multicasts at t=0 and a delivery at time t belongs to round floor(t/period).
// Asynchronous mode: random phases, jittered periods, per-link latency in [min, max] plus
// jitter; rounds are t/period as a real number.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "grapevine/multicast.h"
#include "grapevine/time.h"

namespace grapevine::sim {

struct MulticastExperiment {
  MulticastConfig config;
  std::uint32_t nodes = 1000;
  std::uint32_t subnets = 1;
  double loss = 0.0;
  /// Fraction of nodes (never the origin) dead from t=0: they never answer.
  double crashed_fraction = 0.0;
  bool synchronous = true;
  // Asynchronous network (ignored in synchronous mode).
  Duration latency_min = Duration::milliseconds(5);
  Duration latency_max = Duration::milliseconds(50);
  Duration jitter = Duration::milliseconds(5);
  /// Extra latency on links between subnets.
  Duration cross_latency = Duration::zero();
  std::uint64_t uplink_bytes_per_second = 0;
  /// Stop after this many rounds even if not everyone has the message; 0 = automatic
  /// (4 * (log2 N + ln N) + 20).
  std::uint32_t max_rounds = 0;
  std::uint32_t payload_bytes = 64;
  /// Keep running after everyone delivered, until every node has stopped spreading (to count
  /// the full cost of a stop rule); still bounded by max_rounds.
  bool until_quiescent = false;
  /// Crash the origin right after its K-th datagram (0 = never): the baselines' weak spot.
  std::uint32_t origin_crash_after_sends = 0;
  /// Crash the K nodes just below the origin in its tree (indices 1..K) at t=0, whatever the
  /// protocol, so trees and gossip face the same fault.
  std::uint32_t crash_interior = 0;
  /// Push, pull and push-pull nodes as one flat GossipPopulation (64 bytes a node, one
  /// allocation) instead of one GossipMulticast each: the same run (same delivery hash), faster
  /// and smaller at 10^6 nodes and beyond. Off only to compare the two.
  bool flat_gossip = true;
  std::uint64_t seed = 1;
  std::uint32_t runs = 1;
  std::uint32_t threads = 0;  // 0 = one per core (runs are independent); 1 with sim_threads
  /// 0: the single-threaded Simulator. K >= 1: each run on a ShardedSimulator of K shards and K
  /// threads (sim/sharded_simulator.h): the same results on any K (its own delivery hash, not
  /// Simulator's), flat_gossip as there (the population striped per shard), runs one after
  /// another unless `threads` says otherwise. Refuses (check_sharded)
  /// uplink_bytes_per_second and origin_crash_after_sends.
  std::uint32_t sim_threads = 0;
};

/// Empty if `e` can run on the sharded simulator (or does not ask to), else why not.
std::string check_sharded(const MulticastExperiment& e);

struct MulticastRun {
  std::uint32_t live = 0;
  std::uint32_t delivered = 0;  // live nodes that delivered
  bool all_delivered = false;
  std::uint32_t rounds_run = 0;
  /// Rounds until 50/90/99/100 % of live nodes delivered; < 0 if never reached.
  double rounds_to[4] = {-1, -1, -1, -1};
  double seconds_to_all = -1;
  std::vector<std::uint32_t> curve;  // live nodes holding the message at the end of each round
  std::uint64_t datagrams = 0;    // that left on the wire (network counters)
  std::uint64_t data_frames = 0;
  std::uint64_t bytes = 0;
  std::uint64_t origin_datagrams = 0;
  std::uint64_t data_received = 0;
  std::uint64_t cross_router = 0;
  std::uint64_t router_max = 0;  // busiest single router
  std::uint64_t events = 0;
  std::uint64_t delivery_hash = 0;
};

struct MulticastSummary {
  MulticastExperiment experiment;
  std::vector<MulticastRun> runs;
  /// Rounds until every live node delivered, over the runs that got there; NaN if none did.
  double rounds_mean = 0, rounds_p50 = 0, rounds_max = 0;
  double rounds_sd = 0;  // sample standard deviation of the same (NaN if none completed)
  /// Rounds simulated (to completion, quiescence or max_rounds), mean over all runs.
  double rounds_run_mean = 0;
  /// NaN if no run reached 50% (resp. 100%).
  double rounds_to_50_mean = 0, rounds_50_to_100_mean = 0;
  double delivered_fraction_mean = 0, delivered_fraction_min = 0;
  std::uint32_t runs_all_delivered = 0;
  double messages_per_node_mean = 0, data_messages_per_node_mean = 0, bytes_per_node_mean = 0;
  double redundancy_mean = 0;  // payload copies received per delivering node
  double origin_messages_mean = 0;
  double cross_router_messages_per_round_mean = 0;
  double busiest_router_messages_per_round_mean = 0;
  double seconds_to_all_mean = 0;  // NaN if no run completed
  std::vector<double> curve_mean;        // fraction of live nodes per round, mean over runs
  std::vector<double> curve_mean_field;  // gossip only, no crashes: the recursion of Demers/Pittel
  std::uint64_t delivery_hash = 0;       // over all runs, in run order
  std::uint64_t events = 0;
  double wall_seconds = 0;
};

/// Runs one seeded run (deterministic: same experiment and run index, same result).
MulticastRun run_multicast_once(const MulticastExperiment& e, std::uint32_t run_index);

/// Runs e.runs runs on e.threads threads and aggregates. Throws std::invalid_argument if
/// check_sharded(e) is not empty. `progress(done, total)` is called from
/// the calling thread as runs finish (may be empty).
MulticastSummary run_multicast(const MulticastExperiment& e,
                               const std::function<void(std::uint32_t, std::uint32_t)>& progress);

/// The automatic round limit for n nodes.
std::uint32_t default_max_rounds(std::uint32_t n) noexcept;

/// Mean-field infected fraction per round for push/pull/pushpull (uniform choice, no crashes).
std::vector<double> mean_field_curve(const MulticastConfig& c, std::uint32_t n, double loss,
                                     std::uint32_t rounds);

}  // namespace grapevine::sim
