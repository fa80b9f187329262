// Zones: the member list as a Group with subnets (zones interleaved in the live view, so the
// subnet order is a real permutation), the topology-aware 1/n_i rule over it (statistics over
// many draws, fixed seeds, bands several standard deviations wide), zones derived from an
// address prefix, and the native wire's optional zone fields (round trips; old-format bytes
// unchanged when there is no zone; what an old decoder would refuse).
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "core/membership/member_list.h"
#include "core/targets.h"
#include "wire/native_membership.h"

namespace grapevine::detail {
namespace {

Address addr(std::uint32_t i) {
  return Address::ipv4(10, 0, std::uint8_t(i / 200), std::uint8_t(i % 200 + 1), 7946);
}

// 40 members, zone "z(i % 4)": 10 per zone, interleaved in the live view.
MemberList zoned_list() {
  MemberList list(1000, addr(0), Time::zero());
  list.set_zone(1000, "z0");
  for (std::uint32_t i = 1; i < 40; ++i) {
    list.add(1000 + i, addr(i), 0, MemberState::alive, Time::zero());
    list.set_zone(1000 + i, "z" + std::to_string(i % 4));
  }
  return list;
}

TEST(ZoneGroup, SubnetsArePermutedZones) {
  MemberList list = zoned_list();
  ASSERT_EQ(list.subnet_count(), 4u);
  EXPECT_EQ(list.subnet_of(0), 0u);  // self's zone comes first
  for (std::uint32_t s = 0; s < 4; ++s) {
    EXPECT_EQ(list.subnet_end(s) - list.subnet_begin(s), 10u);
    for (std::uint32_t p = list.subnet_begin(s); p < list.subnet_end(s); ++p) {
      const std::uint32_t i = list.at_position(p);
      EXPECT_EQ(list.position(i), p);
      EXPECT_EQ(list.subnet_of(i), s);
    }
  }
  // A failure changes the layout; the lazily rebuilt order follows.
  list.set_state(list.find(1004), MemberState::failed, Time::zero());
  EXPECT_EQ(list.subnet_end(0) - list.subnet_begin(0), 9u);
}

TEST(ZoneGroup, TopologyAwareCrossesWithProbabilityOneOverN) {
  MemberList list = zoned_list();
  Rng rng(11);
  const int draws = 200000;
  int cross = 0;
  std::vector<double> inside(40, 0), outside(40, 0);
  for (int d = 0; d < draws; ++d) {
    const std::uint32_t t = pick_one(list, 0, true, rng);
    ASSERT_NE(t, 0u);
    const NodeId id = list.at(list.live_slot(t)).id;
    if (list.zone_of(id) != "z0") {
      ++cross;
      ++outside[t];
    } else {
      ++inside[t];
    }
  }
  // n_i = 10: p = 0.1, sd of the count ~134.
  EXPECT_NEAR(cross, draws / 10, 700);
  // Inside: uniform over the 9 others of z0 (~20000 each); outside: over the 30 (~667 each).
  for (std::uint32_t i = 1; i < 40; ++i) {
    const bool same = list.zone_of(list.at(list.live_slot(i)).id) == "z0";
    if (same) EXPECT_NEAR(inside[i], 0.9 * draws / 9, 900) << i;
    if (!same) EXPECT_NEAR(outside[i], 0.1 * draws / 30, 130) << i;
  }
  // Oblivious: 30 of 39 others are outside.
  int oblivious = 0;
  for (int d = 0; d < draws; ++d) {
    const std::uint32_t t = pick_one(list, 0, false, rng);
    oblivious += list.zone_of(list.at(list.live_slot(t)).id) != "z0";
  }
  EXPECT_NEAR(oblivious, draws * 30 / 39, 1000);
}

TEST(ZoneGroup, FanoutStaysDistinctAndMostlyLocal) {
  MemberList list = zoned_list();
  Rng rng(12);
  std::array<std::uint32_t, 3> out;
  int cross = 0;
  for (int d = 0; d < 20000; ++d) {
    ASSERT_EQ(pick_targets(list, 0, true, rng, out), 3u);
    for (std::uint32_t k = 0; k < 3; ++k) {
      ASSERT_NE(out[k], 0u);
      for (std::uint32_t j = 0; j < k; ++j) ASSERT_NE(out[k], out[j]);
      cross += list.zone_of(list.at(list.live_slot(out[k])).id) != "z0";
    }
  }
  EXPECT_NEAR(cross, 0.1 * 60000, 600);  // ~b/n_i per round instead of b(K-1)/K
}

TEST(ZoneGroup, PrefixDerivedZones) {
  MemberList list(1, Address::ipv4(10, 1, 2, 3, 7946), Time::zero());
  list.add(2, Address::ipv4(10, 1, 2, 99, 7946), 0, MemberState::alive, Time::zero());
  list.add(3, Address::ipv4(10, 1, 3, 4, 7946), 0, MemberState::alive, Time::zero());
  EXPECT_EQ(list.zone_of(2), "");
  list.set_zone_prefix(24);
  EXPECT_EQ(list.zone_of(1), "10.1.2.0/24");
  EXPECT_EQ(list.zone_of(2), "10.1.2.0/24");
  EXPECT_EQ(list.zone_of(3), "10.1.3.0/24");
  EXPECT_EQ(list.own_zone_of(3), "");  // derived, not sent on the wire
  EXPECT_EQ(list.subnet_count(), 2u);
  list.add(4, *Address::parse("[2001:db8:0:7::5]:7946"), 0, MemberState::alive, Time::zero());
  EXPECT_EQ(list.zone_of(4), "2001:d00::/24");  // the first 24 of its 128 bits
  list.set_zone(3, "rack-9");  // its own zone wins over the prefix
  EXPECT_EQ(list.zone_of(3), "rack-9");
  EXPECT_EQ(list.own_zone_of(3), "rack-9");
}

// ---- wire ----

std::vector<std::byte> alive_body(const wire::AliveFrame& f) {
  std::array<std::byte, 1400> buf;
  wire::Writer w(buf);
  EXPECT_TRUE(wire::write_alive(w, f));
  wire::Reader r(w.written());
  r.u8();
  r.varint();
  auto rest = r.rest();
  return {rest.begin(), rest.end()};
}

TEST(ZoneWire, AliveRoundTripAndOldFormatUnchanged) {
  const Address a = Address::ipv4(10, 0, 0, 1, 7946);
  wire::AliveFrame plain{42, 3, a, {}, "n1"};
  wire::AliveFrame zoned = plain;
  zoned.zone = "10.0.0.0/24";
  const auto old_bytes = alive_body(plain);
  const auto new_bytes = alive_body(zoned);
  ASSERT_EQ(new_bytes.size(), old_bytes.size() + 1 + zoned.zone.size());
  EXPECT_TRUE(std::equal(old_bytes.begin(), old_bytes.end(), new_bytes.begin()));
  auto back = wire::decode_alive(new_bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->zone, "10.0.0.0/24");
  EXPECT_EQ(back->name, "n1");
  auto old = wire::decode_alive(old_bytes);
  ASSERT_TRUE(old);
  EXPECT_EQ(old->zone, "");
  // A zone over the limit is not written; an empty trailing zone field is malformed.
  std::string huge(wire::kZoneBytesMax + 1, 'z');
  zoned.zone = huge;
  std::array<std::byte, 1400> buf;
  wire::Writer w(buf);
  EXPECT_FALSE(wire::write_alive(w, zoned));
  auto empty_zone = old_bytes;
  empty_zone.push_back(std::byte{0});
  EXPECT_FALSE(wire::decode_alive(empty_zone));
}

std::vector<std::byte> push_pull(bool zones, const std::vector<wire::MemberEntry>& members) {
  std::vector<std::byte> out(4096);
  wire::Writer w(out);
  wire::PushPullHeader h{true, false, 42, Address::ipv4(10, 0, 0, 1, 7946),
                         std::uint32_t(members.size())};
  h.zones = zones;
  wire::write_push_pull_header(w, h);
  for (const auto& m : members) wire::write_member(w, m, zones);
  wire::finish_stream(w);
  out.resize(w.size());
  return out;
}

TEST(ZoneWire, PushPullCarriesZonesUnderFlag4) {
  const Address a = Address::ipv4(10, 0, 0, 1, 7946), b = Address::ipv4(10, 0, 1, 1, 7946);
  wire::MemberEntry m1{42, a, 1, wire::WireState::alive, {}, "n1"};
  m1.zone = "z1";
  wire::MemberEntry m2{43, b, 2, wire::WireState::suspect, {}, "n2"};  // no zone
  const auto bytes = push_pull(true, {m1, m2});
  EXPECT_EQ(std::to_integer<int>(bytes[6]), 1 | 4);  // flags: join, zones
  wire::PushPullReader r(bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.header().zones);
  wire::MemberEntry m;
  ASSERT_TRUE(r.next(m));
  EXPECT_EQ(m.zone, "z1");
  ASSERT_TRUE(r.next(m));
  EXPECT_EQ(m.zone, "");
  EXPECT_EQ(m.name, "n2");
  EXPECT_FALSE(r.next(m));
  EXPECT_TRUE(r.ok());
  // Without flag 4 the stream is byte for byte the old format.
  const auto old = push_pull(false, {m1, m2});
  EXPECT_EQ(old.size(), bytes.size() - 4);  // "z1" + length, and an empty zone's length byte
  wire::PushPullReader o(old);
  ASSERT_TRUE(o.next(m));
  EXPECT_EQ(m.zone, "");
}

}  // namespace
}  // namespace grapevine::detail
