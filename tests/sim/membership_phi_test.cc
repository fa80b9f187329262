// The phi-accrual detector (Detector::phi: gossip-style heartbeating judged by phi_accrual.h):
// it detects a crash everywhere, faster than gossip-style's fixed T_fail; it fails no live
// member under 10% loss; a group joins; and with denser gossip (fanout 3) Akka's own 3 s pause
// is enough. Seeds are fixed: a failure here is a regression, and its seed the reproduction.
#include <gtest/gtest.h>

#include "sim/membership_experiment.h"

namespace grapevine::sim {
namespace {

MembershipExperiment phi_run(std::uint32_t n, std::uint32_t fail, double loss, std::uint64_t seed) {
  MembershipExperiment e;
  e.config.detector = Detector::phi;
  e.nodes = n;
  e.fail = fail;
  e.loss = loss;
  e.fail_at = Duration::seconds(30);
  e.duration = Duration::seconds(90);
  e.join_spread = Duration::seconds(2);
  e.seed = seed;
  return e;
}

TEST(PhiDetector, GroupJoinsAndEveryoneListsEveryone) {
  auto e = phi_run(32, 0, 0.0, 1);
  e.duration = Duration::seconds(31);
  auto r = run_membership(e, {});
  EXPECT_GE(r.join_convergence_seconds, 0.0);
  EXPECT_LT(r.join_convergence_seconds, 15.0);
  EXPECT_EQ(r.false_failures, 0u);
}

TEST(PhiDetector, CrashIsDetectedByAllFasterThanGossipHeartbeat) {
  auto e = phi_run(32, 2, 0.0, 2);
  auto phi = run_membership(e, {});
  EXPECT_EQ(phi.completeness, 1.0);
  EXPECT_EQ(phi.crashes_detected_by_all, 2u);
  EXPECT_EQ(phi.false_failures, 0u);
  e.config.detector = Detector::gossip_heartbeat;
  auto hb = run_membership(e, {});
  ASSERT_EQ(hb.completeness, 1.0);
  EXPECT_LT(phi.detection_first_seconds_p50, hb.detection_first_seconds_p50);
  EXPECT_LT(phi.detection_all_seconds_p50, hb.detection_all_seconds_p50);
}

TEST(PhiDetector, NoFalseFailuresUnderTenPercentLossAtThirtyTwo) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    auto e = phi_run(32, 1, 0.10, seed);
    e.duration = Duration::seconds(150);
    auto r = run_membership(e, {});
    EXPECT_EQ(r.false_failures, 0u) << "seed " << seed;
    EXPECT_EQ(r.completeness, 1.0) << "seed " << seed;
    EXPECT_EQ(r.crashes_detected_by_all, 1u) << "seed " << seed;
  }
}

TEST(PhiDetector, DenserGossipWorksWithAkkasPause) {
  auto e = phi_run(32, 1, 0.10, 5);
  e.config.heartbeat_fanout = 3;
  e.config.phi_acceptable_pause = Duration::seconds(3);
  auto r = run_membership(e, {});
  EXPECT_EQ(r.false_failures, 0u);
  EXPECT_EQ(r.completeness, 1.0);
  EXPECT_LT(r.detection_all_seconds_p50, 20.0);
}

TEST(PhiDetector, AThresholdTooLowAccusesLiveMembers) {
  // The knob does what it says: Akka's defaults (pause 3 s, 100 ms floor, 1 s estimate) on
  // gossiped counters with fanout 1 mistake gossip's irregular arrivals for silence.
  auto e = phi_run(32, 0, 0.10, 6);
  e.config.phi_acceptable_pause = Duration::seconds(3);
  e.config.phi_min_std_deviation = Duration::milliseconds(100);
  e.config.phi_first_heartbeat_estimate = Duration::seconds(1);
  auto r = run_membership(e, {});
  EXPECT_GT(r.false_failures, 0u);
}

}  // namespace
}  // namespace grapevine::sim
