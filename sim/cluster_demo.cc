#include "sim/cluster_demo.h"

#include <chrono>
#include <string>

namespace grapevine::sim {
namespace {

// Runs in 20 ms steps until `done` or `timeout`; the seconds it took, or -1 (as demo's wait).
double wait_for(NodeCluster& c, const std::function<bool()>& done, Duration timeout) {
  const Time t0 = c.now();
  while (c.now() - t0 < timeout) {
    if (done()) return (c.now() - t0).to_seconds();
    c.run_for(Duration::milliseconds(20));
  }
  return done() ? (c.now() - t0).to_seconds() : -1;
}

bool everyone_lists_all_alive(NodeCluster& c) {
  for (NodeIndex i = 0; i < c.size(); ++i) {
    if (c.node(i).membership().member_count(MemberState::alive) != c.size()) return false;
  }
  return true;
}

double seen_as_left(NodeCluster& c, NodeIndex leaver) {
  const NodeId id = c.id_of(leaver);
  std::uint32_t saw = 0, others = 0;
  for (NodeIndex i = 0; i < c.size(); ++i) {
    if (!c.active(i)) continue;
    ++others;
    for (const auto& m : c.node(i).membership().members()) {
      if (m.id == id && m.state == MemberState::left) ++saw;
    }
  }
  return others ? double(saw) / double(others) : 0.0;
}

NodeClusterOptions demo_options(const ClusterExperiment& e) {
  NodeClusterOptions o;
  o.nodes = e.nodes;
  o.config = e.config;
  LinkProfile link;
  link.latency_min = e.latency_min;
  link.latency_max = e.latency_max;
  o.network = NetworkConfig::uniform(link);
  o.seed = e.seed;
  o.bootstrap = e.bootstrap;
  o.join_rate = e.join_rate;
  o.seeds = 1;
  o.record_events = false;
  return o;
}

}  // namespace

DemoResult run_demo_scenario(const ClusterExperiment& e, std::uint32_t crashes,
                             const std::function<void(const ClusterEvent&)>& on_event) {
  const auto wall_start = std::chrono::steady_clock::now();
  DemoResult r;
  r.nodes = e.nodes;
  NodeCluster c(demo_options(e));
  double crash_t = 0;
  c.set_on_event([&](const ClusterEvent& ev) {
    if (on_event) on_event(ev);
    if (ev.kind != EventKind::failed) return;
    for (DemoCrash& k : r.crashes) {
      if (k.node == ev.subject && k.detection_first_seconds < 0) {
        k.detection_first_seconds = ev.time.to_seconds() - crash_t;
      }
    }
  });
  // 1. The join (the cluster starts the joins at join_rate per second).
  r.join_convergence_seconds = wait_for(c, [&] { return everyone_lists_all_alive(c); },
                                        Duration::seconds(30) +
                                            Duration::nanoseconds(std::int64_t(
                                                1e9 * double(e.nodes) / e.join_rate)));
  // 2. One multicast from node N/2.
  const NodeIndex origin = e.nodes / 2;
  const std::string text = "hello from node-" + std::to_string(origin);
  auto id = c.multicast(origin, std::as_bytes(std::span(text.data(), text.size())));
  if (id) {
    r.multicast_delivery_seconds =
        wait_for(c, [&] { return c.all_delivered(*id); }, Duration::seconds(10));
    r.multicast_delivered_fraction = double(c.delivered_count(*id)) / double(e.nodes);
  }
  // 3. Crashes.
  crash_t = c.now().to_seconds();
  for (std::uint32_t k = 0; k < crashes; ++k) {
    const NodeIndex victim = 1 + k * (e.nodes - 2) / std::max<std::uint32_t>(crashes, 1);
    r.crashes.push_back(DemoCrash{victim, -1, -1});
    c.crash(victim);
  }
  std::vector<bool> done(r.crashes.size(), false);
  wait_for(c, [&] {
    bool all = true;
    for (std::size_t k = 0; k < r.crashes.size(); ++k) {
      if (!done[k] && c.all_see(r.crashes[k].node, MemberState::failed)) {
        done[k] = true;
        r.crashes[k].detection_all_seconds = c.now().to_seconds() - crash_t;
      }
      all = all && done[k];
    }
    return all;
  }, Duration::seconds(90));
  // 4. A graceful leave.
  const NodeIndex leaver = e.nodes - 1;
  c.leave(leaver);
  wait_for(c, [&] { return c.all_see(leaver, MemberState::left); }, Duration::seconds(15));
  r.leave_seen_as_left_fraction = seen_as_left(c, leaver);
  r.false_failures = c.false_failures();
  r.elapsed_seconds = c.now().to_seconds();
  const double node_seconds = double(e.nodes) * r.elapsed_seconds;
  r.messages_per_node_per_second = double(c.messages_sent()) / node_seconds;
  r.bytes_per_node_per_second = double(c.bytes_sent()) / node_seconds;
  r.events = c.sim().counters().events;
  r.delivery_hash = c.sim().delivery_hash();
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

}  // namespace grapevine::sim
