// PhiAccrual against hand-computed values (Akka's model: phi = log10(1 + e^a),
// a = y (1.5976 + 0.070566 y^2), y = (delta - mean - pause) / max(sd, min sd)), its bootstrap,
// the window, the unavailable-interval rule, and Akka's own check that 1 - 10^-phi tracks the
// normal CDF within 0.001.
#include <gtest/gtest.h>

#include <cmath>

#include "core/membership/phi_accrual.h"

namespace grapevine::detail {
namespace {

Time at_ms(std::int64_t ms) { return Time::zero() + Duration::milliseconds(ms); }

PhiAccrualParams params(std::int64_t pause_ms, std::uint32_t window = 1000) {
  PhiAccrualParams p;
  p.threshold = 8;
  p.window = window;
  p.min_std_deviation = Duration::milliseconds(100);
  p.acceptable_pause = Duration::milliseconds(pause_ms);
  p.first_heartbeat_estimate = Duration::seconds(1);
  return p;
}

TEST(PhiAccrual, ZeroBeforeAnyHeartbeat) {
  PhiAccrual d(params(0));
  EXPECT_FALSE(d.heard());
  EXPECT_EQ(d.phi(at_ms(100000)), 0.0);
  EXPECT_TRUE(d.available(at_ms(100000)));
}

TEST(PhiAccrual, BootstrapIsTwoSamplesAroundTheFirstEstimate) {
  PhiAccrual d(params(0));
  d.heartbeat(at_ms(5000));
  EXPECT_EQ(d.samples(), 2u);  // 750 ms and 1250 ms
  EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0);
  EXPECT_DOUBLE_EQ(d.std_deviation_ms(), 250.0);
  // y = 0: phi = log10 2; y = 2: a = 3.761728, phi = 1.6428279; y = 4: 4.7366946.
  EXPECT_NEAR(d.phi(at_ms(6000)), 0.30102999566, 1e-9);
  EXPECT_NEAR(d.phi(at_ms(6500)), 1.64282788549, 1e-9);
  EXPECT_NEAR(d.phi(at_ms(7000)), 4.73669458271, 1e-9);
  EXPECT_NEAR(d.phi(at_ms(8000)), 21.2416002122, 1e-8);
  EXPECT_NEAR(d.phi(at_ms(5000)), 7.96331160884e-06, 1e-12);
  EXPECT_TRUE(d.available(at_ms(7000)));
  EXPECT_FALSE(d.available(at_ms(7600)));
}

TEST(PhiAccrual, AcceptablePauseShiftsTheMean) {
  PhiAccrual d(params(3000));
  d.heartbeat(at_ms(0));
  for (int i = 1; i <= 3; ++i) d.heartbeat(at_ms(1000 * i));  // three 1 s intervals
  EXPECT_EQ(d.samples(), 5u);
  EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0);
  // Samples 750, 1250, 1000, 1000, 1000: variance 25000, sd 158.114 ms.
  EXPECT_NEAR(d.std_deviation_ms(), 158.113883008, 1e-6);
  EXPECT_NEAR(d.phi(at_ms(3000 + 4000)), 0.30102999566, 1e-9);
  EXPECT_NEAR(d.phi(at_ms(3000 + 5000)), 12.1411592971, 1e-8);
  EXPECT_NEAR(d.phi(at_ms(3000 + 6000)), 70.8003201665, 1e-7);
}

TEST(PhiAccrual, MinimumDeviationFloorsARegularHistory) {
  PhiAccrual d(params(0, 2));  // window 2: the bootstrap is pushed out by two 1 s intervals
  d.heartbeat(at_ms(0));
  d.heartbeat(at_ms(1000));
  d.heartbeat(at_ms(2000));
  EXPECT_EQ(d.samples(), 2u);
  EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0);
  EXPECT_DOUBLE_EQ(d.std_deviation_ms(), 0.0);
  EXPECT_NEAR(d.phi(at_ms(3000)), 0.30102999566, 1e-9);  // sd floored at 100 ms
  EXPECT_NEAR(d.phi(at_ms(3100)), 0.79950832084, 1e-9);
  EXPECT_NEAR(d.phi(at_ms(3500)), 7.29994739446, 1e-8);
}

TEST(PhiAccrual, WindowSlidesAndForgetsOldIntervals) {
  PhiAccrual d(params(0, 4));
  d.heartbeat(at_ms(0));
  for (int i = 1; i <= 4; ++i) d.heartbeat(at_ms(2000 * i));
  EXPECT_EQ(d.samples(), 4u);
  EXPECT_DOUBLE_EQ(d.mean_ms(), 2000.0);  // only the four 2 s intervals remain
  for (int i = 1; i <= 4; ++i) d.heartbeat(at_ms(8000 + 500 * i));
  EXPECT_DOUBLE_EQ(d.mean_ms(), 500.0);
}

TEST(PhiAccrual, IntervalEndingAnUnavailablePeriodIsNotLearnt) {
  PhiAccrual d(params(0));
  d.heartbeat(at_ms(0));
  d.heartbeat(at_ms(1000));
  EXPECT_EQ(d.samples(), 3u);
  ASSERT_FALSE(d.available(at_ms(31000)));
  d.heartbeat(at_ms(31000));  // after a 30 s silence: heard again, interval not recorded
  EXPECT_EQ(d.samples(), 3u);
  EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0);
  EXPECT_EQ(d.last_heartbeat(), at_ms(31000));
  EXPECT_TRUE(d.available(at_ms(31500)));
}

TEST(PhiAccrual, ResetForgetsTheMember) {
  PhiAccrual d(params(0));
  d.heartbeat(at_ms(0));
  d.heartbeat(at_ms(700));
  d.reset();
  EXPECT_FALSE(d.heard());
  EXPECT_EQ(d.samples(), 0u);
  EXPECT_EQ(d.phi(at_ms(50000)), 0.0);
}

TEST(PhiAccrual, TracksTheNormalCdfAsAkkaChecks) {
  auto cdf = [](double phi) { return 1.0 - std::pow(10.0, -phi); };
  auto normal = [](double y) { return 0.5 * std::erfc(-y / std::sqrt(2.0)); };
  for (double y : {0.0, 0.6, 1.5, 2.0, 2.5, 3.5, 4.0}) {
    EXPECT_NEAR(cdf(PhiAccrual::phi_of(10.0 * y, 0.0, 10.0)), normal(y), 0.001) << y;
  }
  // Monotonic, finite far out in both tails (no overflow).
  double last = -1;
  for (double d = -200; d <= 400; d += 1) {
    const double p = PhiAccrual::phi_of(d, 0.0, 10.0);
    EXPECT_TRUE(std::isfinite(p));
    EXPECT_GE(p, last);
    last = p;
  }
}

TEST(PhiAccrual, LongIntervalsAreClampedNotWrapped) {
  PhiAccrualParams p = params(0);
  p.first_heartbeat_estimate = Duration::seconds(3 * 3600);  // bootstrap 2.25 h and 3.75 h
  PhiAccrual d(p);
  d.heartbeat(at_ms(0));
  // Both over 2^32 microseconds: clamped to ~71.6 minutes, not wrapped to small values.
  EXPECT_NEAR(d.mean_ms(), 4294967.295, 1e-6);
  EXPECT_DOUBLE_EQ(d.std_deviation_ms(), 0.0);
}

}  // namespace
}  // namespace grapevine::detail
