// The serf dialect (memberlist + Serf's layer, MemberlistOptions::serf) in the simulator:
// membership machines only, fixed seeds. Every member delivers each user event once under 1%
// loss and duplication; a query reaches every member, whose acks and responses all come back
// to the sender within its timeout (relayed through 2 members, as serf's -relay-factor, so a
// lost datagram costs nothing); a leave is `left` everywhere.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "grapevine/membership.h"
#include "sim/simulator.h"

namespace grapevine::sim {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(SerfDialect, EventsQueriesAndLeaveInAGroupOf20) {
  constexpr std::uint32_t kNodes = 20;
  LinkProfile lossy;
  lossy.latency_min = Duration::milliseconds(1);
  lossy.latency_max = Duration::milliseconds(5);
  lossy.loss = 0.01;
  lossy.duplicate = 0.01;
  Simulator sim(NetworkConfig::uniform(LinkProfile{}), 11);
  std::map<std::pair<NodeIndex, std::string>, int> got;
  sim.set_observer([&](Time, NodeIndex i, const Event& e) {
    if (e.kind == EventKind::user_event) ++got[{i, std::string(e.user_name)}];
  });
  for (NodeIndex i = 0; i < kNodes; ++i) {
    MembershipConfig c = MembershipConfig::lan();
    c.name = "n" + std::to_string(i);
    use_serf_dialect(c);
    c.memberlist.serf_responses = {{"greet", "hello from " + c.name}};
    sim.add_node(make_membership(c, sim_address(i), 200 + i));
    if (i == 0) continue;
    sim.with_node(i, [&](Machine& m, Effects& fx) {
      Address seed = sim_address(0);
      ASSERT_TRUE(static_cast<Membership&>(m).join(sim.now(), std::span(&seed, 1), fx));
    });
  }
  sim.run_for(Duration::seconds(15));
  sim.set_network(NetworkConfig::uniform(lossy));
  for (int k = 0; k < 10; ++k) {
    sim.with_node(NodeIndex((k * 3) % kNodes), [&](Machine& m, Effects& fx) {
      const std::string name = "ev" + std::to_string(k);
      ASSERT_TRUE(static_cast<Membership&>(m).user_event(sim.now(), name, bytes_of(name), false,
                                                         fx));
    });
    sim.run_for(Duration::milliseconds(300));
  }
  sim.run_for(Duration::seconds(5));
  for (NodeIndex i = 0; i < kNodes; ++i) {
    for (int k = 0; k < 10; ++k) {
      EXPECT_EQ((got[{i, "ev" + std::to_string(k)}]), 1) << "node " << i << " event " << k;
    }
  }
  std::uint64_t ltime = 0;
  sim.with_node(4, [&](Machine& m, Effects& fx) {
    SerfQueryOptions o;
    o.timeout = Duration::seconds(2);
    o.relay_factor = 2;  // under loss: each answer also through 2 other members
    auto r = static_cast<Membership&>(m).serf_query(sim.now(), "greet", {}, o, fx);
    ASSERT_TRUE(r.has_value());
    ltime = *r;
  });
  sim.run_for(Duration::seconds(3));
  SerfQueryResult r;
  ASSERT_TRUE(static_cast<Membership&>(sim.machine(4)).serf_query_result(ltime, r));
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.acks.size(), kNodes);
  EXPECT_EQ(r.responses.size(), kNodes);
  sim.with_node(7, [&](Machine& m, Effects& fx) { static_cast<Membership&>(m).leave(sim.now(), fx); });
  sim.run_for(Duration::seconds(5));
  for (NodeIndex i = 0; i < kNodes; ++i) {
    if (i == 7) continue;
    for (const MemberInfo& mi : static_cast<Membership&>(sim.machine(i)).members()) {
      if (mi.name == "n7") EXPECT_EQ(mi.state, MemberState::left) << "at node " << i;
    }
  }
}

}  // namespace
}  // namespace grapevine::sim
