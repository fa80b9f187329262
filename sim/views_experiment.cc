#include "sim/views_experiment.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <thread>

#include "sim/overlay_metrics.h"
#include "sim/parallel_runs.h"
#include "sim/simulator.h"
#include "sim/stats.h"
#include "util/hash.h"
#include "util/rng.h"

namespace grapevine::sim {
namespace {

// The index of a simulated address (sim_address is 10.a.b.c with a.b.c = index + 1).
std::uint32_t index_of(const Address& a, std::uint32_t n) {
  const std::uint32_t low = a.ipv4_u32() & 0xffffffu;
  return (a.family == 4 && low >= 1 && low <= n) ? low - 1 : n;  // n = not a node
}

// One run's state: the simulator, its nodes, and per-message delivery tracking.
class ViewsRunner {
 public:
  ViewsRunner(const ViewsExperiment& e, std::uint32_t run_index)
      : e_(e),
        seed_(derive_seed(e.seed, run_index)),
        sim_(network(e), seed_),
        rng_(derive_seed(seed_, 0x76696577)) {  // "view": the harness's own stream
    sim_.reserve(e.nodes);
    left_.assign(e.nodes, false);
    for (std::uint32_t i = 0; i < e.nodes; ++i) {
      auto m = make_view(e.config, sim_address(i), derive_seed(seed_, i + 1));
      if (!m) throw std::invalid_argument("view protocol not available or config invalid");
      sim_.add_node(std::move(m));
    }
    sim_.set_observer(
        [this](Time now, NodeIndex node, const Event& ev) { observe(now, node, ev); });
  }

  ViewsRun run();

 private:
  static NetworkConfig network(const ViewsExperiment& e) {
    LinkProfile p;
    p.latency_min = e.latency_min;
    p.latency_max = e.latency_max;
    return NetworkConfig::uniform(p);
  }
  ViewMachine& node(std::uint32_t i) { return static_cast<ViewMachine&>(sim_.machine(i)); }
  /// Crashed, or left gracefully: no longer a member.
  bool gone(std::uint32_t i) const { return sim_.crashed(i) || left_[i]; }
  void leave_some(ViewsRun& r);
  void observe(Time now, NodeIndex node, const Event& ev);
  void join_all();
  OverlayGraph graph();
  void measure(ViewsRun& r);
  std::uint32_t random_live();
  void multicast();
  std::uint64_t payload_sent_total();
  void fail();
  void phase_result(std::uint32_t first, std::uint32_t count, std::uint64_t payload,
                    std::vector<double>& fractions, double& rmr, double& ldh);

  struct Tracked {
    std::vector<bool> got;  // per node
    std::uint32_t max_hops = 0;
  };

