// rapid_experiments: consistent membership (Rapid) in the simulator, the figures of
// docs/experiments.md "Consistent membership (Rapid)" (a plain program, not a ctest).
//
//   rapid_experiments bootstrap --nodes 1000 --join-seconds 10 --seed 1
//   rapid_experiments bootstrap --nodes 2000 --join-rate 200 --seed 1   (join-seconds = N / rate,
//       as `grapevine sim cluster --join-rate`)
//       one seed, the others join through it at uniform times in [0, join-seconds): time until
//       every node is in one configuration of all N, view changes, distinct sizes installed
//       (Rapid's Table 1 metric), agreement check.
//   rapid_experiments crash --nodes 1000 --crashes 10 --seed 1
//       a preloaded group; `crashes` members crash at once: configurations installed after the
//       crash and the time until every live node installed the one without them.
//   rapid_experiments partition --nodes 100 --seed 1
//       a preloaded group split 70/30 for 60 s after the majority decides, then healed: time for
//       the majority to install its configuration, whether the minority moved (it must not),
//       view_stalled events, time and view changes until all N are in one configuration again.
//   rapid_experiments rest --nodes 1000 --seconds 30 --seed 1
//       datagrams and bytes sent per member per second in a quiet group (after 10 s), for
//       consistent mode and for Lifeguard (the default eventual membership) at the same N.
//   rapid_experiments flipflop --nodes 1000 --faulty 10 --seconds 120 --seed 1
//       a preloaded group, settled 10 s; `faulty` members lose every packet (Simulator::set_drop:
//       both directions, not only ingress as in Rapid's Fig. 9) for 20 s, then 20 s fine,
//       repeated for `seconds`. Consistent mode: view changes, which members were removed and
//       when, agreement. Then Lifeguard under the same schedule: failed / suspected / rejoined
//       events about the faulty members and false failures of the healthy ones.
//   rapid_experiments lossy --nodes 1000 --faulty 10 --loss 0.8 --seconds 120 --seed 1
//       the same, with `loss` drop on the faulty members (both directions) for the whole run
//       (Rapid's Fig. 10).
// Prints one JSON object per run.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "sim/consistent_cluster.h"
#include "sim/membership_cluster.h"
#include "rapid_faults.h"

using namespace grapevine;
using namespace grapevine::sim;

