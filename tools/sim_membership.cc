// grapevine sim membership: run a failure detector and membership protocol in the simulator.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "commands.h"
#include "memory_guard.h"
#include "options.h"
#include "plot.h"
#include "report.h"
#include "sim_output.h"
#include "sim/membership_experiment.h"
#include "sim/stats.h"

namespace grapevine::tools {
namespace {

struct Options {
  std::string detectors = "lifeguard";
  std::string node_counts = "100";
  std::string profile = "lan";
  double loss = 0.0;
  double stream_loss = 0.0;
  bool no_tcp_fallback = false;
  std::uint32_t fail = 1;
  std::string fail_at = "30s";
  std::uint32_t leave = 0;
  std::uint32_t slow = 0;
  std::string slow_service = "50ms";
  std::string slow_lag;
  std::string duration = "120s";
  std::string join_spread = "5s";
  std::string bootstrap = "join";
  std::uint64_t seed = 1;
  std::uint32_t runs = 1;
  std::uint32_t threads = 0;
  bool json = false;
  bool force = false;
  std::string events;
  std::string plot;
  std::string plot_load;
  std::string plot_bytes;
  std::string plot_metric = "detection_first_seconds_mean";
  std::string load_window = "all";
  bool sync_probes = false;
  // detector knobs (0 / empty = profile default)
  std::uint32_t indirect_checks = UINT32_MAX;
  std::uint32_t suspicion_mult = 0;
  std::string probe_interval, fail_timeout;
  double cleanup_factor = 0;
  std::string gossip_interval;
  std::string push_pull_interval;
  std::uint32_t heartbeat_fanout = 0;
  double phi_threshold = 0;
  std::uint32_t phi_window = 0;
  std::string phi_min_std, phi_pause, phi_first;
  bool join_reply_gossip = false;
  std::string churn_anti_entropy_delay;
};

struct Series {
  sim::MembershipExperiment experiment;
  std::vector<sim::MembershipResult> runs;
  std::uint64_t estimated_peak_bytes = 0;
};

MembershipConfig build_config(const Options& o, Detector d) {
  MembershipConfig c;
  if (o.profile == "lan") c = MembershipConfig::lan();
  else if (o.profile == "wan") c = MembershipConfig::wan();
  else if (o.profile == "local") c = MembershipConfig::local();
  else throw UsageError("--profile: expected lan|wan|local, got '" + o.profile + "'");
  c.detector = d;
  if (o.indirect_checks != UINT32_MAX) c.indirect_checks = o.indirect_checks;
  if (o.suspicion_mult > 0) c.suspicion_mult = o.suspicion_mult;
  if (!o.probe_interval.empty()) {
    c.probe_interval = parse_duration("--probe-interval", o.probe_interval);
    c.probe_timeout = std::min(c.probe_timeout, c.probe_interval);
  }
  if (!o.fail_timeout.empty()) c.fail_timeout = parse_duration("--fail-timeout", o.fail_timeout);
  if (o.cleanup_factor > 0) c.cleanup_factor = o.cleanup_factor;
  if (!o.gossip_interval.empty()) {
    c.gossip_interval = parse_duration("--gossip-interval", o.gossip_interval);
  }
  if (!o.push_pull_interval.empty()) {
    c.push_pull_interval = parse_duration("--push-pull-interval", o.push_pull_interval);
  }
  if (o.sync_probes) c.probe_random_phase = false;
  if (o.no_tcp_fallback) c.tcp_fallback_ping = false;
  if (o.heartbeat_fanout > 0) c.heartbeat_fanout = o.heartbeat_fanout;
  if (o.phi_threshold > 0) c.phi_threshold = o.phi_threshold;
  if (o.phi_window > 0) c.phi_window = o.phi_window;
  if (!o.phi_min_std.empty()) {
    c.phi_min_std_deviation = parse_duration("--phi-min-std-deviation", o.phi_min_std);
  }
  if (!o.phi_first.empty()) {
    c.phi_first_heartbeat_estimate =
        parse_duration("--phi-first-heartbeat-estimate", o.phi_first);
  }
  if (!o.phi_pause.empty()) {
    c.phi_acceptable_pause = parse_duration("--phi-acceptable-pause", o.phi_pause);
  }
  if (o.join_reply_gossip) c.join_reply_gossip = true;
  if (!o.churn_anti_entropy_delay.empty()) {
    c.churn_anti_entropy_delay =
        parse_duration("--churn-anti-entropy-delay", o.churn_anti_entropy_delay);
  }
  if (auto ok = validate(c); !ok) throw UsageError(std::string("config: ") + ok.error().detail);
  return c;
}

std::vector<Series> build_series(const Options& o) {
  check_fraction("--loss", o.loss, true);
  check_fraction("--stream-loss", o.stream_loss, true);
  if (o.runs == 0) throw UsageError("--runs: must be >= 1");
  const Duration fail_at = parse_duration("--fail-at", o.fail_at);
  const Duration duration = parse_duration("--duration", o.duration);
  if (duration <= fail_at) throw UsageError("--duration: must be longer than --fail-at");
  std::vector<Series> out;
  for (const auto& d_text : split_list(o.detectors)) {
    Detector d;
    if (!parse_detector(d_text, d)) {
      throw UsageError("--detector: expected swim|lifeguard|gossip-heartbeat|all-to-all|phi, got '" +
                       d_text + "'");
    }
    for (const auto& n_text : split_list(o.node_counts)) {
      Series s;
      auto& e = s.experiment;
      e.config = build_config(o, d);
      e.nodes = parse_count("--nodes", n_text, 2, 1000000);
      if (std::uint64_t(o.fail) + o.leave + o.slow >= e.nodes) {
        throw UsageError("--fail/--leave/--slow: together they must leave at least the "
                         "introducer, got " + std::to_string(o.fail + o.leave + o.slow) +
                         " of " + std::to_string(e.nodes));
      }
      e.loss = o.loss;
      e.stream_loss = o.stream_loss;
      e.fail = o.fail;
      e.fail_at = fail_at;
      e.leave = o.leave;
      e.slow = o.slow;
      e.slow_service = parse_duration("--slow-service", o.slow_service);
      if (!o.slow_lag.empty()) e.slow_lag = parse_duration("--slow-lag", o.slow_lag);
      e.duration = duration;
      e.join_spread = parse_duration("--join-spread", o.join_spread);
      if (o.bootstrap != "join" && o.bootstrap != "preloaded") {
        throw UsageError("--bootstrap: expected join|preloaded, got '" + o.bootstrap + "'");
      }
      e.preloaded = o.bootstrap == "preloaded";
      e.seed = o.seed;
      out.push_back(std::move(s));
    }
  }
  if (out.empty()) throw UsageError("--detector/--nodes: nothing to run");
  return out;
}

double mean_of(const std::vector<sim::MembershipResult>& runs,
               double sim::MembershipResult::*field) {
  double s = 0;
  for (const auto& r : runs) s += r.*field;
  return runs.empty() ? 0 : s / double(runs.size());
}

// The pooled samples of one vector field over every run.
std::vector<double> pooled(const std::vector<sim::MembershipResult>& runs,
                           std::vector<double> sim::MembershipResult::*field) {
  std::vector<double> out;
  for (const auto& r : runs) out.insert(out.end(), (r.*field).begin(), (r.*field).end());
  return out;
}

nlohmann::json summary(const std::vector<double>& v, double q) {
  if (v.empty()) return nullptr;
  if (q < 0) return sim::mean(v);
  return sim::percentile(v, q);
}

// What the experiment was (so each JSON line names it) and the metrics added for the failure
// detection claims (docs/experiments.md, F1-F13).
void add_detail_json(nlohmann::json& j, const Series& s) {
  const auto& e = s.experiment;
  const auto& c = e.config;
  const auto& runs = s.runs;
  using R = sim::MembershipResult;
  j["probe_interval_seconds"] = c.probe_interval.to_seconds();
  j["indirect_checks"] = c.indirect_checks;
  j["suspicion_mult"] = c.suspicion_mult;
  j["sync_probes"] = !c.probe_random_phase;
  j["gossip_interval_seconds"] = c.gossip_interval.to_seconds();
  j["push_pull_interval_seconds"] = c.push_pull_interval.to_seconds();
  j["fail_timeout_seconds"] = c.fail_timeout.to_seconds();
  j["cleanup_factor"] = c.cleanup_factor;
  j["heartbeat_fanout"] = c.heartbeat_fanout;
  j["join_reply_gossip"] = c.join_reply_gossip;
  j["churn_anti_entropy_delay_seconds"] = c.churn_anti_entropy_delay.to_seconds();
  if (c.detector == Detector::phi) {
    j["phi_threshold"] = c.phi_threshold;
    j["phi_window"] = c.phi_window;
    j["phi_min_std_deviation_seconds"] = c.phi_min_std_deviation.to_seconds();
    j["phi_acceptable_pause_seconds"] = c.phi_acceptable_pause.to_seconds();
    j["phi_first_heartbeat_estimate_seconds"] = c.phi_first_heartbeat_estimate.to_seconds();
  }
  j["slow_service_seconds"] = e.slow_service.to_seconds();
  j["slow_lag_seconds"] = e.slow_lag.to_seconds();
  std::uint64_t healthy = 0;
  for (const auto& r : runs) healthy += r.false_failures - r.false_failures_at_slow;
  j["false_failures_about_healthy"] = healthy;
  j["preloaded"] = e.preloaded;
  const auto susp = pooled(runs, &R::suspicion_first_samples);
  j["suspicion_first_seconds_mean"] = summary(susp, -1);
  j["suspicion_first_seconds_p50"] = summary(susp, 0.5);
  j["suspicion_first_seconds_p99"] = summary(susp, 0.99);
  j["suspicion_first_samples"] = susp.size();
  const auto s2f = pooled(runs, &R::suspicion_to_failure_samples);
  j["suspicion_to_failure_seconds_min"] = summary(s2f, 0.0);
  j["suspicion_to_failure_seconds_p50"] = summary(s2f, 0.5);
  j["suspicion_to_failure_seconds_max"] = summary(s2f, 1.0);
  const auto leave_all = pooled(runs, &R::leave_all_samples);
  j["leave_all_seconds_p50"] = summary(leave_all, 0.5);
  j["leave_all_seconds_p99"] = summary(leave_all, 0.99);
  j["leave_all_seconds_max"] = summary(leave_all, 1.0);
  const auto own = pooled(runs, &R::own_probe_periods);
  std::uint64_t own_missing = 0, hb_unfinished = 0;
  for (const auto& r : runs) {
    own_missing += r.own_probe_pairs_missing;
    hb_unfinished += r.heartbeat_spreads_unfinished;
  }
  j["own_probe_periods_mean"] = summary(own, -1);
  j["own_probe_periods_max"] = summary(own, 1.0);
  j["own_probe_pairs"] = own.size();
  j["own_probe_pairs_missing"] = own_missing;
  const auto spread = pooled(runs, &R::heartbeat_spread_samples);
  j["heartbeat_spread_seconds_mean"] = summary(spread, -1);
  j["heartbeat_spread_seconds_p50"] = summary(spread, 0.5);
  j["heartbeat_spread_seconds_p99"] = summary(spread, 0.99);
  j["heartbeat_spread_seconds_max"] = summary(spread, 1.0);
  j["heartbeat_spread_samples"] = spread.size();
  j["heartbeat_spreads_unfinished"] = hb_unfinished;
  j["steady_messages_per_member_per_second"] =
      mean_of(runs, &R::steady_messages_per_member_per_second);
  j["steady_bytes_per_member_per_second"] = mean_of(runs, &R::steady_bytes_per_member_per_second);
}

nlohmann::json series_json(const Series& s) {
  const auto& e = s.experiment;
  const auto& runs = s.runs;
  using R = sim::MembershipResult;
  std::vector<double> first, all;
  std::uint64_t false_failures = 0, at_slow = 0, by_slow = 0, leaves_failed = 0, resurrections = 0,
                suspicions = 0, refutations = 0, events = 0, probes = 0, probes_failed = 0,
                indirect = 0, nacks = 0, push_pulls = 0, unhealed = 0, stream_pings = 0,
                stream_ping_acks = 0;
  std::uint32_t views_agree = 0;
  double wall = 0;
  for (const auto& r : runs) {
    first.insert(first.end(), r.detection_first_samples.begin(), r.detection_first_samples.end());
    all.insert(all.end(), r.detection_all_samples.begin(), r.detection_all_samples.end());
    false_failures += r.false_failures;
    at_slow += r.false_failures_at_slow;
    by_slow += r.false_failures_by_slow;
    leaves_failed += r.leaves_as_failed;
    resurrections += r.resurrections;
    suspicions += r.suspicions;
    refutations += r.refutations;
    events += r.events;
    probes += r.probes;
    probes_failed += r.probes_failed;
    indirect += r.indirect_probes;
    nacks += r.nacks;
    stream_pings += r.stream_pings;
    stream_ping_acks += r.stream_ping_acks;
    push_pulls += r.push_pulls;
    unhealed += r.unhealed_false_failures;
    views_agree += r.final_views_agree ? 1 : 0;
    wall = std::max(wall, r.wall_seconds);
  }
  auto pct = [](const std::vector<double>& v, double q) -> nlohmann::json {
    if (v.empty()) return nullptr;
    return sim::percentile(v, q);
  };
  nlohmann::json j;
  j["detector"] = detector_name(e.config.detector);
  j["nodes"] = e.nodes;
  j["loss"] = e.loss;
  j["stream_loss"] = e.stream_loss;
  j["tcp_fallback_ping"] = e.config.tcp_fallback_ping;
  j["fail"] = e.fail;
  j["fail_at_seconds"] = e.fail_at.to_seconds();
  j["leave"] = e.leave;
  j["slow"] = e.slow;
  j["duration_seconds"] = e.duration.to_seconds();
  j["seed"] = e.seed;
  j["runs"] = runs.size();
  j["join_convergence_seconds"] = mean_of(runs, &R::join_convergence_seconds);
  j["completeness"] = mean_of(runs, &R::completeness);
  j["accuracy"] = mean_of(runs, &R::accuracy);
  j["false_failures"] = false_failures;
  j["runs_with_false_failures"] =
      std::count_if(runs.begin(), runs.end(), [](const R& r) { return r.false_failures > 0; });
  j["false_failures_about_slow"] = at_slow;
  j["false_failures_by_slow"] = by_slow;
  j["leaves_seen_as_failed"] = leaves_failed;
  j["resurrections"] = resurrections;
  j["detection_first_seconds_mean"] = first.empty() ? nlohmann::json(nullptr) : nlohmann::json(sim::mean(first));
  j["detection_first_seconds_p50"] = pct(first, 0.5);
  j["detection_first_seconds_p99"] = pct(first, 0.99);
  j["detection_all_seconds_p50"] = pct(all, 0.5);
  j["detection_all_seconds_p99"] = pct(all, 0.99);
  j["leaves_seen_as_left"] = mean_of(runs, &R::leaves_seen_as_left);
  j["unhealed_false_failures"] = unhealed;
  j["runs_final_views_agree"] = views_agree;
  j["probes"] = probes;
  j["probes_failed"] = probes_failed;
  j["indirect_probes"] = indirect;
  j["nacks"] = nacks;
  j["stream_pings"] = stream_pings;
  j["stream_ping_acks"] = stream_ping_acks;
  j["push_pulls"] = push_pulls;
  j["suspicions"] = suspicions;
  j["refutations"] = refutations;
  j["messages_per_member_per_second"] = mean_of(runs, &R::messages_per_member_per_second);
  j["bytes_per_member_per_second"] = mean_of(runs, &R::bytes_per_member_per_second);
  j["events"] = events;
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(runs.empty() ? 0 : runs.front().delivery_hash));
  j["delivery_hash"] = hash;
  j["wall_seconds"] = wall;
  add_detail_json(j, s);
  return j;
}

void print_table(const std::vector<nlohmann::json>& rows, bool steady) {
  const char* msgs = steady ? "steady_messages_per_member_per_second"
                            : "messages_per_member_per_second";
  const char* bytes = steady ? "steady_bytes_per_member_per_second"
                             : "bytes_per_member_per_second";
  std::printf("%-17s %6s %6s %9s %8s %6s %9s %9s %9s %7s %9s %9s\n", "detector", "nodes", "runs",
              "complete", "accuracy", "false", "first p50", "all p50", "all p99", "left",
              "msgs/m/s", "B/m/s");
  auto num = [](const nlohmann::json& v) { return v.is_null() ? -1.0 : v.get<double>(); };
  for (const auto& j : rows) {
    std::printf("%-17s %6u %6u %9.4f %8.4f %6llu %9.2f %9.2f %9.2f %7.3f %9.2f %9.0f\n",
                j["detector"].get<std::string>().c_str(), j["nodes"].get<unsigned>(),
                j["runs"].get<unsigned>(), j["completeness"].get<double>(),
                j["accuracy"].get<double>(), j["false_failures"].get<unsigned long long>(),
                num(j["detection_first_seconds_p50"]), num(j["detection_all_seconds_p50"]),
                num(j["detection_all_seconds_p99"]), j["leaves_seen_as_left"].get<double>(),
                j[msgs].get<double>(), j[bytes].get<double>());
  }
  std::printf("first/all: seconds from the crash until the first / every survivor marked it "
              "failed (-1: never); left: leaves seen as left; msgs and bytes per member per "
              "second%s\n",
              steady ? " from --fail-at on, per member still running" : "");
}

void plot_against_n(const std::string& path, const std::vector<nlohmann::json>& rows,
                    const char* field, const char* title, const char* ylabel, bool log_y) {
  PlotSpec spec;
  spec.title = title;
  spec.xlabel = "members N";
  spec.ylabel = ylabel;
  spec.log_x = true;
  spec.log_y = log_y;
  for (const auto& j : rows) {
    std::string name = j["detector"].get<std::string>();
    auto it = std::find_if(spec.series.begin(), spec.series.end(),
                           [&](const PlotSeries& s) { return s.title == name; });
    if (it == spec.series.end()) {
      spec.series.push_back(PlotSeries{name, {}, {}, false});
      it = std::prev(spec.series.end());
    }
    if (j[field].is_null()) continue;
    it->x.push_back(j["nodes"].get<double>());
    it->y.push_back(j[field].get<double>());
  }
  plot_svg(path, spec);
}

int run(const Options& o) {
  if (o.load_window != "all" && o.load_window != "steady") {
    throw UsageError("--load-window: expected all|steady, got '" + o.load_window + "'");
  }
  auto series = build_series(o);
  for (auto& s : series) {  // refuse before anything big is allocated
    s.estimated_peak_bytes = check_memory(
        {"sim membership", s.experiment.nodes, "members with full views",
         parallel_runs(o.threads, o.runs), sim::estimate_membership,
         ", or partial views (grapevine sim views)"},
        o.force);
  }
  if (!o.plot.empty()) {
    // The metric must be a numeric field of the JSON (checked on the first series' shape).
    Series probe = series.front();
    probe.runs.resize(1);
    const auto j = series_json(probe);
    if (!j.contains(o.plot_metric) || !(j[o.plot_metric].is_number() ||
                                         j[o.plot_metric].is_null())) {
      throw UsageError("--plot-metric: not a numeric --json field: '" + o.plot_metric + "'");
    }
  }
  std::ofstream events;
  if (!o.events.empty()) {
    events.open(o.events);
    if (!events) throw UsageError("--events: cannot write " + o.events);
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  std::vector<nlohmann::json> rows;
  for (std::size_t i = 0; i < series.size(); ++i) {
    Series& s = series[i];
    s.runs.resize(o.runs);
    // Events are written from the first series' first run only (one timeline per file).
    const bool write_events = events.is_open() && i == 0;
    auto one = [&](std::uint32_t r) {
      sim::MembershipExperiment e = s.experiment;
      e.seed = s.experiment.seed + r;
      std::function<void(const sim::MembershipEventRecord&)> sink;
      if (write_events && r == 0) {
        sink = [&](const sim::MembershipEventRecord& ev) {
          events << "{\"time\":" << ev.time.to_seconds() << ",\"observer\":" << ev.observer
                 << ",\"subject\":" << ev.subject << ",\"kind\":\"" << event_kind_name(ev.kind)
                 << "\"}\n";
        };
      }
      s.runs[r] = sim::run_membership(e, sink);
    };
    unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    std::atomic<std::uint32_t> next{0};
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < std::min<unsigned>(threads, o.runs); ++t) {
      pool.emplace_back([&] {
        for (std::uint32_t r; (r = next.fetch_add(1)) < o.runs;) one(r);
      });
    }
    for (auto& t : pool) t.join();
    if (tty) std::fprintf(stderr, "\r[%zu/%zu] done%20s", i + 1, series.size(), "");
    rows.push_back(series_json(s));
    rows.back()["estimated_peak_bytes"] = s.estimated_peak_bytes;
  }
  if (tty) std::fprintf(stderr, "\r%40s\r", "");
  const bool steady = o.load_window == "steady";
  if (!o.plot.empty()) {
    std::string title = "Time to first detection of a crash";
    if (o.plot_metric != "detection_first_seconds_mean") title = o.plot_metric;
    if (o.plot_metric == "suspicion_first_seconds_mean") title = "Time to first suspicion";
    if (o.plot_metric == "detection_all_seconds_p50") title = "Time until every member knows";
    const bool seconds = o.plot_metric.find("seconds") != std::string::npos;
    plot_against_n(o.plot, rows, o.plot_metric.c_str(), title.c_str(),
                   seconds ? "seconds" : o.plot_metric.c_str(), false);
  }
  if (!o.plot_load.empty()) {
    plot_against_n(o.plot_load, rows,
                   steady ? "steady_messages_per_member_per_second"
                          : "messages_per_member_per_second",
                   steady ? "Load per member (steady state)" : "Load per member",
                   "messages per member per second", true);
  }
  if (!o.plot_bytes.empty()) {
    plot_against_n(o.plot_bytes, rows,
                   steady ? "steady_bytes_per_member_per_second" : "bytes_per_member_per_second",
                   steady ? "Bytes per member (steady state)" : "Bytes per member",
                   "bytes per member per second", true);
  }
  if (o.json) {
    for (auto& j : rows) {
      j["peak_rss_bytes"] = peak_rss_bytes();
      emit_json_line(j);
    }
  } else {
    print_table(rows, steady);
  }
  return 0;
}

}  // namespace

