// sim::EventQueue (calendar queue) against std::priority_queue<SimEvent> with the same (time, seq)
// order, in the hold model: N events pending; each step pops the earliest and pushes one at
// now + delay, delay uniform in [0, 2 s) (mean 1 s, a gossip period). One item = one pop + one
// push. Pending counts 1k, 64k, 1M and 4M: the last is a million-node run's working set.
#include <benchmark/benchmark.h>

#include <queue>
#include <vector>

#include "sim/event_queue.h"
#include "util/rng.h"

namespace grapevine::sim {
namespace {

constexpr std::int64_t kDelayMaxNs = 2'000'000'000;

struct Later {
  bool operator()(const SimEvent& a, const SimEvent& b) const noexcept {
    return event_before(b, a);
  }
};

SimEvent event_at(std::int64_t time, std::uint32_t node) {
  SimEvent e{};
  e.time = time;
  e.node = node;
  return e;
}

void BM_CalendarQueueHold(benchmark::State& state) {
  const auto pending = std::uint32_t(state.range(0));
  Rng rng(1);
  EventQueue q;
  for (std::uint32_t i = 0; i < pending; ++i) {
    q.push(event_at(std::int64_t(rng.below(kDelayMaxNs)), i));
  }
  for (auto _ : state) {
    SimEvent e = q.pop();
    e.time += std::int64_t(rng.below(kDelayMaxNs));
    q.push(e);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_PriorityQueueHold(benchmark::State& state) {
  const auto pending = std::uint32_t(state.range(0));
  Rng rng(1);
  std::priority_queue<SimEvent, std::vector<SimEvent>, Later> q;
  std::uint64_t seq = 0;
  for (std::uint32_t i = 0; i < pending; ++i) {
    SimEvent e = event_at(std::int64_t(rng.below(kDelayMaxNs)), i);
    e.seq = seq++;
    q.push(e);
  }
  for (auto _ : state) {
    SimEvent e = q.top();
    q.pop();
    e.time += std::int64_t(rng.below(kDelayMaxNs));
    e.seq = seq++;
    q.push(e);
  }
  state.SetItemsProcessed(state.iterations());
}

// Fixed iteration counts keep the run short and, with 4M pending, make every run cycle the
// whole queue at least once (so steady state, not the initial fill, is what is measured).
BENCHMARK(BM_CalendarQueueHold)
    ->Arg(1 << 10)
    ->Arg(1 << 16)
    ->Arg(1 << 20)
    ->Arg(1 << 22)
    ->Iterations(8'000'000);
BENCHMARK(BM_PriorityQueueHold)
    ->Arg(1 << 10)
    ->Arg(1 << 16)
    ->Arg(1 << 20)
    ->Arg(1 << 22)
    ->Iterations(8'000'000);

}  // namespace
}  // namespace grapevine::sim
