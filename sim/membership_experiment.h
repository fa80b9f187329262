// Membership experiments: N members join through one introducer, then at fail_at K crash, L
// others leave gracefully and M others turn slow (every event costs them slow_service of CPU,
// queued FIFO); the run goes on until `duration`. From every membership event we measure what
// the literature measures: completeness, accuracy, false failures, detection latencies, leaves
// told apart from failures, and the load per member.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "grapevine/membership.h"
#include "sim/membership_cluster.h"

namespace grapevine::sim {

struct MembershipExperiment {
  MembershipConfig config;
  std::uint32_t nodes = 100;
  double loss = 0.0;         // datagrams
  double stream_loss = 0.0;  // stream messages (LinkProfile::stream_loss)
  std::uint32_t fail = 1;
  Duration fail_at = Duration::seconds(30);
  std::uint32_t leave = 0;
  std::uint32_t slow = 0;
  Duration slow_service = Duration::milliseconds(50);
  /// Non-zero: slow members *lag* instead: each datagram they receive is handled slow_lag after
  /// it arrived (a backlog in the receive path), while their timers fire on time and streams
  /// are unaffected -- the slow message processing Lifeguard is about. Zero: slow members are
  /// CPU-starved (slow_service per event, timers included, FIFO).
  Duration slow_lag = Duration::zero();
  Duration duration = Duration::seconds(120);
  Duration join_spread = Duration::seconds(5);
  bool preloaded = false;  // start converged instead of joining (MembershipClusterOptions)
  Duration latency_min = Duration::milliseconds(1);
  Duration latency_max = Duration::milliseconds(5);
  std::uint64_t seed = 1;
};

struct MembershipResult {
  std::uint32_t nodes = 0, crashed = 0, left = 0, slow = 0, survivors = 0;
  double join_convergence_seconds = -1;  // until every member listed every other one
  double completeness = 0;               // (survivor, crashed) pairs marked failed
  double accuracy = 0;                   // survivors that never marked a live member failed
  std::uint64_t false_failures = 0;      // failed events about live members
  std::uint64_t false_failures_at_slow = 0;  // ...of which about a slow member
  std::uint64_t false_failures_by_slow = 0;  // ...of which observed by a slow member
  std::uint64_t leaves_as_failed = 0;    // failed events about members that had left
  std::uint64_t resurrections = 0;       // joined events about crashed members, by observers
                                         // that had marked them failed
  double detection_first_seconds_p50 = -1, detection_first_seconds_p99 = -1;
  double detection_all_seconds_p50 = -1, detection_all_seconds_p99 = -1;
  std::uint32_t crashes_detected_by_all = 0;
  double leaves_seen_as_left = 0;        // (survivor, leaver) pairs that saw "left"
  /// At the end, every survivor lists exactly the survivors as alive or suspect.
  bool final_views_agree = false;
  /// False failures older than 30 s at the end that the observer never took back (the member
  /// refutes and is listed again): should be 0 whatever the loss.
  std::uint64_t unhealed_false_failures = 0;
  std::uint64_t suspicions = 0, refutations = 0;
  std::uint64_t probes = 0, probes_failed = 0, indirect_probes = 0, nacks = 0, push_pulls = 0;
  std::uint64_t stream_pings = 0, stream_ping_acks = 0;  // SWIM's TCP fallback
  double messages_per_member_per_second = 0;
  double bytes_per_member_per_second = 0;
  std::vector<double> detection_first_samples;  // per crashed member, seconds
  std::vector<double> detection_all_samples;
  /// Per crashed member: seconds from the crash to the first `suspected` event about it
  /// anywhere, i.e. the end of the first probe that failed (SWIM's "first detection"; the
  /// failure verdict comes a suspicion timeout later). Empty for heartbeat detectors.
  std::vector<double> suspicion_first_samples;
  /// Per (survivor, crashed) pair that saw both: seconds from its `suspected` to its `failed`
  /// event (the suspicion timeout it applied, shortened by Lifeguard's confirmations).
  std::vector<double> suspicion_to_failure_samples;
  /// Per leaver seen as left by every survivor: seconds from the leave until the last did.
  std::vector<double> leave_all_samples;
  /// SWIM detectors, per (survivor, crashed) pair: probe periods from the crash to the end of
  /// the survivor's *own* first probe of the crashed member (SWIM's per-member bound, 2n-1
  /// with round-robin targets). Pairs whose member was declared failed first are not probed
  /// again: they count in own_probe_pairs_missing (make the suspicion long to measure this).
  std::vector<double> own_probe_periods;
  std::uint64_t own_probe_pairs_missing = 0;
  /// Gossip heartbeat: seconds from a member raising its counter to every survivor holding it
  /// (up to 10 survivors tracked, one beat after another, from fail_at on).
  std::vector<double> heartbeat_spread_samples;
  std::uint64_t heartbeat_spreads_unfinished = 0;
  /// Datagrams and streams sent from fail_at to the end, per member still running (not
  /// crashed) per second: the steady state, without the join storm.
  double steady_messages_per_member_per_second = 0;
  double steady_bytes_per_member_per_second = 0;
  std::uint64_t events = 0;              // simulator events
  std::uint64_t delivery_hash = 0;
  double wall_seconds = 0;
};

/// Runs the experiment; `on_event` (may be empty) sees every membership event as it happens.
MembershipResult run_membership(const MembershipExperiment& e,
                                const std::function<void(const MembershipEventRecord&)>& on_event);

}  // namespace grapevine::sim
