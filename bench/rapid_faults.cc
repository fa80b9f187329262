// rapid_faults: see rapid_faults.h. The faulty members get Simulator::set_drop, which drops
// packets in both directions (Rapid's experiments drop ingress only, with iptables INPUT).
#include "rapid_faults.h"

#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include "sim/consistent_cluster.h"
#include "sim/membership_cluster.h"

using namespace grapevine;
using namespace grapevine::sim;

namespace {

double wall_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

NodeIndex index_of(const Address& a) { return NodeIndex((a.ipv4_u32() & 0xffffff) - 1); }

std::vector<NodeIndex> pick_faulty(const FaultRun& r) {
  Rng rng(derive_seed(r.seed, 91));
  std::set<NodeIndex> s;
  while (s.size() < r.faulty && s.size() + 1 < r.nodes) s.insert(NodeIndex(1 + rng.below(r.nodes - 1)));
  return {s.begin(), s.end()};
}

/// Runs the fault schedule on `c`; `sample` is called at the end of every 20 s phase.
template <class Cluster, class Sample>
void schedule(Cluster& c, const FaultRun& r, const std::vector<NodeIndex>& faulty, Sample sample) {
  bool on = true;
  for (double t = 0; t + 1e-9 < r.seconds; t += 20) {
    for (NodeIndex f : faulty) c.set_drop(f, on ? r.loss : 0.0);
    c.run_for(Duration::seconds(20));
    sample();
    if (r.flipflop) on = !on;
  }
  for (NodeIndex f : faulty) c.set_drop(f, 0.0);
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

/// At the end of a phase: the share of (healthy observer, faulty member) pairs where the
/// observer lists the member as failed (1 = all removed everywhere), and how many healthy
/// observers hold a view of the faulty members that differs from node 0's.
void sample_failed(MembershipCluster& c, const FaultRun& r, const std::set<NodeIndex>& fset,
                   std::vector<std::string>& failed_share, std::vector<std::string>& views_differ) {
  std::uint64_t failed = 0, pairs = 0;
  std::uint32_t differ = 0;
  std::set<NodeIndex> ref;
  for (NodeIndex i = 0; i < r.nodes; ++i) {
    if (fset.count(i)) continue;
    std::set<NodeIndex> down;
    for (const auto& m : c.node(i).members()) {
      const NodeIndex j = index_of(m.address);
      if (fset.count(j) == 0) continue;
      ++pairs;
      if (m.state == MemberState::failed || m.state == MemberState::left) ++failed, down.insert(j);
    }
    if (i == 0) ref = down;
    else if (down != ref) ++differ;
  }
  char b[32];
  std::snprintf(b, sizeof b, "%.3f", pairs ? double(failed) / double(pairs) : 0.0);
  failed_share.push_back(b);
  views_differ.push_back(std::to_string(differ));
}

}  // namespace

bool run_consistent_faults(const FaultRun& r) {
  const auto t0 = std::chrono::steady_clock::now();
  auto o = preloaded<ConsistentClusterOptions>(r.nodes, r.seed);
  ConsistentCluster c(o);
  c.run_for(Duration::seconds(10));
  const auto faulty = pick_faulty(r);
  const std::set<NodeIndex> fset(faulty.begin(), faulty.end());
  const Time at = c.sim().now();
  std::vector<std::string> sizes;  // node 0's configuration size at the end of each phase
  schedule(c, r, faulty, [&] { sizes.push_back(std::to_string(c.node(0).configuration().size)); });
  // Which members node 0's final configuration lacks, and whether every healthy member agrees.
  std::uint32_t removed_faulty = 0, removed_healthy = 0;
  std::set<NodeIndex> in_view;
  for (const auto& m : c.node(0).members()) {
    if (m.state == MemberState::alive || m.state == MemberState::suspect) in_view.insert(index_of(m.address));
  }
  for (NodeIndex i = 0; i < r.nodes; ++i) {
    if (in_view.count(i) == 0) ++(fset.count(i) ? removed_faulty : removed_healthy);
  }
  std::uint32_t healthy_differ = 0;
  const auto cfg0 = c.node(0).configuration();
  for (NodeIndex i = 0; i < r.nodes; ++i) {
    if (fset.count(i) == 0 && c.node(i).configuration().id != cfg0.id) ++healthy_differ;
  }
  // Node 0's installs after the fault started: seconds since then, and the new size.
  std::vector<std::string> installs;
  for (const auto& v : c.views()) {
    if (v.node == 0 && v.time > at) {
      char b[48];
      std::snprintf(b, sizeof b, "[%.1f,%u]", (v.time - at).to_seconds(), v.size);
      installs.push_back(b);
    }
  }
  const std::string err = c.agreement_error();
  std::printf("{\"experiment\":\"%s\",\"membership\":\"consistent\",\"nodes\":%u,\"faulty\":%u,"
              "\"loss\":%.2f,\"drop\":\"both directions\",\"seconds\":%.0f,\"seed\":%llu,"
              "\"view_changes\":%u,\"installs_node0\":[%s],\"size_per_phase\":[%s],"
              "\"removed_faulty\":%u,\"removed_healthy\":%u,\"final_size\":%u,"
              "\"healthy_in_other_configuration\":%u,\"stall_events\":%u,"
              "\"agreement_error\":\"%s\",\"wall_s\":%.1f}\n",
              r.flipflop ? "flipflop" : "lossy", r.nodes, r.faulty, r.loss, r.seconds,
              (unsigned long long)r.seed, c.configurations_after(at), join(installs).c_str(),
              join(sizes).c_str(), removed_faulty, removed_healthy, cfg0.size, healthy_differ,
              c.stalls(), err.c_str(), wall_since(t0));
  std::fflush(stdout);
  return err.empty() && removed_healthy == 0 && healthy_differ == 0;
}

void run_lifeguard_faults(const FaultRun& r) {
  run_lifeguard_faults(r, true);
  run_lifeguard_faults(r, false);
}

void run_lifeguard_faults(const FaultRun& r, bool streams) {
  const auto t0 = std::chrono::steady_clock::now();
  auto o = preloaded<MembershipClusterOptions>(r.nodes, r.seed);
  if (!streams) {  // simulated streams ignore set_drop: take Lifeguard to datagrams only
    o.config.tcp_fallback_ping = false;
    o.config.push_pull_interval = Duration::zero();
    o.config.reconnect_interval = Duration::zero();
  }
  MembershipCluster c(o);
  c.run_for(Duration::seconds(10));
  const auto faulty = pick_faulty(r);
  const std::set<NodeIndex> fset(faulty.begin(), faulty.end());
  const std::size_t first_event = c.events().size();
  std::vector<std::string> failed_share, views_differ;
  schedule(c, r, faulty, [&] { sample_failed(c, r, fset, failed_share, views_differ); });
  std::uint64_t probes_failed = 0, stream_acks = 0;
  for (NodeIndex i = 0; i < r.nodes; ++i) {
    probes_failed += c.node(i).stats().probes_failed;
    stream_acks += c.node(i).stats().stream_ping_acks;
  }
  // Events seen by healthy observers after the fault started.
  std::uint64_t f_failed = 0, f_suspected = 0, f_back = 0, h_failed = 0, h_suspected = 0;
  std::uint64_t by_faulty_failed = 0;
  const auto& ev = c.events();
  for (std::size_t k = first_event; k < ev.size(); ++k) {
    const auto& e = ev[k];
    const bool subject_faulty = fset.count(e.subject) != 0;
    if (fset.count(e.observer)) {
      if (e.kind == EventKind::failed && !subject_faulty) ++by_faulty_failed;
      continue;
    }
    if (subject_faulty) {
      f_failed += e.kind == EventKind::failed;
      f_suspected += e.kind == EventKind::suspected;
      f_back += e.kind == EventKind::joined || e.kind == EventKind::alive;
    } else {
      h_failed += e.kind == EventKind::failed;
      h_suspected += e.kind == EventKind::suspected;
    }
  }
  std::printf("{\"experiment\":\"%s\",\"membership\":\"lifeguard\",\"streams\":%s,\"nodes\":%u,\"faulty\":%u,"
              "\"loss\":%.2f,\"drop\":\"both directions\",\"seconds\":%.0f,\"seed\":%llu,"
              "\"faulty_failed_share_per_phase\":[%s],\"views_differing_from_node0_per_phase\":[%s],"
              "\"faulty_failed_events\":%llu,\"faulty_suspected_events\":%llu,"
              "\"faulty_back_alive_events\":%llu,\"healthy_failed_events\":%llu,"
              "\"healthy_suspected_events\":%llu,\"failed_events_by_faulty_observers\":%llu,"
              "\"probes_failed\":%llu,\"probes_saved_by_stream_ping\":%llu,\"wall_s\":%.1f}\n",
              r.flipflop ? "flipflop" : "lossy", streams ? "true" : "false", r.nodes, r.faulty,
              r.loss, r.seconds, (unsigned long long)r.seed, join(failed_share).c_str(), join(views_differ).c_str(),
              (unsigned long long)f_failed, (unsigned long long)f_suspected,
              (unsigned long long)f_back, (unsigned long long)h_failed,
              (unsigned long long)h_suspected, (unsigned long long)by_faulty_failed,
              (unsigned long long)probes_failed, (unsigned long long)stream_acks, wall_since(t0));
  std::fflush(stdout);
}
