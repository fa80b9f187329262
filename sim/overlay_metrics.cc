#include "sim/overlay_metrics.h"

#include <algorithm>
#include <cmath>

#include "sim/stats.h"

namespace grapevine::sim {
namespace {

std::vector<std::uint32_t> live_nodes(const OverlayGraph& g) {
  std::vector<std::uint32_t> v;
  for (std::uint32_t i = 0; i < g.live.size(); ++i) {
    if (g.live[i]) v.push_back(i);
  }
  return v;
}

// Up to `k` distinct random entries of `from` (partial Fisher-Yates on a copy).
std::vector<std::uint32_t> sample(std::vector<std::uint32_t> from, std::uint32_t k, Rng& rng) {
  k = std::min<std::uint32_t>(k, std::uint32_t(from.size()));
  for (std::uint32_t i = 0; i < k; ++i) {
    std::swap(from[i], from[i + rng.below(from.size() - i)]);
  }
  from.resize(k);
  return from;
}

}  // namespace

DegreeStats degree_stats(const OverlayGraph& g) {
  DegreeStats s;
  const std::size_t n = g.live.size();
  std::vector<std::uint32_t> in(n, 0);
  std::vector<double> outs, ins;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!g.live[i]) continue;
    outs.push_back(double(g.out[i].size()));
    s.out_max = std::max<std::uint32_t>(s.out_max, std::uint32_t(g.out[i].size()));
    for (std::uint32_t j : g.out[i]) {
      if (j < n && g.live[j]) ++in[j];
    }
  }
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!g.live[i]) continue;
    ins.push_back(double(in[i]));
    s.in_max = std::max(s.in_max, in[i]);
  }
  s.out_mean = mean(outs);
  s.out_p50 = percentile(outs, 0.5);
  s.in_mean = mean(ins);
  s.in_stddev = stddev(ins);
  s.in_histogram.assign(s.in_max + 1, 0);
  for (double d : ins) ++s.in_histogram[std::size_t(d)];
  return s;
}

double clustering(const OverlayGraph& g, std::uint32_t samples, Rng& rng) {
  const std::size_t n = g.live.size();
  std::vector<std::vector<std::uint32_t>> und(n);
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!g.live[i]) continue;
    for (std::uint32_t j : g.out[i]) {
      if (j >= n || !g.live[j] || j == i) continue;
      und[i].push_back(j);
      und[j].push_back(i);
    }
  }
  for (auto& v : und) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  }
  std::vector<double> cc;
  for (std::uint32_t v : sample(live_nodes(g), samples, rng)) {
    const auto& nb = und[v];
    if (nb.size() < 2) continue;
    std::uint64_t links = 0;
    for (std::size_t a = 0; a < nb.size(); ++a) {
      for (std::size_t b = a + 1; b < nb.size(); ++b) {
        links += std::binary_search(und[nb[a]].begin(), und[nb[a]].end(), nb[b]) ? 1 : 0;
      }
    }
    const double pairs = double(nb.size()) * double(nb.size() - 1) / 2.0;
    cc.push_back(double(links) / pairs);
  }
  return mean(cc);
}

double path_length(const OverlayGraph& g, std::uint32_t samples, Rng& rng, double& reachable) {
  const std::size_t n = g.live.size();
  const std::vector<std::uint32_t> live = live_nodes(g);
  std::vector<std::int32_t> dist(n, -1);
  std::vector<std::uint32_t> queue;
  double total = 0, pairs = 0, reached = 0, possible = 0;
  for (std::uint32_t s : sample(live, samples, rng)) {
    std::fill(dist.begin(), dist.end(), -1);
    queue.assign(1, s);
    dist[s] = 0;
    for (std::size_t head = 0; head < queue.size(); ++head) {
      const std::uint32_t u = queue[head];
      for (std::uint32_t v : g.out[u]) {
        if (v < n && g.live[v] && dist[v] < 0) {
          dist[v] = dist[u] + 1;
          queue.push_back(v);
          total += dist[v];
          pairs += 1;
        }
      }
    }
    reached += double(queue.size() - 1);
    possible += double(live.size() - 1);
  }
  reachable = possible > 0 ? reached / possible : 0.0;
  return pairs > 0 ? total / pairs : 0.0;
}

std::uint64_t dead_links(const OverlayGraph& g) {
  std::uint64_t dead = 0;
  for (std::uint32_t i = 0; i < g.live.size(); ++i) {
    if (!g.live[i]) continue;
    for (std::uint32_t j : g.out[i]) dead += (j < g.live.size() && !g.live[j]) ? 1 : 0;
  }
  return dead;
}

double ring_fraction(const OverlayGraph& g) {
  // The ring lives on the 64-bit id space and simulated ids fill a tiny arc of it: the link
  // closing the arc (last node -> first) is a long jump that only random samples reveal, which
  // takes ~N/m cycles. So the target here is the sorted line: each node holds its predecessor
  // and successor, the two ends only their inner neighbour.
  const std::vector<std::uint32_t> live = live_nodes(g);
  if (live.size() < 2) return 1.0;
  std::size_t good = 0;
  for (std::size_t k = 0; k < live.size(); ++k) {
    const auto& v = g.out[live[k]];
    auto holds = [&](std::uint32_t j) { return std::find(v.begin(), v.end(), j) != v.end(); };
    const bool pred_ok = k == 0 || holds(live[k - 1]);
    const bool succ_ok = k + 1 == live.size() || holds(live[k + 1]);
    good += (pred_ok && succ_ok) ? 1 : 0;
  }
  return double(good) / double(live.size());
}

}  // namespace grapevine::sim
