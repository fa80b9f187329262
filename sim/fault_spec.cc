#include "sim/fault_spec.h"

#include <cmath>
#include <cstdlib>
#include <string>

namespace grapevine::sim {
namespace {

bool parse_number(std::string_view text, double& out) {
  if (text.empty() || text.size() > 32) return false;
  const std::string s(text);
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(out);
}

bool parse_count(std::string_view text, std::uint32_t& out) {
  double v;
  if (!parse_number(text, v) || v < 0 || v > 1e9 || v != std::floor(v)) return false;
  out = std::uint32_t(v);
  return true;
}

// "@T" or "@T1-T2" (the ranged faults).
std::string parse_when(std::string_view spec, std::string_view when, bool ranged, Fault& f) {
  const std::string quoted = "'" + std::string(spec) + "'";
  if (!ranged) {
    if (!parse_sim_duration(when, f.at)) return "bad time in " + quoted + " (e.g. 60s)";
    f.until = f.at;
    return "";
  }
  const auto dash = when.find('-');
  if (dash == std::string_view::npos) {
    return "expected a time range T1-T2 in " + quoted + " (e.g. 150s-210s)";
  }
  if (!parse_sim_duration(when.substr(0, dash), f.at) ||
      !parse_sim_duration(when.substr(dash + 1), f.until)) {
    return "bad time range in " + quoted + " (e.g. 150s-210s)";
  }
  if (f.until <= f.at) return "the range ends before it starts in " + quoted;
  return "";
}

}  // namespace

const char* fault_kind_name(FaultKind k) noexcept {
  switch (k) {
    case FaultKind::crash: return "crash";
    case FaultKind::restart: return "restart";
    case FaultKind::leave: return "leave";
    case FaultKind::slow: return "slow";
    case FaultKind::partition: return "partition";
    case FaultKind::loss: return "loss";
    case FaultKind::lossy: return "lossy";
  }
  return "?";
}

bool parse_sim_duration(std::string_view text, Duration& out) noexcept {
  struct Unit {
    std::string_view suffix;
    double ns;
  };
  static constexpr Unit kUnits[] = {{"ms", 1e6}, {"us", 1e3}, {"ns", 1.0}, {"s", 1e9},
                                    {"m", 60e9}, {"h", 3600e9}};
  double scale = 1e9;
  for (const Unit& u : kUnits) {
    if (text.size() > u.suffix.size() && text.ends_with(u.suffix)) {
      text.remove_suffix(u.suffix.size());
      scale = u.ns;
      break;
    }
  }
  double v;
  if (!parse_number(text, v) || v < 0 || v * scale > 1e18) return false;
  out = Duration::nanoseconds(std::int64_t(std::llround(v * scale)));
  return true;
}

std::string parse_fault(std::string_view spec, Fault& out) {
  const std::string quoted = "'" + std::string(spec) + "'";
  const auto colon = spec.find(':');
  const auto at = spec.rfind('@');
  if (colon == std::string_view::npos || at == std::string_view::npos || at < colon) {
    return "expected KIND:ARGS@TIME, got " + quoted +
           " (kinds: crash, restart, leave, slow, partition, loss, lossy)";
  }
  const std::string_view kind = spec.substr(0, colon);
  const std::string_view args = spec.substr(colon + 1, at - colon - 1);
  Fault f;
  if (kind == "crash") f.kind = FaultKind::crash;
  else if (kind == "restart") f.kind = FaultKind::restart;
  else if (kind == "leave") f.kind = FaultKind::leave;
  else if (kind == "slow") f.kind = FaultKind::slow;
  else if (kind == "partition") f.kind = FaultKind::partition;
  else if (kind == "loss") f.kind = FaultKind::loss;
  else if (kind == "lossy") f.kind = FaultKind::lossy;
  else return "unknown fault kind '" + std::string(kind) + "' in " + quoted +
              " (crash, restart, leave, slow, partition, loss, lossy)";
  if (f.kind == FaultKind::partition || f.kind == FaultKind::loss) {
    if (!parse_number(args, f.fraction) || !(f.fraction > 0 && f.fraction < 1)) {
      return "expected a fraction in (0, 1) in " + quoted;
    }
  } else if (f.kind == FaultKind::lossy) {
    const auto c2 = args.find(':');
    if (c2 == std::string_view::npos || !parse_count(args.substr(0, c2), f.count) ||
        !parse_number(args.substr(c2 + 1), f.fraction) || !(f.fraction > 0 && f.fraction <= 1)) {
      return "expected lossy:K:P@T1-T2 with P in (0, 1], got " + quoted;
    }
  } else if (!parse_count(args, f.count) || f.count == 0) {
    return "expected a member count >= 1 in " + quoted;
  }
  if (f.kind == FaultKind::lossy && f.count == 0) return "expected K >= 1 in " + quoted;
  std::string err = parse_when(spec, spec.substr(at + 1), f.ranged(), f);
  if (!err.empty()) return err;
  out = f;
  return "";
}

}  // namespace grapevine::sim
