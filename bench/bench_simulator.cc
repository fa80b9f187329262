// Simulator loop throughput in events per second, single thread, with a machine that does almost
// nothing: every period each node sends one 8-byte datagram to a uniformly random peer, and
// ignores what it receives. So each node costs two events per period (its timer and one
// delivery) and what is measured is the simulator itself: the calendar queue, the packet pool,
// routing, the per-link latency hash and the delivery hash. Links: 1-50 ms base latency per
// ordered pair (hashed), no loss. Nodes start at random phases within the first period.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "grapevine/machine.h"
#include "sim/sharded_simulator.h"
#include "sim/simulator.h"
#include "util/rng.h"

namespace grapevine::sim {
namespace {

constexpr Duration kPeriod = Duration::seconds(1);

class PingPong final : public Machine {
 public:
  PingPong(std::uint32_t self, std::uint32_t nodes, std::uint64_t seed)
      : rng_(seed), self_(self), nodes_(nodes) {
    next_ = Time::zero() + Duration::nanoseconds(rng_.between(1, kPeriod.ns()));
  }
  void on_datagram(Time, const Address&, std::span<const std::byte>, Effects&) override {}
  void on_timeout(Time now, Effects& fx) override {
    if (now < next_) return;
    auto peer = std::uint32_t(rng_.below(nodes_ - 1));
    if (peer >= self_) ++peer;
    const std::uint64_t word = now.ns() ^ self_;
    fx.send(sim_address(peer), std::as_bytes(std::span(&word, 1)));
    next_ = now + kPeriod;
  }
  [[nodiscard]] Time next_deadline() const noexcept override { return next_; }

 private:
  Rng rng_;
  Time next_;
  std::uint32_t self_;
  std::uint32_t nodes_;
};

// Minor plus major page faults of the process so far (what `perf stat -e page-faults` counts).
long page_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt + usage.ru_majflt;
}

void BM_SimulatorPingPong(benchmark::State& state) {
  const auto nodes = std::uint32_t(state.range(0));
  LinkProfile link;
  link.latency_min = Duration::milliseconds(1);
  link.latency_max = Duration::milliseconds(50);
  Simulator sim(NetworkConfig::uniform(link), 42);
  sim.reserve(nodes);
  for (std::uint32_t i = 0; i < nodes; ++i) {
    sim.add_node(std::make_unique<PingPong>(i, nodes, derive_seed(42, i)));
  }
  sim.run_for(kPeriod);  // warm up: every node has ticked once, packets are in flight
  const std::uint64_t before = sim.counters().events;
  const long faults_before = page_faults();
  for (auto _ : state) sim.run_for(kPeriod);  // one iteration = one period of virtual time
  const std::uint64_t events = sim.counters().events - before;
  state.SetItemsProcessed(std::int64_t(events));
  state.counters["events_per_period"] =
      benchmark::Counter(double(events) / double(state.iterations()));
  // Page faults in the measured periods only (set-up and warm-up excluded), per event.
  state.counters["faults_per_event"] =
      benchmark::Counter(double(page_faults() - faults_before) / double(events));
}

BENCHMARK(BM_SimulatorPingPong)
    ->Arg(1000)
    ->Arg(10000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

// 10^7 nodes (issue 12): 2.3 GiB peak RSS, ~16 s CPU per repetition (run it under the big-memory
// lock); its own registration. `--benchmark_filter='SimulatorPingPong/10{3,6}/'` leaves it out.
BENCHMARK(BM_SimulatorPingPong)->Arg(10000000)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// Exactly one measured period per size (setup, one warm-up period, one period), for running
// under valgrind, where the cache figures come from (docs/performance.md, "Cache misses without
// a PMU"): no "Simulator" in its name, so the filters above never select it.
BENCHMARK(BM_SimulatorPingPong)
    ->Name("BM_PingPongOnePeriod")
    ->RangeMultiplier(10)
    ->Range(1000, 10000000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// The same ping-pong on the sharded simulator (sim/sharded_simulator.h): args are nodes,
// threads (shards) and the minimum latency in ms (the lookahead: windows are at most that wide;
// 1 is the ping-pong above). Wall time (UseRealTime): items/s is events per wall second over all
// threads. With 1 thread it is the same algorithm with one window per period and no barrier.
void BM_ShardedPingPong(benchmark::State& state) {
  const auto nodes = std::uint32_t(state.range(0));
  const auto threads = unsigned(state.range(1));
  LinkProfile link;
  link.latency_min = Duration::milliseconds(state.range(2));
  link.latency_max = Duration::milliseconds(50);
  ShardedSimulator sim(NetworkConfig::uniform(link), 42, threads);
  sim.reserve(nodes);
  for (std::uint32_t i = 0; i < nodes; ++i) {
    sim.add_node(std::make_unique<PingPong>(i, nodes, derive_seed(42, i)));
  }
  sim.run_for(kPeriod);
  const std::uint64_t before = sim.counters().events;
  const std::uint64_t windows_before = sim.windows();
  std::vector<Duration> cpu_before;
  for (unsigned s = 0; s < sim.shards(); ++s) cpu_before.push_back(sim.shard_cpu(s));
  for (auto _ : state) sim.run_for(kPeriod);
  const std::uint64_t events = sim.counters().events - before;
  state.SetItemsProcessed(std::int64_t(events));
  // The busiest shard thread's CPU time: the critical path, what the wall time would be with a
  // free core per thread (the shared machine's scheduler gives one process about one share).
  double busiest = 0, total = 0;
  for (unsigned s = 0; s < sim.shards(); ++s) {
    const double cpu = (sim.shard_cpu(s) - cpu_before[s]).to_seconds();
    busiest = std::max(busiest, cpu);
    total += cpu;
  }
  state.counters["events_per_busiest_cpu_s"] = benchmark::Counter(double(events) / busiest);
  state.counters["cpu_ms_per_period"] =
      benchmark::Counter(1e3 * total / double(state.iterations()));
  state.counters["events_per_period"] =
      benchmark::Counter(double(events) / double(state.iterations()));
  state.counters["windows_per_period"] =
      benchmark::Counter(double(sim.windows() - windows_before) / double(state.iterations()));
}

BENCHMARK(BM_ShardedPingPong)
    ->ArgsProduct({{1000, 10000, 100000, 1000000}, {1, 2}, {1}})
    ->ArgsProduct({{100000, 1000000}, {2}, {20}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

}  // namespace
}  // namespace grapevine::sim
