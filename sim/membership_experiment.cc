#include "sim/membership_experiment.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>

#include "sim/stats.h"
#include "util/rng.h"

namespace grapevine::sim {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();

struct Roles {
  std::vector<NodeIndex> crashed, leavers, slow;
  std::vector<std::uint8_t> role;  // 0 survivor, 1 crashed, 2 leaver (slow ones are survivors)
  std::vector<bool> is_slow;
};

// Distinct random members for each role; the introducer (0) always survives.
Roles assign_roles(const MembershipExperiment& e, Rng& rng) {
  Roles r;
  r.role.assign(e.nodes, 0);
  r.is_slow.assign(e.nodes, false);
  std::vector<NodeIndex> pool;
  for (NodeIndex i = 1; i < e.nodes; ++i) pool.push_back(i);
  rng.shuffle(std::span(pool));
  std::size_t next = 0;
  auto take = [&](std::uint32_t k, std::vector<NodeIndex>& out) {
    for (std::uint32_t j = 0; j < k && next < pool.size(); ++j) out.push_back(pool[next++]);
  };
  take(e.fail, r.crashed);
  take(e.leave, r.leavers);
  take(e.slow, r.slow);
  for (NodeIndex i : r.crashed) r.role[i] = 1;
  for (NodeIndex i : r.leavers) r.role[i] = 2;
  for (NodeIndex i : r.slow) r.is_slow[i] = true;
  return r;
}

}  // namespace

