#include "sim/cluster_experiment.h"

#include "wire/native.h"

#include <algorithm>
#include <chrono>
#include <limits>

#include "sim/stats.h"
#include "util/rng.h"
#include "wire/native.h"

namespace grapevine::sim {
namespace {

constexpr double kNever = std::numeric_limits<double>::infinity();
// A crash counts for completeness only if the member stayed down this long (or to the end).
constexpr double kMinDownSeconds = 30.0;
// After a fault, the group needs this long before the load is steady again.
constexpr double kSettleSeconds = 30.0;

enum Role : std::uint8_t { kSurvivor = 0, kCrashed = 1, kLeaver = 2 };

struct Snapshot {
  double seconds;
  std::uint64_t messages, bytes;
  std::uint32_t up;
};

// One experiment run: the cluster, the fault schedule and what the events told us.
class Run {
 public:
  Run(const ClusterExperiment& e, const std::function<void(const ClusterEvent&)>& on_event);
  ClusterResult go();

 private:
  NodeClusterOptions options() const;
  void schedule();
  void apply(const Fault& f);
  std::vector<NodeIndex> pick(std::uint32_t k, bool survivors_only, bool spare_zero);
  void send_multicast(std::uint32_t k);
  void observe(const ClusterEvent& ev);
  void poll(double t);
  void sample(double t);
  void detection_metrics();
  void leave_metrics();
  void multicast_metrics();
  void load_metrics();
  void view_metrics();

