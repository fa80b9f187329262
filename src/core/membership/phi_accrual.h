// PhiAccrual: the phi-accrual failure detector's estimator (Hayashibara, Defago, Yared, Katayama,
// "The phi accrual failure detector", SRDS 2004), for one monitored member.
//
// Instead of a yes/no verdict after a fixed timeout it gives a suspicion level
//     phi(t) = -log10(1 - F(t - t_last))
// where t_last is when the last heartbeat arrived and F the distribution of the time between
// heartbeats, fitted to a sliding window of recent inter-arrival times. phi = 1 means a 10% chance
// of being wrong in accusing now, phi = 8 one in 10^8. The user picks a threshold.
//
// The model is Akka's (akka.remote.PhiAccrualFailureDetector), not Cassandra's:
//  - F is a normal distribution with mean mu + acceptable_pause and standard deviation
//    max(sigma, min_std_deviation), mu and sigma the window's mean and (population) deviation;
//  - its tail is Akka's logistic approximation of the normal CDF:
//        y = (delta - mean) / sd,  a = y (1.5976 + 0.070566 y^2),  1 - F ~ 1 / (1 + e^a),
//    so phi = log10(1 + e^a), computed as softplus(a) / ln 10 (no overflow or underflow; Akka's
//    two branches are the same expression);
//  - the window starts with two samples, first_heartbeat_estimate x (1 -+ 1/4) (Akka's
//    bootstrap), so a member heard once is already judged;
//  - an interval that ends a period in which the member was *not* available (phi >= threshold)
//    is not recorded: one long pause must not teach the detector to wait that long.
// Cassandra instead assumes exponential inter-arrivals (phi = delta / mean / ln 10) and convicts
// at phi > 8, i.e. after 18.4 mean intervals; chitchat uses delta / mean without the log factor.
//
// Numbers: intervals are kept in microseconds (uint32, clamped at ~71 minutes), their sum and sum
// of squares in exact integers, so mean and variance do not drift and runs are reproducible.
// Memory: the window, 4 bytes a sample, allocated as samples arrive.
//
// Deterministic, no I/O, no clock: the caller passes `now`, which never decreases.
#pragma once

#include <cstdint>
#include <vector>

#include "grapevine/time.h"

namespace grapevine::detail {

struct PhiAccrualParams {
  double threshold = 8.0;                 // phi at which the member is no longer available
  std::uint32_t window = 1000;            // inter-arrival samples kept (>= 2)
  Duration min_std_deviation = Duration::milliseconds(100);
  Duration acceptable_pause = Duration::seconds(3);  // added to the mean
  Duration first_heartbeat_estimate = Duration::seconds(1);
};

class PhiAccrual {
 public:
  explicit PhiAccrual(const PhiAccrualParams& params = {});

  /// A heartbeat arrived at `now` (not before the previous one).
  void heartbeat(Time now);
  /// Suspicion level at `now`: 0 before the first heartbeat; grows without bound with silence.
  [[nodiscard]] double phi(Time now) const;
  /// phi(now) < threshold (true before the first heartbeat, as in Akka).
  [[nodiscard]] bool available(Time now) const { return phi(now) < params_.threshold; }

  [[nodiscard]] bool heard() const noexcept { return heard_; }
  [[nodiscard]] Time last_heartbeat() const noexcept { return last_; }
  [[nodiscard]] std::uint32_t samples() const noexcept { return std::uint32_t(ring_.size()); }
  [[nodiscard]] double mean_ms() const;
  /// Population standard deviation of the window (before the min_std_deviation floor).
  [[nodiscard]] double std_deviation_ms() const;
  [[nodiscard]] const PhiAccrualParams& params() const noexcept { return params_; }
  /// Forgets everything (the member left and came back as someone new).
  void reset();

  /// Akka's phi for a silence of `delta_ms` under a normal law (mean_ms, sd_ms).
  static double phi_of(double delta_ms, double mean_ms, double sd_ms);

 private:
  void record(Duration interval);

  PhiAccrualParams params_;
  bool heard_ = false;
  Time last_;
  std::vector<std::uint32_t> ring_;  // microseconds
  std::size_t next_ = 0;             // oldest sample once the ring is full
  std::uint64_t sum_us_ = 0;
  unsigned __int128 sum_sq_us_ = 0;
};

}  // namespace grapevine::detail
