// Compound messages (split at 255, truncated parts), the CRC32 wrapper and the label header.
#include <gtest/gtest.h>

#include "memberlist_test_util.h"
#include "wire/memberlist/compound.h"
#include "wire/memberlist/crc32.h"
#include "wire/memberlist/label.h"
#include "wire/memberlist/messages.h"

namespace grapevine::wire::ml {
namespace {

using test::Bytes;
using test::from_hex;
using test::golden;
using test::to_hex;

TEST(MemberlistCompound, MatchesGo) {
  const Bytes go = golden("compound_three");
  auto parts = decode_compound(ByteSpan(go).subspan(1));
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->count, 3u);
  EXPECT_EQ(parts->truncated, 0u);
  EXPECT_EQ(to_hex(parts->parts[1]), to_hex(golden("alive_doc")));
  EXPECT_EQ(to_hex(parts->parts[2]), "08" + to_hex(test::bytes_of("hello user")));
  auto again = make_compounds({parts->parts.data(), parts->count});
  ASSERT_TRUE(again.has_value());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ(to_hex((*again)[0]), to_hex(go));
}

TEST(MemberlistCompound, SplitsAt255) {
  std::vector<Bytes> storage;
  for (int i = 0; i < 600; ++i) storage.push_back({std::byte(i & 0xff), std::byte(i >> 8)});
  std::vector<ByteSpan> parts(storage.begin(), storage.end());
  auto packed = make_compounds(parts);
  ASSERT_TRUE(packed.has_value());
  ASSERT_EQ(packed->size(), 3u);  // 255 + 255 + 90
  std::size_t seen = 0;
  for (const Bytes& c : *packed) {
    ASSERT_EQ(c[0], std::byte(MessageType::compound));
    auto d = decode_compound(ByteSpan(c).subspan(1));
    ASSERT_TRUE(d.has_value());
    EXPECT_LE(d->count, 255u);
    for (std::size_t i = 0; i < d->count; ++i, ++seen) {
      EXPECT_EQ(to_hex(d->parts[i]), to_hex(storage[seen]));
    }
  }
  EXPECT_EQ(seen, 600u);
  EXPECT_EQ((*packed)[2][1], std::byte(90));
  auto safe = make_compounds(parts, kCompoundPartsMaxV022);
  ASSERT_TRUE(safe.has_value());
  EXPECT_EQ(safe->size(), 5u);  // 127 x 4 + 92
  EXPECT_FALSE(make_compounds(parts, 0).has_value());
  EXPECT_FALSE(make_compounds(parts, 256).has_value());
}

TEST(MemberlistCompound, LimitsOnWrite) {
  std::vector<ByteSpan> many(256, ByteSpan{});
  Bytes buf(4096);
  Writer w(buf);
  EXPECT_EQ(write_compound(w, many).error().code, Errc::too_large);
  Bytes huge(65536);
  const ByteSpan one[] = {huge};
  EXPECT_EQ(make_compounds(one).error().code, Errc::too_large);
  Bytes small(4);
  Writer w2(small);
  const Bytes x(8);
  const ByteSpan part[] = {x};
  EXPECT_EQ(write_compound(w2, part).error().code, Errc::no_space);
  EXPECT_EQ(w2.size(), 0u);
  const ByteSpan empty_part[] = {ByteSpan{}};
  EXPECT_EQ(make_compounds(empty_part).error().code, Errc::invalid_argument);
}

TEST(MemberlistCompound, TruncatedPartsAreCountedAndDropped) {
  // Three parts of 2, 3, 4 bytes; only 2 + 3 + 1 bytes present.
  const Bytes body = from_hex(
      "03"
      "0002"
      "0003"
      "0004"
      "aaaa"
      "bbbbbb"
      "cc");
  auto d = decode_compound(body);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->count, 2u);
  EXPECT_EQ(d->truncated, 1u);
  EXPECT_EQ(to_hex(d->parts[1]), "bbbbbb");
  // A missing count byte or a cut length table is an error.
  EXPECT_EQ(decode_compound({}).error().code, Errc::truncated);
  EXPECT_EQ(decode_compound(from_hex("030002")).error().code, Errc::truncated);
  // Zero parts is fine (and delivers nothing).
  auto none = decode_compound(from_hex("00"));
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->count, 0u);
}

