// Gossip target choice (core/targets.h). The gossip analyses assume targets uniform over the
// other members, and the topology-aware rule promises that a node in a subnet of n_i members
// crosses its router with probability 1/n_i. Both are measured here over many draws, with
// tolerance bands several standard deviations wide so the tests are deterministic in practice
// (fixed seeds) and still fail on a real bias.
#include "core/targets.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "grapevine/group.h"
#include "sim/sim_group.h"

namespace grapevine::detail {
namespace {

// Chi-square statistic of observed counts against a uniform expectation.
double chi_square(const std::vector<double>& counts) {
  double total = 0;
  for (double c : counts) total += c;
  const double expected = total / double(counts.size());
  double chi2 = 0;
  for (double c : counts) chi2 += (c - expected) * (c - expected) / expected;
  return chi2;
}

TEST(Targets, NeverSelfAlwaysDistinct) {
  sim::SimGroup group(50, 1);
  Rng rng(1);
  std::array<std::uint32_t, 8> out;
  for (std::uint32_t self : {0u, 1u, 25u, 49u}) {
    for (int draw = 0; draw < 2000; ++draw) {
      std::uint32_t n = pick_targets(group, self, false, rng, out);
      ASSERT_EQ(n, out.size());
      for (std::uint32_t i = 0; i < n; ++i) {
        ASSERT_NE(out[i], self);
        ASSERT_LT(out[i], group.size());
        for (std::uint32_t j = 0; j < i; ++j) ASSERT_NE(out[i], out[j]);
      }
    }
  }
}

TEST(Targets, SmallGroups) {
  Rng rng(2);
  std::array<std::uint32_t, 5> out;
  sim::SimGroup one(1, 1);
  EXPECT_EQ(pick_targets(one, 0, false, rng, out), 0u);  // nobody else
  sim::SimGroup two(2, 1);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(pick_targets(two, 0, false, rng, out), 1u);
    EXPECT_EQ(out[0], 1u);
    EXPECT_EQ(pick_one(two, 1, false, rng), 0u);
  }
  // Asking for more targets than there are other members returns all of them.
  sim::SimGroup four(4, 1);
  ASSERT_EQ(pick_targets(four, 2, false, rng, out), 3u);
  std::vector<std::uint32_t> got(out.begin(), out.begin() + 3);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::uint32_t>{0, 1, 3}));
  EXPECT_EQ(pick_targets(four, 2, false, rng, std::span<std::uint32_t>{}), 0u);
}

TEST(Targets, UniformOverOthers) {
  // n = 20, 190k single draws: ~10k per other member. Chi-square with 18 degrees of freedom
  // exceeds 60 with probability ~1e-6; a 5% bias on one member alone gives ~25, on several more.
  sim::SimGroup group(20, 1);
  Rng rng(3);
  const std::uint32_t self = 7;
  std::vector<double> counts(20, 0);
  std::array<std::uint32_t, 1> out;
  for (int i = 0; i < 190000; ++i) {
    ASSERT_EQ(pick_targets(group, self, false, rng, out), 1u);
    ++counts[out[0]];
  }
  EXPECT_EQ(counts[self], 0);
  counts.erase(counts.begin() + self);
  EXPECT_LT(chi_square(counts), 60.0);
  for (double c : counts) EXPECT_NEAR(c, 10000, 600);
}

TEST(Targets, UniformWithFanout) {
  // With b = 3 distinct targets each other member is chosen in 3/19 of the draws.
  sim::SimGroup group(20, 1);
  Rng rng(4);
  std::vector<double> counts(20, 0);
  std::array<std::uint32_t, 3> out;
  for (int i = 0; i < 60000; ++i) {
    ASSERT_EQ(pick_targets(group, 0, false, rng, out), 3u);
    for (auto t : out) ++counts[t];
  }
  EXPECT_EQ(counts[0], 0);
  counts.erase(counts.begin());
  EXPECT_LT(chi_square(counts), 60.0);
}

TEST(Targets, StaticGroupToo) {
  std::vector<Address> addrs;
  for (int i = 0; i < 10; ++i) addrs.push_back(Address::ipv4(192, 168, 0, std::uint8_t(i), 1));
  StaticGroup group(addrs);
  Rng rng(5);
  std::vector<double> counts(10, 0);
  for (int i = 0; i < 90000; ++i) ++counts[pick_one(group, 9, false, rng)];
  EXPECT_EQ(counts[9], 0);
  counts.pop_back();
  EXPECT_LT(chi_square(counts), 50.0);
}

TEST(Targets, SameSeedSameTargets) {
  sim::SimGroup group(1000, 10);
  Rng a(77), b(77);
  std::array<std::uint32_t, 4> out_a, out_b;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(pick_targets(group, 123, true, a, out_a), pick_targets(group, 123, true, b, out_b));
    ASSERT_EQ(out_a, out_b);
  }
}

struct CrossStats {
  double crossed_fraction;
  std::vector<double> inside;   // counts per index inside the own subnet (self excluded)
  std::vector<double> outside;  // counts per other subnet
};

