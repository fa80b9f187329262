// The native wire codec. Golden vectors pin the format byte by byte, as native.h specifies it:
//
//   datagram := version:u8 frame+        frame := type:u8 length:varint body[length]
//
// with LEB128 varints inside bodies (a MessageId is origin:varint seq:varint). The expected
// bytes below were written by hand from that grammar, not produced by the encoder under test, so
// a change to the format breaks these tests on purpose: bump kNativeVersion and update them.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "wire/native.h"

namespace grapevine::wire {
namespace {

using Bytes = std::vector<std::byte>;

Bytes bytes(std::initializer_list<int> list) {
  Bytes out;
  for (int b : list) out.push_back(std::byte(b));
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Encodes one datagram holding the frames `write` adds; fails the test if any does not fit.
template <class F>
Bytes datagram(F&& write, std::size_t capacity = kPacketBudgetBytesMax) {
  std::vector<std::byte> buf(capacity);
  Writer w(buf);
  begin_datagram(w);
  EXPECT_TRUE(write(w));
  EXPECT_TRUE(w.ok());
  auto s = w.written();
  return {s.begin(), s.end()};
}

// The single frame of a datagram (asserting there is exactly one).
Frame only_frame(const Bytes& d) {
  FrameIterator it(d);
  Frame f;
  EXPECT_TRUE(it.next(f));
  Frame extra;
  EXPECT_FALSE(it.next(extra));
  EXPECT_TRUE(it.ok());
  return f;
}

Bytes payload_of(std::size_t n) {
  Bytes p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = std::byte(i * 7 + 3);
  return p;
}

// ---- golden vectors -----------------------------------------------------------------------

TEST(NativeGolden, DataFrame) {
  const Bytes payload = bytes({0x68, 0x69});  // "hi"
  DataFrame f{MessageId{300, 1}, 2, kDataPullReply, payload};
  // version | type 0x10 | length 7 | origin 300 = ac 02 | seq 1 | hops 2 | flags 1 | "hi"
  const Bytes expected = bytes({0x01, 0x10, 0x07, 0xac, 0x02, 0x01, 0x02, 0x01, 0x68, 0x69});
  EXPECT_EQ(datagram([&](Writer& w) { return write_data(w, f); }), expected);
  EXPECT_EQ(data_frame_size(f), expected.size() - 1);
}

TEST(NativeGolden, DataFrameWithSimulatorOrigin) {
  // node_id_of(10.0.0.1:7946) = 0x0A000001 << 16 | 0x1F0A = 0x0A0000011F0A: a 7-byte varint.
  const Bytes payload = bytes({0x78});
  DataFrame f{MessageId{0x0A0000011F0AULL, 1}, 0, kDataPush, payload};
  const Bytes expected =
      bytes({0x01, 0x10, 0x0b, 0x8a, 0xbe, 0x84, 0x80, 0x80, 0xc0, 0x02, 0x01, 0x00, 0x00, 0x78});
  EXPECT_EQ(datagram([&](Writer& w) { return write_data(w, f); }), expected);
}

TEST(NativeGolden, DataFrameWithTwoByteLength) {
  // Body = origin 1 + seq 1 + hops 1 + flags 1 + 200 payload bytes = 204 = cc 01.
  const Bytes payload = payload_of(200);
  DataFrame f{MessageId{1, 2}, 3, std::uint8_t(kDataRepair | kDataRetransmit), payload};
  const Bytes expected = concat({bytes({0x01, 0x10, 0xcc, 0x01, 0x01, 0x02, 0x03, 0x06}), payload});
  EXPECT_EQ(datagram([&](Writer& w) { return write_data(w, f); }), expected);
  EXPECT_EQ(data_frame_size(f), expected.size() - 1);
}

TEST(NativeGolden, EmptyPayloadDataFrame) {
  DataFrame f{MessageId{0, 0}, 0, kDataPush, {}};
  EXPECT_EQ(datagram([&](Writer& w) { return write_data(w, f); }),
            bytes({0x01, 0x10, 0x04, 0x00, 0x00, 0x00, 0x00}));
}

TEST(NativeGolden, PullRequest) {
  const MessageId ids[] = {{1, 1}, {300, 2}};
  // count 2 | (1,1) | (300 = ac 02, 2)
  EXPECT_EQ(datagram([&](Writer& w) { return write_pull_request(w, ids); }),
            bytes({0x01, 0x11, 0x06, 0x02, 0x01, 0x01, 0xac, 0x02, 0x02}));
}

TEST(NativeGolden, EmptyPullRequest) {
  EXPECT_EQ(datagram([&](Writer& w) { return write_pull_request(w, {}); }),
            bytes({0x01, 0x11, 0x01, 0x00}));
}

TEST(NativeGolden, Feedback) {
  EXPECT_EQ(datagram([&](Writer& w) {
              return write_feedback(w, {MessageId{5, 7}, true});
            }),
            bytes({0x01, 0x12, 0x03, 0x05, 0x07, 0x01}));
  EXPECT_EQ(datagram([&](Writer& w) {
              return write_feedback(w, {MessageId{5, 7}, false});
            }),
            bytes({0x01, 0x12, 0x03, 0x05, 0x07, 0x00}));
}

TEST(NativeGolden, Ack) {
  EXPECT_EQ(datagram([&](Writer& w) {
              return write_ack(w, {MessageId{5, 7}});
            }),
            bytes({0x01, 0x13, 0x02, 0x05, 0x07}));
  // seq UINT32_MAX = ff ff ff ff 0f.
  EXPECT_EQ(datagram([&](Writer& w) {
              return write_ack(w, {MessageId{128, UINT32_MAX}});
            }),
            bytes({0x01, 0x13, 0x07, 0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}));
}

TEST(NativeGolden, Nack) {
  EXPECT_EQ(datagram([&](Writer& w) {
              return write_nack(w, {MessageId{5, 7}, 3});
            }),
            bytes({0x01, 0x14, 0x03, 0x05, 0x07, 0x03}));
}

TEST(NativeGolden, Session) {
  EXPECT_EQ(datagram([&](Writer& w) {
              return write_session(w, {5, 7});
            }),
            bytes({0x01, 0x15, 0x02, 0x05, 0x07}));
  EXPECT_EQ(
      datagram([&](Writer& w) {
        return write_session(w, {UINT64_MAX, 0});
      }),
      bytes({0x01, 0x15, 0x0b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00}));
}

TEST(NativeGolden, SeveralFramesInOneDatagram) {
  const Bytes payload = bytes({0xaa});
  auto d = datagram([&](Writer& w) {
    return write_data(w, {MessageId{1, 1}, 0, kDataPush, payload}) &&
           write_feedback(w, {MessageId{2, 3}, true}) && write_ack(w, {MessageId{4, 5}});
  });
  EXPECT_EQ(d, bytes({0x01,                                      // version
                      0x10, 0x05, 0x01, 0x01, 0x00, 0x00, 0xaa,  // data
                      0x12, 0x03, 0x02, 0x03, 0x01,              // feedback
                      0x13, 0x02, 0x04, 0x05}));                 // ack
}

// ---- decoding the golden vectors ----------------------------------------------------------

TEST(NativeDecode, GoldenDataFrame) {
  const Bytes d = bytes({0x01, 0x10, 0x07, 0xac, 0x02, 0x01, 0x02, 0x01, 0x68, 0x69});
  Frame frame = only_frame(d);
  EXPECT_EQ(frame.type, std::uint8_t(FrameType::data));
  auto f = decode_data(frame.body);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->id, (MessageId{300, 1}));
  EXPECT_EQ(f->hops, 2u);
  EXPECT_EQ(f->flags, kDataPullReply);
  ASSERT_EQ(f->payload.size(), 2u);
  EXPECT_EQ(f->payload.data(), d.data() + 8);  // points into the datagram, no copy
}

TEST(NativeDecode, GoldenPullRequest) {
  const Bytes d = bytes({0x01, 0x11, 0x06, 0x02, 0x01, 0x01, 0xac, 0x02, 0x02});
  Frame frame = only_frame(d);
  EXPECT_EQ(frame.type, std::uint8_t(FrameType::pull_request));
  auto f = decode_pull_request(frame.body);
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->count, 2u);
  EXPECT_EQ(f->ids[0], (MessageId{1, 1}));
  EXPECT_EQ(f->ids[1], (MessageId{300, 2}));
}

TEST(NativeDecode, GoldenControlFrames) {
  {
    const Bytes d = bytes({0x01, 0x12, 0x03, 0x05, 0x07, 0x01});
    Frame frame = only_frame(d);
    EXPECT_EQ(frame.type, std::uint8_t(FrameType::feedback));
    auto f = decode_feedback(frame.body);
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->id, (MessageId{5, 7}));
    EXPECT_TRUE(f->was_new);
  }
  {
    auto f = decode_feedback(bytes({0x05, 0x07, 0x00}));
    ASSERT_TRUE(f.has_value());
    EXPECT_FALSE(f->was_new);
  }
  {
    auto f = decode_ack(bytes({0x80, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f}));
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->id, (MessageId{128, UINT32_MAX}));
  }
  {
    auto f = decode_nack(bytes({0x05, 0x07, 0x03}));
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->id, (MessageId{5, 7}));
    EXPECT_EQ(f->requester_hops, 3u);
  }
  {
    auto f =
        decode_session(bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00}));
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->origin, UINT64_MAX);
    EXPECT_EQ(f->highest_seq, 0u);
  }
}