  const ViewsExperiment& e_;
  std::uint64_t seed_;
  Simulator sim_;
  Rng rng_;
  std::vector<Tracked> messages_;
  std::vector<bool> left_;
  std::uint64_t msg_base_ = 0;
  std::uint64_t hash_ = 0x7669657773ULL;
};

void ViewsRunner::observe(Time now, NodeIndex node, const Event& ev) {
  if (ev.kind != EventKind::delivered) return;
  const std::uint64_t k = ev.message.origin - msg_base_;
  if (k >= messages_.size()) return;
  Tracked& t = messages_[k];
  if (t.got[node]) return;
  t.got[node] = true;
  t.max_hops = std::max(t.max_hops, ev.hops);
  hash_ = mix64(hash_ ^ mix64(std::uint64_t(now.ns()) ^ (std::uint64_t(node) << 32) ^ k) ^ ev.hops);
}

void ViewsRunner::join_all() {
  for (std::uint32_t i = 0; i < e_.nodes; ++i) {
    sim_.run_until(Time::zero() + e_.join_spacing * std::int64_t(i));
    Address contact{};
    if (i > 0) contact = sim_address(e_.random_contact ? std::uint32_t(rng_.below(i)) : 0);
    sim_.with_node(i, [&](Machine& m, Effects& fx) {
      static_cast<ViewMachine&>(m).join(sim_.now(), contact, fx);
    });
  }
}

OverlayGraph ViewsRunner::graph() {
  OverlayGraph g;
  g.out.resize(e_.nodes);
  g.live.resize(e_.nodes);
  for (std::uint32_t i = 0; i < e_.nodes; ++i) {
    g.live[i] = !gone(i);
    if (!g.live[i]) continue;
    for (const Address& a : node(i).view()) {
      const std::uint32_t j = index_of(a, e_.nodes);
      if (j < e_.nodes) g.out[i].push_back(j);
    }
  }
  return g;
}

void ViewsRunner::measure(ViewsRun& r) {
  const OverlayGraph g = graph();
  const DegreeStats d = degree_stats(g);
  r.view_size_mean = d.out_mean;
  r.view_size_p50 = d.out_p50;
  r.view_size_max = d.out_max;
  r.in_degree_mean = d.in_mean;
  r.in_degree_stddev = d.in_stddev;
  r.in_degree_max = d.in_max;
  r.in_degree_histogram = d.in_histogram;
  r.clustering = clustering(g, e_.clustering_samples, rng_);
  r.path_length_mean = path_length(g, e_.path_samples, rng_, r.reachable_fraction);
  double passive = 0;
  for (std::uint32_t i = 0; i < e_.nodes; ++i) passive += double(node(i).passive_size());
  r.passive_size_mean = passive / double(e_.nodes);
}

std::uint32_t ViewsRunner::random_live() {
  for (;;) {
    auto i = std::uint32_t(rng_.below(e_.nodes));
    if (!gone(i)) return i;
  }
}

void ViewsRunner::multicast() {
  const auto k = std::uint64_t(messages_.size());
  messages_.push_back({std::vector<bool>(e_.nodes, false), 0});
  std::vector<std::byte> payload(e_.payload_bytes);
  for (std::size_t b = 0; b < payload.size(); ++b) payload[b] = std::byte(b * 31 + k);
  sim_.with_node(random_live(), [&](Machine& m, Effects& fx) {
    static_cast<ViewMachine&>(m).broadcast(sim_.now(), msg_base_ + k, payload, fx);
  });
}

std::uint64_t ViewsRunner::payload_sent_total() {
  std::uint64_t s = 0;
  for (std::uint32_t i = 0; i < e_.nodes; ++i) s += node(i).stats().payload_sent;
  return s;
}

// Random members (never one that is gone), in random order.
std::vector<std::uint32_t> pick(std::uint32_t k, std::uint32_t nodes,
                                const std::function<bool(std::uint32_t)>& gone, Rng& rng) {
  std::vector<std::uint32_t> pool;
  for (std::uint32_t i = 0; i < nodes; ++i) {
    if (!gone(i)) pool.push_back(i);
  }
  k = std::min<std::uint32_t>(k, pool.size() > 0 ? std::uint32_t(pool.size() - 1) : 0);
  for (std::uint32_t i = 0; i < k; ++i) std::swap(pool[i], pool[i + rng.below(pool.size() - i)]);
  pool.resize(k);
  return pool;
}

// Graceful leaves one at a time (SCAMP's unsubscription redirects the leaver's in-links).
void ViewsRunner::leave_some(ViewsRun& r) {
  const auto k = std::uint32_t(std::llround(e_.leave_fraction * double(e_.nodes)));
  const Duration spacing = e_.leave_spacing > Duration::zero() ? e_.leave_spacing : e_.join_spacing;
  for (std::uint32_t i : pick(
           k, e_.nodes, [this](std::uint32_t j) { return gone(j); }, rng_)) {
    sim_.with_node(
        i, [&](Machine& m, Effects& fx) { static_cast<ViewMachine&>(m).leave(sim_.now(), fx); });
    left_[i] = true;
    ++r.left;
    sim_.run_for(spacing);
  }
  if (k > 0) sim_.run_for(e_.config.period);
}

void ViewsRunner::fail() {
  const auto live = std::uint32_t(std::count(left_.begin(), left_.end(), false));
  const auto k = std::uint32_t(std::llround(e_.fail_fraction * double(live)));
  for (std::uint32_t i : pick(
           k, e_.nodes, [this](std::uint32_t j) { return gone(j); }, rng_)) {
    sim_.crash(i);
  }
}

// Delivered fraction (among nodes live now) per message, RMR and mean last-delivery hop.
void ViewsRunner::phase_result(std::uint32_t first, std::uint32_t count, std::uint64_t payload,
                               std::vector<double>& fractions, double& rmr, double& ldh) {
  std::uint32_t live = 0;
  for (std::uint32_t i = 0; i < e_.nodes; ++i) live += gone(i) ? 0 : 1;
  double receivers = 0, hops = 0;
  for (std::uint32_t k = first; k < first + count; ++k) {
    std::uint32_t got = 0, any = 0;
    for (std::uint32_t i = 0; i < e_.nodes; ++i) {
      any += messages_[k].got[i] ? 1 : 0;
      got += (messages_[k].got[i] && !gone(i)) ? 1 : 0;
    }
    fractions.push_back(live ? double(got) / double(live) : 0.0);
    receivers += any > 0 ? double(any - 1) : 0.0;
    hops += messages_[k].max_hops;
  }
  rmr = receivers > 0 ? double(payload) / receivers - 1.0 : 0.0;
  ldh = count > 0 ? hops / double(count) : 0.0;
}

ViewsRun ViewsRunner::run() {
  ViewsRun r;
  msg_base_ = rng_.next() | 1;  // ids unlike anything else in flight
  const Duration period = e_.config.period;
  join_all();
  const Time joined = sim_.now();
  for (std::uint32_t c = 1; c <= e_.cycles; ++c) {
    sim_.run_until(joined + period * std::int64_t(c));
    if (e_.config.kind == ViewKind::tman) {
      r.ring_curve.push_back(ring_fraction(graph()));
      if (r.ring_converged_cycle < 0 && r.ring_curve.back() >= 1.0) r.ring_converged_cycle = int(c);
    }
  }
  leave_some(r);
  measure(r);
  r.live_before = e_.nodes - r.left;
  r.links_to_leavers = dead_links(graph());  // nothing has crashed yet: these point at leavers

  const std::uint64_t sent0 = payload_sent_total();
  for (std::uint32_t k = 0; k < e_.multicasts; ++k) {
    multicast();
    sim_.run_for(period);
  }
  sim_.run_for(period);
  const std::uint64_t sent1 = payload_sent_total();

  fail();
  r.dead_links_at_failure = dead_links(graph());
  const std::uint32_t after = std::max(e_.after_cycles, e_.multicasts + 2);
  for (std::uint32_t c = 0; c < after; ++c) {
    if (c < e_.multicasts) multicast();
    sim_.run_for(period);
    r.dead_links_curve.push_back(dead_links(graph()));
  }
  r.dead_links = r.dead_links_curve.back();
  const std::uint64_t sent2 = payload_sent_total();

  // Before-phase fractions are over the members then (every node but the leavers).
  {
    std::uint32_t m = e_.multicasts;
    double receivers = 0, hops = 0;
    for (std::uint32_t k = 0; k < m; ++k) {
      std::uint32_t got = 0;
      for (std::uint32_t i = 0; i < e_.nodes; ++i) got += messages_[k].got[i] ? 1 : 0;
      r.delivered_before.push_back(double(got) / double(r.live_before));
      receivers += got > 0 ? double(got - 1) : 0.0;
      hops += messages_[k].max_hops;
    }
    r.rmr_before = receivers > 0 ? double(sent1 - sent0) / receivers - 1.0 : 0.0;
    r.last_delivery_hop_before = m > 0 ? hops / double(m) : 0.0;
  }
  phase_result(e_.multicasts, e_.multicasts, sent2 - sent1, r.delivered_after, r.rmr_after,
               r.last_delivery_hop_after);
  for (std::uint32_t i = 0; i < e_.nodes; ++i) {
    r.live_after += gone(i) ? 0 : 1;
    r.control_sent += node(i).stats().control_sent;
  }
  r.events = sim_.counters().events;
  r.delivery_hash = mix64(hash_ ^ sim_.delivery_hash());
  return r;
}

double mean_of(const std::vector<ViewsRun>& runs, double ViewsRun::*field) {
  double s = 0;
  for (const auto& r : runs) s += r.*field;
  return runs.empty() ? 0.0 : s / double(runs.size());
}

void add_curve(std::vector<double>& into, const std::vector<double>& curve, double weight) {
  if (into.size() < curve.size()) into.resize(curve.size(), 0.0);
  for (std::size_t i = 0; i < curve.size(); ++i) into[i] += curve[i] * weight;
}

// Simulated periods the graceful leaves take (0 without leaves).
double leave_periods(const ViewsExperiment& e) {
  const auto k = std::int64_t(std::llround(e.leave_fraction * double(e.nodes)));
  if (k == 0) return 0.0;
  const Duration spacing = e.leave_spacing > Duration::zero() ? e.leave_spacing : e.join_spacing;
  return double((spacing * k).ns()) / double(e.config.period.ns()) + 1.0;
}

void aggregate(ViewsSummary& s) {
  const auto& runs = s.runs;
  const double w = runs.empty() ? 0.0 : 1.0 / double(runs.size());
  s.view_size_mean = mean_of(runs, &ViewsRun::view_size_mean);
  s.view_size_p50 = mean_of(runs, &ViewsRun::view_size_p50);
  s.passive_size_mean = mean_of(runs, &ViewsRun::passive_size_mean);
  s.in_degree_mean = mean_of(runs, &ViewsRun::in_degree_mean);
  s.in_degree_stddev = mean_of(runs, &ViewsRun::in_degree_stddev);
  s.clustering = mean_of(runs, &ViewsRun::clustering);
  s.path_length_mean = mean_of(runs, &ViewsRun::path_length_mean);
  s.reachable_fraction = mean_of(runs, &ViewsRun::reachable_fraction);
  s.rmr = mean_of(runs, &ViewsRun::rmr_before);
  s.rmr_after = mean_of(runs, &ViewsRun::rmr_after);
  s.last_delivery_hop = mean_of(runs, &ViewsRun::last_delivery_hop_before);
  s.last_delivery_hop_after = mean_of(runs, &ViewsRun::last_delivery_hop_after);
  const double n = double(s.experiment.nodes);
  const double k = s.view_size_mean;
  s.in_degree_stddev_random = n > 1 ? std::sqrt(k * (1.0 - k / (n - 1))) : 0.0;
  s.clustering_random = n > 1 ? std::min(1.0, 2.0 * k / (n - 1)) : 0.0;
  std::vector<double> before, after, converged;
  double control = 0;
  std::uint64_t h = 0;
  for (const ViewsRun& r : runs) {
    s.view_size_max += r.view_size_max * w;
    s.in_degree_max += r.in_degree_max * w;
    s.dead_links_at_failure += double(r.dead_links_at_failure) * w;
    s.dead_links += double(r.dead_links) * w;
    s.links_to_leavers += double(r.links_to_leavers) * w;
    if (s.in_degree_histogram.size() < r.in_degree_histogram.size()) {
      s.in_degree_histogram.resize(r.in_degree_histogram.size(), 0);
    }
    for (std::size_t d = 0; d < r.in_degree_histogram.size(); ++d) {
      s.in_degree_histogram[d] += r.in_degree_histogram[d];
    }
    std::vector<double> dl(r.dead_links_curve.begin(), r.dead_links_curve.end());
    add_curve(s.dead_links_curve, dl, w);
    add_curve(s.ring_curve, r.ring_curve, w);
    before.insert(before.end(), r.delivered_before.begin(), r.delivered_before.end());
    after.insert(after.end(), r.delivered_after.begin(), r.delivered_after.end());
    auto full = [](const std::vector<double>& v) {
      return std::all_of(v.begin(), v.end(), [](double f) { return f >= 1.0; });
    };
    s.runs_fully_delivered_before += full(r.delivered_before) ? 1 : 0;
    s.runs_fully_delivered_after += full(r.delivered_after) ? 1 : 0;
    if (r.ring_converged_cycle >= 0) converged.push_back(r.ring_converged_cycle);
    control += double(r.control_sent);
    h = mix64(h ^ r.delivery_hash);
    s.events += r.events;
  }
  s.delivered_fraction_before = before.empty() ? 0.0 : mean(before);
  s.delivered_fraction_before_min = before.empty() ? 0.0 : min_of(before);
  s.delivered_fraction_after = after.empty() ? 0.0 : mean(after);
  s.delivered_fraction_after_min = after.empty() ? 0.0 : min_of(after);
  s.runs_ring_converged = std::uint32_t(converged.size());
  s.ring_converged_cycle = converged.empty() ? -1.0 : mean(converged);
  s.delivery_hash = h;
  // Control traffic over the whole run (joins included), per node and per simulated period.
  const ViewsExperiment& e = s.experiment;
  const double periods =
      double(e.cycles + e.multicasts + 1 + std::max(e.after_cycles, e.multicasts + 2)) +
      double((e.join_spacing * std::int64_t(e.nodes)).ns()) / double(e.config.period.ns()) +
      leave_periods(e);
  s.control_messages_per_node_per_cycle = runs.empty() ? 0 : control * w / n / periods;
}

}  // namespace

ViewsRun run_views_once(const ViewsExperiment& e, std::uint32_t run_index) {
  ViewsRunner runner(e, run_index);
  return runner.run();
}

ViewsSummary run_views(const ViewsExperiment& e,
                       const std::function<void(std::uint32_t, std::uint32_t)>& progress) {
  const auto start = std::chrono::steady_clock::now();
  ViewsSummary s;
  s.experiment = e;
  s.runs.resize(e.runs);
  run_in_parallel(
      e.runs, e.threads, [&](std::uint32_t r) { s.runs[r] = run_views_once(e, r); }, progress);
  s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  aggregate(s);
  return s;
}

}  // namespace grapevine::sim