CrossStats measure(const Group& group, std::uint32_t self, int draws, std::uint64_t seed) {
  Rng rng(seed);
  const std::uint32_t s = group.subnet_of(self);
  const std::uint32_t begin = group.subnet_begin(s), end = group.subnet_end(s);
  CrossStats st{0, std::vector<double>(end - begin, 0),
                std::vector<double>(group.subnet_count(), 0)};
  int crossed = 0;
  for (int i = 0; i < draws; ++i) {
    std::uint32_t t = pick_one(group, self, true, rng);
    EXPECT_NE(t, self);
    if (t >= begin && t < end) {
      ++st.inside[t - begin];
    } else {
      ++crossed;
      ++st.outside[group.subnet_of(t)];
    }
  }
  st.crossed_fraction = double(crossed) / draws;
  st.inside.erase(st.inside.begin() + (self - begin));
  st.outside.erase(st.outside.begin() + s);
  return st;
}

TEST(Targets, TopologyAwareCrossesWithProbabilityOneOverSubnetSize) {
  // 1000 nodes in 10 subnets of 100: cross with p = 1/100. 200k draws: 2000 expected, sd ~45.
  sim::SimGroup group(1000, 10);
  CrossStats st = measure(group, 345, 200000, 6);
  EXPECT_NEAR(st.crossed_fraction, 0.01, 0.001);
  // Inside picks are uniform over the 99 subnet peers (~2000 each), outside picks spread
  // evenly over the 9 other subnets (~222 each).
  EXPECT_LT(chi_square(st.inside), 160.0);  // 98 dof: mean 98, sd 14
  EXPECT_LT(chi_square(st.outside), 30.0);  // 8 dof
}

TEST(Targets, TopologyAwareSmallSubnets) {
  // 40 nodes in 10 subnets of 4: cross with p = 1/4.
  sim::SimGroup group(40, 10);
  CrossStats st = measure(group, 17, 100000, 7);
  EXPECT_NEAR(st.crossed_fraction, 0.25, 0.01);  // sd ~0.0014
  EXPECT_LT(chi_square(st.outside), 30.0);
}

TEST(Targets, TopologyAwareUnequalSubnets) {
  // Subnets of 2, 5 and 13 members: each crosses with 1 / its own size.
  std::vector<Address> addrs;
  for (int i = 0; i < 20; ++i) addrs.push_back(Address::ipv4(10, 1, 0, std::uint8_t(i), 1));
  StaticGroup group(addrs, {2, 5, 13});
  EXPECT_NEAR(measure(group, 1, 100000, 8).crossed_fraction, 1.0 / 2, 0.01);
  EXPECT_NEAR(measure(group, 4, 100000, 9).crossed_fraction, 1.0 / 5, 0.01);
  EXPECT_NEAR(measure(group, 19, 100000, 10).crossed_fraction, 1.0 / 13, 0.005);
}

TEST(Targets, TopologyAwareLoneMemberAlwaysCrosses) {
  std::vector<Address> addrs;
  for (int i = 0; i < 6; ++i) addrs.push_back(Address::ipv4(10, 2, 0, std::uint8_t(i), 1));
  StaticGroup group(addrs, {1, 5});
  CrossStats st = measure(group, 0, 10000, 11);
  EXPECT_EQ(st.crossed_fraction, 1.0);
}

TEST(Targets, TopologyAwareOneSubnetIsUniform) {
  sim::SimGroup group(20, 1);
  Rng rng(12);
  std::vector<double> counts(20, 0);
  for (int i = 0; i < 95000; ++i) ++counts[pick_one(group, 0, true, rng)];
  EXPECT_EQ(counts[0], 0);
  counts.erase(counts.begin());
  EXPECT_LT(chi_square(counts), 60.0);
}

TEST(Targets, TopologyAwareWholeGroupInOneSubnetStaysInside) {
  // Every subnet but self's own is empty of others: there is nowhere to cross to.
  std::vector<Address> addrs;
  for (int i = 0; i < 5; ++i) addrs.push_back(Address::ipv4(10, 3, 0, std::uint8_t(i), 1));
  StaticGroup group(addrs, {5, 0});
  CrossStats st = measure(group, 2, 10000, 13);
  EXPECT_EQ(st.crossed_fraction, 0.0);
}

TEST(Targets, TopologyAwareFanoutStaysDistinct) {
  sim::SimGroup group(60, 30);  // subnets of 2: at most one peer inside
  Rng rng(14);
  std::array<std::uint32_t, 5> out;
  for (int draw = 0; draw < 2000; ++draw) {
    std::uint32_t n = pick_targets(group, 10, true, rng, out);
    ASSERT_GE(n, 1u);
    ASSERT_LE(n, 5u);
    for (std::uint32_t i = 0; i < n; ++i) {
      ASSERT_NE(out[i], 10u);
      for (std::uint32_t j = 0; j < i; ++j) ASSERT_NE(out[i], out[j]);
    }
  }
}

}  // namespace
}  // namespace grapevine::detail
