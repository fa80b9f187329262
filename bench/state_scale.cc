// Replicated node state (scuttlebutt) at scale: full grapevine Nodes in the simulator.
//
//   state_scale latency N [SETS]   one set at a time; when every live node saw it (p50/p99/max)
//   state_scale cold N KEYS        N nodes set KEYS keys each at t=0; time until all hold all
//   state_scale traffic N [SECS]   every node updates one key per second; state bytes/node/s
//
// Members start preloaded (everyone knows everyone), 1 ms links, defaults of StateConfig.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim/state_cluster.h"

using namespace grapevine;
using namespace grapevine::sim;

namespace {

double wall_seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, std::size_t(p * double(v.size() - 1) + 0.5))];
}

int latency(std::uint32_t n, std::uint32_t sets) {
  StateClusterOptions o;
  o.nodes = n;
  StateCluster c(o);
  for (NodeIndex i = 0; i < n; ++i) (void)c.set(i, "base", "1");  // a cluster with state
  if (!c.run_until_all_hold(n, Duration::seconds(60))) return std::puts("no convergence"), 1;
  for (NodeIndex i = 0; i < n; ++i) c.watch(i, "probe/");
  std::vector<Time> seen(n);
  std::uint32_t seen_count = 0;
  c.sim().set_observer([&](Time t, NodeIndex i, const Event& e) {
    if (e.kind == EventKind::state_changed && seen[i] == Time::max()) {
      seen[i] = t;
      ++seen_count;
    }
  });
  std::vector<double> all, p99s;
  for (std::uint32_t s = 0; s < sets; ++s) {
    std::fill(seen.begin(), seen.end(), Time::max());
    seen_count = 0;
    c.run_for(Duration::milliseconds(1500));
    const NodeIndex origin = NodeIndex((s * 7919u) % n);
    const Time t0 = c.now();
    (void)c.set(origin, "probe/" + std::to_string(s), "x");
    c.sim().run_until([&] { return seen_count == n; }, t0 + Duration::seconds(30));
    std::vector<double> lat;
    for (NodeIndex i = 0; i < n; ++i) {
      lat.push_back(seen[i] == Time::max() ? 1e9 : (seen[i] - t0).to_seconds());
    }
    p99s.push_back(percentile(lat, 0.99));
    all.insert(all.end(), lat.begin(), lat.end());
  }
  std::printf("latency n=%u sets=%u: p50 %.3f s, p99 %.3f s, max %.3f s (worst set p99 %.3f s)\n",
              n, sets, percentile(all, 0.5), percentile(all, 0.99), percentile(all, 1.0),
              *std::max_element(p99s.begin(), p99s.end()));
  return 0;
}

int cold(std::uint32_t n, std::uint32_t keys) {
  StateClusterOptions o;
  o.nodes = n;
  StateCluster c(o);
  for (NodeIndex i = 0; i < n; ++i) {
    for (std::uint32_t k = 0; k < keys; ++k) {
      (void)c.set(i, "key/" + std::to_string(k), "v" + std::to_string(i) + "." + std::to_string(k));
    }
  }
  auto t = c.run_until_all_hold(std::size_t(n) * keys, Duration::seconds(120),
                                Duration::milliseconds(100));
  if (!t) return std::puts("cold: no convergence within 120 s"), 1;
  const auto& net = c.sim().counters();
  std::printf("cold n=%u keys=%u: all hold all %zu keys after %.2f s; state bytes %.1f MB "
              "(%.0f KB/node), streams %llu\n",
              n, keys, std::size_t(n) * keys, t->to_seconds(), double(c.state_bytes()) / 1e6,
              double(c.state_bytes()) / n / 1e3, (unsigned long long)net.streams);
  return 0;
}

int traffic(std::uint32_t n, std::uint32_t secs) {
  StateClusterOptions o;
  o.nodes = n;
  StateCluster c(o);
  for (NodeIndex i = 0; i < n; ++i) (void)c.set(i, "load", "0");
  c.run_for(Duration::seconds(5));
  std::uint64_t counter = 0;
  auto tick = [&](std::uint32_t second) {
    for (NodeIndex i = 0; i < n; ++i) {
      c.sim().at(c.now() + Duration::milliseconds(std::int64_t(i) * 1000 / n), [&c, i, &counter] {
        (void)c.set(i, "load", std::to_string(++counter));
      });
    }
    (void)second;
  };
  const std::uint64_t before = c.state_bytes();
  const auto net_before = c.sim().counters();
  for (std::uint32_t s = 0; s < secs; ++s) {
    tick(s);
    c.run_for(Duration::seconds(1));
  }
  c.run_for(Duration::seconds(3));  // let the last second's updates arrive, then check
  const double rate = double(c.state_bytes() - before) / n / (secs + 3);
  const auto& net = c.sim().counters();
  std::size_t behind = 0;
  for (NodeIndex i = 0; i < n; ++i) behind += c.keys_held(i) != n;
  std::printf("traffic n=%u: every node updates one key per second for %u s: state %.0f B/node/s"
              " (all protocols %.0f B/node/s), %llu streams; nodes missing keys at the end: %zu\n",
              n, secs, rate,
              double(net.bytes_sent + net.stream_bytes - net_before.bytes_sent -
                     net_before.stream_bytes) / n / (secs + 3),
              (unsigned long long)(net.streams - net_before.streams), behind);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s latency N [SETS] | cold N KEYS | traffic N [SECS]\n", argv[0]);
    return 2;
  }
  const std::string what = argv[1];
  const auto n = std::uint32_t(std::atoi(argv[2]));
  const auto arg = [&](int i, int d) { return argc > i ? std::uint32_t(std::atoi(argv[i])) : std::uint32_t(d); };
  const auto t0 = std::chrono::steady_clock::now();
  int rc = 2;
  if (what == "latency") rc = latency(n, arg(3, 10));
  if (what == "cold") rc = cold(n, arg(3, 20));
  if (what == "traffic") rc = traffic(n, arg(3, 30));
  std::printf("(wall %.1f s)\n", wall_seconds(t0));
  return rc;
}
