// HyParView/Plumtree frames (wire/native_hyparview.h): round trips, golden bytes, and every
// malformed-input path (truncation, limits, bad values, trailing bytes).
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "wire/native_hyparview.h"

namespace grapevine::wire::hpv {
namespace {

using Bytes = std::vector<std::byte>;

Bytes bytes(std::initializer_list<int> v) {
  Bytes out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

// Writes one frame with `write`, checks its type, returns the body.
template <class W>
Bytes body_of(Frame type, W&& write) {
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  EXPECT_TRUE(write(w));
  Reader r(w.written());
  EXPECT_EQ(r.u8(), std::uint8_t(type));
  auto len = r.varint();
  auto rest = r.rest();
  EXPECT_EQ(len, rest.size());
  return Bytes(rest.begin(), rest.end());
}

constexpr PeerWire kPeer = PeerWire(0x0a000002) << 16 | 7946;  // 10.0.0.2:7946

TEST(HyParViewCodec, ControlGoldenAndRoundTrip) {
  auto b = body_of(Frame::control, [](Writer& w) { return write_control(w, ControlKind::prune); });
  EXPECT_EQ(b, bytes({9}));
  auto f = decode_control(b);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->kind, ControlKind::prune);
  EXPECT_FALSE(decode_control(bytes({0})));
  EXPECT_FALSE(decode_control(bytes({kControlKindMax + 1})));
  EXPECT_FALSE(decode_control(bytes({})));
  EXPECT_FALSE(decode_control(bytes({1, 1})));  // trailing byte
}

TEST(HyParViewCodec, ForwardJoinGoldenAndLimits) {
  auto b = body_of(Frame::forward_join, [](Writer& w) {
    return write_forward_join(w, ForwardJoinFrame{kPeer, 6});
  });
  EXPECT_EQ(b, bytes({10, 0, 0, 2, 0x1f, 0x0a, 6}));
  auto f = decode_forward_join(b);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->peer, kPeer);
  EXPECT_EQ(f->ttl, 6);
  EXPECT_FALSE(decode_forward_join(bytes({10, 0, 0, 2, 0x1f, 0x0a, kWalkTtlMax + 1})));
  EXPECT_FALSE(decode_forward_join(bytes({0, 0, 0, 0, 0x1f, 0x0a, 1})));  // no address
  EXPECT_FALSE(decode_forward_join(bytes({10, 0, 0, 2, 0, 0, 1})));       // no port
  EXPECT_EQ(decode_forward_join(bytes({10, 0, 0, 2, 0x1f})).error().code, Errc::truncated);
}

TEST(HyParViewCodec, ShuffleRoundTripAndLimits) {
  std::array<PeerWire, 3> peers{kPeer, kPeer + 1, kPeer + 2};
  auto b = body_of(Frame::shuffle, [&](Writer& w) { return write_shuffle(w, kPeer, 4, peers); });
  ShuffleFrame f;
  ASSERT_TRUE(decode_shuffle(b, f));
  EXPECT_EQ(f.origin, kPeer);
  EXPECT_EQ(f.ttl, 4);
  ASSERT_EQ(f.count, 3);
  EXPECT_EQ(f.peers[2], kPeer + 2);
  auto r = body_of(Frame::shuffle_reply, [&](Writer& w) { return write_shuffle_reply(w, peers); });
  ASSERT_TRUE(decode_shuffle_reply(r, f));
  EXPECT_EQ(f.count, 3);
  // A count over the limit, and a count the body does not hold.
  Bytes over = bytes({kShufflePeersMax + 1});
  EXPECT_EQ(decode_shuffle_reply(over, f).error().code, Errc::too_large);
  Bytes shortlist = bytes({2, 10, 0, 0, 2, 0x1f, 0x0a});
  EXPECT_EQ(decode_shuffle_reply(shortlist, f).error().code, Errc::truncated);
}

TEST(HyParViewCodec, GossipRoundTripAndPayloadLimit) {
  std::array<std::byte, 3> payload{std::byte{1}, std::byte{2}, std::byte{3}};
  auto b = body_of(Frame::gossip, [&](Writer& w) {
    return write_gossip(w, GossipFrame{300, 7, payload});
  });
  EXPECT_EQ(b, bytes({0xac, 0x02, 7, 1, 2, 3}));
  auto g = decode_gossip(b);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->id, 300u);
  EXPECT_EQ(g->hops, 7u);
  EXPECT_EQ(g->payload.size(), 3u);
  Bytes big(3 + kMulticastPayloadBytesMax + 1, std::byte{0});
  big[0] = std::byte{1};
  big[1] = std::byte{1};
  EXPECT_EQ(decode_gossip(big).error().code, Errc::too_large);
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  std::vector<std::byte> too_long(kMulticastPayloadBytesMax + 1);
  EXPECT_FALSE(write_gossip(w, GossipFrame{1, 1, too_long}));
}

TEST(HyParViewCodec, IHaveAndGraftRoundTripAndLimits) {
  std::array<IHaveEntry, 2> entries{IHaveEntry{5, 1}, IHaveEntry{1ull << 40, 9}};
  auto b = body_of(Frame::ihave, [&](Writer& w) { return write_ihave(w, entries); });
  IHaveFrame ih;
  ASSERT_TRUE(decode_ihave(b, ih));
  ASSERT_EQ(ih.count, 2u);
  EXPECT_EQ(ih.entries[1].id, 1ull << 40);
  EXPECT_EQ(ih.entries[1].hops, 9u);
  EXPECT_EQ(decode_ihave(bytes({kIHaveIdsMax + 1}), ih).error().code, Errc::too_large);
  EXPECT_EQ(decode_ihave(bytes({2, 5, 1}), ih).error().code, Errc::truncated);

  std::array<std::uint64_t, 2> ids{5, 6};
  auto g = body_of(Frame::graft, [&](Writer& w) { return write_graft(w, ids); });
  EXPECT_EQ(g, bytes({2, 5, 6}));
  GraftFrame gf;
  ASSERT_TRUE(decode_graft(g, gf));
  EXPECT_EQ(gf.count, 2u);
  EXPECT_TRUE(decode_graft(bytes({0}), gf));  // an empty GRAFT: "push to me" (optimisation)
  EXPECT_EQ(decode_graft(bytes({kIHaveIdsMax + 1}), gf).error().code, Errc::too_large);
}

TEST(HyParViewCodec, WritersRollBackWhenTheFrameDoesNotFit) {
  std::array<std::byte, 4> small;
  Writer w(small);
  std::array<PeerWire, 3> peers{kPeer, kPeer, kPeer};
  EXPECT_FALSE(write_shuffle(w, kPeer, 1, peers));
  EXPECT_EQ(w.size(), 0u);
}

}  // namespace
}  // namespace grapevine::wire::hpv
