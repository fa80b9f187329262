// FrameBatch (core/views/frame_batch.h): Plumtree frames for one peer share a datagram, in
// order; full batches, oversized datagrams and a ninth peer go out unbatched, still in order.
#include "core/views/frame_batch.h"

#include <gtest/gtest.h>

#include <vector>

#include "wire/native.h"

namespace grapevine::views {
namespace {

struct Recorder final : PlumtreeTransport {
  std::vector<std::pair<Peer, std::vector<std::byte>>> sent;
  void send_to(Peer to, std::span<const std::byte> d, Effects&) override {
    sent.emplace_back(to, std::vector<std::byte>(d.begin(), d.end()));
  }
};

// A datagram: the version byte, then `n` bytes of value `v` (stands for one frame).
std::vector<std::byte> datagram(std::size_t n, std::uint8_t v) {
  std::vector<std::byte> d(n + 1, std::byte{v});
  d[0] = std::byte{wire::kNativeVersion};
  return d;
}

struct NullEffects final : Effects {
  void send(const Address&, std::span<const std::byte>) override {}
  void emit(const Event&) override {}
};

TEST(FrameBatch, FramesForOnePeerShareADatagramInOrder) {
  Recorder out;
  NullEffects fx;
  FrameBatch b(out);
  b.send_to(1, datagram(10, 0xa1), fx);
  b.send_to(2, datagram(5, 0xb1), fx);
  b.send_to(1, datagram(20, 0xa2), fx);
  EXPECT_TRUE(out.sent.empty());  // nothing leaves before flush
  b.flush(fx);
  ASSERT_EQ(out.sent.size(), 2u);
  EXPECT_EQ(out.sent[0].first, 1u);
  ASSERT_EQ(out.sent[0].second.size(), 31u);  // one version byte, both frames
  EXPECT_EQ(out.sent[0].second[0], std::byte{wire::kNativeVersion});
  EXPECT_EQ(out.sent[0].second[10], std::byte{0xa1});
  EXPECT_EQ(out.sent[0].second[11], std::byte{0xa2});
  EXPECT_EQ(out.sent[1].first, 2u);
  EXPECT_EQ(out.sent[1].second.size(), 6u);
  b.flush(fx);
  EXPECT_EQ(out.sent.size(), 2u);  // flushed batches are not sent twice
}

TEST(FrameBatch, FullOversizedAndTooManyPeersGoOutUnbatched) {
  Recorder out;
  NullEffects fx;
  FrameBatch b(out);
  b.send_to(1, datagram(1000, 1), fx);
  b.send_to(1, datagram(1000, 2), fx);  // does not fit: the first leaves now
  ASSERT_EQ(out.sent.size(), 1u);
  EXPECT_EQ(out.sent[0].second.size(), 1001u);
  b.send_to(3, datagram(FrameBatch::kBatchBytesMax + 10, 3), fx);  // too big to batch
  ASSERT_EQ(out.sent.size(), 2u);
  for (Peer p = 10; p < 20; ++p) b.send_to(p, datagram(4, std::uint8_t(p)), fx);
  // Peers 1 and 10..16 hold the 8 batches (3 left nothing pending); 17..19 go at once.
  EXPECT_EQ(out.sent.size(), 2u + 3u);
  b.flush(fx);
  EXPECT_EQ(out.sent.size(), 2u + 3u + 8u);
  EXPECT_EQ(out.sent[5].first, 1u);
  EXPECT_EQ(out.sent[5].second[1], std::byte{2});
}

TEST(FrameBatch, ABatchHoldsAtMostKBatchDatagramsMax) {
  Recorder out;
  NullEffects fx;
  FrameBatch b(out);
  for (std::size_t k = 0; k < FrameBatch::kBatchDatagramsMax + 1; ++k) {
    b.send_to(7, datagram(2, 9), fx);  // tiny frames: the count, not the bytes, fills it
  }
  ASSERT_EQ(out.sent.size(), 1u);
  EXPECT_EQ(out.sent[0].second.size(), 1 + 2 * FrameBatch::kBatchDatagramsMax);
  b.flush(fx);
  ASSERT_EQ(out.sent.size(), 2u);
  EXPECT_EQ(out.sent[1].second.size(), 3u);
}

}  // namespace
}  // namespace grapevine::views
