// The `grapevine sim` commands refuse, before they start, a run that cannot fit in memory: one
// line with what it would need, what the machine has and what to use instead (exit 2). --force
// skips the check. The estimates themselves are in sim/memory_estimate.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sim/memory_estimate.h"

namespace grapevine::tools {

struct MemoryCheck {
  const char* command;      // "sim membership"
  std::uint64_t nodes;      // N
  const char* noun;         // "members with full views"
  std::uint64_t parallel;   // runs in memory at once (threads)
  std::function<sim::MemoryEstimate(std::uint64_t)> estimate;  // one run's peak against N
  const char* alternative;  // ", or partial views (grapevine sim views)" or ""
};

/// The estimate of the whole run (one run's times `parallel`); throws UsageError with the
/// one-line refusal when it exceeds kMemoryMargin of the available memory, unless `force`.
std::uint64_t check_memory(const MemoryCheck& c, bool force);

/// Runs in memory at once: min(threads or one per core, runs), at least 1.
std::uint64_t parallel_runs(std::uint32_t threads, std::uint32_t runs);

}  // namespace grapevine::tools