TEST(MemberlistCompound, CountsOf128AndMoreRoundTrip) {
  // memberlist v0.2.2 mis-slices these (uint8 numParts*2); we must not.
  std::vector<Bytes> storage;
  for (int i = 0; i < 200; ++i) storage.push_back({std::byte(i), std::byte(i)});
  std::vector<ByteSpan> parts(storage.begin(), storage.end());
  auto packed = make_compounds(parts);
  ASSERT_TRUE(packed.has_value());
  auto d = decode_compound(ByteSpan((*packed)[0]).subspan(1));
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->count, 200u);
  EXPECT_EQ(to_hex(d->parts[0]), "0000");
  EXPECT_EQ(to_hex(d->parts[199]), "c7c7");
}

TEST(MemberlistCrc, MatchesGo) {
  const Bytes input = golden("crc32_ieee_input");
  const Bytes want = golden("crc32_ieee_value");
  const std::uint32_t crc = crc32_ieee(input);
  EXPECT_EQ(crc, 0x414fa339u);  // the well-known CRC32 of "The quick brown fox..."
  EXPECT_EQ(to_hex(want), "414fa339");
  EXPECT_EQ(crc32_ieee({}), 0u);
}

TEST(MemberlistCrc, WrapVerifyAndReject) {
  const Bytes msg = golden("ping_doc");
  Bytes wrapped = add_crc(msg);
  ASSERT_EQ(wrapped.size(), msg.size() + 5);
  EXPECT_EQ(wrapped[0], std::byte{12});
  auto inner = strip_crc(wrapped);
  ASSERT_TRUE(inner.has_value());
  EXPECT_EQ(to_hex(*inner), to_hex(msg));
  for (std::size_t i = 1; i < wrapped.size(); ++i) {
    Bytes bad = wrapped;
    bad[i] ^= std::byte{0x01};
    auto r = strip_crc(bad);
    ASSERT_FALSE(r.has_value()) << "flip at " << i;
    EXPECT_EQ(r.error().code, Errc::rejected);
  }
  // Not wrapped, or too short to be: passed through for dispatch.
  auto plain = strip_crc(msg);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->size(), msg.size());
  const Bytes short12 = from_hex("0c0102");
  EXPECT_EQ(strip_crc(short12)->size(), 3u);
}

TEST(MemberlistLabel, AddStripCheck) {
  Bytes buf(300);
  Writer w(buf);
  ASSERT_TRUE(write_label_header(w, "prod").has_value());
  w.bytes(test::bytes_of("rest"));
  EXPECT_EQ(to_hex(w.written()), "f404" + to_hex(test::bytes_of("prodrest")));
  auto s = strip_label(w.written());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->label, "prod");
  EXPECT_EQ(test::to_hex(s->rest), to_hex(test::bytes_of("rest")));

  EXPECT_TRUE(check_label(w.written(), "prod", false).has_value());
  EXPECT_EQ(check_label(w.written(), "dev", false).error().code, Errc::rejected);
  EXPECT_EQ(check_label(w.written(), "", false).error().code, Errc::rejected);
  const Bytes unlabeled = test::bytes_of("\x00rest");
  EXPECT_EQ(check_label(unlabeled, "prod", false).error().code, Errc::rejected);
  EXPECT_TRUE(check_label(unlabeled, "", false).has_value());
  // Skipping the check: a packet still carrying a header is a double label.
  EXPECT_EQ(check_label(w.written(), "prod", true).error().code, Errc::rejected);
  EXPECT_TRUE(check_label(unlabeled, "prod", true).has_value());
}

TEST(MemberlistLabel, Limits) {
  Bytes buf(600);
  Writer w(buf);
  EXPECT_TRUE(write_label_header(w, "").has_value());
  EXPECT_EQ(w.size(), 0u);
  const std::string max(255, 'l'), over(256, 'l');
  EXPECT_TRUE(write_label_header(w, max).has_value());
  EXPECT_EQ(w.size(), 257u);
  EXPECT_EQ(write_label_header(w, over).error().code, Errc::too_large);
  EXPECT_EQ(strip_label(from_hex("f4")).error().code, Errc::truncated);
  EXPECT_EQ(strip_label(from_hex("f400")).error().code, Errc::malformed);
  EXPECT_EQ(strip_label(from_hex("f40561")).error().code, Errc::truncated);
}

}  // namespace
}  // namespace grapevine::wire::ml