// ---- round trips --------------------------------------------------------------------------

TEST(NativeRoundTrip, DataFrames) {
  for (std::size_t size : {std::size_t(0), std::size_t(1), std::size_t(64), std::size_t(127),
                           std::size_t(128), kMulticastPayloadBytesMax}) {
    for (MessageId id : {MessageId{0, 0}, MessageId{1, 1}, MessageId{UINT64_MAX, UINT32_MAX},
                         MessageId{0x0A0000011F0AULL, 12345}}) {
      const Bytes payload = payload_of(size);
      DataFrame in{id, 7, kDataRetransmit, payload};
      Bytes d = datagram([&](Writer& w) { return write_data(w, in); });
      EXPECT_EQ(d.size(), 1 + data_frame_size(in));
      auto out = decode_data(only_frame(d).body);
      ASSERT_TRUE(out.has_value()) << size;
      EXPECT_EQ(out->id, id);
      EXPECT_EQ(out->hops, 7u);
      EXPECT_EQ(out->flags, kDataRetransmit);
      EXPECT_EQ(Bytes(out->payload.begin(), out->payload.end()), payload);
    }
  }
}

TEST(NativeRoundTrip, PullRequestUpToTheLimit) {
  std::vector<MessageId> ids;
  for (std::uint32_t i = 0; i < kPullDigestIdsMax; ++i) {
    ids.push_back(MessageId{std::uint64_t(i) << 40 | i, i * 1000003u});
  }
  Bytes d = datagram([&](Writer& w) { return write_pull_request(w, ids); });
  auto out = decode_pull_request(only_frame(d).body);
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->count, kPullDigestIdsMax);
  for (std::uint32_t i = 0; i < kPullDigestIdsMax; ++i) EXPECT_EQ(out->ids[i], ids[i]);
}

