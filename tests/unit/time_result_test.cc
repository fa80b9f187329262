// Time, Duration and Result: the vocabulary types every other module is written in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "grapevine/result.h"
#include "grapevine/time.h"

namespace grapevine {
namespace {

TEST(Duration, UnitConstructors) {
  EXPECT_EQ(Duration::nanoseconds(5).ns(), 5);
  EXPECT_EQ(Duration::microseconds(5).ns(), 5000);
  EXPECT_EQ(Duration::milliseconds(5).ns(), 5000000);
  EXPECT_EQ(Duration::seconds(5).ns(), 5000000000);
  EXPECT_EQ(Duration::seconds(3).ms(), 3000);
  EXPECT_EQ(Duration::zero().ns(), 0);
  EXPECT_EQ(Duration().ns(), 0);
  EXPECT_EQ(Duration::max().ns(), INT64_MAX);
  // Large values must not overflow 32-bit intermediates.
  EXPECT_EQ(Duration::seconds(100000).ns(), 100000LL * 1000000000LL);
  EXPECT_DOUBLE_EQ(Duration::milliseconds(1500).to_seconds(), 1.5);
  EXPECT_EQ(Duration::nanoseconds(-2500000).ms(), -2);  // truncates toward zero
}

TEST(Duration, Arithmetic) {
  const Duration a = Duration::milliseconds(300);
  const Duration b = Duration::milliseconds(200);
  EXPECT_EQ((a + b).ns(), Duration::milliseconds(500).ns());
  EXPECT_EQ((a - b).ns(), Duration::milliseconds(100).ns());
  EXPECT_EQ((b - a).ns(), -Duration::milliseconds(100).ns());
  EXPECT_EQ((a * 3).ns(), Duration::milliseconds(900).ns());
  EXPECT_EQ((a / 3).ns(), Duration::milliseconds(100).ns());
  EXPECT_EQ(a / b, 1);
  EXPECT_EQ(Duration::seconds(1) / Duration::milliseconds(10), 100);
  Duration c = a;
  c += b;
  EXPECT_EQ(c, Duration::milliseconds(500));
  c -= a;
  EXPECT_EQ(c, b);
}

TEST(Duration, Ordering) {
  EXPECT_LT(Duration::milliseconds(1), Duration::milliseconds(2));
  EXPECT_GT(Duration::seconds(1), Duration::milliseconds(999));
  EXPECT_EQ(Duration::milliseconds(1000), Duration::seconds(1));
  EXPECT_NE(Duration::milliseconds(1), Duration::microseconds(1));
  EXPECT_LT(Duration::nanoseconds(-1), Duration::zero());
  EXPECT_LT(Duration::seconds(1000000), Duration::max());
}

TEST(Time, Arithmetic) {
  const Time t0 = Time::zero();
  const Time t1 = t0 + Duration::seconds(2);
  EXPECT_EQ(t1.ns(), 2000000000);
  EXPECT_EQ((t1 - Duration::milliseconds(500)).ns(), 1500000000);
  EXPECT_EQ(t1 - t0, Duration::seconds(2));
  EXPECT_EQ(t0 - t1, Duration::seconds(-2));
  Time t = t0;
  t += Duration::milliseconds(7);
  EXPECT_EQ(t, Time::from_ns(7000000));
  EXPECT_DOUBLE_EQ(t1.to_seconds(), 2.0);
  EXPECT_EQ(Time().ns(), 0);
}

TEST(Time, OrderingAndMax) {
  EXPECT_LT(Time::zero(), Time::from_ns(1));
  EXPECT_LT(Time::from_ns(1) + Duration::seconds(1000000), Time::max());
  EXPECT_EQ(Time::max().ns(), INT64_MAX);
  EXPECT_EQ(std::min(Time::max(), Time::from_ns(3)), Time::from_ns(3));
}

TEST(Result, HoldsValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  *r = 7;
  EXPECT_EQ(r.value(), 7);
}

TEST(Result, HoldsError) {
  Result<int> r = make_error(Errc::truncated, "short read");
  ASSERT_FALSE(r.has_value());
  EXPECT_FALSE(static_cast<bool>(r));
  EXPECT_EQ(r.error().code, Errc::truncated);
  EXPECT_STREQ(r.error().detail, "short read");
}

TEST(Result, ArrowAndMoveOnlyValues) {
  struct Point {
    int x, y;
  };
  Result<Point> p = Point{1, 2};
  EXPECT_EQ(p->x, 1);
  p->y = 5;
  EXPECT_EQ(p.value().y, 5);

  Result<std::unique_ptr<int>> u = std::make_unique<int>(9);
  std::unique_ptr<int> taken = std::move(u).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 9);

  Result<std::string> s = std::string("hello");
  EXPECT_EQ(s->size(), 5u);
}

TEST(Result, Void) {
  Result<void> ok;
  EXPECT_TRUE(ok.has_value());
  EXPECT_TRUE(static_cast<bool>(ok));
  Result<void> bad = make_error(Errc::invalid_argument, "fanout must be >= 1");
  EXPECT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, Errc::invalid_argument);
  EXPECT_STREQ(bad.error().detail, "fanout must be >= 1");
}

TEST(Result, ErrcNames) {
  EXPECT_STREQ(errc_name(Errc::truncated), "truncated");
  EXPECT_STREQ(errc_name(Errc::malformed), "malformed");
  EXPECT_STREQ(errc_name(Errc::too_large), "too_large");
  EXPECT_STREQ(errc_name(Errc::unsupported_version), "unsupported_version");
  EXPECT_STREQ(errc_name(Errc::rejected), "rejected");
  EXPECT_STREQ(errc_name(Errc(999)), "unknown");
}

}  // namespace
}  // namespace grapevine
