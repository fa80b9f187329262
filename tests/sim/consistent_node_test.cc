// Consistent membership inside the composite Node: the multicast draws from the installed
// configuration (live_group), joins through a seed work with multicast traffic on the same
// sockets, a crashed member leaves the multicast's group after the view change, and the
// view_changed event carries the configuration id and members.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "grapevine/node.h"
#include "sim/simulator.h"

namespace grapevine::sim {
namespace {

TEST(ConsistentNode, MulticastOverTheInstalledConfiguration) {
  constexpr std::uint32_t kN = 30;
  Simulator sim(NetworkConfig::uniform(LinkProfile{}), 3);
  NodeConfig cfg;
  cfg.membership.mode = MembershipMode::consistent;
  std::vector<Node*> nodes;
  std::map<MessageId, std::set<NodeIndex>> delivered;
  std::map<NodeIndex, std::uint64_t> last_config;
  std::map<NodeIndex, std::size_t> last_size;
  sim.set_observer([&](Time, NodeIndex i, const Event& e) {
    if (e.kind == EventKind::delivered) delivered[e.message].insert(i);
    if (e.kind == EventKind::view_changed) {
      last_config[i] = e.configuration_id;
      last_size[i] = e.members.size();
    }
  });
  for (NodeIndex i = 0; i < kN; ++i) {
    auto n = std::make_unique<Node>(cfg, sim_address(i), derive_seed(3, i));
    nodes.push_back(n.get());
    sim.add_node(std::move(n));
    if (i == 0) continue;
    sim.at(Time::zero() + Duration::milliseconds(20 * i), [&, i] {
      Address seed = sim_address(0);
      sim.with_node(i, [&](Machine&, Effects& fx) {
        ASSERT_TRUE(nodes[i]->join(sim.now(), std::span(&seed, 1), fx));
      });
    });
  }
  sim.run_for(Duration::seconds(20));
  for (NodeIndex i = 0; i < kN; ++i) {
    ASSERT_EQ(nodes[i]->membership().live_group().size(), kN) << i;
    EXPECT_EQ(last_config[i], nodes[0]->membership().configuration().id) << i;
    EXPECT_EQ(last_size[i], kN);
  }
  MessageId id;
  const std::byte payload[] = {std::byte{1}, std::byte{2}};
  sim.with_node(5, [&](Machine&, Effects& fx) { id = *nodes[5]->multicast(sim.now(), payload, fx); });
  sim.run_for(Duration::seconds(5));
  EXPECT_EQ(delivered[id].size(), kN);

  sim.crash(9);
  sim.run_for(Duration::seconds(20));
  EXPECT_EQ(nodes[0]->membership().live_group().size(), kN - 1);
  sim.with_node(6, [&](Machine&, Effects& fx) { id = *nodes[6]->multicast(sim.now(), payload, fx); });
  sim.run_for(Duration::seconds(5));
  EXPECT_EQ(delivered[id].size(), kN - 1);
  EXPECT_EQ(nodes[0]->membership().stats().unknown_frames, 0u);
}

}  // namespace
}  // namespace grapevine::sim
