// rapid_faults: the flipflop and lossy experiments of rapid_experiments (Rapid's Figures 9 and
// 10): a few members with packet loss in a preloaded group, consistent mode and Lifeguard under
// the same fault schedule. Each run prints one JSON line.
//   FaultRun r; r.flipflop = true; run_consistent_faults(r); run_lifeguard_faults(r);
#pragma once

#include <cstdint>

/// Options of a group of `nodes` that starts knowing every member (ConsistentClusterOptions or
/// MembershipClusterOptions): every experiment here starts from a settled group.
template <class Options>
Options preloaded(std::uint32_t nodes, std::uint64_t seed) {
  Options o;
  o.nodes = nodes;
  o.seed = seed;
  o.preloaded = true;
  return o;
}

struct FaultRun {
  bool flipflop = true;       // 20 s of `loss`, 20 s fine, repeated; else `loss` throughout
  std::uint32_t nodes = 1000;
  std::uint32_t faulty = 10;  // members with the loss (chosen at random, never node 0)
  double loss = 1.0;          // drop probability of every packet to or from a faulty member
  double seconds = 120;       // fault schedule length, after a 10 s settled start
  std::uint64_t seed = 1;
};

/// Consistent mode; returns whether agreement held.
bool run_consistent_faults(const FaultRun& r);
/// Lifeguard, twice: as configured by default, then without streams (no TCP fallback ping, no
/// push-pull, no reconnect): simulated streams are not subject to the per-node drop, so they
/// would get through to a faulty member.
void run_lifeguard_faults(const FaultRun& r);
void run_lifeguard_faults(const FaultRun& r, bool streams);
