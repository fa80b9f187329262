// Consistent membership (Rapid): the 0x40 frame codec, the config_state stream, the ring
// topology and configuration id, and the cut detector's rules.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "core/consistent/configuration.h"
#include "core/consistent/cut_detector.h"
#include "wire/native.h"
#include "wire/native_consistent.h"

namespace grapevine {
namespace {

using namespace wire;

Address addr(std::uint32_t i) { return Address::ipv4(10, 0, std::uint8_t(i >> 8), std::uint8_t(i), 7946); }

std::vector<std::byte> encode(const RapidMessage& m) {
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  EXPECT_TRUE(write_rapid(w, m));
  return {w.written().begin(), w.written().end()};
}

RapidMessage round_trip(const RapidMessage& m) {
  std::vector<std::byte> bytes = encode(m);
  Reader r(bytes);
  EXPECT_EQ(r.u8(), std::uint8_t(m.type));
  const auto len = r.varint();
  auto body = r.rest();
  EXPECT_EQ(len, body.size());
  RapidMessage out;
  EXPECT_TRUE(decode_rapid(std::uint8_t(m.type), body, out));
  EXPECT_EQ(encode(out), bytes);
  return out;
}

TEST(NativeConsistentCodec, ProbeGoldenBytes) {
  RapidMessage m;
  m.type = RapidFrame::probe;
  m.config = ConfigRef{3, 0x0102030405060708ULL};
  m.seq = 300;
  const std::vector<std::byte> want = {
      std::byte{0x40}, std::byte{11},   std::byte{3},    std::byte{1},    std::byte{2},
      std::byte{3},    std::byte{4},    std::byte{5},    std::byte{6},    std::byte{7},
      std::byte{8},    std::byte{0xac}, std::byte{0x02}};
  EXPECT_EQ(encode(m), want);
}

TEST(NativeConsistentCodec, EveryFrameRoundTrips) {
  RapidMessage m;
  m.config = ConfigRef{7, 0xfeedULL};
  m.address = addr(9);
  m.rank = Rank{3, 0xabcdef};
  m.vrank = Rank{1, 0};
  m.digest = 0x1234;
  m.count = m.total = 5;
  for (std::uint32_t i = 0; i < 5; ++i) m.addrs[i] = addr(i + 1);
  m.alert_count = 3;
  m.alerts[0] = Alert{addr(2), AlertKind::remove, 0x3ff};
  m.alerts[1] = Alert{Address::ipv4(192, 168, 1, 1, 1), AlertKind::join, 1};
  m.alerts[2] = Alert{addr(3), AlertKind::suspect, 0x21};
  m.bitmap_bytes = 3;
  m.bitmap[0] = std::byte{0xff};
  m.bitmap[1] = std::byte{0x01};
  m.bitmap[2] = std::byte{0x80};
  for (std::uint8_t t = 0x40; t <= kRapidFrameLast; ++t) {
    m.type = RapidFrame(t);
    RapidMessage out = round_trip(m);
    EXPECT_EQ(out.config, m.config) << int(t);
  }
  m.type = RapidFrame::alerts;
  RapidMessage a = round_trip(m);
  ASSERT_EQ(a.alert_count, 3u);
  EXPECT_EQ(a.alerts[1], m.alerts[1]);
  EXPECT_EQ(a.alerts[2], m.alerts[2]);
  m.type = RapidFrame::vote;
  RapidMessage v = round_trip(m);
  ASSERT_EQ(v.count, 5u);
  EXPECT_EQ(v.addrs[4], addr(5));
  EXPECT_EQ(v.bitmap_bytes, 3u);
  EXPECT_EQ(v.bitmap[2], std::byte{0x80});
  // A cut over kCutMembersMax travels by digest and size only.
  m.type = RapidFrame::decision;
  m.count = 0;
  m.total = 900;
  RapidMessage d = round_trip(m);
  EXPECT_EQ(d.count, 0u);
  EXPECT_EQ(d.total, 900u);
  EXPECT_EQ(d.digest, 0x1234u);
  m.type = RapidFrame::cut_request;
  EXPECT_EQ(round_trip(m).digest, 0x1234u);
  // A partial cut (count neither 0 nor total) is refused by both sides.
  m.type = RapidFrame::vote;
  m.count = 3;
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  EXPECT_FALSE(write_rapid(w, m));
}

TEST(NativeConsistentCodec, LimitsAndMalformedInput) {
  RapidMessage m;
  m.type = RapidFrame::decision;
  m.count = kCutMembersMax + 1;
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  EXPECT_FALSE(write_rapid(w, m));
  EXPECT_EQ(w.size(), 0u);
  // A cut count over the inline limit, an unknown alert kind, trailing bytes: all refused.
  std::vector<std::byte> over(9 + 8, std::byte{0});  // config, digest
  for (int b : {0x81, 0x01, 0x81, 0x01}) over.push_back(std::byte(b));  // total 129, count 129
  RapidMessage out;
  EXPECT_EQ(decode_rapid(0x4b, over, out).error().code, Errc::too_large);
  const std::byte kind[] = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                            std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1},
                            std::byte{4}, std::byte{10}, std::byte{0}, std::byte{0}, std::byte{2},
                            std::byte{0}, std::byte{1}, std::byte{9}, std::byte{1}};
  EXPECT_FALSE(decode_rapid(0x45, kind, out));
  const std::byte good[] = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                            std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1},
                            std::byte{4}, std::byte{10}, std::byte{0}, std::byte{0}, std::byte{2},
                            std::byte{0}, std::byte{1}, std::byte{1}, std::byte{1}};
  EXPECT_TRUE(decode_rapid(0x45, good, out));
  const std::byte trailing[] = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                                std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0},
                                std::byte{0}, std::byte{0}};
  EXPECT_FALSE(decode_rapid(0x4c, trailing, out));
  EXPECT_FALSE(decode_rapid(0x4e, {}, out));
  EXPECT_TRUE(decode_rapid(0x4f, trailing, out));  // profiles, none
  EXPECT_EQ(out.profile_count, 0u);
  EXPECT_FALSE(decode_rapid(0x50, trailing, out));  // not a consistent frame
}