TEST(NativeRoundTrip, PullRequestOverTheLimitIsClipped) {
  std::vector<MessageId> ids;
  for (std::uint32_t i = 0; i < kPullDigestIdsMax + 10; ++i) ids.push_back(MessageId{i, i});
  Bytes d = datagram([&](Writer& w) { return write_pull_request(w, ids); });
  auto out = decode_pull_request(only_frame(d).body);
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->count, kPullDigestIdsMax);  // the first 64 go, the rest are dropped
  EXPECT_EQ(out->ids[kPullDigestIdsMax - 1], (MessageId{63, 63}));
}

TEST(NativeRoundTrip, ControlFrames) {
  for (MessageId id : {MessageId{0, 0}, MessageId{UINT64_MAX, UINT32_MAX}, MessageId{9, 1}}) {
    for (bool was_new : {false, true}) {
      Bytes d = datagram([&](Writer& w) { return write_feedback(w, {id, was_new}); });
      auto f = decode_feedback(only_frame(d).body);
      ASSERT_TRUE(f.has_value());
      EXPECT_EQ(f->id, id);
      EXPECT_EQ(f->was_new, was_new);
    }
    Bytes a = datagram([&](Writer& w) { return write_ack(w, {id}); });
    auto ack = decode_ack(only_frame(a).body);
    ASSERT_TRUE(ack.has_value());
    EXPECT_EQ(ack->id, id);

    Bytes n = datagram([&](Writer& w) { return write_nack(w, {id, UINT32_MAX}); });
    auto nack = decode_nack(only_frame(n).body);
    ASSERT_TRUE(nack.has_value());
    EXPECT_EQ(nack->id, id);
    EXPECT_EQ(nack->requester_hops, UINT32_MAX);

    Bytes s = datagram([&](Writer& w) { return write_session(w, {id.origin, id.seq}); });
    auto session = decode_session(only_frame(s).body);
    ASSERT_TRUE(session.has_value());
    EXPECT_EQ(session->origin, id.origin);
    EXPECT_EQ(session->highest_seq, id.seq);
  }
}

