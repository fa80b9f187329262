// grapevine sim cluster: N full grapevine Nodes (the agent's own, from the agent's config flags
// or TOML) in the simulator, under a fault schedule; or `--scenario demo`, the `grapevine demo`
// scenario in simulated time. The numbers come from sim/cluster_experiment.h; this prints them.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "memory_guard.h"
#include "node_flags.h"
#include "options.h"
#include "plot.h"
#include "report.h"
#include "sim_output.h"
#include "sim/cluster_demo.h"
#include "sim/cluster_experiment.h"

namespace grapevine::tools {
namespace {

struct Options {
  NodeFlags node;
  std::uint32_t nodes = 64;
  std::string bootstrap = "join";
  double join_rate = 200;
  std::uint32_t seeds = 1;
  std::string latency;
  std::uint32_t multicasts = 0;
  std::uint32_t payload_bytes = 64;
  std::uint32_t zones = 0;
  std::vector<std::string> faults;
  std::string slow_service = "50ms";
  std::string duration;
  std::uint64_t seed = 1;
  std::uint32_t runs = 1;
  bool json = false;
  bool force = false;
  std::string events, plot, scenario;
  std::uint32_t crash = 2;
};

nlohmann::json opt(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string hex(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

sim::ClusterExperiment build(const Options& o) {
  sim::ClusterExperiment e;
  AgentConfig agent = build_agent_config(o.node);
  if (o.scenario == "demo" && o.node.config.empty()) {
    agent.node.multicast.period = Duration::milliseconds(200);  // demo's --multicast-period
  }
  agent.node.membership.name = "node-0";  // each node gets its own name; check the rest
  check_node_config(agent);
  e.config = agent.node;
  e.nodes = parse_count("--nodes", std::to_string(o.nodes), 2, 10000000);
  if (o.bootstrap == "preloaded") e.bootstrap = sim::Bootstrap::preloaded;
  else if (o.bootstrap != "join") {
    throw UsageError("--bootstrap: expected join|preloaded, got '" + o.bootstrap + "'");
  }
  if (!(o.join_rate > 0)) throw UsageError("--join-rate: must be > 0");
  e.join_rate = o.join_rate;
  if (o.seeds == 0) throw UsageError("--seeds: must be >= 1");
  e.seeds = o.seeds;
  std::string latency = o.latency;
  if (latency.empty()) latency = o.scenario == "demo" ? "50us..200us" : "1ms..5ms";
  const auto dots = latency.find("..");
  if (dots == std::string::npos) throw UsageError("--latency: expected MIN..MAX, e.g. 1ms..5ms");
  e.latency_min = parse_duration("--latency", latency.substr(0, dots));
  e.latency_max = parse_duration("--latency", latency.substr(dots + 2));
  e.multicasts = o.multicasts;
  e.payload_bytes = o.payload_bytes;
  e.zones = o.zones;
  e.slow_service = parse_duration("--slow-service", o.slow_service);
  for (const auto& spec : o.faults) {
    sim::Fault f;
    if (auto err = sim::parse_fault(spec, f); !err.empty()) throw UsageError("--fault: " + err);
    e.faults.push_back(f);
  }
  if (o.duration.empty() && o.scenario.empty()) throw UsageError("--duration: required");
  if (!o.duration.empty()) e.duration = parse_duration("--duration", o.duration);
  e.seed = o.seed;
  if (o.runs == 0) throw UsageError("--runs: must be >= 1");
  if (auto err = sim::check(e); !err.empty()) throw UsageError(err);
  return e;
}

nlohmann::json summary_json(const sim::ClusterSummary& s) {
  nlohmann::json j;
  j["nodes"] = s.nodes;
  j["runs"] = s.runs;
  j["duration_seconds"] = s.duration_seconds;
  j["join_convergence_seconds"] = opt(s.join_convergence_seconds);
  j["runs_join_converged"] = s.runs_join_converged;
  j["crashed"] = s.crashed;
  j["restarted"] = s.restarted;
  j["left"] = s.left;
  j["completeness"] = s.completeness;
  j["accuracy"] = s.accuracy;
  j["false_failures"] = s.false_failures;
  j["partition_failures"] = s.partition_failures;
  j["stale_failures"] = s.stale_failures;
  j["leaves_seen_as_failed"] = s.leaves_seen_as_failed;
  j["detection_first_seconds_p50"] = opt(s.detection_first_seconds_p50);
  j["detection_first_seconds_p99"] = opt(s.detection_first_seconds_p99);
  j["detection_all_seconds_p50"] = opt(s.detection_all_seconds_p50);
  j["detection_all_seconds_p99"] = opt(s.detection_all_seconds_p99);
  j["leaves_seen_as_left"] = s.leaves_seen_as_left;
  j["partition_heal_seconds"] = opt(s.partition_heal_seconds);
  j["multicasts"] = s.multicasts;
  j["multicast_delivered_fraction"] = s.multicast_delivered_fraction;
  j["multicast_delivery_seconds_p50"] = opt(s.multicast_delivery_seconds_p50);
  j["multicast_delivery_seconds_p99"] = opt(s.multicast_delivery_seconds_p99);
  j["cross_zone_messages_per_round_mean"] = opt(s.cross_zone_messages_per_round_mean);
  j["messages_per_node_per_second"] = s.messages_per_node_per_second;
  j["bytes_per_node_per_second"] = s.bytes_per_node_per_second;
  j["steady_messages_per_node_per_second"] = opt(s.steady_messages_per_node_per_second);
  j["steady_bytes_per_node_per_second"] = opt(s.steady_bytes_per_node_per_second);
  j["steady_window_seconds"] = s.steady_bytes_per_node_per_second
                                   ? nlohmann::json::array({s.steady_from_seconds,
                                                            s.steady_to_seconds})
                                   : nlohmann::json(nullptr);
  j["runs_final_converged"] = s.runs_final_converged;
  j["alive_queued_gossip"] = s.alive_queued_gossip;
  j["alive_queued_push_pull"] = s.alive_queued_push_pull;
  j["alive_join_reply_quiet"] = s.alive_join_reply_quiet;
  j["updates_sent"] = s.updates_sent;
  j["rumors_stopped"] = s.rumors_stopped;
  j["events"] = s.events;
  j["wall_seconds"] = s.wall_seconds;
  j["delivery_hash"] = hex(s.delivery_hash);
  if (s.consistent) {  // --membership consistent only: the eventual output is unchanged
    j["configurations"] = s.configurations;
    j["view_agreement"] = s.view_agreement;
    j["distinct_membership_sizes"] = s.distinct_membership_sizes;
    j["bootstrap_seconds"] = opt(s.bootstrap_seconds);
    j["view_change_seconds_p50"] = opt(s.view_change_seconds_p50);
    j["view_change_seconds_p99"] = opt(s.view_change_seconds_p99);
  }
  return j;
}

void write_event(std::ostream& out, const sim::ClusterEvent& ev) {
  out << "{\"time\":" << ev.time.to_seconds() << ",\"observer\":" << ev.observer
      << ",\"kind\":\"" << event_kind_name(ev.kind) << "\"";
  if (ev.kind == EventKind::delivered) {
    out << ",\"origin\":\"" << hex(ev.message.origin) << "\",\"seq\":" << ev.message.seq;
  } else if (ev.subject != UINT32_MAX) {
    out << ",\"subject\":" << ev.subject;
  }
  out << "}\n";
}

void plot_live(const std::string& path, const sim::ClusterResult& r) {
  PlotSpec spec;
  spec.title = "Live members over time (" + std::to_string(r.nodes) + " nodes)";
  spec.xlabel = "seconds";
  spec.ylabel = "members";
  PlotSeries active{"members up and not left", {}, {}, true};
  PlotSeries mean{"live members listed (mean)", {}, {}, false};
  PlotSeries min{"live members listed (fewest)", {}, {}, false};
  for (const auto& s : r.live) {
    active.x.push_back(s.seconds), active.y.push_back(s.active);
    mean.x.push_back(s.seconds), mean.y.push_back(s.live_mean);
    min.x.push_back(s.seconds), min.y.push_back(s.live_min);
  }
  spec.series = {active, mean, min};
  plot_svg(path, spec);
}

int run_demo(const Options& o, const sim::ClusterExperiment& e, std::ofstream& events) {
  if (e.nodes < 4) throw UsageError("--nodes: at least 4 for --scenario demo");
  if (o.crash + 2 > e.nodes) throw UsageError("--crash: too many for --nodes");
  if (!o.plot.empty()) throw UsageError("--plot: not with --scenario demo");
  std::function<void(const sim::ClusterEvent&)> sink;
  if (events.is_open()) sink = [&](const sim::ClusterEvent& ev) { write_event(events, ev); };
  const sim::DemoResult r = sim::run_demo_scenario(e, o.crash, sink);
  nlohmann::json j;
  j["nodes"] = r.nodes;
  j["detector"] = detector_name(e.config.membership.detector);
  j["multicast"] = e.config.membership.dialect == Dialect::memberlist
                       ? "memberlist-broadcast"
                       : protocol_name(e.config.multicast.protocol);
  j["join_convergence_seconds"] = r.join_convergence_seconds;
  j["multicast_delivery_seconds"] = r.multicast_delivery_seconds;
  j["multicast_delivered_fraction"] = r.multicast_delivered_fraction;
  j["crashes"] = nlohmann::json::array();
  for (const auto& c : r.crashes) {
    j["crashes"].push_back({{"node", "node-" + std::to_string(c.node)},
                            {"detection_first_seconds", c.detection_first_seconds},
                            {"detection_all_seconds", c.detection_all_seconds}});
  }
  j["leave_seen_as_left_fraction"] = r.leave_seen_as_left_fraction;
  j["false_failures"] = r.false_failures;
  j["messages_per_node_per_second"] = r.messages_per_node_per_second;
  j["bytes_per_node_per_second"] = r.bytes_per_node_per_second;
  // The simulator's own cost (one process simulating every node), per simulated node-second.
  j["cpu_ms_per_node_second"] = r.wall_seconds * 1e3 / (double(r.nodes) * r.elapsed_seconds);
  j["rss_bytes_per_node"] = double(peak_rss_bytes()) / double(r.nodes);
  j["elapsed_seconds"] = r.elapsed_seconds;
  j["events"] = r.events;
  j["wall_seconds"] = r.wall_seconds;
  j["delivery_hash"] = hex(r.delivery_hash);
  if (o.json) {
    emit_json_line(j);
  } else {
    std::cout << j.dump(2) << "\n";
  }
  return 0;
}

void print_text(const nlohmann::json& j) {
  for (const auto& [k, v] : j.items()) {
    if (k == "per_run") continue;
    std::printf("  %-38s %s\n", k.c_str(), v.dump().c_str());
  }
}

int run(const Options& o) {
  if (!o.scenario.empty() && o.scenario != "demo") {
    throw UsageError("--scenario: expected demo, got '" + o.scenario + "'");
  }
  const sim::ClusterExperiment base = build(o);
  // Runs go one after another: one in memory at a time. Refused before anything big exists.
  const std::uint64_t estimate =
      check_memory({"sim cluster", base.nodes, "nodes with full views", 1, sim::estimate_cluster,
                    ", or partial views (grapevine sim views)"},
                   o.force);
  std::ofstream events;
  if (!o.events.empty()) {
    events.open(o.events);
    if (!events) throw UsageError("--events: cannot write " + o.events);
  }
  if (o.scenario == "demo") return run_demo(o, base, events);
  std::vector<sim::ClusterResult> runs;
  for (std::uint32_t r = 0; r < o.runs; ++r) {
    sim::ClusterExperiment e = base;
    e.seed = base.seed + r;
    std::function<void(const sim::ClusterEvent&)> sink;
    if (events.is_open() && r == 0) {  // one timeline per file: the first run's
      sink = [&](const sim::ClusterEvent& ev) { write_event(events, ev); };
    }
    runs.push_back(sim::run_cluster(e, sink));
  }
  if (!o.plot.empty()) plot_live(o.plot, runs.front());
  nlohmann::json j = summary_json(sim::summarize(base.nodes, runs));
  j["seed"] = base.seed;
  j["peak_rss_bytes"] = peak_rss_bytes();
  j["estimated_peak_bytes"] = estimate;
  if (runs.size() > 1) {
    j["per_run"] = nlohmann::json::array();
    for (std::size_t r = 0; r < runs.size(); ++r) {
      nlohmann::json one = summary_json(sim::summarize(base.nodes, {runs[r]}));
      one["seed"] = base.seed + r;
      j["per_run"].push_back(one);
    }
  }
  if (o.json) {
    emit_json_line(j);
  } else {
    std::printf("sim cluster: %u nodes, %.0f s simulated, %u run(s)\n", base.nodes,
                base.duration.to_seconds(), o.runs);
    print_text(j);
  }
  return 0;
}

}  // namespace

void add_sim_cluster(CLI::App& sim, std::function<int()>& run_cmd) {
  auto o = std::make_shared<Options>();
  auto* cmd = sim.add_subcommand(
      "cluster",
      "N full grapevine Nodes (the agent's own Node, shaped by the agent's --config TOML and\n"
      "flags; node i is named node-i, the TOML's name/bind/join are ignored) join and run under\n"
      "a fault schedule. Durations take s, ms, m suffixes (plain numbers are seconds).\n"
      "Faults (--fault, repeatable; members picked at random from the seeded PRNG):\n"
      "  crash:K@T  restart:K@T (K crashed come back, fresh state)  leave:K@T\n"
      "  slow:K@T (CPU-starved: --slow-service per event)\n"
      "  partition:F@T1-T2 (a fraction F of live members cut off, healed at T2)\n"
      "  loss:P@T1-T2 (every link)\n"
      "  lossy:K:P@T1-T2 (K members lose a fraction P of what they send and receive)\n"
      "--json: nodes, join_convergence_seconds, completeness, accuracy, false_failures\n"
      "(failures across a partition, or within 60 s of its heal, are partition_failures),\n"
      "detection_{first,all}_seconds_p50/p99, leaves_seen_as_left, partition_heal_seconds\n"
      "(heal until every live node lists every live node; null without a partition),\n"
      "multicast_delivered_fraction, multicast_delivery_seconds_p50/p99,\n"
      "{messages,bytes}_per_node_per_second, steady_* (longest fault-free stretch),\n"
      "alive_queued_{gossip,push_pull}, alive_join_reply_quiet, updates_sent, rumors_stopped\n"
      "(summed over the nodes: alive records queued for gossip by source, updates piggybacked,\n"
      "updates dropped by rumor_stop_after's counter),\n"
      "events, wall_seconds, peak_rss_bytes, delivery_hash (same seed, same hash).\n"
      "--membership consistent adds configurations, view_agreement, distinct_membership_sizes,\n"
      "bootstrap_seconds, view_change_seconds_p50/p99 (fault to each survivor's next install).\n"
      "--scenario demo replays `grapevine demo` (join at --join-rate, one multicast, --crash\n"
      "crashes, one leave; multicast period 200 ms unless --config) in simulated time and\n"
      "prints the fields of `grapevine demo --json`.");
  add_node_flags(*cmd, o->node);
  cmd->add_option("--nodes", o->nodes, "group size N")->capture_default_str();
  cmd->add_option("--bootstrap", o->bootstrap,
                  "join: node i joins through the first --seeds nodes at --join-rate per second; "
                  "preloaded: everyone starts knowing everyone")
      ->capture_default_str();
  cmd->add_option("--join-rate", o->join_rate, "joins started per second")->capture_default_str();
  cmd->add_option("--seeds", o->seeds, "nodes a joiner contacts (the first K)")
      ->capture_default_str();
  cmd->add_option("--latency", o->latency,
                  "link latency range MIN..MAX (default 1ms..5ms; 50us..200us, loopback, with "
                  "--scenario demo)");
  cmd->add_option("--multicasts", o->multicasts,
                  "user multicasts from random live members, spread over the run")
      ->capture_default_str();
  cmd->add_option("--zones", o->zones,
                  "K zones behind routers (node i in zone i % K; 5ms..20ms between zones); "
                  "with --multicasts reports cross_zone_messages_per_round_mean");
  cmd->add_option("--payload-bytes", o->payload_bytes, "bytes per multicast")
      ->capture_default_str();
  cmd->add_option("--fault", o->faults, "fault spec (see above); repeat for more");
  cmd->add_option("--slow-service", o->slow_service, "CPU time per event of a slow member")
      ->capture_default_str();
  cmd->add_option("--duration", o->duration, "simulated time (required without --scenario)");
  cmd->add_option("--seed", o->seed, "seed (run r uses seed + r)")->capture_default_str();
  cmd->add_option("--runs", o->runs, "independent runs; --json adds per_run and pools them")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "one JSON object");
  cmd->add_flag("--force", o->force, "run even when the memory estimate exceeds what is available");
  cmd->add_option("--events", o->events,
                  "write every membership event and delivery (of the first run) as JSON lines");
  cmd->add_option("--plot", o->plot, "SVG: live members listed over time (first run)");
  cmd->add_option("--scenario", o->scenario, "demo: replay `grapevine demo`");
  cmd->add_option("--crash", o->crash, "--scenario demo: nodes to crash")->capture_default_str();
  cmd->callback([o, &run_cmd] { run_cmd = [o] { return run(*o); }; });
}

}  // namespace grapevine::tools
