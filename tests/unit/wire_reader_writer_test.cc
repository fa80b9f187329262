// wire::Reader and wire::Writer: the bounds-checked primitives every codec is built on. Untrusted
// input must never read out of bounds, and both sides keep their first error (sticky), so the
// edge cases of LEB128 and of running out of room are pinned here byte by byte.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <vector>

#include "wire/reader.h"
#include "wire/writer.h"

namespace grapevine::wire {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> list) {
  std::vector<std::byte> out;
  for (int b : list) out.push_back(std::byte(b));
  return out;
}

std::vector<std::byte> encode_varint(std::uint64_t v) {
  std::array<std::byte, 16> buf{};
  Writer w(buf);
  w.varint(v);
  EXPECT_TRUE(w.ok());
  auto s = w.written();
  return {s.begin(), s.end()};
}

struct VarintCase {
  std::uint64_t value;
  std::vector<std::byte> encoding;
};

TEST(Varint, KnownEncodings) {
  const std::vector<VarintCase> cases = {
      {0, bytes({0x00})},
      {1, bytes({0x01})},
      {127, bytes({0x7f})},
      {128, bytes({0x80, 0x01})},
      {300, bytes({0xac, 0x02})},
      {16383, bytes({0xff, 0x7f})},
      {16384, bytes({0x80, 0x80, 0x01})},
      {0xFFFFFFFFULL, bytes({0xff, 0xff, 0xff, 0xff, 0x0f})},
      {1ULL << 63, bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})},
      {UINT64_MAX, bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(encode_varint(c.value), c.encoding) << c.value;
    EXPECT_EQ(varint_size(c.value), c.encoding.size()) << c.value;
    Reader r(c.encoding);
    EXPECT_EQ(r.varint(), c.value);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r.at_end());
  }
}

TEST(Varint, SizeBoundaries) {
  for (int bits = 1; bits < 64; ++bits) {
    const std::uint64_t below = (std::uint64_t(1) << bits) - 1;
    const std::size_t expected = (std::size_t(bits) + 6) / 7;
    EXPECT_EQ(varint_size(below), expected) << bits;
    const auto encoded = encode_varint(below);
    EXPECT_EQ(encoded.size(), expected) << bits;
    Reader r(encoded);
    EXPECT_EQ(r.varint(), below);
    EXPECT_TRUE(r.at_end());
  }
}

TEST(Varint, NonMinimalEncodingIsAccepted) {
  // 0 written in two bytes: LEB128 readers accept padding; re-encoding makes it canonical.
  auto in = bytes({0x80, 0x00});
  Reader r(in);
  EXPECT_EQ(r.varint(), 0u);
  EXPECT_TRUE(r.ok());
}

TEST(Varint, ElevenBytesRejected) {
  // Ten continuation bytes then a terminator: longer than any 64-bit value needs.
  auto in = bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00});
  Reader r(in);
  EXPECT_EQ(r.varint(), 0u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errc::malformed);
}

TEST(Varint, OverflowingTenthByteRejected) {
  // The tenth byte may only carry bit 63; 0x02 there would be bit 64.
  auto in = bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02});
  Reader r(in);
  EXPECT_EQ(r.varint(), 0u);
  EXPECT_EQ(r.error(), Errc::malformed);

  auto in2 = bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f});
  Reader r2(in2);
  EXPECT_EQ(r2.varint(), 0u);
  EXPECT_EQ(r2.error(), Errc::malformed);
}

TEST(Varint, TruncatedIsTruncated) {
  for (auto in : {bytes({}), bytes({0x80}), bytes({0xff, 0xff}),
                  bytes({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80})}) {
    Reader r(in);
    EXPECT_EQ(r.varint(), 0u);
    EXPECT_EQ(r.error(), Errc::truncated) << in.size();
    EXPECT_TRUE(r.at_end());
  }
}

TEST(Varint, MaxLimit) {
  auto in = bytes({0xac, 0x02, 0xac, 0x02});  // 300, 300
  Reader r(in);
  EXPECT_EQ(r.varint_max(300, "a"), 300u);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.varint_max(299, "limit b"), 0u);
  EXPECT_EQ(r.error(), Errc::too_large);
  EXPECT_STREQ(r.error_detail(), "limit b");
}

TEST(Reader, FixedWidthBigEndian) {
  auto in = bytes(
      {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f});
  Reader r(in);
  EXPECT_EQ(r.u8(), 0x01);
  EXPECT_EQ(r.u16be(), 0x0203);
  EXPECT_EQ(r.u32be(), 0x04050607u);
  EXPECT_EQ(r.u64be(), 0x08090a0b0c0d0e0fULL);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(r.position(), 15u);
}

