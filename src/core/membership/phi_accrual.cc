#include "core/membership/phi_accrual.h"

#include <algorithm>
#include <cmath>

#include "util/assert.h"

namespace grapevine::detail {
namespace {

constexpr double kLn10 = 2.302585092994045684;

std::uint32_t to_us(Duration d) {
  const std::int64_t us = std::max<std::int64_t>(d.ns() / 1000, 0);
  return std::uint32_t(std::min<std::int64_t>(us, UINT32_MAX));
}

// log(1 + e^a) without overflow (a large) or loss of precision (a very negative).
double softplus(double a) {
  return a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a));
}

}  // namespace

PhiAccrual::PhiAccrual(const PhiAccrualParams& params) : params_(params) {
  params_.window = std::max<std::uint32_t>(params_.window, 2);
}

void PhiAccrual::reset() {
  heard_ = false;
  last_ = Time{};
  ring_.clear();
  next_ = 0;
  sum_us_ = 0;
  sum_sq_us_ = 0;
}

void PhiAccrual::record(Duration interval) {
  const std::uint32_t us = to_us(interval);
  if (ring_.size() < params_.window) {
    ring_.push_back(us);
  } else {
    const std::uint64_t old = ring_[next_];
    sum_us_ -= old;
    sum_sq_us_ -= (unsigned __int128)(old) * old;
    ring_[next_] = us;
    next_ = (next_ + 1) % ring_.size();
  }
  sum_us_ += us;
  sum_sq_us_ += (unsigned __int128)(us) * us;
}

void PhiAccrual::heartbeat(Time now) {
  if (!heard_) {
    // Akka's bootstrap: two samples around the first estimate, deviation a quarter of it.
    const Duration est = params_.first_heartbeat_estimate;
    record(est - est / 4);
    record(est + est / 4);
    heard_ = true;
    last_ = now;
    return;
  }
  GV_ASSERT(now >= last_);
  // The interval that ends an unavailable period is not learnt (Akka).
  if (available(now)) record(now - last_);
  last_ = now;
}

double PhiAccrual::mean_ms() const {
  if (ring_.empty()) return 0;
  return double(sum_us_) / double(ring_.size()) / 1000.0;
}

double PhiAccrual::std_deviation_ms() const {
  if (ring_.empty()) return 0;
  // n * sum(x^2) - sum(x)^2, exactly; variance = that / n^2.
  const auto n = (unsigned __int128)(ring_.size());
  const auto s = (unsigned __int128)(sum_us_);
  const unsigned __int128 num = n * sum_sq_us_ - s * s;
  const double var_us2 = double(num) / (double(ring_.size()) * double(ring_.size()));
  return std::sqrt(std::max(var_us2, 0.0)) / 1000.0;
}

double PhiAccrual::phi_of(double delta_ms, double mean_ms, double sd_ms) {
  const double y = (delta_ms - mean_ms) / sd_ms;
  const double a = y * (1.5976 + 0.070566 * y * y);
  return softplus(a) / kLn10;
}

double PhiAccrual::phi(Time now) const {
  if (!heard_) return 0.0;
  const double delta_ms = double((now - last_).ns()) / 1e6;
  const double mean = mean_ms() + double(params_.acceptable_pause.ns()) / 1e6;
  const double sd =
      std::max(std_deviation_ms(), double(params_.min_std_deviation.ns()) / 1e6);
  return phi_of(delta_ms, mean, std::max(sd, 1e-3));
}

}  // namespace grapevine::detail