void add_sim_membership(CLI::App& sim, std::function<int()>& run_cmd) {
  auto o = std::make_shared<Options>();
  auto* cmd = sim.add_subcommand(
      "membership",
      "Members join through one introducer; at --fail-at, K crash, L leave and M turn slow.\n"
      "Reports completeness, accuracy, detection times and load. Comma lists in --detector\n"
      "and --nodes run one series each (with --json, one JSON object per line).\n"
      "Durations take s, ms or m suffixes (plain numbers are seconds).");
  cmd->add_option("--detector", o->detectors, "swim|lifeguard|gossip-heartbeat|all-to-all|phi")
      ->capture_default_str();
  cmd->add_option("--nodes", o->node_counts, "group size N (comma list ok)")->capture_default_str();
  cmd->add_option("--loss", o->loss, "per-datagram loss probability (streams are TCP-like: "
                  "not affected)")->capture_default_str();
  cmd->add_option("--stream-loss", o->stream_loss,
                  "probability a stream message (push-pull, TCP fallback ping, reply) is lost")
      ->capture_default_str();
  cmd->add_flag("--no-tcp-fallback", o->no_tcp_fallback,
                "SWIM/Lifeguard: no TCP fallback ping (memberlist's DisableTcpPings)");
  cmd->add_option("--fail", o->fail, "members that crash at --fail-at")->capture_default_str();
  cmd->add_option("--fail-at", o->fail_at, "when the crashes, leaves and slowdowns happen")
      ->capture_default_str();
  cmd->add_option("--leave", o->leave, "members that leave gracefully at --fail-at")
      ->capture_default_str();
  cmd->add_option("--slow", o->slow, "members that turn slow at --fail-at (CPU-starved)")
      ->capture_default_str();
  cmd->add_option("--slow-service", o->slow_service,
                  "CPU time a slow member spends on each packet or timer, queued FIFO")
      ->capture_default_str();
  cmd->add_option("--slow-lag", o->slow_lag,
                  "instead of --slow-service: slow members handle each datagram this late "
                  "(timers on time; Lifeguard's slow message processing)");
  cmd->add_option("--duration", o->duration, "simulated time in all")->capture_default_str();
  cmd->add_option("--join-spread", o->join_spread, "members start within this window")
      ->capture_default_str();
  cmd->add_option("--bootstrap", o->bootstrap,
                  "join: everyone joins through node 0; preloaded: start converged (large-group "
                  "steady state)")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "seed (run r uses seed + r)")->capture_default_str();
  cmd->add_option("--runs", o->runs, "independent runs, pooled")->capture_default_str();
  cmd->add_option("--threads", o->threads, "worker threads for runs (0 = one per core)");
  cmd->add_flag("--json", o->json, "one JSON object per series");
  cmd->add_flag("--force", o->force, "run even when the memory estimate exceeds what is available");
  cmd->add_option("--events", o->events,
                  "write every membership event of the first run as JSON lines");
  cmd->add_option("--plot", o->plot, "SVG: mean time to first detection against N");
  cmd->add_option("--plot-load", o->plot_load, "SVG: messages per member per second against N");
  cmd->add_option("--plot-bytes", o->plot_bytes, "SVG: bytes per member per second against N");
  cmd->add_option("--plot-metric", o->plot_metric,
                  "the --json field --plot draws against N (e.g. suspicion_first_seconds_mean)")
      ->capture_default_str();
  cmd->add_option("--load-window", o->load_window,
                  "all: load over the whole run; steady: from --fail-at on (table and plots)")
      ->capture_default_str();
  cmd->add_flag("--sync-probes", o->sync_probes,
                "every member probes at the same instants (SWIM's synchronous rounds)");
  cmd->add_option("--profile", o->profile, "lan|wan|local timings (memberlist's defaults)")
      ->capture_default_str();
  cmd->add_option("--indirect-checks", o->indirect_checks, "SWIM k: ping-req helpers");
  cmd->add_option("--suspicion-mult", o->suspicion_mult, "suspicion timeout multiplier");
  cmd->add_option("--probe-interval", o->probe_interval, "SWIM protocol period");
  cmd->add_option("--gossip-interval", o->gossip_interval, "separate gossip period (0 = off)");
  cmd->add_option("--push-pull-interval", o->push_pull_interval,
                  "full-state anti-entropy period (0 = off)");
  cmd->add_option("--fail-timeout", o->fail_timeout, "heartbeat detectors' T_fail (0 = auto)");
  cmd->add_option("--cleanup-factor", o->cleanup_factor, "T_cleanup / T_fail (gossip heartbeat)");
  cmd->add_option("--heartbeat-fanout", o->heartbeat_fanout,
                  "gossip heartbeat / phi: members gossiped to per interval");
  cmd->add_option("--phi-threshold", o->phi_threshold, "phi: suspicion level that fails a member");
  cmd->add_option("--phi-window", o->phi_window, "phi: inter-arrival samples kept");
  cmd->add_option("--phi-min-std-deviation", o->phi_min_std, "phi: floor of the deviation");
  cmd->add_option("--phi-acceptable-pause", o->phi_pause, "phi: added to the mean interval");
  cmd->add_option("--phi-first-heartbeat-estimate", o->phi_first,
                  "phi: the interval assumed before any was measured");
  cmd->add_flag("--join-reply-gossip", o->join_reply_gossip,
                "re-gossip the members of a seed's join reply (memberlist's behaviour)");
  cmd->add_option("--churn-anti-entropy-delay", o->churn_anti_entropy_delay,
                  "catch-up anti-entropy this long after learning a new member (0 = off)");
  cmd->callback([o, &run_cmd] { run_cmd = [o] { return run(*o); }; });
}

}  // namespace grapevine::tools
