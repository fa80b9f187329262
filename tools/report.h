// Turning experiment summaries into what users read: JSON objects, tables and CSV files.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/multicast_experiment.h"

namespace grapevine::tools {

/// Label of a series in tables, CSV and plots ("push b=2").
std::string series_label(const sim::MulticastSummary& s);
nlohmann::json to_json(const sim::MulticastSummary& s, bool with_curves);
void print_table(const std::vector<sim::MulticastSummary>& all);
/// The infection curves as text bars, one block per series.
void print_curves(const std::vector<sim::MulticastSummary>& all);
/// One row per series and round: protocol,fanout,label,round,fraction_mean,mean_field.
void write_curve_csv(const std::string& path, const std::vector<sim::MulticastSummary>& all);
/// Peak resident set size of this process, bytes.
std::uint64_t peak_rss_bytes();

}  // namespace grapevine::tools
