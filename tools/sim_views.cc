// grapevine sim views: build a partial-view overlay (SCAMP, Cyclon, T-MAN, HyParView) in the
// simulator, measure it, fail a fraction of it, and report what broadcasts over it achieved.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "memory_guard.h"
#include "options.h"
#include "plot.h"
#include "report.h"
#include "sim_output.h"
#include "sim/views_experiment.h"

namespace grapevine::tools {
namespace {

struct Options {
  std::string view = "cyclon";
  std::uint32_t nodes = 1000;
  std::string fail_fractions = "0";
  double leave_fraction = 0;
  std::uint32_t cycles = 30;
  std::uint64_t seed = 1;
  bool json = false;
  bool force = false;
  std::string plot;
  std::string csv;
  std::uint32_t runs = 1;
  std::uint32_t multicasts = 5;
  std::uint32_t after_cycles = 20;
  std::uint32_t fanout = 0;
  std::string contact = "random";
  std::uint32_t scamp_c = 1;
  std::uint32_t view_size = 20;
  std::uint32_t shuffle_length = 5;
  std::uint32_t tman_view_size = 16;
  std::uint32_t tman_message_size = 8;
  std::uint32_t tman_psi = 2;
  std::uint32_t active_size = 5;
  std::uint32_t passive_size = 30;
  double period_ms = 1000;
  double join_spacing_ms = -1;  // automatic: see below
  std::uint32_t path_samples = 100;
  std::uint32_t clustering_samples = 2000;
  std::uint32_t threads = 0;
  bool no_progress = false;
};

sim::ViewsExperiment base_experiment(const Options& o, const std::string& view) {
  sim::ViewsExperiment e;
  if (!parse_view_kind(view.c_str(), e.config.kind)) {
    throw UsageError("--view: expected scamp|cyclon|tman|hyparview, got '" + view + "'");
  }
  if (o.nodes < 2 || o.nodes > 4000000) {
    throw UsageError("--nodes: expected an integer in [2, 4000000], got " +
                     std::to_string(o.nodes));
  }
  if (o.runs == 0) throw UsageError("--runs: must be >= 1");
  if (o.period_ms <= 0) throw UsageError("--period-ms: must be > 0");
  if (o.contact != "random" && o.contact != "first") {
    throw UsageError("--contact: expected random|first, got '" + o.contact + "'");
  }
  ViewConfig& c = e.config;
  c.seed = o.seed;
  c.period = Duration::nanoseconds(std::int64_t(o.period_ms * 1e6));
  c.fanout = o.fanout;
  c.scamp_c = o.scamp_c;
  c.cyclon_view_size = o.view_size;
  c.cyclon_shuffle_length = o.shuffle_length;
  c.tman_view_size = o.tman_view_size;
  c.tman_message_size = o.tman_message_size;
  c.tman_psi = o.tman_psi;
  c.hyparview_active_size = o.active_size;
  c.hyparview_passive_size = o.passive_size;
  if (auto v = validate(c); !v) {
    throw UsageError(std::string("--view parameters: ") + v.error().detail);
  }
  e.nodes = o.nodes;
  e.cycles = o.cycles;
  e.seed = o.seed;
  e.runs = o.runs;
  e.threads = o.threads;
  e.multicasts = o.multicasts;
  e.after_cycles = o.after_cycles;
  check_fraction("--leave-fraction", o.leave_fraction, false);
  e.leave_fraction = o.leave_fraction;
  e.random_contact = o.contact == "random";
  // SCAMP's analysis assumes each subscription settles before the next join (a forwarded copy
  // walks ~(c+1) ln N hops); overlapping joins shrink the views by ~15% at N = 1000. SCAMP has
  // no timers, so a long spacing costs nothing; the periodic protocols join 10 ms apart.
  double spacing = o.join_spacing_ms;
  if (spacing < 0) spacing = e.config.kind == ViewKind::scamp ? 1000 : 10;
  e.join_spacing = Duration::nanoseconds(std::int64_t(spacing * 1e6));
  e.path_samples = o.path_samples;
  e.clustering_samples = o.clustering_samples;
  return e;
}

nlohmann::json to_json(const sim::ViewsSummary& s) {
  const auto& e = s.experiment;
  nlohmann::json j;
  j["view"] = view_kind_name(e.config.kind);
  j["nodes"] = e.nodes;
  j["cycles"] = e.cycles;
  j["fail_fraction"] = e.fail_fraction;
  j["leave_fraction"] = e.leave_fraction;
  j["links_to_leavers"] = s.links_to_leavers;
  j["seed"] = e.seed;
  j["runs"] = e.runs;
  j["multicasts"] = e.multicasts;
  j["fanout"] = e.config.fanout;
  j["view_size_mean"] = s.view_size_mean;
  j["view_size_p50"] = s.view_size_p50;
  j["view_size_max"] = s.view_size_max;
  j["passive_size_mean"] = s.passive_size_mean;
  j["in_degree_mean"] = s.in_degree_mean;
  j["in_degree_stddev"] = s.in_degree_stddev;
  j["in_degree_stddev_random_graph"] = s.in_degree_stddev_random;
  j["in_degree_max"] = s.in_degree_max;
  j["in_degree_histogram"] = s.in_degree_histogram;
  j["clustering"] = s.clustering;
  j["clustering_random_graph"] = s.clustering_random;
  j["path_length_mean"] = s.path_length_mean;
  j["reachable_fraction"] = s.reachable_fraction;
  j["dead_links_at_failure"] = s.dead_links_at_failure;
  j["dead_links"] = s.dead_links;
  j["dead_links_curve"] = s.dead_links_curve;
  j["delivered_fraction_before"] = s.delivered_fraction_before;
  j["delivered_fraction_before_min"] = s.delivered_fraction_before_min;
  j["delivered_fraction_after"] = s.delivered_fraction_after;
  j["delivered_fraction_after_min"] = s.delivered_fraction_after_min;
  j["runs_fully_delivered_before"] = s.runs_fully_delivered_before;
  j["runs_fully_delivered_after"] = s.runs_fully_delivered_after;
  j["rmr"] = s.rmr;
  j["rmr_after"] = s.rmr_after;
  j["last_delivery_hop"] = s.last_delivery_hop;
  j["last_delivery_hop_after"] = s.last_delivery_hop_after;
  if (e.config.kind == ViewKind::tman) {
    j["ring_curve"] = s.ring_curve;
    j["ring_converged_cycle"] = s.ring_converged_cycle;
    j["runs_ring_converged"] = s.runs_ring_converged;
  }
  j["control_messages_per_node_per_cycle"] = s.control_messages_per_node_per_cycle;
  j["delivery_hash"] = s.delivery_hash;
  j["events"] = s.events;
  j["wall_seconds"] = s.wall_seconds;
  return j;
}

void print_text(const sim::ViewsSummary& s) {
  const auto& e = s.experiment;
  std::printf("%s  N=%u  cycles=%u  fail=%.2f  runs=%u  seed=%llu\n", view_kind_name(e.config.kind),
              e.nodes, e.cycles, e.fail_fraction, e.runs, static_cast<unsigned long long>(e.seed));
  if (e.leave_fraction > 0) {
    std::printf(
        "  leaves         %.0f%% left gracefully one by one; links to them afterwards %.1f\n",
        e.leave_fraction * 100, s.links_to_leavers);
  }
  std::printf("  view size      mean %.2f  p50 %.1f  max %.1f", s.view_size_mean, s.view_size_p50,
              s.view_size_max);
  if (s.passive_size_mean > 0) std::printf("  passive %.1f", s.passive_size_mean);
  std::printf("\n  in-degree      mean %.2f  stddev %.2f (random graph %.2f)  max %.1f\n",
              s.in_degree_mean, s.in_degree_stddev, s.in_degree_stddev_random, s.in_degree_max);
  std::printf("  clustering     %.4f (random graph %.4f)   path length %.2f  reachable %.4f\n",
              s.clustering, s.clustering_random, s.path_length_mean, s.reachable_fraction);
  if (e.config.kind == ViewKind::tman) {
    std::printf("  ring           converged at cycle %.1f (%u/%u runs)\n", s.ring_converged_cycle,
                s.runs_ring_converged, e.runs);
  }
  std::printf(
      "  delivery       before %.4f (min %.4f, %u/%u runs all)  after %.4f (min %.4f, "
      "%u/%u runs all)\n",
      s.delivered_fraction_before, s.delivered_fraction_before_min, s.runs_fully_delivered_before,
      e.runs, s.delivered_fraction_after, s.delivered_fraction_after_min,
      s.runs_fully_delivered_after, e.runs);
  std::printf("  dead links     %.1f at failure -> %.1f after %zu cycles\n",
              s.dead_links_at_failure, s.dead_links, s.dead_links_curve.size());
  std::printf("  redundancy     RMR %.2f (after %.2f)  last delivery hop %.2f (after %.2f)\n",
              s.rmr, s.rmr_after, s.last_delivery_hop, s.last_delivery_hop_after);
  std::printf("  wall           %.2f s  (%llu events)\n", s.wall_seconds,
              static_cast<unsigned long long>(s.events));
}

// In-degree distribution per protocol (at the first --fail-fraction: it is measured before the
// failure), and with several fractions FILE-delivery.svg: delivery after the failure against
// the failed fraction, one mean and one (dashed) worst-message line per protocol.
void plot(const std::string& path, const std::vector<sim::ViewsSummary>& all) {
  std::vector<std::string> names;
  std::size_t per_view = 0;
  for (const auto& r : all) {
    const std::string name = view_kind_name(r.experiment.config.kind);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  per_view = all.size() / names.size();
  std::string joined;
  for (const auto& n : names) joined += (joined.empty() ? "" : ", ") + n;
  const std::string n_text = "N=" + std::to_string(all.front().experiment.nodes);
  PlotSpec spec;
  spec.title = "In-degree distribution: " + joined + ", " + n_text;
  spec.xlabel = "in-degree";
  spec.ylabel = "fraction of nodes";
  for (std::size_t v = 0; v < names.size(); ++v) {
    const auto& first = all[v * per_view];
    PlotSeries s{names[v], {}, {}, false};
    double total = 0;
    for (auto c : first.in_degree_histogram) total += double(c);
    for (std::size_t d = 0; d < first.in_degree_histogram.size(); ++d) {
      s.x.push_back(double(d));
      s.y.push_back(total > 0 ? double(first.in_degree_histogram[d]) / total : 0.0);
    }
    spec.series.push_back(s);
  }
  plot_svg(path, spec);
  if (per_view < 2) return;
  // Delivery vs failed fraction, beside the in-degree plot: FILE.svg -> FILE-delivery.svg.
  PlotSpec d;
  d.title = "Delivery after failures: " + joined + ", " + n_text;
  d.xlabel = "fraction of nodes failed at once";
  d.ylabel = "delivered fraction of live nodes";
  for (std::size_t v = 0; v < names.size(); ++v) {
    PlotSeries after{names[v] + " (mean)", {}, {}, false};
    PlotSeries worst{names[v] + " (worst message)", {}, {}, true};
    for (std::size_t k = 0; k < per_view; ++k) {
      const auto& r = all[v * per_view + k];
      after.x.push_back(r.experiment.fail_fraction);
      after.y.push_back(r.delivered_fraction_after);
      worst.x.push_back(r.experiment.fail_fraction);
      worst.y.push_back(r.delivered_fraction_after_min);
    }
    d.series.push_back(after);
    d.series.push_back(worst);
  }
  std::string base = path;
  if (base.size() > 4 && base.substr(base.size() - 4) == ".svg") base.resize(base.size() - 4);
  plot_svg(base + "-delivery.svg", d);
}

void write_csv(const std::string& path, const std::vector<sim::ViewsSummary>& all) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << "view,nodes,fail_fraction,in_degree,nodes_with_in_degree\n";
  for (const auto& s : all) {
    for (std::size_t d = 0; d < s.in_degree_histogram.size(); ++d) {
      out << view_kind_name(s.experiment.config.kind) << ',' << s.experiment.nodes << ','
          << s.experiment.fail_fraction << ',' << d << ',' << s.in_degree_histogram[d] << '\n';
    }
  }
}

int run(const Options& o) {
  const std::vector<std::string> views = split_list(o.view);
  if (views.empty()) throw UsageError("--view: expected scamp|cyclon|tman|hyparview");
  std::vector<sim::ViewsExperiment> bases;
  for (const auto& v : views) bases.push_back(base_experiment(o, v));  // all checked up front
  // Every configured view size counted (an upper bound for any one protocol).
  const std::uint64_t entries = std::uint64_t(o.view_size) + o.tman_view_size + o.active_size +
                                o.passive_size;
  std::uint64_t estimate = 0;  // refuse before anything big is allocated
  for (const auto& b : bases) {
    estimate = check_memory(
        {"sim views", b.nodes, "nodes", parallel_runs(b.threads, b.runs),
         [entries](std::uint64_t n) { return sim::estimate_views(n, entries); }, ""},
        o.force);
  }
  const std::vector<double> fractions =
      parse_fraction_list("--fail-fraction", o.fail_fractions, false);
  const bool tty = isatty(STDERR_FILENO) != 0 && !o.no_progress;
  std::vector<sim::ViewsSummary> results;
  for (const auto& base : bases) {
    for (double f : fractions) {
      sim::ViewsExperiment e = base;
      e.fail_fraction = f;
      const char* name = view_kind_name(e.config.kind);
      auto progress = [&](std::uint32_t done, std::uint32_t total) {
        if (tty) std::fprintf(stderr, "\r%s fail=%.2f: run %u/%u ", name, f, done, total);
      };
      results.push_back(sim::run_views(e, progress));
    }
  }
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
  if (!o.csv.empty()) write_csv(o.csv, results);
  if (!o.plot.empty()) plot(o.plot, results);
  for (const auto& s : results) {
    if (o.json) {
      auto j = to_json(s);
      j["peak_rss_bytes"] = peak_rss_bytes();
      j["estimated_peak_bytes"] = estimate;
      emit_json_line(j);
    } else {
      print_text(s);
    }
  }
  if (!o.json && !o.plot.empty()) std::printf("plot written to %s\n", o.plot.c_str());
  return 0;
}

}  // namespace

void add_sim_views(CLI::App& sim, std::function<int()>& run_cmd) {
  auto o = std::make_shared<Options>();
  auto* cmd = sim.add_subcommand(
      "views",
      "Build a partial-view overlay over N simulated nodes (joins one by one through a contact),\n"
      "run C cycles, measure it, crash a fraction F at once, and report broadcast delivery\n"
      "before and after. A comma list in --fail-fraction runs one series per value.");
  cmd->add_option("--view", o->view,
                  "scamp|cyclon|tman|hyparview; a comma list runs (and plots) each in turn")
      ->capture_default_str();
  cmd->add_option("--nodes", o->nodes, "overlay size N")->capture_default_str();
  cmd->add_option("--fail-fraction", o->fail_fractions,
                  "fraction of nodes crashed at once after the measurement (comma list ok)")
      ->capture_default_str();
  cmd->add_option("--leave-fraction", o->leave_fraction,
                  "fraction of nodes that leave gracefully (leave()), one per join spacing, "
                  "before the measurement")
      ->capture_default_str();
  cmd->add_option("--cycles", o->cycles, "periods run after the last join")->capture_default_str();
  cmd->add_option("--seed", o->seed, "master seed (run r uses splitmix(seed, r))")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "one JSON object per series instead of text");
  cmd->add_option("--plot", o->plot,
                  "SVG of the in-degree distribution (one line per --view); with several "
                  "--fail-fraction values also FILE-delivery.svg (delivery vs failed fraction)");
  cmd->add_option("--csv", o->csv, "write the in-degree histograms to this CSV file");
  cmd->add_option("--runs", o->runs, "independent seeded runs per series")->capture_default_str();
  cmd->add_option("--multicasts", o->multicasts, "broadcasts before and again after the failure")
      ->capture_default_str();
  cmd->add_option("--after-cycles", o->after_cycles,
                  "periods run after the failure (at least multicasts + 2)")
      ->capture_default_str();
  cmd->add_option("--fanout", o->fanout, "flooding fanout over the view (0 = every peer)")
      ->capture_default_str();
  cmd->add_option("--contact", o->contact, "joins go through a random earlier node or the first")
      ->capture_default_str();
  cmd->add_option("--scamp-c", o->scamp_c, "SCAMP: extra subscription copies c")
      ->capture_default_str();
  cmd->add_option("--view-size", o->view_size, "Cyclon: view size c")->capture_default_str();
  cmd->add_option("--shuffle-length", o->shuffle_length, "Cyclon: shuffle length l")
      ->capture_default_str();
  cmd->add_option("--tman-view-size", o->tman_view_size, "T-MAN: view size")->capture_default_str();
  cmd->add_option("--tman-message-size", o->tman_message_size, "T-MAN: descriptors per message")
      ->capture_default_str();
  cmd->add_option("--tman-psi", o->tman_psi, "T-MAN: gossip with one of the psi best")
      ->capture_default_str();
  cmd->add_option("--active-size", o->active_size, "HyParView: active view size")
      ->capture_default_str();
  cmd->add_option("--passive-size", o->passive_size, "HyParView: passive view size")
      ->capture_default_str();
  cmd->add_option("--period-ms", o->period_ms, "cycle length")->capture_default_str();
  cmd->add_option("--join-spacing-ms", o->join_spacing_ms,
                  "time between two joins (default: 1000 for scamp, 10 otherwise)");
  cmd->add_option("--path-samples", o->path_samples, "BFS sources for the path length")
      ->capture_default_str();
  cmd->add_option("--clustering-samples", o->clustering_samples,
                  "nodes sampled for the clustering coefficient")
      ->capture_default_str();
  cmd->add_flag("--force", o->force, "run even when the memory estimate exceeds what is available");
  cmd->add_option("--threads", o->threads, "worker threads for runs (0 = one per core)")
      ->capture_default_str();
  cmd->add_flag("--no-progress", o->no_progress, "no progress line on stderr");
  cmd->callback([o, &run_cmd] { run_cmd = [o] { return run(*o); }; });
}

}  // namespace grapevine::tools
