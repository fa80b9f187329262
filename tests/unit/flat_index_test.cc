// FlatIndex: the member list's open-addressing id -> slot map.
#include "core/membership/flat_index.h"

#include <gtest/gtest.h>

#include "grapevine/node.h"

namespace grapevine {
namespace {

TEST(FlatIndex, KeyZeroIsNeverFound) {
  detail::FlatIndex index;
  EXPECT_EQ(index.find(0), detail::FlatIndex::kMissing);
  index.put(42, 7);
  EXPECT_EQ(index.find(42), 7u);
  // Key 0 marks empty slots, whose value is 0: a lookup of 0 must not land on one.
  EXPECT_EQ(index.find(0), detail::FlatIndex::kMissing);
  index.erase(42);
  EXPECT_EQ(index.find(42), detail::FlatIndex::kMissing);
}

class NullEffects final : public Effects {
 public:
  void send(const Address&, std::span<const std::byte>) override {}
  void emit(const Event& e) override { events.push_back(e.kind); }
  std::vector<EventKind> events;
};

// Found by fuzz_node_on_datagram: a native "dead" frame about member id 0 used to find slot 0
// (self) through an empty index slot, and departing self tripped an assertion: one packet
// crashed the node.
TEST(NodeHostileInput, DeadAboutMemberIdZeroIsIgnored) {
  NodeConfig config;
  Node node(config, Address::ipv4_u32((10u << 24) | 1, 7946), 7);
  const Address members[] = {Address::ipv4_u32((10u << 24) | 1, 7946),
                             Address::ipv4_u32((10u << 24) | 2, 7946)};
  node.preload(Time::zero(), members);
  NullEffects fx;
  const std::uint8_t packet[] = {0x01, 0x25, 0x00, 0x26, 0x03, 0x00,
                                 0x01, 0x25, 0x00, 0x26, 0x00, 0x31};
  node.on_datagram(Time::zero(), members[1], std::as_bytes(std::span(packet)), fx);
  ASSERT_EQ(node.membership().members().size(), 2u);
  for (const auto& m : node.membership().members()) EXPECT_EQ(m.state, MemberState::alive);
}

}  // namespace
}  // namespace grapevine
