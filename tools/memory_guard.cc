// Refusing a `grapevine sim` run that cannot fit (see memory_guard.h).
#include "memory_guard.h"

#include <algorithm>
#include <thread>

#include "options.h"

namespace grapevine::tools {
namespace {

// 14000 -> "14,000"
std::string with_commas(std::uint64_t v) {
  std::string s = std::to_string(v);
  for (int i = int(s.size()) - 3; i > 0; i -= 3) s.insert(std::size_t(i), ",");
  return s;
}

}  // namespace

std::uint64_t parallel_runs(std::uint32_t threads, std::uint32_t runs) {
  const std::uint64_t t = threads ? threads : std::max(1u, std::thread::hardware_concurrency());
  return std::max<std::uint64_t>(1, std::min<std::uint64_t>(t, runs));
}

std::uint64_t check_memory(const MemoryCheck& c, bool force) {
  const sim::MemoryEstimate one = c.estimate(c.nodes);
  const std::uint64_t total = one.bytes * c.parallel;
  if (force) return total;
  const auto avail = sim::available_memory_bytes();
  if (!avail) return total;
  const auto budget = std::uint64_t(double(*avail) * sim::kMemoryMargin);
  if (total <= budget) return total;
  std::string msg = std::string(c.command) + ": " + with_commas(c.nodes) + " " + c.noun;
  if (c.parallel > 1) msg += " (" + std::to_string(c.parallel) + " runs at once)";
  msg += " need about " + sim::format_bytes(total) + " (" + one.what + "); this machine has " +
         sim::format_bytes(*avail) + " available. Use fewer nodes (";
  const std::uint64_t fit = sim::largest_fitting(c.estimate, c.parallel, budget, c.nodes);
  if (fit >= 1000) msg += "about " + with_commas(fit / 1000 * 1000) + " fit)";
  else if (fit > 0) msg += "about " + with_commas(fit) + " fit)";
  else msg += "none fit)";
  if (c.parallel > 1) msg += ", fewer --threads";
  msg += std::string(c.alternative) + ", or --force to try anyway.";
  throw UsageError(msg);
}

}  // namespace grapevine::tools
