// SWIM's TCP fallback probe (memberlist, protocol >= 3): under heavy datagram loss a live member
// answers over a stream and is not suspected; a crashed one is still detected; with streams as
// lossy as datagrams (the simulator's stream_loss) the fallback cannot help. Seeds are fixed.
#include <gtest/gtest.h>

#include "sim/membership_experiment.h"

namespace grapevine::sim {
namespace {

MembershipExperiment lossy(Detector d, bool fallback) {
  MembershipExperiment e;
  e.config.detector = d;
  e.config.tcp_fallback_ping = fallback;
  e.nodes = 32;
  e.loss = 0.3;
  e.fail = 0;
  e.fail_at = Duration::seconds(30);
  e.duration = Duration::seconds(60);
  e.seed = 3;
  return e;
}

class TcpFallback : public ::testing::TestWithParam<Detector> {};

TEST_P(TcpFallback, ThirtyPercentLossAccusesNobody) {
  auto r = run_membership(lossy(GetParam(), true), {});
  EXPECT_EQ(r.false_failures, 0u);
  EXPECT_EQ(r.suspicions, 0u);
  EXPECT_GT(r.stream_pings, 0u);
  EXPECT_GT(r.stream_ping_acks, 0u);
  EXPECT_LE(r.stream_ping_acks, r.stream_pings);
}

TEST_P(TcpFallback, WithoutItTheSameRunSuspectsLiveMembers) {
  auto r = run_membership(lossy(GetParam(), false), {});
  EXPECT_GT(r.suspicions, 0u);
  EXPECT_EQ(r.stream_pings, 0u);
}

TEST_P(TcpFallback, LossyStreamsGiveSomeSuspicionsBack) {
  // A stream ping and its ack each lost half the time: one fallback in four gets through.
  auto e = lossy(GetParam(), true);
  e.stream_loss = 0.5;
  auto r = run_membership(e, {});
  EXPECT_GT(r.stream_pings, 0u);
  EXPECT_LT(r.stream_ping_acks * 2, r.stream_pings);
  EXPECT_GT(r.suspicions, 0u);
}

TEST_P(TcpFallback, CrashUnderThirtyPercentLossIsStillDetected) {
  auto e = lossy(GetParam(), true);
  e.fail = 1;
  auto r = run_membership(e, {});
  EXPECT_EQ(r.completeness, 1.0);
  EXPECT_EQ(r.crashes_detected_by_all, 1u);
  EXPECT_EQ(r.false_failures, 0u);
  // The probe period (1 s) + suspicion (Lifeguard: up to 6x the minimum) bound it.
  EXPECT_LT(r.detection_all_seconds_p99, 30.0);
}

INSTANTIATE_TEST_SUITE_P(Detectors, TcpFallback,
                         ::testing::Values(Detector::swim, Detector::lifeguard),
                         [](const auto& info) { return std::string(detector_name(info.param)); });

// A member whose datagrams are all dropped (a UDP-blackholing firewall) but whose streams pass
// is kept alive by every prober: memberlist's "able to connect over TCP but UDP probes failed".
TEST(TcpFallbackCluster, MemberWithDatagramsBlackholedStaysAlive) {
  MembershipClusterOptions o;
  o.nodes = 8;
  o.config.detector = Detector::lifeguard;
  o.seed = 5;
  MembershipCluster c(o);
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  c.set_drop(3, 1.0);
  c.run_for(Duration::seconds(60));
  EXPECT_TRUE(c.all_see(3, MemberState::alive));
  EXPECT_EQ(c.false_failures(), 0u);
  EXPECT_GT(c.node(0).stats().stream_pings, 0u);
  EXPECT_GT(c.node(0).stats().stream_ping_acks, 0u);
  // Without the fallback it is failed.
  o.config.tcp_fallback_ping = false;
  MembershipCluster d(o);
  ASSERT_TRUE(d.wait_converged(Duration::seconds(30)));
  d.set_drop(3, 1.0);
  d.run_for(Duration::seconds(60));
  EXPECT_GT(d.false_failures(), 0u);
}

}  // namespace
}  // namespace grapevine::sim
