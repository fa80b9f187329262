// The scuttlebutt machine alone (no Node, no simulator): what it sends for each message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/state/scuttlebutt.h"
#include "wire/native_state.h"

namespace grapevine {
namespace {

using namespace wire;

struct Capture final : Effects {
  std::vector<std::vector<std::byte>> datagrams, streams;
  std::vector<Event> events;
  void send(const Address&, std::span<const std::byte> d) override {
    datagrams.emplace_back(d.begin(), d.end());
  }
  void emit(const Event& e) override { events.push_back(e); }
  void send_stream(const Address&, std::span<const std::byte> m) override {
    streams.emplace_back(m.begin(), m.end());
  }
};

const Address kA = Address::ipv4(10, 0, 0, 1, 7946), kB = Address::ipv4(10, 0, 0, 2, 7946);

std::vector<std::byte> datagram_with(auto&& write) {
  std::vector<std::byte> buf(1400);
  Writer w(buf);
  begin_datagram(w);
  EXPECT_TRUE(write(w));
  buf.resize(w.size());
  return buf;
}

void deliver(detail::Scuttlebutt& m, Time now, std::span<const std::byte> dgram, Capture& fx) {
  FrameIterator it(dgram);
  Frame f;
  while (it.next(f)) m.on_frame(now, kB, f, fx);
}

TEST(Scuttlebutt, SilentWithoutKeysAndWhenSummariesMatch) {
  StaticGroup g({kA, kB});
  detail::Scuttlebutt m(StateConfig{}, kA, g, 1);
  Capture fx;
  for (int i = 0; i < 20; ++i) m.on_timeout(Time::zero() + Duration::milliseconds(200 * i), fx);
  EXPECT_TRUE(fx.datagrams.empty());
  ASSERT_TRUE(m.set(Time::from_ns(5'000'000'000), "k", "v", Duration::zero(), fx));
  m.on_timeout(Time::from_ns(5'300'000'000), fx);
  ASSERT_EQ(fx.datagrams.size(), 1u);  // one summary, to B
  EXPECT_LE(fx.datagrams[0].size(), 12u);
  // A differing summary gets the bucket hashes; the same one gets nothing back.
  fx.datagrams.clear();
  deliver(m, Time::from_ns(5'400'000'000), datagram_with([&](Writer& w) {
            return write_state_summary(w, {5, 6});
          }), fx);
  ASSERT_EQ(fx.datagrams.size(), 1u);
  EXPECT_EQ(std::to_integer<int>(fx.datagrams[0][1]), 0x53);
  fx.datagrams.clear();
  deliver(m, Time::from_ns(5'400'000'000), datagram_with([&](Writer& w) {
            return write_state_summary(w, m.store().summary());
          }), fx);
  EXPECT_TRUE(fx.datagrams.empty());
}

// A delta to an empty peer: within the datagram budget (several datagrams, each a consistent
// prefix) while small, over a stream once large.
std::pair<std::size_t, std::size_t> reply_to_empty_digest(int keys, std::size_t* largest) {
  StaticGroup g({kA, kB});
  detail::Scuttlebutt m(StateConfig{}, kA, g, 1);
  Capture fx;
  const Time t = Time::from_ns(1'000'000'000);
  for (int i = 0; i < keys; ++i) {
    EXPECT_TRUE(m.set(t, "key/" + std::to_string(i), std::string(100, 'x'), Duration::zero(), fx));
  }
  deliver(m, t, datagram_with([](Writer& w) { return write_state_digest(w, StateDigest{}); }), fx);
  *largest = 0;
  std::uint64_t reached = 0;
  for (const auto& d : fx.datagrams) {
    *largest = std::max(*largest, d.size());
    FrameIterator it(d);
    Frame f;
    EXPECT_TRUE(it.next(f));
    StateDeltaReader r(f.body);
    StateBlockHeader h;
    while (r.next_block(h)) {
      EXPECT_EQ(h.from, reached);  // each datagram continues where the previous stopped
      reached = h.up_to;
    }
    EXPECT_TRUE(r.ok());
  }
  return {fx.datagrams.size(), fx.streams.size()};
}

TEST(Scuttlebutt, DeltaRespectsTheDatagramBudgetThenUsesAStream) {
  std::size_t largest = 0;
  auto [d1, s1] = reply_to_empty_digest(5, &largest);
  EXPECT_EQ(d1, 1u);
  EXPECT_EQ(s1, 0u);
  auto [d2, s2] = reply_to_empty_digest(40, &largest);  // ~4.5 KB: a few datagrams
  EXPECT_GE(d2, 3u);
  EXPECT_LE(d2, 4u);
  EXPECT_EQ(s2, 0u);
  EXPECT_LE(largest, 1400u);
  auto [d3, s3] = reply_to_empty_digest(400, &largest);  // ~45 KB: one stream
  EXPECT_EQ(d3, 0u);
  EXPECT_EQ(s3, 1u);
}

TEST(Scuttlebutt, DigestIsBoundedAndItsWindowAdvances) {
  StaticGroup g({kA, kB});
  detail::Scuttlebutt m(StateConfig{}, kA, g, 1);
  Capture fx;
  const Time t = Time::from_ns(1'000'000'000);
  // 1000 peers' states arrive in one stream.
  std::vector<std::byte> body(1 << 20);
  Writer w(body);
  write_state_entries(w, {});
  for (std::uint64_t id = 1; id <= 1000; ++id) {
    write_state_block_header(w, {id << 16, 1'700'000'000'000'000'000ull, 0, 0, 1, 1});
    write_state_key_op(w, {"k", {}, 1, false});
  }
  m.on_stream(t, kB, make_state_stream(w.written()), fx);
  ASSERT_EQ(m.store().summary().count, 1000u);
  std::uint64_t covered = 0, prev_hi = 0;
  for (int round = 0; round < 40; ++round) {
    fx.datagrams.clear();
    deliver(m, t, datagram_with([](Writer& w2) { return write_state_buckets(w2, {}); }), fx);
    ASSERT_EQ(fx.datagrams.size(), 1u);
    EXPECT_LE(fx.datagrams[0].size(), 1400u);
    FrameIterator it(fx.datagrams[0]);
    Frame f;
    ASSERT_TRUE(it.next(f));
    auto d = decode_state_digest(f.body);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->lo, prev_hi);
    covered += d->entries.size();
    prev_hi = d->hi;
    if (d->hi == 0) break;
  }
  EXPECT_EQ(covered, 1000u);
}

TEST(Scuttlebutt, MovesPastAGenerationOfItsOwnThatPeersHold) {
  StaticGroup g({kA, kB});
  StateConfig cfg;
  cfg.generation = 100;  // reused by mistake: peers hold generation 100 at version 7
  detail::Scuttlebutt m(cfg, kA, g, 1);
  Capture fx;
  ASSERT_TRUE(m.set(Time::from_ns(1), "k", "v", Duration::zero(), fx));
  deliver(m, Time::from_ns(2), datagram_with([](Writer& w) {
            return write_state_digest(w, StateDigest{kAllBuckets, 0, 0,
                                                     {{node_id_of(kA), 100, 7}}});
          }), fx);
  EXPECT_EQ(m.generation(), 101u);
  // The answer carries our state under the new generation, from version 0.
  ASSERT_FALSE(fx.datagrams.empty());
  FrameIterator it(fx.datagrams.back());
  Frame f;
  ASSERT_TRUE(it.next(f));
  StateDeltaReader r(f.body);
  StateBlockHeader h;
  ASSERT_TRUE(r.next_block(h));
  EXPECT_EQ(h.generation, 101u);
  EXPECT_EQ(h.from, 0u);
}

}  // namespace
}  // namespace grapevine
