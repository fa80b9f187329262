#include "options.h"

#include <cmath>
#include <sstream>

namespace grapevine::tools {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> parts;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    if (!item.empty()) parts.push_back(item);
  }
  return parts;
}

std::uint32_t parse_count(const std::string& flag, const std::string& text, std::uint32_t min,
                          std::uint32_t max) {
  std::size_t used = 0;
  unsigned long v = 0;
  try {
    v = std::stoul(text, &used);
  } catch (...) {
    used = 0;
  }
  if (used != text.size() || text.empty() || text[0] == '-' || v < min || v > max) {
    throw UsageError(flag + ": expected an integer in [" + std::to_string(min) + ", " +
                     std::to_string(max) + "], got '" + text + "'");
  }
  return std::uint32_t(v);
}

void check_fraction(const std::string& flag, double v, bool allow_one) {
  if (!(v >= 0.0) || v > 1.0 || (!allow_one && v >= 1.0)) {
    throw UsageError(flag + ": expected a fraction in [0, 1" + (allow_one ? "]" : ")") + ", got " +
                     std::to_string(v));
  }
}

std::vector<double> parse_fraction_list(const std::string& flag, const std::string& text,
                                        bool allow_one) {
  const std::string range = allow_one ? "[0, 1]" : "[0, 1)";
  std::vector<double> out;
  for (const auto& item : split_list(text)) {
    std::size_t used = 0;
    double v = -1;
    try {
      v = std::stod(item, &used);
    } catch (...) {
      used = 0;
    }
    if (used != item.size()) {
      throw UsageError(flag + ": expected a fraction in " + range + ", got '" + item + "'");
    }
    check_fraction(flag, v, allow_one);
    out.push_back(v);
  }
  if (out.empty())
    throw UsageError(flag + ": expected a fraction in " + range + " or a comma list");
  return out;
}

Duration parse_duration(const std::string& flag, const std::string& text) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    used = 0;
  }
  const std::string unit = used > 0 ? text.substr(used) : "";
  double scale = 0;
  if (unit.empty() || unit == "s")
    scale = 1e9;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "us")
    scale = 1e3;
  else if (unit == "m")
    scale = 60e9;
  else if (unit == "h")
    scale = 3600e9;
  if (used == 0 || scale == 0 || !(v >= 0) || !std::isfinite(v)) {
    throw UsageError(flag + ": expected a duration like 30s, 500ms or 2m, got '" + text + "'");
  }
  return Duration::nanoseconds(std::int64_t(v * scale));
}

}  // namespace grapevine::tools
