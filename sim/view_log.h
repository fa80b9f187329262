// ViewLog: the view-change record of a consistent-membership run (any driver: the test harness,
// `grapevine sim cluster`) and the metrics computed from it, so tools print what sim/ computes.
// Feed it every event (record() keeps view_changed only).
//   configurations()            distinct configurations installed by anyone
//   view_agreement(nodes)       1.0 when every node's installs are a subsequence of one chain
//                               (no two nodes installed different ids at one epoch, epochs only
//                               increase per node); else the fraction of nodes that agree
//   distinct_sizes()            Rapid's Table 1 metric: distinct member counts installed
//   bootstrap_seconds(n)        until some configuration of n members was installed by n nodes
//   install_delays(t, nodes)    per node, seconds from t to its first install after t
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "grapevine/event.h"
#include "grapevine/time.h"

namespace grapevine::sim {

using NodeIndex = std::uint32_t;

struct ViewRecord {
  Time time;
  NodeIndex node;
  std::uint64_t epoch;
  std::uint64_t id;
  std::uint32_t size;
};

class ViewLog {
 public:
  void record(Time t, NodeIndex node, const Event& e);
  [[nodiscard]] const std::vector<ViewRecord>& views() const { return views_; }
  [[nodiscard]] std::uint32_t configurations() const;
  [[nodiscard]] double view_agreement(std::uint32_t nodes) const;
  /// Empty when view_agreement is 1.0; else the first violation, in words.
  [[nodiscard]] std::string agreement_error() const;
  [[nodiscard]] std::set<std::uint32_t> distinct_sizes() const;
  [[nodiscard]] std::optional<double> bootstrap_seconds(std::uint32_t n) const;
  [[nodiscard]] std::vector<double> install_delays(Time t, std::span<const NodeIndex> nodes) const;
  /// Distinct configurations (epochs) installed after t.
  [[nodiscard]] std::uint32_t configurations_after(Time t) const;
  [[nodiscard]] Time last_install() const;

 private:
  std::vector<ViewRecord> views_;
};

/// The q-quantile (0..1) of `v` (sorted copy; nearest rank); 0 when empty.
double quantile(std::vector<double> v, double q);

}  // namespace grapevine::sim
