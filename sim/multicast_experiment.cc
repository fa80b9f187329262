#include "sim/multicast_experiment.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include "core/multicast/gossip_population.h"
#include "grapevine/group.h"
#include "sim/parallel_runs.h"
#include "sim/sim_group.h"
#include "sim/sharded_simulator.h"
#include "sim/simulator.h"
#include "sim/stats.h"
#include "util/hash.h"
#include "util/rng.h"

namespace grapevine::sim {

std::uint32_t default_max_rounds(std::uint32_t n) noexcept {
  double x = std::log2(double(std::max<std::uint32_t>(n, 2))) +
             std::log(double(std::max<std::uint32_t>(n, 2)));
  return std::uint32_t(std::ceil(4.0 * x)) + 20;
}

namespace {

NetworkConfig network_for(const MulticastExperiment& e) {
  LinkProfile p;
  p.loss = e.loss;
  if (e.synchronous) {
    // Every packet of round k lands at k*T + T/10: before anyone's next tick.
    p.latency_min = p.latency_max = e.config.period / 10;
    p.jitter = Duration::zero();
  } else {
    p.latency_min = e.latency_min;
    p.latency_max = e.latency_max;
    p.jitter = e.jitter;
  }
  NetworkConfig net = NetworkConfig::uniform(p);
  net.cross.latency_min += e.cross_latency;
  net.cross.latency_max += e.cross_latency;
  net.uplink_bytes_per_second = e.uplink_bytes_per_second;
  return net;
}

std::vector<std::uint32_t> pick_crashed(const MulticastExperiment& e, Rng& rng) {
  std::vector<std::uint32_t> crashed;
  for (std::uint32_t i = 1; i <= e.crash_interior && i < e.nodes; ++i) crashed.push_back(i);
  auto k = std::uint32_t(std::llround(e.crashed_fraction * double(e.nodes)));
  if (k > 0 && e.nodes > 1) {
    // Partial Fisher-Yates over 1..N-1: the origin (0) always survives.
    std::vector<std::uint32_t> pool(e.nodes - 1);
    for (std::uint32_t i = 0; i < pool.size(); ++i) pool[i] = i + 1;
    k = std::min<std::uint32_t>(k, std::uint32_t(pool.size()));
    for (std::uint32_t i = 0; i < k; ++i) {
      std::swap(pool[i], pool[i + rng.below(pool.size() - i)]);
      crashed.push_back(pool[i]);
    }
  }
  return crashed;
}

double round_of(Time t, const MulticastExperiment& e) {
  double r = double(t.ns()) / double(e.config.period.ns());
  return e.synchronous ? std::floor(r) : r;
}

// Fills rounds_to[] and seconds_to_all from the first-delivery times of live nodes.
void fill_rounds_to(MulticastRun& run, std::vector<std::int64_t>& times,
                    const MulticastExperiment& e) {
  std::sort(times.begin(), times.end());
  const double qs[4] = {0.5, 0.9, 0.99, 1.0};
  for (int i = 0; i < 4; ++i) {
    auto need = std::size_t(std::ceil(qs[i] * double(run.live)));
    if (need == 0) need = 1;
    if (times.size() >= need) run.rounds_to[i] = round_of(Time::from_ns(times[need - 1]), e);
  }
  if (run.all_delivered && !times.empty()) {
    run.seconds_to_all = Time::from_ns(times.back()).to_seconds();
  }
}

// Adds the e.nodes machines: push, pull and push-pull as one flat population (returned; it
// must outlive the run), the other protocols (or with flat_gossip off) as one machine each.
template <class Sim>
std::unique_ptr<detail::GossipPopulation> add_nodes(Sim& sim, const MulticastExperiment& e,
                                                    const MulticastConfig& config,
                                                    const SimGroup& group, std::uint64_t seed) {
  const auto p = config.protocol;
  if (e.flat_gossip && (p == MulticastProtocolKind::push || p == MulticastProtocolKind::pull ||
                        p == MulticastProtocolKind::pushpull)) {
    auto flat = std::make_unique<detail::GossipPopulation>(config, group, seed);
    if constexpr (std::is_same_v<Sim, ShardedSimulator>) {
      flat->set_stripes(sim.shards());  // no counter shared across the shards' threads
    }
    sim.set_machine_prefetch_lines(1);  // a member is one line; the next is a neighbour's
    for (std::uint32_t i = 0; i < e.nodes; ++i) {
      sim.add_borrowed_node(flat->member(i), group.subnet_of(i));
    }
    return flat;
  }
  for (std::uint32_t i = 0; i < e.nodes; ++i) {
    sim.add_node(make_multicast(config, group, i, derive_seed(seed, i + 1)), group.subnet_of(i));
  }
  return nullptr;
}

// One run on `sim` (a Simulator or a ShardedSimulator, built for `net` and `seed`).
template <class Sim>
MulticastRun run_on(Sim& sim, const MulticastExperiment& e, const MulticastConfig& config,
                    const SimGroup& group, std::uint64_t seed, std::uint32_t run_index) {
  sim.reserve(e.nodes);
  std::vector<std::int64_t> first(e.nodes, -1);
  // Atomic: a sharded simulator calls the observer from each shard's thread (first[] is
  // per node, so written by the node's shard only).
  std::atomic<std::uint32_t> delivered_total{0};
  sim.set_observer([&](Time now, NodeIndex node, const Event& ev) {
    if (ev.kind == EventKind::delivered && first[node] < 0) {
      first[node] = now.ns();
      delivered_total.fetch_add(1, std::memory_order_relaxed);
    }
  });
  std::unique_ptr<detail::GossipPopulation> flat = add_nodes(sim, e, config, group, seed);
  auto protocol = [&](std::uint32_t i) -> MulticastProtocol& {
    return static_cast<MulticastProtocol&>(sim.machine(i));
  };
  Rng rng(derive_seed(seed, 0xc2a5));
  for (std::uint32_t i : pick_crashed(e, rng)) sim.crash(i);
  if constexpr (std::is_same_v<Sim, Simulator>) {
    if (e.origin_crash_after_sends > 0) sim.crash_after_sends(0, e.origin_crash_after_sends);
  }

  std::vector<std::byte> payload(e.payload_bytes);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = std::byte(i * 131 + run_index);
  sim.with_node(0, [&](Machine& m, Effects& fx) {
    if (flat) {
      (void)flat->multicast(0, payload, fx);
    } else {
      (void)static_cast<MulticastProtocol&>(m).multicast(sim.now(), payload, fx);
    }
  });

  MulticastRun run;
  auto live_count = [&] {
    std::uint32_t n = 0;
    for (std::uint32_t i = 0; i < e.nodes; ++i) n += sim.crashed(i) ? 0 : 1;
    return n;
  };
  run.live = live_count();
  const std::uint32_t max_rounds = e.max_rounds > 0 ? e.max_rounds : default_max_rounds(e.nodes);
  const Duration period = config.period;
  bool quiet_before = false;
  for (std::uint32_t k = 0;; ++k) {
    sim.run_until(Time::zero() + period * std::int64_t(k + 1) - Duration::nanoseconds(1));
    // Crashes at t=0 never deliver; only the origin can deliver and then crash (mid-send).
    const std::uint32_t origin_gone = sim.crashed(0) ? 1 : 0;
    const std::uint32_t live_delivered = delivered_total.load() - origin_gone;
    run.curve.push_back(live_delivered);
    run.rounds_run = k;
    if (live_delivered >= run.live - origin_gone && !e.until_quiescent) break;
    // Quiet means nothing more can happen: no node will send of its own accord *and* nothing is
    // still on the wire (an uplink-limited centralized origin queues its N-1 sends for seconds;
    // they deliver long after it went quiescent).
    bool quiet = sim.packets_in_flight() == 0;
    for (std::uint32_t i = 0; i < e.nodes && quiet; ++i) {
      if (!sim.crashed(i)) quiet = flat ? flat->quiescent(i) : protocol(i).quiescent();
    }
    if (quiet && quiet_before) break;
    quiet_before = quiet;
    if (k >= max_rounds) break;
  }
  run.live = live_count();

  std::vector<std::int64_t> times;
  times.reserve(e.nodes);
  for (std::uint32_t i = 0; i < e.nodes; ++i) {
    if (!sim.crashed(i) && first[i] >= 0) times.push_back(first[i]);
  }
  run.delivered = std::uint32_t(times.size());
  run.all_delivered = run.delivered == run.live;
  fill_rounds_to(run, times, e);

  if (flat) {
    const MulticastStats all = flat->total_stats();
    run.data_frames = all.data_sent;
    run.data_received = all.data_received;
    run.origin_datagrams = flat->member0_stats().datagrams_sent;
  } else {
    for (std::uint32_t i = 0; i < e.nodes; ++i) {
      const MulticastStats& s = protocol(i).stats();
      run.data_frames += s.data_sent;
      run.data_received += s.data_received;
      if (i == 0) run.origin_datagrams = s.datagrams_sent;
    }
  }
  const MulticastStats& origin = flat ? flat->member0_stats() : protocol(0).stats();
  // What left on the wire, from the network's side: a machine cannot know the simulator crashed
  // it mid-call (after its K-th datagram), so its own counters include the sends that followed
  // in the same call, which never left.
  run.datagrams = sim.counters().sent;
  run.bytes = sim.counters().bytes_sent;
  if (e.origin_crash_after_sends > 0 && sim.crashed(0) &&
      run.origin_datagrams > e.origin_crash_after_sends) {
    const std::uint64_t excess = run.origin_datagrams - e.origin_crash_after_sends;
    run.origin_datagrams = e.origin_crash_after_sends;
    // The excess is data except in push-pull, whose tick may end with pull requests (at most
    // pull_fanout frames over the whole run).
    run.data_frames -= std::min<std::uint64_t>(excess, origin.data_sent);
  }
  run.cross_router = sim.counters().cross_router;
  for (std::uint32_t s = 0; s < sim.subnet_count(); ++s) {
    run.router_max = std::max(run.router_max, sim.router_crossings(s));
  }
  run.events = sim.counters().events;
  run.delivery_hash = sim.delivery_hash();
  return run;
}

}  // namespace

std::string check_sharded(const MulticastExperiment& e) {
  if (e.sim_threads == 0) return {};
  if (e.sim_threads > ShardedSimulator::kShardsMax) return "sim_threads: at most 64";
  if (e.uplink_bytes_per_second > 0) return "the sharded simulator has no uplink bandwidth model";
  if (e.origin_crash_after_sends > 0) {
    return "the sharded simulator crashes nodes only between runs (no crash after K sends)";
  }
  return {};
}

MulticastRun run_multicast_once(const MulticastExperiment& e, std::uint32_t run_index) {
  const std::uint64_t seed = derive_seed(e.seed, run_index);
  MulticastConfig config = e.config;
  if (e.synchronous) {
    config.period_jitter = 0.0;
    config.random_phase = false;
  } else {
    config.random_phase = true;
  }
  // Trees time their repairs by the network's delay: an ACK timeout of two worst-case round
  // trips, and SRM's distance unit of one worst-case hop.
  const NetworkConfig net = network_for(e);
  const Duration hop = std::max(net.local.latency_max, net.cross.latency_max) + net.local.jitter;
  config.ack_timeout = hop * 4;
  config.hop_delay = hop;
  SimGroup group(e.nodes, e.subnets);
  if (e.sim_threads > 0) {
    ShardedSimulator sim(net, seed, e.sim_threads);
    return run_on(sim, e, config, group, seed, run_index);
  }
  Simulator sim(net, seed);
  return run_on(sim, e, config, group, seed, run_index);
}

std::vector<double> mean_field_curve(const MulticastConfig& c, std::uint32_t n, double loss,
                                     std::uint32_t rounds) {
  std::vector<double> curve;
  double u = 1.0 - 1.0 / double(n);
  curve.push_back(1.0 - u);
  const bool push =
      c.protocol == MulticastProtocolKind::push || c.protocol == MulticastProtocolKind::pushpull;
  const bool pull =
      c.protocol == MulticastProtocolKind::pull || c.protocol == MulticastProtocolKind::pushpull;
  const double b_eff = double(c.fanout) * (1.0 - loss);
  const double pull_fail = 1.0 - (1.0 - loss) * (1.0 - loss);  // request and reply must arrive
  for (std::uint32_t t = 0; t < rounds; ++t) {
    double next = u;
    if (push) next *= std::exp(-b_eff * (1.0 - u));
    if (pull) next *= std::pow(u + (1.0 - u) * pull_fail, double(c.pull_fanout));
    u = next;
    curve.push_back(1.0 - u);
  }
  return curve;
}

namespace {

void aggregate(MulticastSummary& s) {
  const MulticastExperiment& e = s.experiment;
  std::vector<double> complete, all_rounds, half, half_to_all, fraction, msgs, data, bytes,
      redundancy, origin, cross, busiest, seconds;
  std::size_t curve_len = 0;
  std::uint64_t h = 0;
  for (const MulticastRun& r : s.runs) {
    all_rounds.push_back(r.rounds_run);
    if (r.all_delivered) {
      complete.push_back(r.rounds_to[3]);
      ++s.runs_all_delivered;
      if (r.rounds_to[0] >= 0) half_to_all.push_back(r.rounds_to[3] - r.rounds_to[0]);
      if (r.seconds_to_all >= 0) seconds.push_back(r.seconds_to_all);
    }
    if (r.rounds_to[0] >= 0) half.push_back(r.rounds_to[0]);
    fraction.push_back(r.live ? double(r.delivered) / double(r.live) : 0.0);
    msgs.push_back(double(r.datagrams) / double(e.nodes));
    data.push_back(double(r.data_frames) / double(e.nodes));
    bytes.push_back(double(r.bytes) / double(e.nodes));
    redundancy.push_back(r.delivered > 1 ? double(r.data_received) / double(r.delivered - 1) : 0);
    origin.push_back(double(r.origin_datagrams));
    double rounds = std::max<double>(1.0, double(r.rounds_run));
    cross.push_back(double(r.cross_router) / rounds);
    busiest.push_back(double(r.router_max) / rounds);
    curve_len = std::max(curve_len, r.curve.size());
    h = mix64(h ^ r.delivery_hash);
    s.events += r.events;
  }
  // Completion statistics cover the runs that completed; with none, they are NaN ("never"),
  // not the rounds simulated, which would read as a completion time.
  const double never = std::numeric_limits<double>::quiet_NaN();
  s.rounds_mean = complete.empty() ? never : mean(complete);
  s.rounds_p50 = complete.empty() ? never : percentile(complete, 0.5);
  s.rounds_max = complete.empty() ? never : max_of(complete);
  s.rounds_sd = complete.empty() ? never : stddev(complete);
  s.rounds_run_mean = mean(all_rounds);
  s.rounds_to_50_mean = half.empty() ? never : mean(half);
  s.rounds_50_to_100_mean = half_to_all.empty() ? never : mean(half_to_all);
  s.delivered_fraction_mean = mean(fraction);
  s.delivered_fraction_min = min_of(fraction);
  s.messages_per_node_mean = mean(msgs);
  s.data_messages_per_node_mean = mean(data);
  s.bytes_per_node_mean = mean(bytes);
  s.redundancy_mean = mean(redundancy);
  s.origin_messages_mean = mean(origin);
  s.cross_router_messages_per_round_mean = mean(cross);
  s.busiest_router_messages_per_round_mean = mean(busiest);
  s.seconds_to_all_mean = seconds.empty() ? never : mean(seconds);
  s.delivery_hash = h;
  s.curve_mean.assign(curve_len, 0.0);
  for (const MulticastRun& r : s.runs) {
    for (std::size_t k = 0; k < curve_len; ++k) {
      std::uint32_t v = r.curve.empty() ? 0 : r.curve[std::min(k, r.curve.size() - 1)];
      s.curve_mean[k] += r.live ? double(v) / double(r.live) / double(s.runs.size()) : 0.0;
    }
  }
  const auto p = e.config.protocol;
  const bool gossip = p == MulticastProtocolKind::push || p == MulticastProtocolKind::pull ||
                      p == MulticastProtocolKind::pushpull;
  if (gossip && e.synchronous && e.crashed_fraction == 0 && e.crash_interior == 0 &&
      e.config.stop == StopRule::none && e.config.fanout_poisson_mean == 0 && e.subnets <= 1) {
    s.curve_mean_field = mean_field_curve(e.config, e.nodes, e.loss,
                                          std::uint32_t(curve_len > 0 ? curve_len - 1 : 0));
  }
}

}  // namespace

MulticastSummary run_multicast(const MulticastExperiment& e,
                               const std::function<void(std::uint32_t, std::uint32_t)>& progress) {
  if (std::string why = check_sharded(e); !why.empty()) throw std::invalid_argument(why);
  auto start = std::chrono::steady_clock::now();
  MulticastSummary s;
  s.experiment = e;
  s.runs.resize(e.runs);
  // Sharded runs already use sim_threads threads each: one run at a time unless asked.
  const unsigned threads = e.sim_threads > 0 && e.threads == 0 ? 1 : e.threads;
  run_in_parallel(
      e.runs, threads, [&](std::uint32_t r) { s.runs[r] = run_multicast_once(e, r); }, progress);
  s.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  aggregate(s);
  return s;
}

}  // namespace grapevine::sim
