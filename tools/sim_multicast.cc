// grapevine sim multicast: run a multicast protocol in the simulator and report what it did.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "memory_guard.h"
#include "options.h"
#include "plot.h"
#include "report.h"
#include "sim_output.h"
#include "sim/multicast_experiment.h"

namespace grapevine::tools {
namespace {

struct Options {
  std::string protocols = "pushpull";
  std::string fanouts = "2";
  std::string node_counts = "1000";
  std::string losses = "0";
  double crashed = 0.0;
  std::uint32_t subnets = 1;
  bool topology_aware = false;
  std::uint32_t runs = 10;
  std::uint64_t seed = 1;
  bool json = false;
  bool force = false;
  std::string csv;
  std::string plot;
  std::string stop = "none";
  std::uint32_t stop_rounds = 0;
  std::uint32_t stop_k = 1;
  bool blind = false;
  double poisson_fanout = 0.0;
  std::uint32_t pull_fanout = 1;
  std::uint32_t max_rounds = 0;
  bool async = false;
  double period_ms = 1000;
  double jitter = 0.1;
  std::uint32_t payload_bytes = 64;
  std::uint32_t origin_crash_after_sends = 0;
  std::uint32_t crash_interior = 0;
  std::uint64_t uplink = 0;
  std::uint32_t tree_degree = 2;
  std::uint32_t threads = 0;
  std::uint32_t sim_threads = 0;
  bool until_quiet = false;
  bool no_progress = false;
  bool per_node_gossip = false;
  bool curve = false;
};

MulticastConfig base_config(const Options& o) {
  MulticastConfig c;
  if (!parse_stop_rule(o.stop.c_str(), c.stop)) {
    throw UsageError("--stop: expected none|rounds|infect-and-die|counter|coin, got '" + o.stop +
                     "'");
  }
  c.stop_rounds = o.stop_rounds;
  c.stop_k = o.stop_k;
  c.feedback = !o.blind;
  c.fanout_poisson_mean = o.poisson_fanout;
  c.pull_fanout = o.pull_fanout;
  c.topology_aware = o.topology_aware;
  c.period = Duration::nanoseconds(std::int64_t(o.period_ms * 1e6));
  c.period_jitter = o.async ? o.jitter : 0.0;
  c.tree_degree = o.tree_degree;
  if (c.stop == StopRule::rounds && c.stop_rounds == 0) {
    throw UsageError("--stop-rounds: must be >= 1 with --stop rounds");
  }
  return c;
}

sim::MulticastExperiment experiment(const Options& o, const MulticastConfig& c, std::uint32_t nodes,
                                    double loss) {
  sim::MulticastExperiment e;
  e.config = c;
  e.nodes = nodes;
  e.subnets = o.subnets;
  e.loss = loss;
  e.crashed_fraction = o.crashed;
  e.synchronous = !o.async;
  e.uplink_bytes_per_second = o.uplink;
  e.max_rounds = o.max_rounds;
  e.payload_bytes = o.payload_bytes;
  e.origin_crash_after_sends = o.origin_crash_after_sends;
  e.crash_interior = o.crash_interior;
  e.until_quiescent = o.until_quiet;
  e.flat_gossip = !o.per_node_gossip;
  e.seed = o.seed;
  e.runs = o.runs;
  e.threads = o.threads;
  e.sim_threads = o.sim_threads;
  if (std::string why = sim::check_sharded(e); !why.empty()) {
    throw UsageError("--sim-threads: " + why);
  }
  return e;
}

// One series per protocol and fanout (a single one where the protocol has no fanout).
void add_protocol_series(const Options& o, const MulticastConfig& base, std::uint32_t nodes,
                         double loss, std::vector<sim::MulticastExperiment>& out) {
  for (const auto& p_text : split_list(o.protocols)) {
    MulticastConfig c = base;
    if (!parse_protocol(p_text.c_str(), c.protocol)) {
      throw UsageError(
          "--protocol: expected push|pull|pushpull|centralized|tree-ack|tree-nack,"
          " got '" +
          p_text + "'");
    }
    for (const auto& b_text : split_list(o.fanouts)) {
      c.fanout = parse_count("--fanout", b_text, 1, 256);
      if (auto ok = validate(c); !ok) throw UsageError(std::string("config: ") + ok.error().detail);
      out.push_back(experiment(o, c, nodes, loss));
      const bool uses_fanout = c.protocol == MulticastProtocolKind::push ||
                               c.protocol == MulticastProtocolKind::pushpull;
      if (!uses_fanout) break;  // one series is enough where b means nothing
    }
  }
}

std::vector<sim::MulticastExperiment> build_series(const Options& o) {
  MulticastConfig base = base_config(o);
  const std::vector<double> losses = parse_fraction_list("--loss", o.losses, true);
  check_fraction("--crashed", o.crashed, false);
  check_fraction("--jitter", o.jitter, false);
  if (o.period_ms <= 0) throw UsageError("--period-ms: must be > 0");
  if (o.runs == 0) throw UsageError("--runs: must be >= 1");
  std::vector<sim::MulticastExperiment> out;
  for (const auto& n_text : split_list(o.node_counts)) {
    std::uint32_t nodes = parse_count("--nodes", n_text, 2, 16000000);
    if (o.subnets == 0 || o.subnets > nodes) {
      throw UsageError("--subnets: must be in [1, nodes], got " + std::to_string(o.subnets));
    }
    for (double loss : losses) add_protocol_series(o, base, nodes, loss, out);
  }
  if (out.empty()) throw UsageError("--protocol/--fanout/--nodes: nothing to run");
  return out;
}

void plot_curves(const std::string& path, const std::vector<sim::MulticastSummary>& all) {
  PlotSpec spec;
  spec.title = "Infection curve";
  spec.xlabel = all.front().experiment.synchronous ? "round" : "time (periods)";
  spec.ylabel = "fraction of live nodes holding the message";
  for (const auto& s : all) {
    std::string label = series_label(s);
    if (all.size() > 1 && all.front().experiment.nodes != all.back().experiment.nodes) {
      label += " N=" + std::to_string(s.experiment.nodes);
    }
    spec.series.push_back({label, {}, s.curve_mean, false});
    if (!s.curve_mean_field.empty()) {
      spec.series.push_back({label + " (mean field)", {}, s.curve_mean_field, true});
    }
  }
  plot_svg(path, spec);
}

int run(const Options& o) {
  auto series = build_series(o);
  std::vector<std::uint64_t> estimates;  // refuse before anything big is allocated
  for (const auto& e : series) {
    const bool gossip = e.config.protocol == MulticastProtocolKind::push ||
                        e.config.protocol == MulticastProtocolKind::pull ||
                        e.config.protocol == MulticastProtocolKind::pushpull;
    auto estimate = [gossip](std::uint64_t n) { return sim::estimate_multicast(n, gossip); };
    estimates.push_back(check_memory(
        {"sim multicast", e.nodes, "nodes",
         e.sim_threads > 0 && e.threads == 0 ? 1 : parallel_runs(e.threads, e.runs), estimate, ""},
        o.force));
  }
  std::vector<sim::MulticastSummary> results;
  const bool tty = isatty(STDERR_FILENO) != 0 && !o.no_progress;
  for (std::size_t i = 0; i < series.size(); ++i) {
    auto progress = [&](std::uint32_t done, std::uint32_t total) {
      if (!tty) return;
      std::fprintf(stderr, "\r[%zu/%zu] %s: run %u/%u ", i + 1, series.size(),
                   protocol_name(series[i].config.protocol), done, total);
      std::fflush(stderr);
    };
    results.push_back(sim::run_multicast(series[i], progress));
  }
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
  if (!o.csv.empty()) write_curve_csv(o.csv, results);
  if (!o.plot.empty()) plot_curves(o.plot, results);
  if (o.json) {
    for (std::size_t i = 0; i < results.size(); ++i) {
      auto j = to_json(results[i], true);
      j["peak_rss_bytes"] = peak_rss_bytes();
      j["estimated_peak_bytes"] = estimates[i];
      emit_json_line(j);
    }
  } else {
    if (o.curve) print_curves(results);
    print_table(results);
    if (!o.plot.empty()) std::printf("plot written to %s\n", o.plot.c_str());
  }
  return 0;
}

}  // namespace

void add_sim_multicast(CLI::App& sim, std::function<int()>& run_cmd) {
  auto o = std::make_shared<Options>();
  auto* cmd = sim.add_subcommand(
      "multicast",
      "Spread one multicast over N simulated nodes, R seeded runs; report rounds, delivery, load.\n"
      "Comma lists in --protocol, --fanout, --loss and --nodes run one series per combination\n"
      "(with --json, one JSON object per line, one line per series).");
  cmd->add_option("--protocol", o->protocols,
                  "push|pull|pushpull|centralized|tree-ack|tree-nack (comma list ok)")
      ->capture_default_str();
  cmd->add_option("--nodes", o->node_counts, "group size N (comma list ok)")->capture_default_str();
  cmd->add_option("--fanout", o->fanouts, "push targets per round b (comma list ok)")
      ->capture_default_str();
  cmd->add_option("--loss", o->losses, "per-packet loss probability (comma list ok)")
      ->capture_default_str();
  cmd->add_option("--crashed", o->crashed, "fraction of nodes dead from the start (not the origin)")
      ->capture_default_str();
  cmd->add_option("--subnets", o->subnets, "subnets behind routers (equal sizes)")
      ->capture_default_str();
  cmd->add_flag("--topology-aware", o->topology_aware,
                "cross a router with probability 1/n_i, else stay in the subnet");
  cmd->add_option("--runs", o->runs, "independent seeded runs")->capture_default_str();
  cmd->add_option("--seed", o->seed, "master seed (run r uses splitmix(seed, r))")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "print one JSON object per series instead of a table");
  cmd->add_option("--csv", o->csv, "write the infection curves to this CSV file");
  cmd->add_option("--plot", o->plot, "draw the infection curves to this SVG file (gnuplot)");
  cmd->add_option("--stop", o->stop, "push stop rule: none|rounds|infect-and-die|counter|coin")
      ->capture_default_str();
  cmd->add_option("--stop-rounds", o->stop_rounds, "rounds each node pushes (--stop rounds)");
  cmd->add_option("--stop-k", o->stop_k, "k for --stop counter|coin")->capture_default_str();
  cmd->add_flag("--blind", o->blind, "counter/coin count every send, not only unnecessary ones");
  cmd->add_option("--poisson-fanout", o->poisson_fanout,
                  "draw each push's fanout from Poisson(mean) (infect-and-die analysis)");
  cmd->add_option("--pull-fanout", o->pull_fanout, "peers asked per round by pull")
      ->capture_default_str();
  cmd->add_option("--max-rounds", o->max_rounds, "stop after this many rounds (0 = automatic)")
      ->capture_default_str();
  cmd->add_flag(
      "--until-quiet", o->until_quiet,
      "keep running after full delivery until nobody spreads (counts a stop rule's cost)");
  cmd->add_flag("--async", o->async,
                "asynchronous mode: random phases, jittered periods, 5-50 ms links (default: "
                "synchronous rounds)");
  cmd->add_option("--period-ms", o->period_ms, "gossip period")->capture_default_str();
  cmd->add_option("--jitter", o->jitter, "period jitter fraction in --async mode")
      ->capture_default_str();
  cmd->add_option("--payload-bytes", o->payload_bytes, "multicast payload size")
      ->capture_default_str()
      ->check(CLI::Range(0, 1200));
  cmd->add_option("--origin-crash-after-sends", o->origin_crash_after_sends,
                  "crash the origin right after its K-th datagram (0 = never)");
  cmd->add_option("--crash-interior", o->crash_interior,
                  "crash nodes 1..K (the origin's tree children) at the start");
  cmd->add_option("--uplink-bytes-per-sec", o->uplink,
                  "per-node uplink bandwidth; sends queue behind each other (0 = unlimited)");
  cmd->add_option("--tree-degree", o->tree_degree, "children per tree node")->capture_default_str();
  cmd->add_flag("--force", o->force, "run even when the memory estimate exceeds what is available");
  cmd->add_option("--threads", o->threads, "worker threads for runs (0 = one per core)")
      ->capture_default_str();
  cmd->add_option("--sim-threads", o->sim_threads,
                  "run each simulation on K threads (sharded simulator: the same results on any "
                  "K, its own delivery hash; runs one at a time unless "
                  "--threads; no --uplink-bytes-per-sec or --origin-crash-after-sends); 0 = the "
                  "single-threaded simulator")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  cmd->add_flag("--no-progress", o->no_progress, "no progress line on stderr");
  cmd->add_flag("--per-node-gossip", o->per_node_gossip,
                "push/pull/pushpull as one GossipMulticast machine per node instead of the flat "
                "population (same results, slower and larger; for comparison)");
  cmd->add_flag("--curve", o->curve, "print the infection curve of each series as text bars");
  cmd->callback([o, &run_cmd] { run_cmd = [o] { return run(*o); }; });
}

}  // namespace grapevine::tools