TEST(NativeConsistentCodec, ProfilesRoundTripAndLimits) {
  const std::vector<std::byte> meta(kMetaBytesMax, std::byte{7});
  RapidMessage m;
  m.type = RapidFrame::profiles;
  m.config = ConfigRef{3, 9};
  m.profile_count = 2;
  m.profiles[0] = ProfileView{addr(1), 4, "web-1", std::span(meta).first(3)};
  m.profiles[1] = ProfileView{addr(2), 1, "", {}};
  (void)round_trip(m);  // its checks; its result's profiles view bytes it has freed
  const std::vector<std::byte> encoded = encode(m);  // alive while `out` is read
  Reader r(encoded);
  r.u8();
  r.varint();
  RapidMessage out;
  ASSERT_TRUE(decode_rapid(std::uint8_t(m.type), r.rest(), out));
  ASSERT_EQ(out.profile_count, 2u);
  EXPECT_EQ(out.profiles[0].address, addr(1));
  EXPECT_EQ(out.profiles[0].version, 4u);
  EXPECT_EQ(out.profiles[0].name, "web-1");
  EXPECT_EQ(out.profiles[0].meta.size(), 3u);
  EXPECT_EQ(out.profiles[1].name, "");
  // Over the limits: refused by the encoder.
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  m.profiles[1].meta = std::span(meta.data(), kMetaBytesMax + 0);
  EXPECT_TRUE(write_rapid(w, m));
  const std::string long_name(kNameBytesMax + 1, 'x');
  m.profiles[1].name = long_name;
  Writer w2(buf);
  EXPECT_FALSE(write_rapid(w2, m));
  // config_state with a profile per member; without one it still decodes (empty profiles).
  std::vector<Address> members{addr(1), addr(2)};
  std::vector<ProfileView> ps{ProfileView{addr(1), 2, "a", std::span(meta).first(2)},
                              ProfileView{addr(2), 0, "", {}}};
  auto bytes = encode_config_state(ConfigRef{1, 2}, members, ps);
  ASSERT_FALSE(bytes.empty());
  ConfigRef ref;
  std::vector<Address> got;
  std::vector<Profile> profiles;
  ASSERT_TRUE(decode_config_state(bytes, ref, got, &profiles));
  ASSERT_EQ(profiles.size(), 2u);
  EXPECT_EQ(profiles[0].name, "a");
  EXPECT_EQ(profiles[0].version, 2u);
  EXPECT_EQ(profiles[0].meta.size(), 2u);
  EXPECT_TRUE(encode_config_state(ConfigRef{1, 2}, members, std::span(ps).first(1)).empty());
  bytes = encode_config_state(ConfigRef{1, 2}, members);
  ASSERT_TRUE(decode_config_state(bytes, ref, got, &profiles));
  EXPECT_TRUE(profiles.empty());
}

