// Small statistics helpers for experiment summaries.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace grapevine::sim {

double mean(std::span<const double> xs) noexcept;
/// Nearest-rank percentile (q in [0, 1]) of xs; 0 for an empty input.
double percentile(std::vector<double> xs, double q);
double max_of(std::span<const double> xs) noexcept;
double min_of(std::span<const double> xs) noexcept;
/// Sample standard deviation; 0 for fewer than two values.
double stddev(std::span<const double> xs) noexcept;

}  // namespace grapevine::sim