TEST(Reader, BytesAndRestPointIntoInput) {
  auto in = bytes({1, 2, 3, 4, 5});
  Reader r(in);
  auto a = r.bytes(2);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a.data(), in.data());
  EXPECT_EQ(r.remaining(), 3u);
  auto rest = r.rest();
  EXPECT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest.data(), in.data() + 2);
  EXPECT_TRUE(r.at_end());
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.rest().empty());  // rest of nothing is fine
  EXPECT_TRUE(r.bytes(0).empty());
  EXPECT_TRUE(r.ok());
}

TEST(Reader, TruncationIsSticky) {
  auto in = bytes({0xaa, 0xbb, 0xcc});
  Reader r(in);
  EXPECT_EQ(r.u16be(), 0xaabb);
  EXPECT_EQ(r.u16be(), 0);  // one byte left: fails
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Errc::truncated);
  EXPECT_TRUE(r.at_end());  // the reader gives up the rest
  // Every later read returns zero/empty and the first error stays.
  EXPECT_EQ(r.u8(), 0);
  EXPECT_EQ(r.u32be(), 0u);
  EXPECT_EQ(r.varint(), 0u);
  EXPECT_TRUE(r.bytes(1).empty());
  r.fail(Errc::malformed, "second");
  EXPECT_EQ(r.error(), Errc::truncated);
}

TEST(Reader, FirstErrorWins) {
  auto in = bytes({1, 2, 3});
  Reader r(in);
  r.fail(Errc::malformed, "first");
  r.fail(Errc::too_large, "second");
  EXPECT_EQ(r.error(), Errc::malformed);
  EXPECT_STREQ(r.error_detail(), "first");
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Reader, BytesLongerThanInput) {
  auto in = bytes({1, 2, 3});
  Reader r(in);
  EXPECT_TRUE(r.bytes(4).empty());
  EXPECT_EQ(r.error(), Errc::truncated);
  Reader r2(in);
  EXPECT_TRUE(r2.bytes(SIZE_MAX).empty());  // no overflow in the bounds check
  EXPECT_EQ(r2.error(), Errc::truncated);
}

TEST(Writer, FixedWidthBigEndian) {
  std::array<std::byte, 15> buf{};
  Writer w(buf);
  w.u8(0x01);
  w.u16be(0x0203);
  w.u32be(0x04050607);
  w.u64be(0x08090a0b0c0d0e0fULL);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.size(), 15u);
  EXPECT_EQ(w.remaining(), 0u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(buf[i], std::byte(i + 1));
}

TEST(Writer, OverflowIsSticky) {
  std::array<std::byte, 4> buf{};
  Writer w(buf);
  w.u16be(0x0102);
  w.u32be(0x03040506);  // does not fit: nothing of it is written
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.size(), 2u);
  w.u8(0x07);  // would fit, but the writer has stopped
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(buf[2], std::byte{0});
}

TEST(Writer, VarintThatDoesNotFitWritesNothing) {
  std::array<std::byte, 2> buf{};
  Writer w(buf);
  w.varint(16384);  // needs 3 bytes
  EXPECT_FALSE(w.ok());
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(buf[0], std::byte{0});
}

TEST(Writer, BytesAndTruncate) {
  std::array<std::byte, 8> buf{};
  Writer w(buf);
  auto payload = bytes({9, 8, 7});
  w.bytes(payload);
  w.bytes({});
  EXPECT_EQ(w.size(), 3u);
  const std::size_t mark = w.size();
  w.bytes(bytes({1, 2, 3, 4, 5, 6}));  // overflows
  EXPECT_FALSE(w.ok());
  w.truncate(mark);  // rolls back and clears the error
  EXPECT_TRUE(w.ok());
  EXPECT_EQ(w.size(), 3u);
  w.u8(0x55);
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(w.written()[3], std::byte{0x55});
  w.truncate(100);  // beyond the end: size unchanged
  EXPECT_EQ(w.size(), 4u);
  *w.at(0) = std::byte{0x42};  // back-patching
  EXPECT_EQ(w.written()[0], std::byte{0x42});
}

TEST(Writer, ZeroCapacity) {
  Writer w(std::span<std::byte>{});
  w.bytes({});
  EXPECT_TRUE(w.ok());
  w.u8(1);
  EXPECT_FALSE(w.ok());
  EXPECT_TRUE(w.written().empty());
}

TEST(ReaderWriter, RoundTripMixedFields) {
  std::array<std::byte, 64> buf{};
  Writer w(buf);
  w.u8(0xfe);
  w.varint(0);
  w.varint(UINT64_MAX);
  w.u16be(0xbeef);
  w.varint(128);
  w.u64be(0x0123456789abcdefULL);
  ASSERT_TRUE(w.ok());
  Reader r(w.written());
  EXPECT_EQ(r.u8(), 0xfe);
  EXPECT_EQ(r.varint(), 0u);
  EXPECT_EQ(r.varint(), UINT64_MAX);
  EXPECT_EQ(r.u16be(), 0xbeef);
  EXPECT_EQ(r.varint(), 128u);
  EXPECT_EQ(r.u64be(), 0x0123456789abcdefULL);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.at_end());
}

}  // namespace
}  // namespace grapevine::wire
