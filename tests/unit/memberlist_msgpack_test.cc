// The msgpack layer of the memberlist dialect: the forms the writer picks (go-msgpack v0.5's)
// and the forms the reader accepts (either codec version's, and bin/str8).
#include <gtest/gtest.h>

#include "memberlist_test_util.h"
#include "wire/memberlist/messages.h"
#include "wire/memberlist/msgpack.h"

namespace grapevine::wire::ml {
namespace {

using test::Bytes;
using test::from_hex;
using test::to_hex;

template <class F>
std::string written(F&& f) {
  Bytes buf(200000);
  Writer w(buf);
  MpWriter mp(w);
  f(mp);
  EXPECT_TRUE(mp.ok());
  return to_hex(w.written());
}

TEST(MemberlistMsgpack, UnsignedSmallestForm) {
  EXPECT_EQ(written([](MpWriter& m) { m.uint(0); }), "00");
  EXPECT_EQ(written([](MpWriter& m) { m.uint(127); }), "7f");
  EXPECT_EQ(written([](MpWriter& m) { m.uint(128); }), "cc80");
  EXPECT_EQ(written([](MpWriter& m) { m.uint(255); }), "ccff");
  EXPECT_EQ(written([](MpWriter& m) { m.uint(256); }), "cd0100");
  EXPECT_EQ(written([](MpWriter& m) { m.uint(65536); }), "ce00010000");
  EXPECT_EQ(written([](MpWriter& m) { m.uint(1ull << 32); }), "cf0000000100000000");
}

TEST(MemberlistMsgpack, SignedAsV05) {
  EXPECT_EQ(written([](MpWriter& m) { m.sint(200); }), "ccc8");  // v0.5: positive as uint
  EXPECT_EQ(written([](MpWriter& m) { m.sint(-1); }), "ff");
  EXPECT_EQ(written([](MpWriter& m) { m.sint(-33); }), "d0df");
  EXPECT_EQ(written([](MpWriter& m) { m.sint(-129); }), "d1ff7f");
  EXPECT_EQ(written([](MpWriter& m) { m.sint(-40000); }), "d2ffff63c0");
  EXPECT_EQ(written([](MpWriter& m) { m.sint(INT64_MIN); }), "d38000000000000000");
}

TEST(MemberlistMsgpack, RawNeverStr8OrBin) {
  Bytes b31(31, std::byte{'x'}), b32(32, std::byte{'x'}), b65535(65535), b65536(65536);
  EXPECT_EQ(written([&](MpWriter& m) { m.raw(b31); }).substr(0, 2), "bf");
  EXPECT_EQ(written([&](MpWriter& m) { m.raw(b32); }).substr(0, 6), "da0020");
  EXPECT_EQ(written([&](MpWriter& m) { m.raw(b65535); }).substr(0, 6), "daffff");
  EXPECT_EQ(written([&](MpWriter& m) { m.raw(b65536); }).substr(0, 10), "db00010000");
  EXPECT_EQ(written([](MpWriter& m) { m.bytes_or_nil({}); }), "c0");
  EXPECT_EQ(written([](MpWriter& m) { m.str(""); }), "a0");
}

TEST(MemberlistMsgpack, ContainersAndBools) {
  EXPECT_EQ(written([](MpWriter& m) { m.map_header(15); }), "8f");
  EXPECT_EQ(written([](MpWriter& m) { m.map_header(16); }), "de0010");
  EXPECT_EQ(written([](MpWriter& m) { m.array_header(70000); }), "dd00011170");
  EXPECT_EQ(written([](MpWriter& m) { m.boolean(true), m.boolean(false), m.nil(); }), "c3c2c0");
}

TEST(MemberlistMsgpack, WriterOverflowIsSticky) {
  Bytes buf(3);
  Writer w(buf);
  MpWriter mp(w);
  mp.str("four");
  EXPECT_FALSE(mp.ok());
}

std::uint64_t read_uint(const std::string& hex, std::uint64_t max, Errc* err = nullptr) {
  Bytes in = from_hex(hex);
  MpReader r(in);
  std::uint64_t v = r.uint(max);
  if (err) *err = r.ok() ? Errc{} : r.error();
  return v;
}

TEST(MemberlistMsgpack, ReadsAnyIntegerForm) {
  for (const char* hex : {"05", "cc05", "cd0005", "ce00000005", "cf0000000000000005", "d005",
                          "d10005", "d200000005", "d30000000000000005"}) {
    Errc e{};
    EXPECT_EQ(read_uint(hex, UINT32_MAX, &e), 5u) << hex;
    EXPECT_EQ(e, Errc{}) << hex;
  }
  Errc e{};
  EXPECT_EQ(read_uint("c0", 10, &e), 0u);  // nil reads as zero, as in Go
  EXPECT_EQ(e, Errc{});
}

TEST(MemberlistMsgpack, IntegerRangeChecks) {
  Errc e{};
  read_uint("ff", UINT32_MAX, &e);
  EXPECT_EQ(e, Errc::malformed);  // negative into unsigned
  read_uint("d1ffff", UINT32_MAX, &e);
  EXPECT_EQ(e, Errc::malformed);
  read_uint("ce00010000", UINT16_MAX, &e);
  EXPECT_EQ(e, Errc::malformed);  // over a uint16 field
  read_uint("a3616263", UINT16_MAX, &e);
  EXPECT_EQ(e, Errc::malformed);  // not an integer
  read_uint("cd00", UINT16_MAX, &e);
  EXPECT_EQ(e, Errc::truncated);

  Bytes big = from_hex("cfffffffffffffffff");  // uint64 max into a Go int
  MpReader r(big);
  r.sint(INT64_MIN, INT64_MAX);
  EXPECT_EQ(r.error(), Errc::malformed);
  Bytes min = from_hex("d38000000000000000");
  MpReader r2(min);
  EXPECT_EQ(r2.sint(INT64_MIN, INT64_MAX), INT64_MIN);
  EXPECT_TRUE(r2.ok());
}

TEST(MemberlistMsgpack, RawAcceptsStr8AndBin) {
  for (const char* hex : {"a3616263", "d903616263", "da0003616263", "db00000003616263",
                          "c403616263", "c5000361626363", "c600000003616263"}) {
    Bytes in = from_hex(hex);
    MpReader r(in);
    EXPECT_EQ(r.str(), "abc") << hex;
    EXPECT_TRUE(r.ok()) << hex;
  }
  Bytes nil = from_hex("c0");
  MpReader r(nil);
  EXPECT_TRUE(r.raw().empty());
  EXPECT_TRUE(r.ok());
}

TEST(MemberlistMsgpack, RawLimitCheckedBeforeTheBytes) {
  Bytes in = from_hex("db7fffffff");  // 2 GB announced, nothing follows
  MpReader r(in);
  r.raw(512);
  EXPECT_EQ(r.error(), Errc::too_large);
  MpReader r2(in);
  r2.raw();
  EXPECT_EQ(r2.error(), Errc::truncated);
}

TEST(MemberlistMsgpack, BoolForms) {
  for (auto [hex, want] :
       {std::pair{"c3", true}, {"c2", false}, {"01", true}, {"00", false}, {"c0", false}}) {
    Bytes in = from_hex(hex);
    MpReader r(in);
    EXPECT_EQ(r.boolean(), want) << hex;
    EXPECT_TRUE(r.ok());
  }
  Bytes two = from_hex("02");
  MpReader r(two);
  r.boolean();
  EXPECT_EQ(r.error(), Errc::malformed);
}

TEST(MemberlistMsgpack, SkipsEveryType) {
  // map{a: [1, -1, 1.5f, 2.5, nil, true, bin, ext8, fixext4, {}]} then a marker 0x07.
  Bytes in = from_hex(
      "81a161"
      "9a"
      "01"
      "ff"
      "ca3fc00000"
      "cb4004000000000000"
      "c0"
      "c3"
      "c4026162"
      "c70201aabb"
      "d601aabbccdd"
      "80"
      "07");
  MpReader r(in);
  r.skip();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.uint(10), 7u);
}

TEST(MemberlistMsgpack, SkipRejectsDeepNestingAndHugeCounts) {
  Bytes deep(100, std::byte{0x91});
  deep.push_back(std::byte{0});
  MpReader r(deep);
  r.skip();
  EXPECT_EQ(r.error(), Errc::malformed);

  Bytes huge = from_hex("ddffffffff00");  // 4G elements announced, one byte present
  MpReader r2(huge);
  r2.skip();
  EXPECT_EQ(r2.error(), Errc::truncated);

  Bytes bad = from_hex("c1");
  MpReader r3(bad);
  r3.skip();
  EXPECT_EQ(r3.error(), Errc::malformed);
}

TEST(MemberlistMsgpack, SmallBytesFromRawOrArray) {
  Bytes raw = from_hex("a401020304");
  MpReader r(raw);
  SmallBytes<6> b;
  r.small_bytes(b);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(b.size, 4);
  Bytes arr = from_hex("9601cc0502000000");
  MpReader r2(arr);
  r2.small_bytes(b);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(b.size, 6);
  EXPECT_EQ(b.bytes[1], 5);
  Bytes too_long = from_hex("a701020304050607");
  MpReader r3(too_long);
  r3.small_bytes(b);
  EXPECT_EQ(r3.error(), Errc::malformed);
  Bytes not_byte = from_hex("91cd0100");
  MpReader r4(not_byte);
  r4.small_bytes(b);
  EXPECT_EQ(r4.error(), Errc::malformed);
}

}  // namespace
}  // namespace grapevine::wire::ml
