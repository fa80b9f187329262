// The detector scenarios at 1,000 members (release build only: label "slow").
#include <gtest/gtest.h>

#include "sim/membership_experiment.h"

namespace grapevine::sim {
namespace {

class ThousandMembers : public ::testing::TestWithParam<Detector> {};

// Gossip heartbeating at n = 1000 declares a member failed 4 (log2 n + ln n) + 4 = 71.5 rounds
// after its last counter reached a member (heartbeat.cc), and the last counter takes another
// ~15 rounds to reach everyone.
Duration duration_for(Detector d) {
  return d == Detector::gossip_heartbeat ? Duration::seconds(150) : Duration::seconds(110);
}

TEST_P(ThousandMembers, CrashesAreDetectedCompletelyAndAccurately) {
  MembershipExperiment e;
  e.config.detector = GetParam();
  e.nodes = 1000;
  e.fail = 10;
  e.leave = 5;
  e.fail_at = Duration::seconds(30);
  e.duration = duration_for(GetParam());
  e.join_spread = Duration::seconds(5);
  e.seed = 7;
  auto r = run_membership(e, {});
  EXPECT_GE(r.join_convergence_seconds, 0.0);
  EXPECT_EQ(r.completeness, 1.0);
  EXPECT_EQ(r.accuracy, 1.0);
  EXPECT_EQ(r.leaves_seen_as_left, 1.0);
}

TEST_P(ThousandMembers, OneCrashUnderTenPercentLoss) {
  MembershipExperiment e;
  e.config.detector = GetParam();
  e.nodes = 1000;
  e.fail = 1;
  e.loss = 0.10;
  e.fail_at = Duration::seconds(30);
  e.duration = duration_for(GetParam());
  e.seed = 8;
  auto r = run_membership(e, {});
  EXPECT_EQ(r.completeness, 1.0);
  if (GetParam() == Detector::swim) {
    // Plain SWIM under 10% loss has a few false failures (3 for this seed), and one can outlive
    // the run: an observer that missed the member's refutation declares it dead at the old
    // incarnation, which the member and everyone else ignore as stale (memberlist's deadNode
    // does the same), so only push-pull (every 180 s at n = 1000) heals that one view.
    EXPECT_LE(r.false_failures, 6u);
    EXPECT_LE(r.unhealed_false_failures, 2u);
  } else {
    EXPECT_EQ(r.unhealed_false_failures, 0u);
  }
}

// all-to-all at 1,000 members is a million heartbeats per simulated second: covered at 100.
INSTANTIATE_TEST_SUITE_P(Detectors, ThousandMembers,
                         ::testing::Values(Detector::swim, Detector::lifeguard,
                                           Detector::gossip_heartbeat));

}  // namespace
}  // namespace grapevine::sim
