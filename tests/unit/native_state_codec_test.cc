// Codec of the replicated node state (wire/native_state.h) and the store's merge rules.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "core/state/store.h"
#include "wire/framing.h"
#include "wire/native_state.h"

namespace grapevine {
namespace {

using namespace wire;

Frame only_frame(std::span<const std::byte> datagram) {
  FrameIterator it(datagram);
  Frame f;
  EXPECT_TRUE(it.next(f));
  return f;
}

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(NativeStateCodec, SummaryRoundTrip) {
  std::array<std::byte, 64> buf;
  Writer w(buf);
  begin_datagram(w);
  ASSERT_TRUE(write_state_summary(w, {12345, 0xdeadbeefcafef00dULL}));
  Frame f = only_frame(w.written());
  EXPECT_EQ(f.type, 0x50);
  auto s = decode_state_summary(f.body);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->count, 12345u);
  EXPECT_EQ(s->hash, 0xdeadbeefcafef00dULL);
  EXPECT_FALSE(decode_state_summary(f.body.first(f.body.size() - 1)));
}

TEST(NativeStateCodec, DigestRoundTripAndChecks) {
  StateDigest d{kAllBuckets, 100, 5000, {{100, 7, 3}, {4242, 1ull << 60, 99}, {4999, 1, 1}}};
  std::array<std::byte, 256> buf;
  Writer w(buf);
  begin_datagram(w);
  ASSERT_TRUE(write_state_digest(w, d));
  Frame f = only_frame(w.written());
  auto back = decode_state_digest(f.body);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->lo, 100u);
  EXPECT_EQ(back->hi, 5000u);
  EXPECT_EQ(back->entries, d.entries);
  // An entry outside the window, or ids out of order, is malformed.
  StateDigest bad{kAllBuckets, 200, 0, {{100, 1, 1}}};
  Writer w2(buf);
  ASSERT_TRUE(write_state_digest(w2, bad));
  Reader r(w2.written());
  r.u8();
  auto len = r.varint();
  EXPECT_EQ(decode_state_digest(r.bytes(std::size_t(len))).error().code, Errc::malformed);
  // An entry outside the bucket mask is malformed too.
  StateDigest unmasked{1u << ((state_bucket(100) + 1) % 32), 0, 0, {{100, 1, 1}}};
  Writer w3(buf);
  ASSERT_TRUE(write_state_digest(w3, unmasked));
  Reader r3(w3.written());
  r3.u8();
  auto len3 = r3.varint();
  EXPECT_EQ(decode_state_digest(r3.bytes(std::size_t(len3))).error().code, Errc::malformed);
  // A count larger than the input can hold is refused before anything is reserved.
  const std::byte lie[] = {std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0xff},
                           std::byte{0x7f}};
  EXPECT_FALSE(decode_state_digest(lie));
}

std::vector<std::byte> delta_body(const std::vector<StateDigestEntry>& req,
                                  const StateBlockHeader& h,
                                  const std::vector<std::pair<std::string, std::uint64_t>>& keys,
                                  bool tombstone_last = false) {
  std::vector<std::byte> out(4096);
  Writer w(out);
  write_state_entries(w, req);
  write_state_block_header(w, h);
  for (std::size_t i = 0; i < keys.size(); ++i) {
    write_state_key_op(w, {keys[i].first, bytes_of("val-" + keys[i].first), keys[i].second,
                           tombstone_last && i + 1 == keys.size()});
  }
  out.resize(w.size());
  return out;
}

TEST(NativeStateCodec, BucketsRoundTrip) {
  StateBuckets b;
  for (std::uint32_t i = 0; i < kStateBuckets; ++i) b.hash[i] = i * 0x01010101u;
  std::array<std::byte, 256> buf;
  Writer w(buf);
  begin_datagram(w);
  ASSERT_TRUE(write_state_buckets(w, b));
  Frame f = only_frame(w.written());
  EXPECT_EQ(f.type, 0x53);
  auto back = decode_state_buckets(f.body);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->hash[31], 31 * 0x01010101u);
  EXPECT_FALSE(decode_state_buckets(f.body.first(127)));
}

TEST(NativeStateCodec, DeltaRoundTripAndStream) {
  auto body = delta_body({{9, 1, 2}}, {77, 5, 0, 2, 6, 2}, {{"a", 3}, {"b", 5}}, true);
  StateDeltaReader r(body);
  ASSERT_EQ(r.requests().size(), 1u);
  EXPECT_EQ(r.requests()[0], (StateDigestEntry{9, 1, 2}));
  StateBlockHeader h;
  ASSERT_TRUE(r.next_block(h));
  EXPECT_EQ(h.node, 77u);
  EXPECT_EQ(h.up_to, 6u);
  StateKeyOp op;
  ASSERT_TRUE(r.next_key(op));
  EXPECT_EQ(op.key, "a");
  EXPECT_FALSE(op.tombstone);
  ASSERT_TRUE(r.next_key(op));
  EXPECT_EQ(op.key, "b");
  EXPECT_TRUE(op.tombstone);
  EXPECT_FALSE(r.next_key(op));
  EXPECT_FALSE(r.next_block(h));
  EXPECT_TRUE(r.ok());

  auto msg = make_state_stream(body);
  EXPECT_TRUE(is_state_stream(msg));
  auto back = decode_state_stream(msg);
  ASSERT_TRUE(back);
  EXPECT_TRUE(std::equal(back->begin(), back->end(), body.begin(), body.end()));
  msg.pop_back();
  EXPECT_FALSE(decode_state_stream(msg));
}