  const ClusterExperiment& e_;
  const std::function<void(const ClusterEvent&)>& on_event_;
  NodeCluster c_;
  Rng rng_;
  ClusterResult r_;
  std::vector<std::uint8_t> role_;
  std::vector<double> crashed_at_, restarted_at_, left_at_;
  std::vector<std::int32_t> column_;  // crashed or leaver -> column of the matrices
  std::vector<NodeIndex> columns_;
  std::vector<double> failed_, left_seen_;  // [observer * columns + column]: first time
  std::vector<bool> false_by_;
  std::uint64_t false_seen_ = 0;
  double heal_at_ = -1;
  std::vector<std::pair<double, double>> disturbed_;  // [from, to] seconds
  std::vector<Snapshot> snapshots_;
  std::size_t stride_ = 1;  // columns of the matrices
  std::uint64_t last_round_ = UINT64_MAX;  // the last round a multicast datagram was seen in
};

Run::Run(const ClusterExperiment& e, const std::function<void(const ClusterEvent&)>& on_event)
    : e_(e), on_event_(on_event), c_(options()), rng_(derive_seed(e.seed, 0x6661756c74)) {
  role_.assign(e.nodes, kSurvivor);
  crashed_at_.assign(e.nodes, kNever);
  restarted_at_.assign(e.nodes, kNever);
  left_at_.assign(e.nodes, kNever);
  column_.assign(e.nodes, -1);
  false_by_.assign(e.nodes, false);
  r_.nodes = e.nodes;
  r_.duration_seconds = e.duration.to_seconds();
  c_.set_on_event([this](const ClusterEvent& ev) { observe(ev); });
  if (e.zones > 1 && e.multicasts > 0) {
    // Multicast datagrams (first frame after the version byte in the multicast family), by
    // round (multicast period) of the run: all of them, and those that crossed zones.
    c_.sim().set_datagram_tap([this](bool cross, std::span<const std::byte> b) {
      if (b.size() < 2 ||
          !wire::in_family(std::to_integer<std::uint8_t>(b[1]), wire::FrameFamily::multicast)) {
        return;
      }
      const auto round =
          std::uint64_t(c_.now().ns() / std::max<std::int64_t>(1, e_.config.multicast.period.ns()));
      if (round != last_round_) {
        last_round_ = round;
        ++r_.multicast_rounds;
      }
      if (cross) ++r_.cross_zone_multicast_messages;
    });
  }
}

NodeClusterOptions Run::options() const {
  NodeClusterOptions o;
  o.nodes = e_.nodes;
  o.config = e_.config;
  LinkProfile link;
  link.latency_min = e_.latency_min;
  link.latency_max = e_.latency_max;
  o.network = NetworkConfig::uniform(link);
  if (e_.zones > 1) {
    o.network.cross.latency_min = e_.cross_latency_min;
    o.network.cross.latency_max = e_.cross_latency_max;
    o.zones = e_.zones;
  }
  o.seed = e_.seed;
  o.bootstrap = e_.bootstrap;
  o.join_rate = e_.join_rate;
  o.seeds = e_.seeds;
  o.record_events = false;
  return o;
}

// k distinct random active members (survivors only: never crashed or left), in draw order.
std::vector<NodeIndex> Run::pick(std::uint32_t k, bool survivors_only, bool spare_zero) {
  std::vector<NodeIndex> pool;
  for (NodeIndex i = spare_zero ? 1 : 0; i < e_.nodes; ++i) {
    if (c_.active(i) && (!survivors_only || role_[i] == kSurvivor)) pool.push_back(i);
  }
  rng_.shuffle(std::span(pool));
  pool.resize(std::min<std::size_t>(pool.size(), k));
  return pool;
}

void Run::apply(const Fault& f) {
  const double now = c_.now().to_seconds();
  switch (f.kind) {
    case FaultKind::crash:
      for (NodeIndex i : pick(f.count, true, true)) {
        c_.crash(i);
        role_[i] = kCrashed;
        crashed_at_[i] = now;
        column_[i] = std::int32_t(columns_.size());
        columns_.push_back(i);
        ++r_.crashed;
      }
      break;
    case FaultKind::restart: {
      std::vector<NodeIndex> down;
      for (NodeIndex i : columns_) {
        if (role_[i] == kCrashed && restarted_at_[i] == kNever) down.push_back(i);
      }
      rng_.shuffle(std::span(down));
      for (std::size_t k = 0; k < std::min<std::size_t>(f.count, down.size()); ++k) {
        c_.restart(down[k]);
        restarted_at_[down[k]] = now;
        ++r_.restarted;
      }
      break;
    }
    case FaultKind::leave:
      for (NodeIndex i : pick(f.count, true, true)) {
        c_.leave(i);
        role_[i] = kLeaver;
        left_at_[i] = now;
        column_[i] = std::int32_t(columns_.size());
        columns_.push_back(i);
        ++r_.left;
      }
      break;
    case FaultKind::slow:
      for (NodeIndex i : pick(f.count, false, false)) c_.set_slow(i, e_.slow_service);
      break;
    case FaultKind::partition: {
      const auto k = std::uint32_t(std::llround(f.fraction * double(c_.active_count())));
      c_.partition({pick(std::max<std::uint32_t>(k, 1), false, false)});
      r_.had_partition = true;
      c_.sim().at(Time::zero() + f.until, [this] {
        c_.heal();
        heal_at_ = c_.now().to_seconds();
        r_.partition_heal_seconds = -1;
      });
      break;
    }
    case FaultKind::loss:
      c_.set_loss(f.fraction);
      c_.sim().at(Time::zero() + f.until, [this] { c_.set_loss(0.0); });
      break;
    case FaultKind::lossy: {
      const auto hit = pick(f.count, false, false);
      for (NodeIndex i : hit) c_.set_drop(i, f.fraction);
      c_.sim().at(Time::zero() + f.until, [this, hit] {
        for (NodeIndex i : hit) c_.set_drop(i, 0.0);
      });
      break;
    }
  }
}

void Run::send_multicast(std::uint32_t k) {
  auto origin = pick(1, false, false);
  if (origin.empty()) return;
  std::vector<std::byte> payload(e_.payload_bytes);
  for (std::size_t b = 0; b < payload.size(); ++b) payload[b] = std::byte((k * 31 + b) & 0xff);
  if (c_.multicast(origin[0], payload)) ++r_.multicasts;
}

void Run::schedule() {
  std::vector<Fault> faults = e_.faults;
  std::stable_sort(faults.begin(), faults.end(),
                   [](const Fault& a, const Fault& b) { return a.at < b.at; });
  for (const Fault& f : faults) {
    c_.sim().at(Time::zero() + f.at, [this, f] { apply(f); });
    disturbed_.emplace_back(f.at.to_seconds(), f.until.to_seconds() + kSettleSeconds);
  }
  // Multicasts spread over the middle of the run, after the joins have started.
  const double d = e_.duration.to_seconds();
  double from = e_.bootstrap == Bootstrap::join ? double(e_.nodes) / e_.join_rate + 5.0 : 5.0;
  from = std::min(from, 0.5 * d);
  const double to = 0.8 * d;
  for (std::uint32_t k = 0; k < e_.multicasts; ++k) {
    const double t = from + (double(k) + 0.5) * (to - from) / double(e_.multicasts);
    c_.sim().at(Time::zero() + Duration::nanoseconds(std::int64_t(t * 1e9)),
                [this, k] { send_multicast(k); });
  }
}

void Run::observe(const ClusterEvent& ev) {
  if (on_event_) on_event_(ev);
  if (c_.false_failures() != false_seen_) {  // the cluster just counted this one as false
    false_seen_ = c_.false_failures();
    false_by_[ev.observer] = true;
  }
  const NodeIndex s = ev.subject;
  if (ev.kind == EventKind::delivered || s >= e_.nodes || column_[s] < 0) return;
  const double t = ev.time.to_seconds();
  double* cell = nullptr;
  if (ev.kind == EventKind::failed && role_[s] == kCrashed && t < restarted_at_[s]) {
    cell = &failed_[std::size_t(ev.observer) * stride_ + std::size_t(column_[s])];
  } else if (ev.kind == EventKind::failed && role_[s] == kLeaver) {
    ++r_.leaves_as_failed;
  } else if (ev.kind == EventKind::left && role_[s] == kLeaver) {
    cell = &left_seen_[std::size_t(ev.observer) * stride_ + std::size_t(column_[s])];
  }
  if (cell) *cell = std::min(*cell, t);
}

void Run::sample(double t) {
  LiveSample s;
  s.seconds = t;
  s.live_min = e_.nodes;
  std::uint64_t sum = 0;
  std::uint32_t up = 0;
  for (NodeIndex i = 0; i < e_.nodes; ++i) {
    up += c_.sim().crashed(i) ? 0 : 1;
    if (!c_.active(i)) continue;
    const auto n = std::uint32_t(c_.node(i).membership().live_group().size());
    ++s.active;
    sum += n;
    s.live_min = std::min(s.live_min, n);
  }
  s.live_mean = s.active ? double(sum) / double(s.active) : 0.0;
  if (s.active == 0) s.live_min = 0;
  r_.live.push_back(s);
  snapshots_.push_back(Snapshot{t, c_.messages_sent(), c_.bytes_sent(), up});
}

void Run::poll(double t) {
  const bool joins_started =
      e_.bootstrap == Bootstrap::preloaded || t >= double(e_.nodes - 1) / e_.join_rate;
  if (r_.join_convergence_seconds < 0 && joins_started && c_.converged()) {
    r_.join_convergence_seconds = e_.bootstrap == Bootstrap::preloaded ? 0.0 : t;
  }
  if (heal_at_ >= 0 && r_.partition_heal_seconds < 0 && !c_.partitioned() && c_.converged()) {
    r_.partition_heal_seconds = t - heal_at_;
  }
}

ClusterResult Run::go() {
  const auto wall_start = std::chrono::steady_clock::now();
  // Matrices sized for the worst case: every crash and leave of the schedule gets a column.
  std::uint64_t cols = 0;
  for (const Fault& f : e_.faults) {
    if (f.kind == FaultKind::crash || f.kind == FaultKind::leave) cols += f.count;
  }
  stride_ = std::size_t(std::max<std::uint64_t>(std::min<std::uint64_t>(cols, e_.nodes), 1));
  failed_.assign(std::size_t(e_.nodes) * stride_, kNever);
  left_seen_ = failed_;
  schedule();
  const Time end = Time::zero() + e_.duration;
  Time next_sample = Time::zero();
  while (c_.now() < end) {
    const Time t = std::min(end, c_.now() + Duration::milliseconds(100));
    c_.run_until(t);
    poll(t.to_seconds());
    if (t >= next_sample) {
      sample(t.to_seconds());
      next_sample = next_sample + Duration::seconds(1);
    }
  }
  if (r_.join_convergence_seconds >= 0) {
    // The first anti-entropy rounds after the join (or the preload) are not steady yet.
    disturbed_.emplace_back(0.0, r_.join_convergence_seconds + kSettleSeconds);
  } else {
    disturbed_.emplace_back(0.0, e_.duration.to_seconds());
  }
  r_.final_converged = c_.converged();
  detection_metrics();
  leave_metrics();
  multicast_metrics();
  load_metrics();
  if (e_.config.membership.mode == MembershipMode::consistent) view_metrics();
  r_.false_failures = c_.false_failures();
  r_.partition_failures = c_.partition_failures();
  r_.stale_failures = c_.stale_failures();
  r_.events = c_.sim().counters().events;
  r_.delivery_hash = c_.sim().delivery_hash();
  r_.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r_;
}

void Run::detection_metrics() {
  std::vector<NodeIndex> survivors;
  std::uint64_t accurate = 0;
  for (NodeIndex i = 0; i < e_.nodes; ++i) {
    if (role_[i] != kSurvivor || !c_.active(i)) continue;
    survivors.push_back(i);
    accurate += false_by_[i] ? 0 : 1;
  }
  r_.survivors = std::uint32_t(survivors.size());
  r_.accuracy = survivors.empty() ? 1.0 : double(accurate) / double(survivors.size());
  const double end = e_.duration.to_seconds();
  std::uint64_t pairs = 0, detected = 0;
  for (NodeIndex s : columns_) {
    if (role_[s] != kCrashed) continue;
    const double down = std::min(restarted_at_[s], end) - crashed_at_[s];
    if (restarted_at_[s] < kNever && down < kMinDownSeconds) continue;
    double earliest = kNever, latest = 0;
    for (NodeIndex o : survivors) {
      const double t = failed_[std::size_t(o) * stride_ + std::size_t(column_[s])];
      ++pairs;
      detected += t < kNever ? 1 : 0;
      earliest = std::min(earliest, t);
      latest = std::max(latest, t);
    }
    if (earliest < kNever) r_.detection_first_samples.push_back(earliest - crashed_at_[s]);
    if (latest < kNever && !survivors.empty()) {
      r_.detection_all_samples.push_back(latest - crashed_at_[s]);
    }
  }
  r_.completeness = pairs ? double(detected) / double(pairs) : 1.0;
}

void Run::leave_metrics() {
  std::uint64_t pairs = 0, saw = 0;
  for (NodeIndex s : columns_) {
    if (role_[s] != kLeaver) continue;
    for (NodeIndex o = 0; o < e_.nodes; ++o) {
      if (role_[o] != kSurvivor || !c_.active(o)) continue;
      ++pairs;
      saw += left_seen_[std::size_t(o) * stride_ + std::size_t(column_[s])] < kNever ? 1 : 0;
    }
  }
  r_.leaves_seen_as_left = pairs ? double(saw) / double(pairs) : 1.0;
}

void Run::multicast_metrics() {
  std::uint64_t pairs = 0, delivered = 0;
  for (const auto& [id, m] : c_.multicasts()) {
    const double sent = m.sent.to_seconds();
    for (NodeIndex i = 0; i < e_.nodes; ++i) {
      // Members up from the send to the end, other than the origin.
      if (i == m.origin || !c_.active(i) || crashed_at_[i] < kNever) continue;
      ++pairs;
      if (m.delivered_at[i] == Time::max()) continue;
      ++delivered;
      r_.multicast_delivery_samples.push_back(m.delivered_at[i].to_seconds() - sent);
    }
  }
  r_.multicast_delivered_fraction = pairs ? double(delivered) / double(pairs) : 1.0;
  if (r_.multicast_rounds > 0) {
    r_.cross_zone_messages_per_round =
        double(r_.cross_zone_multicast_messages) / double(r_.multicast_rounds);
  }
}

void Run::load_metrics() {
  const double node_seconds = double(e_.nodes) * e_.duration.to_seconds();
  r_.messages_per_node_per_second = double(c_.messages_sent()) / node_seconds;
  r_.bytes_per_node_per_second = double(c_.bytes_sent()) / node_seconds;
  for (NodeIndex i = 0; i < e_.nodes; ++i) {
    const MembershipStats& m = c_.node(i).membership().stats();
    r_.alive_queued_gossip += m.alive_queued_gossip;
    r_.alive_queued_push_pull += m.alive_queued_push_pull;
    r_.alive_join_reply_quiet += m.alive_join_reply_quiet;
    r_.updates_sent += m.updates_sent;
    r_.rumors_stopped += m.rumors_stopped;
  }
  // The longest stretch between snapshots that no disturbance overlaps.
  std::size_t best_a = 0, best_b = 0;
  for (std::size_t a = 0; a < snapshots_.size(); ++a) {
    std::size_t b = a;
    auto clear = [&](double from, double to) {
      for (const auto& [d0, d1] : disturbed_) {
        if (d0 < to && from < d1) return false;
      }
      return true;
    };
    while (b + 1 < snapshots_.size() &&
           clear(snapshots_[a].seconds, snapshots_[b + 1].seconds)) {
      ++b;
    }
    if (snapshots_[b].seconds - snapshots_[a].seconds >
        snapshots_[best_b].seconds - snapshots_[best_a].seconds) {
      best_a = a, best_b = b;
    }
    a = std::max(a, b);
  }
  if (snapshots_.empty()) return;
  const Snapshot& a = snapshots_[best_a];
  const Snapshot& b = snapshots_[best_b];
  const double span = b.seconds - a.seconds;
  if (span < 2.0 || a.up == 0) return;
  r_.steady_from_seconds = a.seconds;
  r_.steady_to_seconds = b.seconds;
  r_.steady_messages_per_node_per_second = double(b.messages - a.messages) / (span * a.up);
  r_.steady_bytes_per_node_per_second = double(b.bytes - a.bytes) / (span * a.up);
}

}  // namespace

std::string check(const ClusterExperiment& e) {
  if (e.nodes < 2) return "--nodes: at least 2";
  if (e.duration <= Duration::zero()) return "--duration: must be > 0";
  if (!(e.join_rate > 0)) return "--join-rate: must be > 0";
  if (e.latency_max < e.latency_min) return "--latency: MAX below MIN";
  if (e.zones > e.nodes) return "--zones: more zones than nodes";
  std::uint64_t gone = 0;
  for (const Fault& f : e.faults) {
    const std::string name = std::string("--fault ") + fault_kind_name(f.kind);
    if (f.until > e.duration) return name + ": ends after --duration";
    if (f.kind == FaultKind::crash || f.kind == FaultKind::leave) gone += f.count;
    if (f.count >= e.nodes) return name + ": " + std::to_string(f.count) + " of " +
                                   std::to_string(e.nodes) + " members";
  }
  if (gone >= e.nodes) return "--fault: crashes and leaves must spare node 0";
  return "";
}

// Consistent membership: the view log's metrics (sim/view_log.h).
void Run::view_metrics() {
  const ViewLog& log = c_.view_log();
  r_.consistent = true;
  r_.configurations = log.configurations();
  r_.view_agreement = log.view_agreement(e_.nodes);
  r_.distinct_membership_sizes = std::uint32_t(log.distinct_sizes().size());
  // Preloaded: every node starts in one configuration of all N (installed without an event).
  r_.bootstrap_seconds = e_.bootstrap == Bootstrap::preloaded
                             ? 0.0
                             : log.bootstrap_seconds(e_.nodes).value_or(-1.0);
  std::vector<NodeIndex> survivors;
  for (NodeIndex i = 0; i < e_.nodes; ++i) {
    if (c_.active(i) && role_[i] == kSurvivor) survivors.push_back(i);
  }
  for (const Fault& f : e_.faults) {
    if (f.kind != FaultKind::crash && f.kind != FaultKind::leave && f.kind != FaultKind::restart) {
      continue;
    }
    const auto d = log.install_delays(Time::zero() + f.at, survivors);
    r_.view_change_samples.insert(r_.view_change_samples.end(), d.begin(), d.end());
  }
}

ClusterResult run_cluster(const ClusterExperiment& e,
                          const std::function<void(const ClusterEvent&)>& on_event) {
  Run run(e, on_event);
  return run.go();
}

}  // namespace grapevine::sim
