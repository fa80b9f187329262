// FrameRouter: one walk, each family's frames to its own datagram, byte for byte.
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "core/frame_router.h"
#include "wire/native.h"
#include "wire/native_membership.h"

namespace grapevine::detail {
namespace {

using Bytes = std::vector<std::byte>;

template <class Write>
Bytes datagram(Write&& write) {
  std::array<std::byte, 2048> buf;
  wire::Writer w(buf);
  wire::begin_datagram(w);
  write(w);
  return Bytes(w.written().begin(), w.written().end());
}

TEST(FrameRouter, ASingleFamilyDatagramIsHandedOnAsItIs) {
  const Bytes d = datagram([](wire::Writer& w) {
    wire::write_ping(w, wire::PingFrame{7, 1, 2});
    wire::write_ack(w, wire::SeqFrame{3});
  });
  FrameRouter r;
  ASSERT_TRUE(r.route(d));
  EXPECT_EQ(r.part(FrameRouter::kMembership).data(), d.data());  // no copy
  EXPECT_EQ(r.part(FrameRouter::kMembership).size(), d.size());
  EXPECT_TRUE(r.part(FrameRouter::kMulticast).empty());
  EXPECT_TRUE(r.part(FrameRouter::kViews).empty());
}

TEST(FrameRouter, AMixedDatagramIsSplitByFamilyInOrder) {
  const MessageId ids[] = {MessageId{5, 6}};
  const Bytes mixed = datagram([&](wire::Writer& w) {
    wire::write_ping(w, wire::PingFrame{7, 1, 2});
    wire::write_pull_request(w, ids);
    wire::write_ack(w, wire::SeqFrame{3});
  });
  const Bytes membership = datagram([](wire::Writer& w) {
    wire::write_ping(w, wire::PingFrame{7, 1, 2});
    wire::write_ack(w, wire::SeqFrame{3});
  });
  const Bytes multicast = datagram([&](wire::Writer& w) { wire::write_pull_request(w, ids); });
  FrameRouter r;
  ASSERT_TRUE(r.route(mixed));
  auto m = r.part(FrameRouter::kMembership);
  auto c = r.part(FrameRouter::kMulticast);
  EXPECT_EQ(Bytes(m.begin(), m.end()), membership);
  EXPECT_EQ(Bytes(c.begin(), c.end()), multicast);
  EXPECT_TRUE(r.part(FrameRouter::kViews).empty());
}

TEST(FrameRouter, MalformedDatagramsAreNotSplit) {
  Bytes d = datagram([](wire::Writer& w) { wire::write_ping(w, wire::PingFrame{7, 1, 2}); });
  d.push_back(std::byte{0x20});
  d.push_back(std::byte{0x7f});  // a frame longer than what is left
  FrameRouter r;
  EXPECT_FALSE(r.route(d));
  EXPECT_TRUE(r.part(FrameRouter::kMembership).empty());
  const Bytes wrong_version = {std::byte{9}, std::byte{0x20}, std::byte{0}};
  EXPECT_FALSE(r.route(wrong_version));
}

TEST(ListDigestFrame, RoundTrips) {
  const Bytes d = datagram([](wire::Writer& w) {
    wire::write_list_digest(w, wire::ListDigestFrame{300, 0xfedcba9876543210ULL});
  });
  wire::FrameIterator it(d);
  wire::Frame f;
  ASSERT_TRUE(it.next(f));
  EXPECT_EQ(f.type, std::uint8_t(wire::MemberFrame::state_digest));
  auto got = wire::decode_list_digest(f.body);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->count, 300u);
  EXPECT_EQ(got->digest, 0xfedcba9876543210ULL);
  EXPECT_FALSE(wire::decode_list_digest(std::span(f.body.data(), 1)).has_value());
}

}  // namespace
}  // namespace grapevine::detail
