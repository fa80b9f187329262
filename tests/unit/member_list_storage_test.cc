// MemberList's compact storage: names in an arena with a name index (member_names.cc), the
// 8-byte id index (slot_index.h), heartbeat counters kept only on request. Checked against a
// plain model through thousands of random adds, renames and removals (removal moves the last
// record into the freed slot, which both indexes must follow).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/membership/member_list.h"
#include "core/membership/slot_index.h"
#include "util/rng.h"

namespace grapevine::detail {
namespace {

Address addr(std::uint32_t i) { return Address::ipv4_u32(0x0a000000u + i, 7946); }

TEST(MemberListStorage, RecordIs48Bytes) { EXPECT_LE(sizeof(MemberRecord), 48u); }

TEST(MemberListStorage, NamesFollowRenamesAndRemovals) {
  MemberList list(1, addr(1), Time::zero());
  std::map<NodeId, std::string> model{{1, ""}};
  Rng rng(7);
  for (int step = 0; step < 20000; ++step) {
    const NodeId id = 2 + rng.below(300);
    const int op = int(rng.below(4));
    const bool listed = list.find(id) != MemberList::kNone;
    if (!listed) {
      ASSERT_NE(list.add(id, addr(std::uint32_t(id)), 0, MemberState::alive, Time::zero()),
                MemberList::kNone);
      model[id] = "";
    } else if (op == 0) {
      list.remove(id);
      model.erase(id);
    } else {
      // Few distinct names, so several ids share one (as restarts at new addresses do).
      std::string name = op == 1 ? "" : "node-" + std::to_string(rng.below(40));
      list.set_extra(id, name, {});
      model[id] = name;
    }
  }
  ASSERT_EQ(list.record_count(), model.size());
  std::map<std::string, std::vector<NodeId>> holders;
  for (const auto& [id, name] : model) {
    ASSERT_NE(list.find(id), MemberList::kNone) << id;
    EXPECT_EQ(list.at(list.find(id)).id, id);
    EXPECT_EQ(list.name_of(id), name) << id;
    if (!name.empty()) holders[name].push_back(id);
  }
  for (auto& [name, ids] : holders) {
    std::vector<NodeId> got = list.ids_named(name);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, ids) << name;
    EXPECT_EQ(list.name_shared(name), ids.size() > 1) << name;
  }
  EXPECT_TRUE(list.ids_named("nobody").empty());
  EXPECT_FALSE(list.name_shared("nobody"));
  EXPECT_EQ(list.find(1000), MemberList::kNone);
}

TEST(MemberListStorage, NameOfAnotherMemberCanBeGiven) {
  MemberList list(1, addr(1), Time::zero());
  list.add(2, addr(2), 0, MemberState::alive, Time::zero());
  list.add(3, addr(3), 0, MemberState::alive, Time::zero());
  list.set_extra(2, "alpha", {});
  list.set_extra(3, list.name_of(2), {});  // a view into the list's own arena
  EXPECT_EQ(list.name_of(3), "alpha");
  EXPECT_EQ(list.ids_named("alpha"), (std::vector<NodeId>{2, 3}));
  EXPECT_TRUE(list.name_shared("alpha"));
  list.set_extra(3, "beta", {});
  EXPECT_FALSE(list.name_shared("alpha"));
}

TEST(MemberListStorage, BeatsOnlyWhenTracked) {
  MemberList list(1, addr(1), Time::zero());
  list.add(2, addr(2), 0, MemberState::alive, Time::zero() + Duration::seconds(1));
  list.touch_beat(1, Time::zero() + Duration::seconds(9));  // not tracked: nothing kept
  list.track_beats();
  EXPECT_EQ(list.beat(1).at, Time::zero() + Duration::seconds(1));
  list.add(3, addr(3), 0, MemberState::alive, Time::zero() + Duration::seconds(2));
  list.beat(2).counter = 5;
  list.remove(2);  // member 3 moves into slot 1, with its counter
  EXPECT_EQ(list.beat(list.find(3)).counter, 5u);
}

TEST(SlotIndex, FindsInsertsRelinksAndErases) {
  std::vector<std::uint64_t> keys(1, 0);  // slot -> key; slot 0 unused
  SlotIndex index;
  auto id_of = [&](std::uint32_t s) { return keys[s]; };
  for (std::uint64_t k = 1; k <= 5000; ++k) {
    keys.push_back(k * 0x9E3779B97F4A7C15ULL);
    index.insert(keys.back(), std::uint32_t(keys.size() - 1));
  }
  for (std::uint32_t s = 1; s < keys.size(); ++s) ASSERT_EQ(index.find(keys[s], id_of), s);
  for (std::uint32_t s = 1; s < keys.size(); s += 2) index.erase(keys[s], id_of);
  for (std::uint32_t s = 1; s < keys.size(); ++s) {
    ASSERT_EQ(index.find(keys[s], id_of), s % 2 ? SlotIndex::kMissing : s);
  }
  keys.push_back(keys[2]);  // key of slot 2 moves to a new slot
  index.relink(keys[2], std::uint32_t(keys.size() - 1), id_of);
  EXPECT_EQ(index.find(keys[2], id_of), keys.size() - 1);
  EXPECT_EQ(index.find(0, id_of), SlotIndex::kMissing);
  EXPECT_EQ(index.size(), 2500u);
}

}  // namespace
}  // namespace grapevine::detail