// ---- writers respect the budget -----------------------------------------------------------

TEST(NativeWrite, FrameThatDoesNotFitLeavesTheWriterUntouched) {
  const Bytes payload = payload_of(100);
  DataFrame f{MessageId{1, 1}, 0, kDataPush, payload};
  const std::size_t exact = 1 + data_frame_size(f);
  {
    std::vector<std::byte> buf(exact);
    Writer w(buf);
    begin_datagram(w);
    EXPECT_TRUE(write_data(w, f));
    EXPECT_EQ(w.remaining(), 0u);
  }
  {
    std::vector<std::byte> buf(exact - 1);
    Writer w(buf);
    begin_datagram(w);
    EXPECT_FALSE(write_data(w, f));
    EXPECT_EQ(w.size(), 1u);  // only the version byte
    EXPECT_TRUE(w.ok());      // still usable for a smaller frame
    EXPECT_TRUE(write_ack(w, {MessageId{1, 1}}));
  }
  {
    std::array<std::byte, 3> buf{};
    Writer w(buf);
    begin_datagram(w);
    EXPECT_FALSE(write_feedback(w, {MessageId{1, 1}, true}));
    EXPECT_FALSE(write_nack(w, {MessageId{1, 1}, 1}));
    EXPECT_FALSE(write_session(w, {1, 1}));
    EXPECT_FALSE(write_ack(w, {MessageId{1, 1}}));
    const MessageId ids[] = {{1, 1}};
    EXPECT_FALSE(write_pull_request(w, ids));
    EXPECT_EQ(w.size(), 1u);
  }
}

// ---- malformed bodies ---------------------------------------------------------------------

TEST(NativeMalformed, TruncatedBodies) {
  EXPECT_EQ(decode_data({}).error().code, Errc::truncated);
  EXPECT_EQ(decode_data(bytes({0x01, 0x01, 0x00})).error().code, Errc::truncated);  // no flags
  EXPECT_EQ(decode_data(bytes({0x81})).error().code, Errc::truncated);  // inside the origin
  EXPECT_EQ(decode_pull_request({}).error().code, Errc::truncated);
  EXPECT_EQ(decode_pull_request(bytes({0x02, 0x01, 0x01})).error().code, Errc::truncated);
  EXPECT_EQ(decode_pull_request(bytes({0x01, 0x01})).error().code, Errc::truncated);
  EXPECT_EQ(decode_feedback(bytes({0x05, 0x07})).error().code, Errc::truncated);
  EXPECT_EQ(decode_ack(bytes({0x05})).error().code, Errc::truncated);
  EXPECT_EQ(decode_nack(bytes({0x05, 0x07})).error().code, Errc::truncated);
  EXPECT_EQ(decode_session(bytes({0x05})).error().code, Errc::truncated);
  EXPECT_EQ(decode_session({}).error().code, Errc::truncated);
}

TEST(NativeMalformed, EveryPrefixOfAValidBodyFails) {
  Bytes d = datagram([&](Writer& w) {
    return write_nack(w, {MessageId{1ULL << 40, 1u << 30}, 77});
  });
  Frame frame = only_frame(d);
  for (std::size_t n = 0; n < frame.body.size(); ++n) {
    EXPECT_FALSE(decode_nack(frame.body.first(n)).has_value()) << n;
  }
  Bytes p = datagram([&](Writer& w) {
    const MessageId ids[] = {{1ULL << 40, 5}, {3, 1u << 30}};
    return write_pull_request(w, ids);
  });
  Frame pf = only_frame(p);
  for (std::size_t n = 0; n < pf.body.size(); ++n) {
    EXPECT_FALSE(decode_pull_request(pf.body.first(n)).has_value()) << n;
  }
}

