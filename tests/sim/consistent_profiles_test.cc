// Consistent membership carries members' names and metadata (consistent_profiles.cc): after a
// bootstrap through one seed, after a view change, and after update_meta (gossiped outside
// the views: no view change).
#include <gtest/gtest.h>

#include <string>

#include "sim/consistent_cluster.h"

namespace grapevine::sim {
namespace {

std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Every live node lists every member of its configuration with that member's name and meta.
void expect_profiles(ConsistentCluster& c, std::uint32_t nodes, const char* when) {
  for (NodeIndex i = 0; i < nodes; ++i) {
    if (!c.active(i)) continue;
    const auto members = c.node(i).members();
    EXPECT_EQ(members.size(), c.node(i).configuration().size) << when;
    for (const MemberInfo& m : members) {
      const auto j = NodeIndex((m.address.ipv4_u32() & 0xffffff) - 1);
      EXPECT_EQ(m.name, "node-" + std::to_string(j)) << when << ": node " << i;
      EXPECT_EQ(text(m.meta), "meta-" + std::to_string(j)) << when << ": node " << i;
    }
  }
}

TEST(ConsistentProfiles, NamesAndMetadataAfterBootstrapViewChangeAndUpdate) {
  ConsistentClusterOptions o;
  o.nodes = 40;
  o.seed = 5;
  o.named = true;
  ConsistentCluster c(o);
  ASSERT_TRUE(c.wait_agreed(Duration::seconds(30)));
  expect_profiles(c, 40, "bootstrap");
  const Time crash_at = c.sim().now();
  c.crash(7);
  ASSERT_TRUE(c.wait_agreed(Duration::seconds(30)));
  EXPECT_EQ(c.configurations_after(crash_at), 1u);
  expect_profiles(c, 40, "after a crash");
  // update_meta: the new metadata reaches everyone, no view change.
  const auto epoch = c.node(0).configuration().epoch;
  const std::string fresh = "v2";
  c.sim().with_node(3, [&](Machine&, Effects& fx) {
    ASSERT_TRUE(c.node(3).update_meta(c.sim().now(), std::as_bytes(std::span(fresh)), fx));
  });
  c.run_for(Duration::seconds(5));
  EXPECT_EQ(c.node(0).configuration().epoch, epoch);
  for (NodeIndex i = 0; i < 40; ++i) {
    if (!c.active(i) || i == 3) continue;
    for (const MemberInfo& m : c.node(i).members()) {
      if (m.name == "node-3") {
        EXPECT_EQ(text(m.meta), fresh) << "node " << i;
      }
    }
  }
  EXPECT_EQ(c.agreement_error(), "");
}

}  // namespace
}  // namespace grapevine::sim
