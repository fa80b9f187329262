// Replay of user events to joiners (JoinOptions::replay, serf's `join -replay`), native dialect:
// a seed's reply to a join carries its event clock and recent events (push-pull flag 8). A
// joiner with replay delivers the events sent before it joined, once each; one without never
// delivers them (serf's eventMinTime), though gossip may still carry copies past it. Events
// sent after the join reach both once. Membership machines in the simulator, fixed seed.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "grapevine/membership.h"
#include "sim/simulator.h"

namespace grapevine::sim {
namespace {

TEST(EventReplay, JoinersDeliverOldEventsIffReplay) {
  constexpr NodeIndex kMembers = 6;
  Simulator sim(NetworkConfig::uniform(LinkProfile{}), 11);
  std::map<std::pair<NodeIndex, std::string>, int> got;
  sim.set_observer([&](Time, NodeIndex i, const Event& e) {
    if (e.kind == EventKind::user_event) ++got[{i, std::string(e.user_name)}];
  });
  auto add = [&](NodeIndex i) {
    MembershipConfig c = MembershipConfig::lan();
    c.name = "n" + std::to_string(i);
    sim.add_node(make_membership(c, sim_address(i), 100 + i));
  };
  auto join = [&](NodeIndex i, bool replay) {
    sim.with_node(i, [&](Machine& m, Effects& fx) {
      Address seed = sim_address(0);
      ASSERT_TRUE(static_cast<Membership&>(m).join_with(sim.now(), std::span(&seed, 1),
                                                        JoinOptions{replay}, fx));
    });
  };
  auto send = [&](NodeIndex from, const std::string& name) {
    sim.with_node(from, [&](Machine& m, Effects& fx) {
      ASSERT_TRUE(static_cast<Membership&>(m).user_event(
          sim.now(), name, std::as_bytes(std::span(name.data(), name.size())), false, fx));
    });
  };
  for (NodeIndex i = 0; i < kMembers; ++i) {
    add(i);
    if (i > 0) join(i, false);
  }
  sim.run_for(Duration::seconds(5));
  for (int k = 0; k < 3; ++k) send(NodeIndex(1 + k), "old" + std::to_string(k));
  sim.run_for(Duration::seconds(30));  // long past the events' gossip retransmissions
  add(kMembers);      // joins without replay
  add(kMembers + 1);  // joins with replay
  join(kMembers, false);
  join(kMembers + 1, true);
  sim.run_for(Duration::seconds(5));
  send(2, "new");
  sim.run_for(Duration::seconds(10));
  for (int k = 0; k < 3; ++k) {
    const std::string name = "old" + std::to_string(k);
    EXPECT_EQ((got[{kMembers, name}]), 0) << name << " delivered without replay";
    EXPECT_EQ((got[{kMembers + 1, name}]), 1) << name << " not replayed once";
    for (NodeIndex i = 0; i < kMembers; ++i) EXPECT_EQ((got[{i, name}]), 1) << i << " " << name;
  }
  for (NodeIndex i = 0; i < kMembers + 2; ++i) EXPECT_EQ((got[{i, "new"}]), 1) << i;
}

}  // namespace
}  // namespace grapevine::sim
