// The partial-view frames (wire/native_views.h). Golden bytes are written by hand from the
// grammar in that header, so a format change breaks these on purpose.
#include <gtest/gtest.h>

#include <array>
#include <initializer_list>
#include <vector>

#include "grapevine/view.h"
#include "wire/native_views.h"

namespace grapevine::wire {
namespace {

using Bytes = std::vector<std::byte>;

Bytes bytes(std::initializer_list<int> list) {
  Bytes out;
  for (int b : list) out.push_back(std::byte(b));
  return out;
}

template <class F>
Bytes frame_of(F&& write) {
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  EXPECT_TRUE(write(w));
  auto s = w.written();
  return {s.begin(), s.end()};
}

// The body of a single encoded frame, after checking its type byte and length.
std::span<const std::byte> body_of(const Bytes& frame, ViewFrame type) {
  Reader r(frame);
  EXPECT_EQ(r.u8(), std::uint8_t(type));
  auto len = r.varint();
  auto body = r.rest();
  EXPECT_EQ(len, body.size());
  return body;
}

const Address kA = Address::ipv4(10, 0, 0, 1, 7946);
const Address kB = Address::ipv4(10, 0, 0, 2, 7946);

TEST(NativeViewsCodec, SubscribeGolden) {
  Bytes f = frame_of([](Writer& w) { return write_subscribe(w, {true, 3, kA}); });
  EXPECT_EQ(f, bytes({0x30, 9, 1, 3, 4, 10, 0, 0, 1, 0x1f, 0x0a}));
  auto d = decode_subscribe(body_of(f, ViewFrame::subscribe));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->is_new);
  EXPECT_EQ(d->hops, 3u);
  EXPECT_EQ(d->subscriber, kA);
}

TEST(NativeViewsCodec, UnsubscribeWithAndWithoutReplacement) {
  Bytes f = frame_of([](Writer& w) { return write_unsubscribe(w, {kA, kB}); });
  auto d = decode_unsubscribe(body_of(f, ViewFrame::unsubscribe));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->leaving, kA);
  EXPECT_EQ(d->replacement, kB);
  Bytes g = frame_of([](Writer& w) { return write_unsubscribe(w, {kA, Address{}}); });
  EXPECT_EQ(g, bytes({0x32, 8, 4, 10, 0, 0, 1, 0x1f, 0x0a, 0}));
  auto e = decode_unsubscribe(body_of(g, ViewFrame::unsubscribe));
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->replacement.valid());
}

TEST(NativeViewsCodec, ShuffleGoldenAndRoundTrip) {
  const ViewEntry entries[] = {{kA, 0}, {kB, 200}};
  Bytes f = frame_of([&](Writer& w) { return write_shuffle(w, kShuffleReply, entries); });
  EXPECT_EQ(f, bytes({0x34, 19, 1,  2, 4, 10, 0,    0,    1,    0x1f, 0x0a,
                      0,    4,  10, 0, 0, 2,  0x1f, 0x0a, 0xc8, 0x01}));
  auto d = decode_shuffle(body_of(f, ViewFrame::shuffle));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->kind, kShuffleReply);
  ASSERT_EQ(d->count, 2u);
  EXPECT_EQ(d->entries[0], entries[0]);
  EXPECT_EQ(d->entries[1], entries[1]);
}

TEST(NativeViewsCodec, TmanAndWalkAndInview) {
  const Address peers[] = {kB, kA};
  Bytes f = frame_of([&](Writer& w) { return write_tman(w, kTmanRequest, peers); });
  auto d = decode_tman(body_of(f, ViewFrame::tman));
  ASSERT_TRUE(d);
  ASSERT_EQ(d->count, 2u);
  EXPECT_EQ(d->entries[0].address, kB);
  Bytes g = frame_of([](Writer& w) { return write_walk(w, {5, kB}); });
  auto e = decode_walk(body_of(g, ViewFrame::walk));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ttl, 5u);
  EXPECT_EQ(e->joiner, kB);
  Bytes h = frame_of([](Writer& w) { return write_inview(w, {false}); });
  EXPECT_EQ(h, bytes({0x31, 1, 0}));
}

TEST(NativeViewsCodec, GossipGolden) {
  const Bytes payload = bytes({'h', 'i'});
  Bytes f = frame_of([&](Writer& w) { return write_view_gossip(w, {300, 2, payload}); });
  EXPECT_EQ(f, bytes({0x36, 5, 0xac, 0x02, 2, 'h', 'i'}));
  auto d = decode_view_gossip(body_of(f, ViewFrame::view_gossip));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->msg_id, 300u);
  EXPECT_EQ(d->hops, 2u);
  EXPECT_EQ(d->payload.size(), 2u);
}

TEST(NativeViewsCodec, MalformedInputIsRejected) {
  // Truncated address, unknown flag, trailing byte, too many entries, bad family.
  EXPECT_FALSE(decode_subscribe(bytes({1, 0, 4, 10, 0})));
  EXPECT_FALSE(decode_inview(bytes({2})));
  EXPECT_FALSE(decode_inview(bytes({1, 0})));
  EXPECT_FALSE(decode_shuffle(bytes({0, 65})));
  EXPECT_FALSE(decode_shuffle(bytes({3, 0})));
  EXPECT_FALSE(decode_walk(bytes({1, 5, 10, 0, 0, 1, 0, 1})));
  Bytes big(kMulticastPayloadBytesMax + 3, std::byte{0});
  EXPECT_FALSE(decode_view_gossip(big));
}

TEST(NativeViewsCodec, WritersRefuseWhatCannotBeDecoded) {
  std::vector<ViewEntry> many(kViewEntriesMax + 1, ViewEntry{kA, 0});
  std::array<std::byte, kPacketBudgetBytesMax> buf;
  Writer w(buf);
  EXPECT_FALSE(write_shuffle(w, kShuffleRequest, many));
  EXPECT_FALSE(write_subscribe(w, {true, 0, Address{}}));
  EXPECT_EQ(w.size(), 0u);
}

TEST(ViewConfig, KindNamesRoundTripAndDefaultsValidate) {
  for (ViewKind k : {ViewKind::scamp, ViewKind::cyclon, ViewKind::tman, ViewKind::hyparview}) {
    ViewKind back{};
    ASSERT_TRUE(parse_view_kind(view_kind_name(k), back));
    EXPECT_EQ(back, k);
  }
  ViewKind x{};
  EXPECT_FALSE(parse_view_kind("newscast", x));
  EXPECT_TRUE(validate(ViewConfig{}));
  ViewConfig bad;
  bad.cyclon_shuffle_length = bad.cyclon_view_size + 1;
  EXPECT_FALSE(validate(bad));
}

}  // namespace
}  // namespace grapevine::wire
