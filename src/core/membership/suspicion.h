// Lifeguard's dynamic suspicion timeout (Dadgar et al. 2018; memberlist suspicion.go):
//   timeout(C) = max(min, max - (max - min) * log(C + 1) / log(K + 1))
// where C counts independent confirmations (suspect messages from other members) up to K.
// Plain SWIM uses K = 0: the timeout is always `min`.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "grapevine/membership.h"
#include "grapevine/time.h"

namespace grapevine::detail {

/// min = suspicion_mult * max(1, log10(n)) * probe_interval (memberlist's suspicionTimeout).
inline Duration suspicion_min(std::uint32_t mult, std::size_t n, Duration probe_interval) {
  double scale = std::max(1.0, std::log10(double(std::max<std::size_t>(n, 1))));
  return Duration::nanoseconds(std::int64_t(double(mult) * scale * double(probe_interval.ns())));
}

inline Duration suspicion_timeout(Duration min, Duration max, std::uint32_t k,
                                  std::uint32_t confirmations) {
  if (k < 1) return min;
  double frac = std::log(double(confirmations) + 1.0) / std::log(double(k) + 1.0);
  auto t = std::int64_t(double(max.ns()) - double(max.ns() - min.ns()) * frac);
  return std::max(min, Duration::nanoseconds(t));
}

struct Suspicion {
  NodeId subject = 0;
  std::uint32_t incarnation = 0;
  Time start;
  Duration min, max;
  std::uint32_t k = 0;
  std::vector<NodeId> confirmers;  // the first accuser, then each independent confirmation
  Time deadline;

  /// Counts a suspect message from `from`; true if it was a new, independent confirmation.
  bool confirm(NodeId from) {
    if (confirmers.size() >= std::size_t(k) + 1) return false;
    if (std::find(confirmers.begin(), confirmers.end(), from) != confirmers.end()) return false;
    confirmers.push_back(from);
    deadline = start + suspicion_timeout(min, max, k, std::uint32_t(confirmers.size() - 1));
    return true;
  }
};

}  // namespace grapevine::detail