TEST(NativeStateCodec, DeltaVersionsMustAscendWithinTheBlock) {
  auto body = delta_body({}, {77, 5, 0, 2, 9, 2}, {{"a", 5}, {"b", 4}});
  StateDeltaReader r(body);
  StateBlockHeader h;
  ASSERT_TRUE(r.next_block(h));
  StateKeyOp op;
  EXPECT_TRUE(r.next_key(op));
  EXPECT_FALSE(r.next_key(op));
  EXPECT_FALSE(r.ok());
  auto above = delta_body({}, {77, 5, 0, 2, 4, 1}, {{"a", 5}});  // version past up_to
  StateDeltaReader r2(above);
  ASSERT_TRUE(r2.next_block(h));
  EXPECT_FALSE(r2.next_key(op));
  EXPECT_FALSE(r2.ok());
}

class Sink final : public detail::ChangeSink {
 public:
  void on_change(const detail::NodeRecord&, std::string_view key, const detail::KeyRecord&,
                 StateOp op) override {
    log.push_back(std::string(key) + ":" + state_op_name(op));
  }
  std::vector<std::string> log;
};

void apply(detail::NodeStateStore& s, const std::vector<std::byte>& body, Sink& sink) {
  StateDeltaReader r(body);
  StateBlockHeader h;
  while (r.next_block(h)) s.apply(Time::zero(), h, r, sink);
}

TEST(NodeStateStore, PrefixGapGenerationAndReset) {
  StateConfig cfg;
  detail::NodeStateStore s(cfg, 1);
  Sink sink;
  apply(s, delta_body({}, {77, 5, 0, 0, 2, 2}, {{"a", 1}, {"b", 2}}), sink);
  ASSERT_NE(s.find(77), nullptr);
  EXPECT_EQ(s.find(77)->max_version, 2u);
  // A gap (from 4 > our 2) is refused.
  apply(s, delta_body({}, {77, 5, 0, 4, 6, 1}, {{"c", 6}}), sink);
  EXPECT_EQ(s.find(77)->max_version, 2u);
  EXPECT_EQ(s.stats().gaps, 1u);
  // An older generation is stale; a newer one replaces everything.
  apply(s, delta_body({}, {77, 4, 0, 0, 9, 1}, {{"z", 9}}), sink);
  EXPECT_EQ(s.find(77)->keys.count("z"), 0u);
  apply(s, delta_body({}, {77, 6, 0, 0, 1, 1}, {{"n", 1}}), sink);
  EXPECT_EQ(s.find(77)->generation, 6u);
  EXPECT_EQ(s.find(77)->keys.size(), 1u);
  EXPECT_EQ(s.find(77)->keys.count("a"), 0u);
  // Reset: the owner collected a delete of "n" we never saw (last_gc 3 > our max 1).
  apply(s, delta_body({}, {77, 6, 3, 0, 4, 1}, {{"m", 4}}), sink);
  EXPECT_EQ(s.find(77)->keys.count("n"), 0u);
  EXPECT_EQ(s.find(77)->max_version, 4u);
  EXPECT_EQ(s.stats().resets, 1u);
  EXPECT_EQ(sink.log, (std::vector<std::string>{"a:set", "b:set", "a:delete", "b:delete",
                                                "n:set", "m:set", "n:delete"}));
  EXPECT_EQ(s.summary().count, 1u);  // node 77 (we have no key ourselves)
}

TEST(NodeStateStore, LimitsStopABlockAtAConsistentPrefix) {
  StateConfig cfg;
  cfg.keys_per_node_max = 2;
  detail::NodeStateStore s(cfg, 1);
  Sink sink;
  apply(s, delta_body({}, {77, 5, 0, 0, 3, 3}, {{"a", 1}, {"b", 2}, {"c", 3}}), sink);
  EXPECT_EQ(s.find(77)->max_version, 2u);
  EXPECT_EQ(s.stats().refused_keys_per_node, 1u);
  cfg.key_bytes_max = 1;
  apply(s, delta_body({}, {78, 5, 0, 0, 1, 1}, {{"long", 1}}), sink);
  EXPECT_EQ(s.stats().refused_key_bytes, 1u);
}

TEST(NodeStateStore, DroppedGenerationDoesNotComeBack) {
  StateConfig cfg;
  detail::NodeStateStore s(cfg, 1);
  Sink sink;
  apply(s, delta_body({}, {77, 5, 0, 0, 1, 1}, {{"a", 1}}), sink);
  s.drop(77, Time::zero(), sink);
  EXPECT_EQ(s.find(77), nullptr);
  apply(s, delta_body({}, {77, 5, 0, 0, 1, 1}, {{"a", 1}}), sink);
  EXPECT_EQ(s.find(77), nullptr);
  apply(s, delta_body({}, {77, 6, 0, 0, 1, 1}, {{"a", 1}}), sink);  // a restart: welcome
  EXPECT_NE(s.find(77), nullptr);
}

}  // namespace
}  // namespace grapevine
