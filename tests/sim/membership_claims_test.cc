// The failure-detection claims of docs/experiments.md (F1-F13), as bands a correct
// implementation lands in: a test here fails when a claim stops holding. Seeds are fixed; each
// band is wide enough for the run counts used (see the doc for the full-size figures).
#include <gtest/gtest.h>

#include <cmath>

#include "sim/membership_experiment.h"
#include "sim/stats.h"

namespace grapevine::sim {
namespace {

MembershipExperiment steady(Detector d, std::uint32_t n) {
  MembershipExperiment e;
  e.config.detector = d;
  e.nodes = n;
  e.fail = 0;
  e.preloaded = true;
  e.fail_at = Duration::seconds(10);
  e.duration = Duration::seconds(40);
  return e;
}

// Regression: the automatic T_fail of gossip heartbeating was sized for a group without dead
// members (2 (log2 n + ln n) + 4 rounds). When half the group crashes at once, half of every
// member's gossip goes to the dead for a whole T_fail, a counter takes about twice as long to
// reach everyone, and the tail outlasted T_fail: live members were declared failed in 10-25% of
// runs at n = 10..100 (and, through T_cleanup, crashed ones came back).
TEST(GossipHeartbeat, HalfTheGroupCrashingCausesNoFalseFailures) {
  for (std::uint32_t n : {10u, 20u}) {
    for (std::uint64_t seed = 1; seed <= 25; ++seed) {
      MembershipExperiment e;
      e.config.detector = Detector::gossip_heartbeat;
      e.nodes = n;
      e.fail = n / 2;
      e.fail_at = Duration::seconds(20);
      e.duration = Duration::seconds(130);
      e.join_spread = Duration::seconds(2);
      e.seed = seed;
      auto r = run_membership(e, {});
      EXPECT_EQ(r.completeness, 1.0) << "n " << n << " seed " << seed;
      EXPECT_EQ(r.false_failures, 0u) << "n " << n << " seed " << seed;
      EXPECT_EQ(r.resurrections, 0u) << "n " << n << " seed " << seed;
    }
  }
}

}  // namespace
}  // namespace grapevine::sim
