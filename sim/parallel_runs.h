// Independent seeded runs of one experiment on a pool of threads: each run writes only its own
// result slot, so the results (and their order) do not depend on the thread count.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

namespace grapevine::sim {

/// Calls run_one(r) for r in [0, runs) on `threads` workers (0 = one per core), reporting
/// progress(done, runs) about every 100 ms and once at the end.
template <class RunOne>
void run_in_parallel(std::uint32_t runs, unsigned threads, RunOne&& run_one,
                     const std::function<void(std::uint32_t, std::uint32_t)>& progress) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, std::max<std::uint32_t>(runs, 1));
  std::atomic<std::uint32_t> next{0}, done{0};
  auto worker = [&] {
    for (std::uint32_t r; (r = next.fetch_add(1)) < runs;) {
      run_one(r);
      done.fetch_add(1);
    }
  };
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(worker);
    std::uint32_t seen = 0;
    while (progress && done.load() < runs) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (std::uint32_t d = done.load(); d != seen) progress(seen = d, runs);
    }
    for (auto& t : pool) t.join();
  }
  if (progress) progress(runs, runs);
}

}  // namespace grapevine::sim
