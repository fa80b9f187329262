// Memory estimates for the `grapevine sim` commands (see memory_estimate.h). The coefficients
// are least-squares fits of peak RSS from `/usr/bin/time -v` (docs/performance.md, "Knowing the
// limits"); the fixed part covers the binary, the allocator and the event queue's first blocks.
#include "sim/memory_estimate.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace grapevine::sim {
namespace {

// Fits of peak RSS (bytes) against N; see docs/performance.md, "Knowing the limits".
// sim membership (Lifeguard, preloaded, 10 s) at N = 1000, 2000, 4000: 93.3, 344.4, 1344.3 MB
// -> a = 8 MB, b = 2.3 KB, c = 83 B (a 48-byte record, 8-byte id index entries, the live view,
// zones, name offsets); predicts 8.3 GB at 10,000 (sim cluster preloaded there, 20 s: 8.28 GB).
// Before the records shrank (2026-12-05 morning): 123.2, 467.1, 1827.4 MB, c = 112 B.
constexpr double kMembershipFixed = 8e6, kMembershipPerNode = 2250, kMembershipPerRecord = 83;
// sim cluster (join at 200/s, 30 s) at N = 500, 1000, 2000: 92.0, 332.1, 871.6 MB; a fixed at
// 8 MB and b, c through the two larger points: b = 208 KB a node is the piggyback queue, full
// (kQueuedMax updates) once the group has over 1,024 members, c = 116 B a member record with its
// name. Conservative below 1,024 members (500: 141 MB estimated) and for preloaded runs (8.28 GB
// at 10,000 without faults against 13.7 GB estimated). Before names moved to an arena: 153.7,
// 580.5, 1868.9 MB, c = 358 B.
constexpr double kClusterFixed = 8e6, kClusterPerNode = 208e3, kClusterPerRecord = 116;

// a + b*N + c*N^2, saturating instead of wrapping for absurd N.
std::uint64_t quadratic(double a, double b, double c, std::uint64_t n) {
  const double x = double(n);
  const double v = a + b * x + c * x * x;
  return v >= 1.8e19 ? UINT64_MAX / 1024 : std::uint64_t(v);
}

std::optional<std::uint64_t> read_number(const char* path) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return std::nullopt;
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

MemoryEstimate estimate_membership(std::uint64_t nodes) {
  // c is the cost of one member record in one member's list, with its index entries.
  return {quadratic(kMembershipFixed, kMembershipPerNode, kMembershipPerRecord, nodes),
          "N^2 member records"};
}

MemoryEstimate estimate_cluster(std::uint64_t nodes) {
  // The agent's Node: the same full member lists (with the piggyback queues) plus multicast
  // state per node.
  return {quadratic(kClusterFixed, kClusterPerNode, kClusterPerRecord, nodes),
          "N^2 member records plus multicast state"};
}

MemoryEstimate estimate_multicast(std::uint64_t nodes, bool gossip) {
  // Gossip (push, pull, push-pull): 912 MB peak at 10^6 and 9.17 GB at 10^7 nodes (push-pull,
  // fanout 1, one run; docs/performance.md): ~0.92 KB per node, allowed 1 KB. The other
  // protocols (trees with their ACK/NACK buffers, the centralized sender's state) twice that.
  // The fixed part covers small runs: 253 MB measured at 200,000 nodes. Since gossip runs as a
  // flat GossipPopulation (branch pushflat) 10^6 nodes peak at 0.68 GB; the allowance is kept
  // (an estimate refuses runs that cannot fit; it need not be tight).
  const double fixed = gossip ? 64e6 : 16e6;
  return {quadratic(fixed, gossip ? 1000 : 2000, 0, nodes), "per-node protocol state"};
}

MemoryEstimate estimate_views(std::uint64_t nodes, std::uint64_t view_entries) {
  // HyParView + Plumtree at 10^6 nodes peaked at 5.97 GiB (~6 KB per node, 35 view entries).
  const double per_node = 1500.0 + 130.0 * double(view_entries);
  return {quadratic(16e6, per_node, 0, nodes), "N partial views"};
}

std::optional<std::uint64_t> available_memory_bytes() {
  std::optional<std::uint64_t> avail;
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    if (line.rfind("MemAvailable:", 0) != 0) continue;
    std::istringstream fields(line.substr(13));
    std::uint64_t kib = 0;
    if (fields >> kib) avail = kib * 1024;
  }
  const auto limit = read_number("/sys/fs/cgroup/memory.max");
  if (limit) {
    const std::uint64_t used = read_number("/sys/fs/cgroup/memory.current").value_or(0);
    const std::uint64_t left = *limit > used ? *limit - used : 0;
    if (!avail || left < *avail) avail = left;
  }
  return avail;
}

std::string format_bytes(std::uint64_t bytes) {
  static const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  double v = double(bytes);
  int u = 0;
  while (v >= 1000 && u < 6) {
    v /= 1000;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace grapevine::sim