namespace {

struct Args {
  std::string experiment;
  std::uint32_t nodes = 1000;
  std::uint32_t crashes = 10;
  double join_seconds = 10;
  double join_rate = 0;  // joins per second; when set, join_seconds = nodes / join_rate
  double seconds = 30;
  bool seconds_set = false;
  std::uint32_t faulty = 10;
  double loss = 0.8;
  std::uint64_t seed = 1;
};

double wall_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int bootstrap(const Args& a) {
  const auto t0 = std::chrono::steady_clock::now();
  ConsistentClusterOptions o;
  o.nodes = a.nodes;
  o.seed = a.seed;
  o.join_spread = Duration::nanoseconds(std::int64_t(a.join_seconds * 1e9));
  ConsistentCluster c(o);
  const bool ok = c.wait_agreed(Duration::seconds(600));
  std::string sizes;
  for (std::uint32_t s : c.distinct_sizes()) sizes += (sizes.empty() ? "" : ",") + std::to_string(s);
  const NetworkCounters net = c.sim().counters();  // sent during the bootstrap
  std::printf("{\"experiment\":\"bootstrap\",\"nodes\":%u,\"join_seconds\":%.1f,\"seed\":%llu,"
              "\"agreed\":%s,\"time_s\":%.2f,\"bootstrap_seconds\":%.2f,\"view_changes\":%llu,\"distinct_sizes\":%zu,"
              "\"sizes\":[%s],\"view_agreement\":%.3f,\"agreement_error\":\"%s\","
              "\"datagrams_per_member\":%.0f,\"kb_per_member\":%.1f,"
              "\"stream_kb_per_member\":%.1f,\"wall_s\":%.1f}\n",
              a.nodes, a.join_seconds, (unsigned long long)a.seed, ok ? "true" : "false",
              c.last_install().to_seconds(), c.log().bootstrap_seconds(a.nodes).value_or(-1),
              (unsigned long long)c.node(0).configuration().epoch,
              c.distinct_sizes().size(), sizes.c_str(), c.log().view_agreement(a.nodes),
              c.agreement_error().c_str(), double(net.sent) / a.nodes,
              double(net.bytes_sent) / a.nodes / 1e3, double(net.stream_bytes) / a.nodes / 1e3,
              wall_since(t0));
  return ok ? 0 : 1;
}

int crash(const Args& a) {
  const auto t0 = std::chrono::steady_clock::now();
  auto o = preloaded<ConsistentClusterOptions>(a.nodes, a.seed);
  ConsistentCluster c(o);
  c.run_for(Duration::seconds(10));
  const Time at = c.sim().now();
  Rng rng(derive_seed(a.seed, 77));
  std::uint32_t crashed = 0;
  while (crashed < a.crashes) {
    NodeIndex i = NodeIndex(rng.below(a.nodes));
    if (!c.active(i)) continue;
    c.crash(i);
    ++crashed;
  }
  const bool ok = c.wait_agreed(Duration::seconds(120));
  const auto& s = c.node(c.active(0) ? 0 : 1).stats();
  std::vector<NodeIndex> live;
  for (NodeIndex i = 0; i < a.nodes; ++i) {
    if (c.active(i)) live.push_back(i);
  }
  const auto delays = c.log().install_delays(at, live);
  std::string sizes;
  for (std::uint32_t z : c.distinct_sizes()) sizes += (sizes.empty() ? "" : ",") + std::to_string(z);
  std::printf("{\"experiment\":\"crash\",\"nodes\":%u,\"crashes\":%u,\"seed\":%llu,\"agreed\":%s,"
              "\"sizes\":[%s],\"configurations_after_crash\":%u,\"install_after_s\":%.2f,"
              "\"view_change_seconds_p50\":%.2f,\"view_change_seconds_p99\":%.2f,\"fast\":%llu,"
              "\"classic\":%llu,\"false_removals\":%u,\"agreement_error\":\"%s\",\"wall_s\":%.1f}\n",
              a.nodes, a.crashes, (unsigned long long)a.seed, ok ? "true" : "false", sizes.c_str(),
              c.configurations_after(at), (c.last_install() - at).to_seconds(),
              quantile(delays, 0.5), quantile(delays, 0.99), (unsigned long long)s.fast_decisions, (unsigned long long)s.classic_decisions,
              c.false_removals(), c.agreement_error().c_str(), wall_since(t0));
  return ok ? 0 : 1;
}

int partition(const Args& a) {
  const auto t0 = std::chrono::steady_clock::now();
  auto o = preloaded<ConsistentClusterOptions>(a.nodes, a.seed);
  ConsistentCluster c(o);
  c.run_for(Duration::seconds(3));
  const auto cut = NodeIndex(double(a.nodes) * 0.7);
  std::vector<NodeIndex> majority, minority;
  for (NodeIndex i = 0; i < a.nodes; ++i) (i < cut ? majority : minority).push_back(i);
  const Time at = c.sim().now();
  c.partition({majority, minority});
  const bool maj_ok = c.wait_agreed_on(majority, Duration::seconds(120));
  const double maj_s = (c.sim().now() - at).to_seconds();
  c.run_for(Duration::seconds(60));
  std::uint32_t minority_moved = 0;
  for (NodeIndex i : minority) minority_moved += c.node(i).configuration().epoch != 0 ? 1 : 0;
  const std::uint32_t before = c.log().configurations();
  const Time healed = c.sim().now();
  c.heal();
  const bool ok = c.wait_agreed(Duration::seconds(180));
  std::printf("{\"experiment\":\"partition\",\"nodes\":%u,\"minority\":%zu,\"seed\":%llu,"
              "\"majority_agreed\":%s,\"majority_seconds\":%.1f,\"minority_moved\":%u,"
              "\"stall_events\":%u,\"merged\":%s,\"merge_seconds\":%.1f,"
              "\"merge_configurations\":%u,\"view_agreement\":%.3f,\"wall_s\":%.1f}\n",
              a.nodes, minority.size(), (unsigned long long)a.seed, maj_ok ? "true" : "false", maj_s,
              minority_moved, c.stalls(), ok ? "true" : "false",
              (c.sim().now() - healed).to_seconds(), c.log().configurations() - before,
              c.log().view_agreement(a.nodes), wall_since(t0));
  return ok ? 0 : 1;
}

template <class Cluster>
void rest_of(const char* name, Cluster& c, const Args& a) {
  c.run_for(Duration::seconds(10));
  const NetworkCounters before = c.sim().counters();
  c.run_for(Duration::nanoseconds(std::int64_t(a.seconds * 1e9)));
  const NetworkCounters after = c.sim().counters();
  const double per = double(a.nodes) * a.seconds;
  std::printf("{\"experiment\":\"rest\",\"membership\":\"%s\",\"nodes\":%u,\"seconds\":%.0f,"
              "\"datagrams_per_member_s\":%.2f,\"bytes_per_member_s\":%.1f,"
              "\"stream_bytes_per_member_s\":%.1f}\n",
              name, a.nodes, a.seconds, double(after.sent - before.sent) / per,
              double(after.bytes_sent - before.bytes_sent) / per,
              double(after.stream_bytes - before.stream_bytes) / per);
}

int rest(const Args& a) {
  {
    auto o = preloaded<ConsistentClusterOptions>(a.nodes, a.seed);
    ConsistentCluster c(o);
    rest_of("consistent", c, a);
  }
  auto o = preloaded<MembershipClusterOptions>(a.nodes, a.seed);
  MembershipCluster c(o);
  rest_of("lifeguard", c, a);
  return 0;
}

int faults(const Args& a) {
  FaultRun r;
  r.flipflop = a.experiment == "flipflop";
  r.nodes = a.nodes;
  r.faulty = a.faulty;
  r.loss = r.flipflop ? 1.0 : a.loss;
  r.seconds = a.seconds;
  r.seed = a.seed;
  const bool ok = run_consistent_faults(r);
  run_lifeguard_faults(r);
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    std::fprintf(stderr, "usage: rapid_experiments bootstrap|crash|partition|rest|flipflop|lossy "
                         "[--nodes N] [--crashes C] [--join-seconds S] [--join-rate R] "
                         "[--seconds S] [--seed S] "
                         "[--faulty F] [--loss P]\n");
    return 2;
  }
  a.experiment = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--nodes") a.nodes = std::uint32_t(std::atoi(v));
    else if (k == "--crashes") a.crashes = std::uint32_t(std::atoi(v));
    else if (k == "--join-seconds") a.join_seconds = std::atof(v);
    else if (k == "--join-rate") a.join_rate = std::atof(v);
    else if (k == "--seconds") a.seconds = std::atof(v), a.seconds_set = true;
    else if (k == "--faulty") a.faulty = std::uint32_t(std::atoi(v));
    else if (k == "--loss") a.loss = std::atof(v);
    else if (k == "--seed") a.seed = std::uint64_t(std::atoll(v));
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (a.join_rate > 0) a.join_seconds = double(a.nodes) / a.join_rate;
  if (a.experiment == "bootstrap") return bootstrap(a);
  if (a.experiment == "crash") return crash(a);
  if (a.experiment == "rest") return rest(a);
  if (a.experiment == "partition") return partition(a);
  if (a.experiment == "flipflop" || a.experiment == "lossy") {
    if (!a.seconds_set) a.seconds = 120;
    return faults(a);
  }
  std::fprintf(stderr, "unknown experiment %s\n", a.experiment.c_str());
  return 2;
}