TEST(NativeMalformed, TrailingBytesInPullRequest) {
  auto f = decode_pull_request(bytes({0x01, 0x05, 0x07, 0x00}));
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, Errc::malformed);
  auto g = decode_pull_request(bytes({0x00, 0x00}));
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().code, Errc::malformed);
}

TEST(NativeMalformed, TooManyDigestIds) {
  // 65 ids, each (1,1): the count alone is over the limit, whatever follows.
  Bytes body = bytes({0x41});
  for (int i = 0; i < 65; ++i) {
    body.push_back(std::byte{1});
    body.push_back(std::byte{1});
  }
  auto f = decode_pull_request(body);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, Errc::too_large);
  // A huge count must not make the decoder loop or read: rejected up front.
  auto g = decode_pull_request(bytes({0xff, 0xff, 0xff, 0xff, 0x0f}));
  ASSERT_FALSE(g.has_value());
  EXPECT_EQ(g.error().code, Errc::too_large);
}

TEST(NativeMalformed, PayloadOverLimit) {
  Bytes body = bytes({0x01, 0x01, 0x00, 0x00});
  Bytes ok_body = concat({body, payload_of(kMulticastPayloadBytesMax)});
  EXPECT_TRUE(decode_data(ok_body).has_value());
  Bytes big_body = concat({body, payload_of(kMulticastPayloadBytesMax + 1)});
  auto f = decode_data(big_body);
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, Errc::too_large);
}

TEST(NativeMalformed, BadFeedbackFlag) {
  for (int flag : {2, 0x7f, 0x80, 0xff}) {
    auto f = decode_feedback(bytes({0x05, 0x07, flag}));
    ASSERT_FALSE(f.has_value()) << flag;
    EXPECT_EQ(f.error().code, Errc::malformed);
  }
}

TEST(NativeMalformed, SequenceAndHopsOver32Bits) {
  // seq = 2^32 = 80 80 80 80 10.
  const Bytes big = bytes({0x80, 0x80, 0x80, 0x80, 0x10});
  auto ack = decode_ack(concat({bytes({0x01}), big}));
  ASSERT_FALSE(ack.has_value());
  EXPECT_EQ(ack.error().code, Errc::too_large);
  auto data = decode_data(concat({bytes({0x01, 0x01}), big, bytes({0x00})}));
  ASSERT_FALSE(data.has_value());
  EXPECT_EQ(data.error().code, Errc::too_large);
  auto nack = decode_nack(concat({bytes({0x01, 0x01}), big}));
  ASSERT_FALSE(nack.has_value());
  EXPECT_EQ(nack.error().code, Errc::too_large);
  auto session = decode_session(concat({bytes({0x01}), big}));
  ASSERT_FALSE(session.has_value());
  EXPECT_EQ(session.error().code, Errc::too_large);
}

TEST(NativeMalformed, OverlongVarintInsideAFrame) {
  auto f =
      decode_ack(bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01}));
  ASSERT_FALSE(f.has_value());
  EXPECT_EQ(f.error().code, Errc::malformed);
}

// ---- FrameIterator ------------------------------------------------------------------------

TEST(FrameIterator, WalksFramesInOrder) {
  const Bytes d = bytes({0x01, 0x13, 0x02, 0x04, 0x05, 0x7e, 0x00, 0x15, 0x02, 0x05, 0x07});
  FrameIterator it(d);
  Frame f;
  ASSERT_TRUE(it.next(f));
  EXPECT_EQ(f.type, 0x13);
  EXPECT_EQ(f.body.size(), 2u);
  EXPECT_EQ(f.body.data(), d.data() + 3);
  ASSERT_TRUE(it.next(f));  // unknown type, empty body: still a frame, for the caller to skip
  EXPECT_EQ(f.type, 0x7e);
  EXPECT_TRUE(f.body.empty());
  ASSERT_TRUE(it.next(f));
  EXPECT_EQ(f.type, 0x15);
  EXPECT_FALSE(it.next(f));
  EXPECT_TRUE(it.ok());
  EXPECT_FALSE(it.next(f));  // stays finished
}

