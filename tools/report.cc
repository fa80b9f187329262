#include "report.h"

#include <sys/resource.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace grapevine::tools {

std::string series_label(const sim::MulticastSummary& s) {
  const auto& c = s.experiment.config;
  std::string label = protocol_name(c.protocol);
  switch (c.protocol) {
    case MulticastProtocolKind::push:
    case MulticastProtocolKind::pushpull:
      if (c.fanout_poisson_mean > 0) {
        char buf[48];
        std::snprintf(buf, sizeof buf, " b~Poisson(%.2f)", c.fanout_poisson_mean);
        label += buf;
      } else {
        label += " b=" + std::to_string(c.fanout);
      }
      break;
    case MulticastProtocolKind::tree_ack:
    case MulticastProtocolKind::tree_nack:
      label += " d=" + std::to_string(c.tree_degree);
      break;
    default:
      break;
  }
  if (c.topology_aware) label += " aware";
  if (s.experiment.loss > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " loss=%g", s.experiment.loss);
    label += buf;
  }
  return label;
}

nlohmann::json to_json(const sim::MulticastSummary& s, bool with_curves) {
  const auto& e = s.experiment;
  const auto& c = e.config;
  nlohmann::json j;
  j["protocol"] = protocol_name(c.protocol);
  j["nodes"] = e.nodes;
  j["fanout"] = c.fanout;
  if (c.fanout_poisson_mean > 0) j["fanout_poisson_mean"] = c.fanout_poisson_mean;
  j["pull_fanout"] = c.pull_fanout;
  j["stop"] = stop_rule_name(c.stop);
  // The rest of the configuration, so that a JSON line says which experiment it measured.
  if (c.stop == StopRule::rounds) j["stop_rounds"] = c.stop_rounds;
  if (c.stop == StopRule::counter || c.stop == StopRule::coin) {
    j["stop_k"] = c.stop_k;
    j["feedback"] = c.feedback;
  }
  if (c.protocol == MulticastProtocolKind::tree_ack ||
      c.protocol == MulticastProtocolKind::tree_nack) {
    j["tree_degree"] = c.tree_degree;
  }
  j["max_rounds"] = e.max_rounds;
  j["until_quiet"] = e.until_quiescent;
  j["origin_crash_after_sends"] = e.origin_crash_after_sends;
  j["crash_interior"] = e.crash_interior;
  j["uplink_bytes_per_sec"] = e.uplink_bytes_per_second;
  j["loss"] = e.loss;
  j["crashed"] = e.crashed_fraction;
  j["subnets"] = e.subnets;
  j["topology_aware"] = c.topology_aware;
  j["mode"] = e.synchronous ? "sync" : "async";
  j["runs"] = e.runs;
  j["seed"] = e.seed;
  j["sim_threads"] = e.sim_threads;
  j["rounds_mean"] = s.rounds_mean;
  j["rounds_p50"] = s.rounds_p50;
  j["rounds_max"] = s.rounds_max;  // NaN (null in JSON) when no run completed
  j["rounds_sd"] = s.rounds_sd;
  j["rounds_run_mean"] = s.rounds_run_mean;
  j["rounds_to_50_mean"] = s.rounds_to_50_mean;
  j["rounds_50_to_100_mean"] = s.rounds_50_to_100_mean;
  j["seconds_to_all_mean"] = s.seconds_to_all_mean;
  j["delivered_fraction_mean"] = s.delivered_fraction_mean;
  j["delivered_fraction_min"] = s.delivered_fraction_min;
  j["runs_all_delivered"] = s.runs_all_delivered;
  j["messages_per_node_mean"] = s.messages_per_node_mean;
  j["data_messages_per_node_mean"] = s.data_messages_per_node_mean;
  j["bytes_per_node_mean"] = s.bytes_per_node_mean;
  j["redundancy_mean"] = s.redundancy_mean;
  j["origin_messages_mean"] = s.origin_messages_mean;
  j["cross_router_messages_per_round_mean"] = s.cross_router_messages_per_round_mean;
  j["busiest_router_messages_per_round_mean"] = s.busiest_router_messages_per_round_mean;
  j["events"] = s.events;
  j["events_per_second"] = s.wall_seconds > 0 ? double(s.events) / s.wall_seconds : 0.0;
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(s.delivery_hash));
  j["delivery_hash"] = hash;
  j["wall_seconds"] = s.wall_seconds;
  if (with_curves) {
    j["curve_mean"] = s.curve_mean;
    if (!s.curve_mean_field.empty()) j["curve_mean_field"] = s.curve_mean_field;
  }
  return j;
}

namespace {

// A completion figure, or "-" when no run completed (NaN).
std::string figure(double x, int decimals) {
  if (std::isnan(x)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, x);
  return buf;
}

}  // namespace

void print_table(const std::vector<sim::MulticastSummary>& all) {
  std::printf("%-24s %7s %5s %8s %6s %6s %8s %9s %8s %9s %8s %9s %8s\n", "series", "nodes",
              "runs", "rounds", "p50", "max", "time(s)", "delivered", "all-ok", "msgs/node",
              "redund.", "origin", "x-router");
  for (const auto& s : all) {
    std::printf("%-24s %7u %5u %8s %6s %6s %8s %9.4f %4u/%-3u %9.2f %8.2f %9.0f %8.2f\n",
                series_label(s).c_str(), s.experiment.nodes, s.experiment.runs,
                figure(s.rounds_mean, 2).c_str(), figure(s.rounds_p50, 1).c_str(),
                figure(s.rounds_max, 1).c_str(), figure(s.seconds_to_all_mean, 2).c_str(),
                s.delivered_fraction_mean, s.runs_all_delivered, s.experiment.runs,
                s.messages_per_node_mean, s.redundancy_mean, s.origin_messages_mean,
                s.cross_router_messages_per_round_mean);
  }
  std::printf(
      "rounds/time(s): until every live node delivered (mean over runs that got there; - if "
      "none did); "
      "redund.: payload copies received per node; origin: datagrams the origin sent; "
      "x-router: messages per round across routers\n");
}

void print_curves(const std::vector<sim::MulticastSummary>& all) {
  constexpr int kWidth = 50;
  for (const auto& s : all) {
    std::printf("%s, N=%u: fraction of live nodes holding the message after each round\n",
                series_label(s).c_str(), s.experiment.nodes);
    for (std::size_t k = 0; k < s.curve_mean.size(); ++k) {
      double f = s.curve_mean[k];
      int bar = int(f * kWidth + 0.5);
      std::printf("  round %3zu |%.*s%*s| %7.4f", k, bar,
                  "##################################################", kWidth - bar, "", f);
      if (k < s.curve_mean_field.size()) std::printf("  (mean field %.4f)", s.curve_mean_field[k]);
      std::printf("\n");
    }
    std::printf("\n");
  }
}

void write_curve_csv(const std::string& path, const std::vector<sim::MulticastSummary>& all) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << "protocol,fanout,label,round,infected_fraction_mean,mean_field\n";
  for (const auto& s : all) {
    for (std::size_t k = 0; k < s.curve_mean.size(); ++k) {
      out << protocol_name(s.experiment.config.protocol) << ',' << s.experiment.config.fanout
          << ",\"" << series_label(s) << "\"," << k << ',' << s.curve_mean[k] << ',';
      if (k < s.curve_mean_field.size()) out << s.curve_mean_field[k];
      out << '\n';
    }
  }
}

std::uint64_t peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return std::uint64_t(ru.ru_maxrss) * 1024;
}

}  // namespace grapevine::tools
