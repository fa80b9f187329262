// User events with serf's semantics in the native dialect (Membership::user_event): every live
// member delivers each event exactly once, under 1% loss and duplication, the sender included;
// Lamport times order a member's own events. Membership machines in the simulator, fixed seeds.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "grapevine/membership.h"
#include "sim/simulator.h"

namespace grapevine::sim {
namespace {

TEST(UserEvents, EveryMemberDeliversEachEventOnceUnderLoss) {
  constexpr std::uint32_t kNodes = 50;
  constexpr int kEvents = 40;
  LinkProfile lossy;
  lossy.latency_min = Duration::milliseconds(1);
  lossy.latency_max = Duration::milliseconds(5);
  lossy.loss = 0.01;
  lossy.duplicate = 0.01;
  Simulator sim(NetworkConfig::uniform(LinkProfile{}), 5);
  // (node, event name) -> deliveries; event name -> Lamport time at each node
  std::map<std::pair<NodeIndex, std::string>, int> got;
  std::map<std::string, std::uint64_t> ltime;
  bool ltimes_agree = true;
  sim.set_observer([&](Time, NodeIndex i, const Event& e) {
    if (e.kind != EventKind::user_event) return;
    const std::string name(e.user_name);
    ++got[{i, name}];
    auto [it, fresh] = ltime.emplace(name, e.ltime);
    if (!fresh && it->second != e.ltime) ltimes_agree = false;
  });
  for (NodeIndex i = 0; i < kNodes; ++i) {
    MembershipConfig c = MembershipConfig::lan();
    c.name = "n" + std::to_string(i);
    sim.add_node(make_membership(c, sim_address(i), 100 + i));
    if (i == 0) continue;
    sim.with_node(i, [&](Machine& m, Effects& fx) {
      Address seed = sim_address(0);
      ASSERT_TRUE(static_cast<Membership&>(m).join(sim.now(), std::span(&seed, 1), fx));
    });
  }
  sim.run_for(Duration::seconds(20));
  sim.set_network(NetworkConfig::uniform(lossy));
  std::uint64_t last_ltime_of_7 = 0;
  for (int k = 0; k < kEvents; ++k) {
    const NodeIndex from = NodeIndex((k * 7) % kNodes);
    sim.with_node(from, [&](Machine& m, Effects& fx) {
      const std::string name = "ev" + std::to_string(k);
      const std::string payload = "payload of " + name;
      auto r = static_cast<Membership&>(m).user_event(
          sim.now(), name, std::as_bytes(std::span(payload.data(), payload.size())), k % 2 == 0,
          fx);
      ASSERT_TRUE(r.has_value());
      if (from == 7) {
        EXPECT_GT(*r, last_ltime_of_7);  // one sender's events are Lamport-ordered
        last_ltime_of_7 = *r;
      }
    });
    sim.run_for(Duration::milliseconds(250));
  }
  sim.run_for(Duration::seconds(10));
  std::uint64_t duplicates = 0;
  for (NodeIndex i = 0; i < kNodes; ++i) {
    for (int k = 0; k < kEvents; ++k) {
      const std::string name = "ev" + std::to_string(k);
      EXPECT_EQ((got[{i, name}]), 1) << "node " << i << " event " << name;
    }
    duplicates += static_cast<Membership&>(sim.machine(i)).stats().user_event_duplicates;
  }
  EXPECT_TRUE(ltimes_agree);
  EXPECT_GT(duplicates, 0u);  // copies did arrive twice and were dropped
}

TEST(UserEvents, LimitsAndDialect) {
  Simulator sim(NetworkConfig{}, 1);
  MembershipConfig c = MembershipConfig::lan();
  c.name = "a";
  sim.add_node(make_membership(c, sim_address(0), 1));
  c.dialect = Dialect::memberlist;
  c.name = "b";
  sim.add_node(make_membership(c, sim_address(1), 2));
  sim.with_node(0, [&](Machine& m, Effects& fx) {
    auto& mb = static_cast<Membership&>(m);
    const std::string big(512, 'x');
    auto span = std::as_bytes(std::span(big.data(), big.size()));
    EXPECT_EQ(mb.user_event(sim.now(), "n", span, true, fx).error().code, Errc::too_large);
    EXPECT_EQ(mb.user_event(sim.now(), "", {}, true, fx).error().code, Errc::invalid_argument);
    EXPECT_TRUE(mb.user_event(sim.now(), "n", span.first(511), true, fx).has_value());
  });
  sim.with_node(1, [&](Machine& m, Effects& fx) {
    EXPECT_EQ(static_cast<Membership&>(m).user_event(sim.now(), "n", {}, true, fx).error().code,
              Errc::invalid_argument);
  });
}

}  // namespace
}  // namespace grapevine::sim
