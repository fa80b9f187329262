// Plots through gnuplot (Debian package gnuplot-nox): SVG line charts of per-round series.
#pragma once

#include <string>
#include <vector>

namespace grapevine::tools {

struct PlotSeries {
  std::string title;
  std::vector<double> x;
  std::vector<double> y;
  bool dashed = false;
};

struct PlotSpec {
  std::string title;
  std::string xlabel;
  std::string ylabel;
  bool log_x = false;
  bool log_y = false;
  std::vector<PlotSeries> series;
};

/// Writes `path` (SVG) by piping a script with inline data to gnuplot. Throws with an
/// actionable message if gnuplot is missing or fails.
void plot_svg(const std::string& path, const PlotSpec& spec);

}  // namespace grapevine::tools
