// Cache warming before a datagram's frames are applied (core/membership/member_warm.cc): the
// index's likely slot is find()'s answer for every listed member (after removals moved records),
// and warming from a real datagram or from garbage changes nothing in the list.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "core/membership/member_list.h"
#include "util/rng.h"
#include "wire/native.h"
#include "wire/native_membership.h"
#include "wire/writer.h"

namespace grapevine::detail {
namespace {

Address addr(std::uint32_t i) { return Address::ipv4_u32(0x0a000000u + i, 7946); }

MemberList big_list() {
  MemberList list(1, addr(1), Time::zero());
  for (NodeId id = 2; id <= 1000; ++id) {
    list.add(id, addr(std::uint32_t(id)), 0, MemberState::alive, Time::zero());
  }
  for (NodeId id = 10; id <= 1000; id += 10) list.remove(id);  // moves records around
  return list;
}

TEST(MemberWarm, LikelySlotIsFindsAnswerForListedMembers) {
  const MemberList list = big_list();
  std::vector<NodeId> listed;
  for (NodeId id = 1; id <= 1000; ++id) {
    if (list.find(id) != MemberList::kNone) listed.push_back(id);
  }
  ASSERT_EQ(listed.size(), 1000u - 100u);
  // Through warm(): any answer is fine for absent ids, and nothing may change.
  list.warm(listed);
  std::array<NodeId, 3> absent{10, 5000, ~NodeId(0)};
  list.warm(absent);
  for (NodeId id : listed) ASSERT_EQ(list.at(list.find(id)).id, id);
  for (NodeId id : absent) EXPECT_EQ(list.find(id), MemberList::kNone);
}

TEST(MemberWarm, DatagramsAndGarbageChangeNothing) {
  const MemberList list = big_list();
  std::array<std::byte, wire::kPacketBudgetBytesMax> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  ASSERT_TRUE(wire::write_alive(w, wire::AliveFrame{7, 3, addr(7), {}, "node-7", {}, {}}));
  ASSERT_TRUE(wire::write_suspect(w, wire::AccuseFrame{8, 1, 2}));
  ASSERT_TRUE(wire::write_dead(w, wire::AccuseFrame{10, 1, 2}));  // not listed
  ASSERT_TRUE(wire::write_ack(w, wire::SeqFrame{5}));
  warm_members(list, w.written());
  Rng rng(3);
  std::vector<std::byte> garbage(300);
  for (int round = 0; round < 200; ++round) {
    for (auto& b : garbage) b = std::byte(rng.below(256));
    garbage[0] = std::byte{wire::kNativeVersion};
    warm_members(list, std::span(garbage).first(rng.below(garbage.size() + 1)));
  }
  EXPECT_EQ(list.record_count(), 900u);
  EXPECT_EQ(list.at(list.find(7)).incarnation, 0u);
  EXPECT_EQ(list.at(list.find(8)).state, MemberState::alive);
}

}  // namespace
}  // namespace grapevine::detail
