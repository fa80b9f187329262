// Identity across restarts (membership_node.h): a member restarted under the same name replaces
// its old entry, at the same address or a new one, before or after the old one was detected as
// failed; two live processes with one name are reported as a conflict, once, and the lists stay
// bounded and stable. Membership machines hosted directly in the simulator, fixed seeds.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "grapevine/membership.h"
#include "sim/simulator.h"

namespace grapevine::sim {
namespace {

struct Seen {
  Time at;
  NodeIndex node;
  EventKind kind;
  std::string name;
  Address address;
};

class Group {
 public:
  explicit Group(Dialect dialect, std::uint64_t seed = 11)
      : sim_(NetworkConfig{}, seed), dialect_(dialect) {
    sim_.set_observer([this](Time t, NodeIndex i, const Event& e) {
      seen_.push_back({t, i, e.kind, std::string(e.subject_name), e.subject});
    });
  }
  std::unique_ptr<Membership> machine(const std::string& name, const Address& at) {
    MembershipConfig c = MembershipConfig::lan();
    c.dialect = dialect_;
    c.name = name;
    return make_membership(c, at, 1000 + seq_++);
  }
  // Adds a member named `name` at the next simulator address and joins it through node 0.
  NodeIndex add(const std::string& name) {
    const NodeIndex i = sim_.add_node(machine(name, sim_address(NodeIndex(sim_.size()))));
    join(i);
    return i;
  }
  void join(NodeIndex i) {
    if (i == 0) return;
    sim_.with_node(i, [&](Machine& m, Effects& fx) {
      Address seed = sim_.address(0);
      ASSERT_TRUE(static_cast<Membership&>(m).join(sim_.now(), std::span(&seed, 1), fx));
    });
  }
  void restart(NodeIndex i, const std::string& name) {
    sim_.restart(i, machine(name, sim_.address(i)));
    join(i);
  }
  Membership& node(NodeIndex i) { return static_cast<Membership&>(sim_.machine(i)); }
  std::vector<MemberInfo> named(NodeIndex observer, const std::string& name) {
    std::vector<MemberInfo> out;
    for (auto& m : node(observer).members()) {
      if (m.name == name) out.push_back(m);
    }
    return out;
  }
  std::size_t count(EventKind k, const std::string& name, Time since = Time::zero()) const {
    std::size_t n = 0;
    for (const auto& s : seen_) n += s.kind == k && s.name == name && s.at >= since;
    return n;
  }
  std::size_t events_since(Time since) const {
    std::size_t n = 0;
    for (const auto& s : seen_) n += s.at >= since;
    return n;
  }
  Simulator& sim() { return sim_; }