MembershipResult run_membership(const MembershipExperiment& e,
                                const std::function<void(const MembershipEventRecord&)>& on_event) {
  const auto wall_start = std::chrono::steady_clock::now();
  MembershipClusterOptions o;
  o.nodes = e.nodes;
  o.config = e.config;
  LinkProfile link;
  link.latency_min = e.latency_min;
  link.latency_max = e.latency_max;
  link.loss = e.loss;
  o.network = NetworkConfig::uniform(link);
  o.seed = e.seed;
  o.join_spread = e.join_spread;
  o.preloaded = e.preloaded;
  MembershipCluster c(o);
  Rng rng(derive_seed(e.seed, 0x726f6c65));
  const Roles roles = assign_roles(e, rng);
  const double fail_at = e.fail_at.to_seconds();

  // Per (observer, subject) first failed/left time, only for subjects that crash or leave.
  std::vector<std::int32_t> watched(e.nodes, -1);  // subject -> column
  std::vector<NodeIndex> columns;
  for (NodeIndex s : roles.crashed) watched[s] = std::int32_t(columns.size()), columns.push_back(s);
  for (NodeIndex s : roles.leavers) watched[s] = std::int32_t(columns.size()), columns.push_back(s);
  std::vector<double> failed_at(std::size_t(e.nodes) * columns.size(), kNever);
  std::vector<double> left_at(std::size_t(e.nodes) * columns.size(), kNever);
  std::vector<std::uint32_t> false_by(e.nodes, 0);
  std::map<std::pair<NodeIndex, NodeIndex>, double> open_false;  // (observer, subject) -> time
  MembershipResult r;
  r.nodes = e.nodes;

  c.sim().set_observer([&](Time now, NodeIndex observer, const Event& ev) {
    if (ev.kind == EventKind::delivered) return;
    NodeIndex subject = c.index_of(ev.subject_id);
    MembershipEventRecord rec{now, observer, subject, ev.kind};
    if (on_event) on_event(rec);
    if (subject >= e.nodes) return;
    const double t = now.to_seconds();
    const bool gone = t >= fail_at && roles.role[subject] != 0;
    const std::int32_t col = watched[subject];
    if (ev.kind == EventKind::failed) {
      if (!gone) {
        ++r.false_failures;
        ++false_by[observer];
        open_false.emplace(std::make_pair(observer, subject), t);
        if (roles.is_slow[subject]) ++r.false_failures_at_slow;
        if (roles.is_slow[observer]) ++r.false_failures_by_slow;
      } else if (roles.role[subject] == 2) {
        ++r.leaves_as_failed;
      } else {
        double& cell = failed_at[std::size_t(observer) * columns.size() + std::size_t(col)];
        cell = std::min(cell, t);
      }
    } else if (ev.kind == EventKind::left && gone && roles.role[subject] == 2) {
      double& cell = left_at[std::size_t(observer) * columns.size() + std::size_t(col)];
      cell = std::min(cell, t);
    } else if (ev.kind == EventKind::joined && gone && roles.role[subject] == 1) {
      ++r.resurrections;
    } else if (ev.kind == EventKind::joined) {
      open_false.erase(std::make_pair(observer, subject));  // taken back
    }
  });

  // Join phase: measure convergence (everyone lists everyone alive).
  for (Time t = Time::zero(); t < Time::zero() + e.fail_at;) {
    t = std::min(Time::zero() + e.fail_at, t + Duration::milliseconds(250));
    c.sim().run_until(t);
    if (r.join_convergence_seconds < 0) {
      bool all = true;
      for (NodeIndex i = 0; i < e.nodes && all; ++i) {
        all = c.node(i).member_count(MemberState::alive) == e.nodes;
      }
      if (all) r.join_convergence_seconds = t.to_seconds();
    }
  }
  for (NodeIndex i : roles.crashed) c.crash(i);
  for (NodeIndex i : roles.leavers) c.leave(i);
  for (NodeIndex i : roles.slow) c.set_slow(i, e.slow_service);
  c.sim().run_until(Time::zero() + e.duration);

  // ---- metrics ----
  r.crashed = std::uint32_t(roles.crashed.size());
  r.left = std::uint32_t(roles.leavers.size());
  r.slow = std::uint32_t(roles.slow.size());
  std::vector<NodeIndex> survivors;
  for (NodeIndex i = 0; i < e.nodes; ++i) {
    if (roles.role[i] == 0) survivors.push_back(i);
  }
  r.survivors = std::uint32_t(survivors.size());
  std::uint64_t detected = 0, accurate = 0, saw_left = 0;
  std::vector<double> first, all;
  for (NodeIndex s : roles.crashed) {
    double earliest = kNever, latest = 0;
    for (NodeIndex o : survivors) {
      double t = failed_at[std::size_t(o) * columns.size() + std::size_t(watched[s])];
      if (t < kNever) ++detected;
      earliest = std::min(earliest, t);
      latest = std::max(latest, t);
    }
    if (earliest < kNever) first.push_back(earliest - fail_at);
    if (latest < kNever && !survivors.empty()) {
      all.push_back(latest - fail_at);
      ++r.crashes_detected_by_all;
    }
  }
  for (NodeIndex s : roles.leavers) {
    for (NodeIndex o : survivors) {
      if (left_at[std::size_t(o) * columns.size() + std::size_t(watched[s])] < kNever) ++saw_left;
    }
  }
  for (NodeIndex o : survivors) accurate += false_by[o] == 0 ? 1 : 0;
  const double pairs = double(survivors.size()) * double(roles.crashed.size());
  r.completeness = pairs > 0 ? double(detected) / pairs : 1.0;
  r.accuracy = survivors.empty() ? 1.0 : double(accurate) / double(survivors.size());
  const double leave_pairs = double(survivors.size()) * double(roles.leavers.size());
  r.leaves_seen_as_left = leave_pairs > 0 ? double(saw_left) / leave_pairs : 1.0;
  const double heal_grace = e.duration.to_seconds() - 30.0;
  for (const auto& [pair, t] : open_false) {
    if (t < heal_grace && roles.role[pair.first] == 0) ++r.unhealed_false_failures;
  }
  // Final agreement: survivors' live views hold exactly the survivors.
  r.final_views_agree = true;
  for (NodeIndex o : survivors) {
    const Group& g = c.node(o).live_group();
    std::uint32_t matched = 0;
    for (std::uint32_t k = 0; k < g.size(); ++k) {
      NodeIndex j = c.index_of(node_id_of(g.address(k)));
      if (j < e.nodes && roles.role[j] == 0) ++matched;
    }
    if (matched != survivors.size() || g.size() != survivors.size()) {
      r.final_views_agree = false;
      break;
    }
  }
  r.detection_first_samples = first;
  r.detection_all_samples = all;
  if (!first.empty()) {
    r.detection_first_seconds_p50 = percentile(first, 0.5);
    r.detection_first_seconds_p99 = percentile(first, 0.99);
  }
  if (!all.empty()) {
    r.detection_all_seconds_p50 = percentile(all, 0.5);
    r.detection_all_seconds_p99 = percentile(all, 0.99);
  }
  std::uint64_t messages = 0, bytes = 0;
  for (NodeIndex i = 0; i < e.nodes; ++i) {
    const MembershipStats& s = c.node(i).stats();
    messages += s.datagrams_sent + s.streams_sent;
    bytes += s.bytes_sent + s.stream_bytes_sent;
    r.suspicions += s.suspicions;
    r.refutations += s.refutations;
    r.probes += s.probes;
    r.probes_failed += s.probes_failed;
    r.indirect_probes += s.indirect_probes;
    r.nacks += s.nacks_received;
    r.push_pulls += s.push_pulls;
  }
  const double member_seconds = double(e.nodes) * e.duration.to_seconds();
  r.messages_per_member_per_second = double(messages) / member_seconds;
  r.bytes_per_member_per_second = double(bytes) / member_seconds;
  r.events = c.sim().counters().events;
  r.delivery_hash = c.sim().delivery_hash();
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

}  // namespace grapevine::sim
