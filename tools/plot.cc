#include "plot.h"

#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace grapevine::tools {
namespace {

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

void plot_svg(const std::string& path, const PlotSpec& spec) {
  std::ostringstream script;
  script << "set terminal svg size 900,560 dynamic enhanced font 'sans,12' background '#ffffff'\n"
         << "set output " << quoted(path) << "\n"
         << "set title " << quoted(spec.title) << "\n"
         << "set xlabel " << quoted(spec.xlabel) << "\n"
         << "set ylabel " << quoted(spec.ylabel) << "\n"
         << "set grid\nset key bottom right\n";
  if (spec.log_x) script << "set logscale x\n";
  if (spec.log_y) script << "set logscale y\n";
  script << "plot ";
  for (std::size_t i = 0; i < spec.series.size(); ++i) {
    if (i > 0) script << ", ";
    script << "'-' using 1:2 with linespoints pt 7 ps 0.5 lw 2 "
           << (spec.series[i].dashed ? "dt 2 " : "") << "title " << quoted(spec.series[i].title);
  }
  script << "\n";
  for (const auto& s : spec.series) {
    for (std::size_t k = 0; k < s.y.size(); ++k) {
      double x = k < s.x.size() ? s.x[k] : double(k);
      script << x << ' ' << s.y[k] << '\n';
    }
    script << "e\n";
  }
  FILE* gp = popen("gnuplot 2>&1", "w");
  if (gp == nullptr) throw std::runtime_error("cannot start gnuplot");
  std::string text = script.str();
  std::fwrite(text.data(), 1, text.size(), gp);
  int status = pclose(gp);
  if (status != 0) {
    throw std::runtime_error(
        "gnuplot failed or is not installed (apt-get install gnuplot-nox); no plot written to " +
        path);
  }
}

}  // namespace grapevine::tools
