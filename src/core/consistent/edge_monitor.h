// Edge failure detection for consistent membership: each observer probes its subjects and
// decides, per edge, whether the subject is faulty. Rapid [ATC 2018 §4.1] makes this pluggable;
// the paper's default is probe-and-timeout, the reference code counts 10 cumulative failures.
//
// The seam: EdgeDetector sees each probe sent, each ack (with its round-trip time) and each
// probe that timed out, and answers faulty(). PingEdgeDetector (ours) declares an edge faulty
// after `misses` consecutive probes without an ack (an ack resets the count), so random loss of
// p per packet gives a false edge alert with probability ~(1-(1-p)^2)^misses per probe (p = 0.3,
// misses = 10: ~1e-3; the default). A phi-accrual
// estimator plugs in by implementing EdgeDetector over the ack times.
#pragma once

#include <cstdint>
#include <memory>

#include "grapevine/time.h"

namespace grapevine::detail {

class EdgeDetector {
 public:
  virtual ~EdgeDetector() = default;
  virtual void on_probe_sent(Time now) = 0;
  virtual void on_ack(Time now, Duration rtt) = 0;
  virtual void on_probe_timeout(Time now) = 0;
  [[nodiscard]] virtual bool faulty(Time now) const = 0;
};

class PingEdgeDetector final : public EdgeDetector {
 public:
  explicit PingEdgeDetector(std::uint32_t misses) : misses_max_(misses) {}
  void on_probe_sent(Time) override {}
  void on_ack(Time, Duration) override { misses_ = 0; }
  void on_probe_timeout(Time) override { ++misses_; }
  [[nodiscard]] bool faulty(Time) const override { return misses_ >= misses_max_; }

 private:
  std::uint32_t misses_max_;
  std::uint32_t misses_ = 0;
};

/// The factory the membership node calls for every new edge (one per distinct subject).
inline std::unique_ptr<EdgeDetector> make_edge_detector(std::uint32_t misses) {
  return std::make_unique<PingEdgeDetector>(misses);
}

}  // namespace grapevine::detail
