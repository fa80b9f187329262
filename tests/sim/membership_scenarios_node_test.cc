// The membership scenarios of membership_scenarios_test.cc (every failure detector must pass
// them), mirrored onto NodeCluster so they run on the full Node, in both dialects: a group
// joins through one introducer and every member lists all; one member crashes; half the group
// crashes at once; one crashes while 10% of packets are lost; two leave gracefully. The
// MembershipCluster versions stay (they also report the analyses' metrics). The memberlist
// dialect has no heartbeat frames, so it runs the SWIM detectors only. Seeds are fixed.
#include <gtest/gtest.h>

#include <string>

#include "tests/sim/node_rules.h"

namespace grapevine::sim {
namespace {

struct Scenario {
  Dialect dialect;
  Detector detector;
  std::uint32_t nodes;
};

class NodeScenarios : public ::testing::TestWithParam<Scenario> {
 protected:
  NodeClusterOptions base() const {
    NodeClusterOptions o;
    o.nodes = GetParam().nodes;
    o.config.membership = MembershipConfig::lan();
    o.config.membership.dialect = GetParam().dialect;
    o.config.membership.detector = GetParam().detector;
    o.config.multicast.period = Duration::milliseconds(200);
    o.network = NetworkConfig::uniform(LinkProfile{Duration::milliseconds(1),
                                                   Duration::milliseconds(5)});
    o.seed = 42;
    o.join_rate = double(o.nodes) / 2.0;  // every join started within 2 s
    o.seeds = 1;                          // one introducer
    return o;
  }
  // Joined, then 20 s of quiet, as the MembershipCluster scenarios.
  std::unique_ptr<NodeCluster> settled() const {
    auto c = std::make_unique<NodeCluster>(base());
    EXPECT_TRUE(c->wait_converged(Duration::seconds(20))) << "members never all listed each other";
    c->run_until(Time::zero() + Duration::seconds(20));
    return c;
  }
  static std::size_t failed_events_about(const NodeCluster& c, NodeIndex j) {
    std::size_t n = 0;
    for (NodeIndex k = 0; k < c.size(); ++k) n += rules::events_about(c, k, j, EventKind::failed);
    return n;
  }
};

TEST_P(NodeScenarios, JoinThroughOneIntroducerEveryoneListsEveryone) {
  NodeCluster c(base());
  ASSERT_TRUE(c.wait_converged(Duration::seconds(20)));
  EXPECT_LT(c.now(), Time::zero() + Duration::seconds(20));
  EXPECT_EQ(c.false_failures(), 0u);
}

TEST_P(NodeScenarios, OneCrashIsDetectedByEveryone) {
  auto c = settled();
  c->crash(3);
  EXPECT_TRUE(c->wait_all_see(3, MemberState::failed, Duration::seconds(90)));
  EXPECT_TRUE(c->wait_converged(Duration::seconds(10)));
  EXPECT_EQ(c->false_failures(), 0u);
}

TEST_P(NodeScenarios, HalfTheGroupCrashesAtOnce) {
  auto c = settled();
  const std::uint32_t n = c->size();
  for (NodeIndex i = n / 2; i < n; ++i) c->crash(i);
  for (NodeIndex i = n / 2; i < n; ++i) {
    EXPECT_TRUE(c->wait_all_see(i, MemberState::failed, Duration::seconds(90))) << i;
  }
  EXPECT_TRUE(c->wait_converged(Duration::seconds(10)));
  EXPECT_EQ(c->false_failures(), 0u);
}

TEST_P(NodeScenarios, OneCrashUnderTenPercentLoss) {
  auto c = settled();
  c->set_loss(0.10);
  c->crash(3);
  EXPECT_TRUE(c->wait_all_see(3, MemberState::failed, Duration::seconds(90)));
  // A live member may be declared failed under loss; it must refute and be listed again.
  EXPECT_TRUE(c->wait_converged(Duration::seconds(60)));
}

TEST_P(NodeScenarios, LeaveIsSeenAsLeftNotFailed) {
  auto c = settled();
  c->leave(2);
  c->leave(5);
  EXPECT_TRUE(c->wait_all_see(2, MemberState::left, Duration::seconds(20)));
  EXPECT_TRUE(c->wait_all_see(5, MemberState::left, Duration::seconds(20)));
  c->run_for(Duration::seconds(30));
  EXPECT_EQ(failed_events_about(*c, 2), 0u);
  EXPECT_EQ(failed_events_about(*c, 5), 0u);
  EXPECT_EQ(c->false_failures(), 0u);
}

std::string name(const ::testing::TestParamInfo<Scenario>& info) {
  std::string d = detector_name(info.param.detector);
  for (char& ch : d) ch = ch == '-' ? '_' : ch;
  return std::string(dialect_name(info.param.dialect)) + "_" + d + "_" +
         std::to_string(info.param.nodes);
}

INSTANTIATE_TEST_SUITE_P(
    Detectors, NodeScenarios,
    ::testing::Values(Scenario{Dialect::native, Detector::swim, 10},
                      Scenario{Dialect::native, Detector::lifeguard, 10},
                      Scenario{Dialect::native, Detector::gossip_heartbeat, 10},
                      Scenario{Dialect::native, Detector::all_to_all, 10},
                      Scenario{Dialect::memberlist, Detector::swim, 10},
                      Scenario{Dialect::memberlist, Detector::lifeguard, 10},
                      Scenario{Dialect::native, Detector::lifeguard, 50},
                      Scenario{Dialect::memberlist, Detector::lifeguard, 50}),
    name);

}  // namespace
}  // namespace grapevine::sim
