// Graph measurements of an overlay given as out-neighbour lists over dense node indices:
// out-degree (view size), in-degree distribution, clustering coefficient (undirected, sampled),
// average shortest path (directed BFS from sampled sources), dead links, and T-MAN's ring.
#pragma once

#include <cstdint>
#include <vector>

#include "util/rng.h"

namespace grapevine::sim {

struct OverlayGraph {
  /// out[i] = the nodes in i's view; only live nodes' lists are filled, and edges to crashed
  /// nodes are kept (they are the dead links).
  std::vector<std::vector<std::uint32_t>> out;
  std::vector<bool> live;
};

struct DegreeStats {
  double out_mean = 0, out_p50 = 0;
  std::uint32_t out_max = 0;
  double in_mean = 0, in_stddev = 0;
  std::uint32_t in_max = 0;
  std::vector<std::uint32_t> in_histogram;
};

/// Over live nodes, counting only edges between live nodes for in-degree.
DegreeStats degree_stats(const OverlayGraph& g);
/// Mean local clustering coefficient of the undirected live graph over up to `samples` random
/// live nodes with at least two neighbours.
double clustering(const OverlayGraph& g, std::uint32_t samples, Rng& rng);
/// Mean hop distance over (source, reached node) pairs from up to `samples` random live
/// sources; `reachable` gets the fraction of (source, other live node) pairs reached.
double path_length(const OverlayGraph& g, std::uint32_t samples, Rng& rng, double& reachable);
/// Edges from live nodes to crashed ones.
std::uint64_t dead_links(const OverlayGraph& g);
/// Fraction of live nodes whose view holds both neighbours in id order among live nodes (index
/// order is id order for simulated addresses; the two ends need only their inner neighbour).
double ring_fraction(const OverlayGraph& g);

}  // namespace grapevine::sim