TEST(NativeConsistentCodec, ConfigStateRoundTrips) {
  std::vector<Address> members;
  for (std::uint32_t i = 0; i < 300; ++i) members.push_back(addr(i));
  auto bytes = encode_config_state(ConfigRef{12, 0x55}, members);
  ASSERT_FALSE(bytes.empty());
  ConfigRef ref;
  std::vector<Address> out;
  ASSERT_TRUE(decode_config_state(bytes, ref, out));
  EXPECT_EQ(ref, (ConfigRef{12, 0x55}));
  EXPECT_EQ(out, members);
  bytes.push_back(std::byte{0});
  EXPECT_FALSE(decode_config_state(bytes, ref, out));
  // cut_state: the same list with the cut's digest; neither decodes as the other.
  auto cut = encode_cut_state(ConfigRef{12, 0x55}, 0xabcdef, members);
  ASSERT_FALSE(cut.empty());
  std::uint64_t digest = 0;
  ASSERT_TRUE(decode_cut_state(cut, ref, digest, out));
  EXPECT_EQ(digest, 0xabcdefu);
  EXPECT_EQ(out, members);
  EXPECT_EQ(consistent_stream_type(cut), kCutStateStreamType);
  EXPECT_FALSE(decode_config_state(cut, ref, out));
  bytes.pop_back();
  EXPECT_FALSE(decode_cut_state(bytes, ref, digest, out));
}

TEST(ConsistentConfiguration, RingsGiveKObserversAndSubjects) {
  std::vector<Address> members;
  for (std::uint32_t i = 0; i < 50; ++i) members.push_back(addr(i));
  detail::Configuration c(members, 10);
  EXPECT_EQ(c.size(), 50u);
  EXPECT_EQ(c.fast_quorum(), 50u - 12u);
  for (std::uint32_t i = 0; i < c.size(); ++i) {
    for (std::uint32_t k = 0; k < 10; ++k) {
      EXPECT_EQ(c.subject_of(c.observer_of(i, k), k), i);
      EXPECT_NE(c.observer_of(i, k), i);
    }
  }
  // A joiner's gatekeeper on ring k is its observer there once admitted.
  const Address j = addr(777);
  detail::Configuration next = c.next(std::vector<Address>{j});
  EXPECT_EQ(next.ref().epoch, 1u);
  for (std::uint32_t k = 0; k < 10; ++k) {
    EXPECT_EQ(c.member(c.gatekeeper_of(j, k)), next.member(next.observer_of(*next.index_of(j), k)));
  }
}

TEST(ConsistentConfiguration, IdDependsOnMembersAndHistoryOnly) {
  std::vector<Address> a = {addr(1), addr(2), addr(3)};
  std::vector<Address> b = {addr(3), addr(1), addr(2), addr(2)};
  detail::Configuration x(a, 10), y(b, 10);
  EXPECT_EQ(x.ref(), y.ref());
  detail::Configuration x1 = x.next(std::vector<Address>{addr(2)});
  EXPECT_EQ(x1.size(), 2u);
  EXPECT_NE(x1.ref().id, detail::Configuration(std::vector<Address>{addr(1), addr(3)}, 10).ref().id);
  detail::Configuration x2 = x1.next(std::vector<Address>{addr(2)});
  EXPECT_EQ(x2.size(), 3u);
  EXPECT_NE(x2.ref().id, x.ref().id);  // the same members again, a new configuration
}

TEST(ConsistentCutDetector, WaitsForUnstableThenDropsAfterTimeout) {
  std::vector<Address> members;
  for (std::uint32_t i = 0; i < 30; ++i) members.push_back(addr(i));
  detail::Configuration c(members, 10);
  detail::CutDetector d(detail::CutThresholds{9, 3, Duration::seconds(10)});
  const Time t0 = Time::zero();
  auto report = [&](std::uint32_t subject, std::uint32_t rings) {
    for (std::uint32_t k = 0; k < rings; ++k) {
      const Address& o = c.member(c.observer_of(subject, k));
      Alert a{c.member(subject), AlertKind::remove, c.rings_observed(o, c.member(subject))};
      d.add(c, a, t0);
    }
  };
  report(4, 10);
  EXPECT_EQ(d.proposal(t0), std::vector<Address>{c.member(4)});
  report(7, 4);  // unstable: blocks
  EXPECT_TRUE(d.proposal(t0).empty());
  EXPECT_EQ(d.next_change(t0), t0 + Duration::seconds(10));
  EXPECT_EQ(d.proposal(t0 + Duration::seconds(10)), std::vector<Address>{c.member(4)});
  report(7, 10);
  EXPECT_EQ(d.proposal(t0).size(), 2u);
}

}  // namespace
}  // namespace grapevine
