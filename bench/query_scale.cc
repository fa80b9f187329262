// Serf-style queries at scale: full grapevine Nodes (LAN defaults) in the simulator.
//
//   query_scale [N] [QUERIES] [LOSS] [RELAY]   defaults 1000 10 0 0
//
// Members start preloaded (everyone knows everyone) on 1..5 ms links with LOSS on every link.
// Every 15 s a random node queries everyone (acks requested, RELAY relays per answer) with the
// default timeout (serf's: 200 ms x 16 x ceil(log10(N + 1))) and every member answers at once.
// Printed per query, then summed up: answers gathered, and when (from the query's issue) the
// first, the median, the 99th percentile and the last response reached the querier; the bytes
// every node sent meanwhile (all traffic, the failure detector's included).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sim/node_cluster.h"

using namespace grapevine;
using namespace grapevine::sim;

namespace {

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, std::size_t(p * double(v.size() - 1) + 0.5))];
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint32_t n = argc > 1 ? std::uint32_t(std::atoi(argv[1])) : 1000;
  const std::uint32_t queries = argc > 2 ? std::uint32_t(std::atoi(argv[2])) : 10;
  const double loss = argc > 3 ? std::atof(argv[3]) : 0.0;
  const int relay = argc > 4 ? std::atoi(argv[4]) : 0;
  const auto wall0 = std::chrono::steady_clock::now();
  NodeClusterOptions o;
  o.nodes = n;
  o.seed = 7;
  o.bootstrap = Bootstrap::preloaded;
  o.record_events = false;
  o.config.membership = MembershipConfig::lan();
  LinkProfile link;
  link.latency_min = Duration::milliseconds(1);
  link.latency_max = Duration::milliseconds(5);
  link.loss = loss;
  o.network = NetworkConfig::uniform(link);
  NodeCluster c(o);
  c.set_query_handler([](NodeIndex, const Event&) { return std::optional<std::string>("ok"); });
  std::vector<double> at;  // response times of the query under way, seconds since issue
  Time t0{};
  NodeIndex querier = 0;
  c.set_on_event([&](const ClusterEvent& e) {
    if (e.kind == EventKind::query_response && e.observer == querier) {
      at.push_back((e.time - t0).to_seconds());
    }
  });
  c.run_for(Duration::seconds(5));
  std::vector<double> firsts, medians, p99s, lasts;
  std::uint64_t gathered = 0;
  const std::uint64_t bytes0 = c.bytes_sent();
  const Time start = c.now();
  for (std::uint32_t q = 0; q < queries; ++q) {
    querier = NodeIndex((q * 7919u + 13) % n);
    at.clear();
    t0 = c.now();
    QueryParams p;
    p.request_ack = true;
    p.relay_factor = std::uint8_t(relay);
    auto t = c.query(querier, "bench", "x", p);
    if (!t) return std::printf("query: %s\n", t.error().detail), 1;
    c.run_for(Duration::seconds(15));
    gathered += at.size();
    firsts.push_back(percentile(at, 0));
    medians.push_back(percentile(at, 0.5));
    p99s.push_back(percentile(at, 0.99));
    lasts.push_back(percentile(at, 1));
    std::printf("query %u from node %u: %zu/%u responses; first %.3f s, p50 %.3f s, p99 %.3f s, "
                "last %.3f s (timeout %.1f s)\n",
                q, querier, at.size(), n, firsts.back(), medians.back(), p99s.back(),
                lasts.back(), (t->deadline - t0).to_seconds());
  }
  const double secs = (c.now() - start).to_seconds();
  std::uint64_t reasks = 0;  // the queriers' direct re-sends to silent members (queries.h)
  for (NodeIndex i = 0; i < n; ++i) reasks += c.node(i).membership().stats().query_reasks;
  std::printf("N=%u loss=%.3f relay=%d: %llu/%llu responses gathered; median over queries: first "
              "%.3f s, p50 %.3f s, p99 %.3f s, last %.3f s; %.0f bytes/node/s sent (all "
              "traffic); %llu re-asks; wall %.1f s\n",
              n, loss, relay, static_cast<unsigned long long>(gathered),
              static_cast<unsigned long long>(std::uint64_t(n) * queries),
              percentile(firsts, 0.5), percentile(medians, 0.5), percentile(p99s, 0.5),
              percentile(lasts, 0.5), double(c.bytes_sent() - bytes0) / secs / n,
              static_cast<unsigned long long>(reasks), std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count());
  return 0;
}