TEST(FrameIterator, VersionOnlyHasNoFrames) {
  const Bytes d = bytes({0x01});
  FrameIterator it(d);
  Frame f;
  EXPECT_FALSE(it.next(f));
  EXPECT_TRUE(it.ok());
}

TEST(FrameIterator, EmptyDatagramIsTruncated) {
  FrameIterator it(std::span<const std::byte>{});
  Frame f;
  EXPECT_FALSE(it.next(f));
  EXPECT_FALSE(it.ok());
  EXPECT_EQ(it.error(), Errc::truncated);
}

TEST(FrameIterator, WrongVersion) {
  for (int version : {0x00, 0x02, 0xff}) {
    const Bytes d = bytes({version, 0x13, 0x02, 0x05, 0x07});
    FrameIterator it(d);
    Frame f;
    EXPECT_FALSE(it.next(f)) << version;
    EXPECT_EQ(it.error(), Errc::unsupported_version) << version;
  }
}

TEST(FrameIterator, FrameLengthBeyondDatagram) {
  const Bytes d = bytes({0x01, 0x13, 0x02, 0x05, 0x07, 0x13, 0x03, 0x05, 0x07});
  FrameIterator it(d);
  Frame f;
  ASSERT_TRUE(it.next(f));  // the first frame is fine
  EXPECT_FALSE(it.next(f));
  EXPECT_FALSE(it.ok());
  EXPECT_EQ(it.error(), Errc::truncated);
  // A length that would overflow size_t arithmetic if added to a position.
  const Bytes huge =
      bytes({0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00});
  FrameIterator it2(huge);
  EXPECT_FALSE(it2.next(f));
  EXPECT_EQ(it2.error(), Errc::truncated);
}

TEST(FrameIterator, HeaderCutShort) {
  for (const Bytes& d : {bytes({0x01, 0x10}), bytes({0x01, 0x10, 0x80})}) {
    FrameIterator it(d);
    Frame f;
    EXPECT_FALSE(it.next(f));
    EXPECT_EQ(it.error(), Errc::truncated);
  }
  const Bytes overlong =
      bytes({0x01, 0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00});
  FrameIterator it(overlong);
  Frame f;
  EXPECT_FALSE(it.next(f));
  EXPECT_EQ(it.error(), Errc::malformed);
}

TEST(FrameIterator, FrameCountLimit) {
  // kFramesPerDatagramMax empty frames are fine; one more and the datagram is rejected.
  Bytes d = bytes({0x01});
  for (std::size_t i = 0; i < kFramesPerDatagramMax; ++i) {
    d.push_back(std::byte{0x7e});
    d.push_back(std::byte{0x00});
  }
  {
    FrameIterator it(d);
    Frame f;
    std::size_t n = 0;
    while (it.next(f)) ++n;
    EXPECT_TRUE(it.ok());
    EXPECT_EQ(n, kFramesPerDatagramMax);
  }
  d.push_back(std::byte{0x7e});
  d.push_back(std::byte{0x00});
  {
    FrameIterator it(d);
    Frame f;
    std::size_t n = 0;
    while (it.next(f)) ++n;
    EXPECT_FALSE(it.ok());
    EXPECT_EQ(it.error(), Errc::too_large);
    EXPECT_EQ(n, kFramesPerDatagramMax);
  }
}

TEST(FrameIterator, DatagramOverUdpMaximum) {
  Bytes d(kDatagramBytesMax + 1, std::byte{0});
  d[0] = std::byte{kNativeVersion};
  FrameIterator it(d);
  Frame f;
  EXPECT_FALSE(it.next(f));
  EXPECT_EQ(it.error(), Errc::too_large);

  Bytes max(kDatagramBytesMax, std::byte{0});
  max[0] = std::byte{kNativeVersion};
  FrameIterator ok_it(max);
  EXPECT_TRUE(ok_it.ok());
}

}  // namespace
}  // namespace grapevine::wire
