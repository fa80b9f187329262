// Knowing the limits before hitting them: what a `grapevine sim` run will need in memory, from
// its options alone, and what this machine has. Full member lists are O(N^2) in all (every
// member holds a record of every other): `sim membership --nodes 100000` would need about a
// terabyte, and without this check it allocates until std::bad_alloc or the OOM killer.
//
// The formulas are fits of measured peak RSS (docs/performance.md, "Knowing the limits"):
// bytes ~= a + b*N + c*N^2 per run, times the runs that are in memory at once (--threads).
// They are estimates (to within tens of percent), meant to refuse a run that cannot fit, not to
// budget one that can.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace grapevine::sim {

/// One run's estimated peak, and the words that name what dominates it.
struct MemoryEstimate {
  std::uint64_t bytes = 0;
  std::string what;  // e.g. "N^2 member records"
};

/// `sim membership`: N members with full views (one run).
MemoryEstimate estimate_membership(std::uint64_t nodes);
/// `sim cluster`: the agent's Node (membership with full views, multicast, state), one run.
MemoryEstimate estimate_cluster(std::uint64_t nodes);
/// `sim multicast`: one run of a dissemination protocol over N nodes (O(N)); `gossip` for push,
/// pull and push-pull, whose per-node state is about half the tree and centralized protocols'.
MemoryEstimate estimate_multicast(std::uint64_t nodes, bool gossip);
/// `sim views`: N nodes with partial views of about `view_entries` entries each (O(N * view)).
MemoryEstimate estimate_views(std::uint64_t nodes, std::uint64_t view_entries);

/// Bytes this process may still use: MemAvailable from /proc/meminfo, lowered to the cgroup v2
/// limit (/sys/fs/cgroup/memory.max minus memory.current) when one is set. nullopt when neither
/// can be read (then nothing is refused).
std::optional<std::uint64_t> available_memory_bytes();

/// "1.1 TB", "23.1 GB", "512.0 MB": decimal units, one decimal.
std::string format_bytes(std::uint64_t bytes);

/// The largest N in [2, hint] whose estimate(N) * parallel fits in `budget` (0 if none).
template <typename F>
std::uint64_t largest_fitting(F estimate, std::uint64_t parallel, std::uint64_t budget,
                              std::uint64_t hint) {
  std::uint64_t lo = 1, hi = hint;
  while (lo < hi) {
    const std::uint64_t mid = lo + (hi - lo + 1) / 2;
    if (estimate(mid).bytes * parallel <= budget) lo = mid;
    else hi = mid - 1;
  }
  return lo < 2 ? 0 : lo;
}

/// The share of available memory a run may plan to use.
inline constexpr double kMemoryMargin = 0.9;

}  // namespace grapevine::sim