 private:
  Simulator sim_;
  Dialect dialect_;
  std::uint64_t seq_ = 0;
  std::vector<Seen> seen_;
};

// Crash "n3" and restart it (same name) after `down` at the same address or a new one.
void restart_scenario(Dialect dialect, Duration down, bool new_address) {
  Group g(dialect);
  for (int i = 0; i < 4; ++i) g.add("n" + std::to_string(i));
  g.sim().run_for(Duration::seconds(10));
  ASSERT_EQ(g.named(1, "n3").size(), 1u);
  const std::uint32_t before = g.named(1, "n3")[0].incarnation;
  g.sim().crash(3);
  g.sim().run_for(down);
  NodeIndex now_at = 3;
  if (new_address) {
    now_at = g.add("n3");
  } else {
    g.restart(3, "n3");
  }
  g.sim().run_for(Duration::seconds(60));
  for (NodeIndex obs : {NodeIndex(0), NodeIndex(1), NodeIndex(2), now_at}) {
    auto n3 = g.named(obs, "n3");
    ASSERT_EQ(n3.size(), 1u) << "observer " << obs << ": two entries named n3";
    EXPECT_EQ(n3[0].state, MemberState::alive) << "observer " << obs;
    EXPECT_EQ(n3[0].address, g.sim().address(now_at)) << "observer " << obs;
    if (!new_address && obs != now_at) {
      EXPECT_GT(n3[0].incarnation, before) << "observer " << obs;
    }
    EXPECT_EQ(g.node(obs).members().size(), 4u) << "observer " << obs;
  }
  if (new_address) {
    EXPECT_GE(g.count(EventKind::replaced, "n3"), 3u);
  }
  EXPECT_EQ(g.count(EventKind::conflict, "n3"), 0u);
}

// Down 3 s (suspicion takes 4 s here): a probe of the crashed member fails (each of the 3
// others probes it once in 3 s), so the observers suspect it and the new instance must refute
// with a higher incarnation. With 1 s that depended on the probe schedule: after prompt gossip
// of joins (join_gossip_delay) shifted the join phase, nobody probed it while it was down,
// nobody suspected it and there was nothing to refute (the entry was right: alive, same address).
TEST(Identity, RestartSameAddressBeforeDetection) {
  restart_scenario(Dialect::native, Duration::seconds(3), false);
}
TEST(Identity, RestartSameAddressAfterDetection) {
  restart_scenario(Dialect::native, Duration::seconds(40), false);
}
TEST(Identity, RestartNewAddressBeforeDetection) {
  restart_scenario(Dialect::native, Duration::seconds(1), true);
}
TEST(Identity, RestartNewAddressAfterDetection) {
  restart_scenario(Dialect::native, Duration::seconds(40), true);
}
TEST(Identity, MemberlistRestartSameAddress) {
  restart_scenario(Dialect::memberlist, Duration::seconds(3), false);
}

// Two live processes named "n1": reported, both kept, no flapping.
TEST(Identity, TwoLiveClaimantsAreReportedOnceAndStayStable) {
  Group g(Dialect::native);
  for (int i = 0; i < 4; ++i) g.add("n" + std::to_string(i));
  g.sim().run_for(Duration::seconds(10));
  g.add("n1");
  g.sim().run_for(Duration::seconds(30));
  const Time settled = g.sim().now();
  g.sim().run_for(Duration::seconds(60));
  const std::size_t conflicts = g.count(EventKind::conflict, "n1");
  EXPECT_GE(conflicts, 3u);    // each observer saw a refutation
  EXPECT_LE(conflicts, 10u);   // once per claim, not per gossip round
  for (NodeIndex obs = 0; obs < 5; ++obs) {
    auto n1 = g.named(obs, "n1");
    EXPECT_EQ(n1.size(), 2u) << "observer " << obs;
    for (const auto& m : n1) EXPECT_EQ(m.state, MemberState::alive) << "observer " << obs;
    EXPECT_EQ(g.node(obs).members().size(), 5u) << "observer " << obs;
    EXPECT_EQ(g.node(obs).stats().replaced, 0u) << "observer " << obs;
  }
  EXPECT_EQ(g.events_since(settled), 0u) << "membership keeps changing";
  EXPECT_EQ(g.count(EventKind::failed, "n1"), 0u);
}

// memberlist keys by name: a live name at another address is refused and reported (once per
// address), the entry stays where it was. Only members the claimant talks to hear of it (the
// seed, at least): nobody re-gossips a refused alive.
TEST(Identity, MemberlistRefusesALiveNameAtAnotherAddress) {
  Group g(Dialect::memberlist);
  for (int i = 0; i < 4; ++i) g.add("n" + std::to_string(i));
  g.sim().run_for(Duration::seconds(10));
  g.add("n2");
  g.sim().run_for(Duration::seconds(40));
  for (NodeIndex obs : {NodeIndex(0), NodeIndex(1), NodeIndex(3)}) {
    auto n2 = g.named(obs, "n2");
    ASSERT_EQ(n2.size(), 1u);
    EXPECT_EQ(n2[0].address, g.sim().address(2)) << "observer " << obs;
    EXPECT_LE(g.node(obs).stats().name_conflicts, 2u) << "observer " << obs;
  }
  EXPECT_GE(g.node(0).stats().name_conflicts, 1u);
}

}  // namespace
}  // namespace grapevine::sim
