// Serf's tag encoding (grapevine/tags.h): serf's bytes, round trips, the legacy form, limits and
// malformed input.
#include <gtest/gtest.h>

#include "grapevine/tags.h"

namespace grapevine {
namespace {

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v) out.push_back(std::byte(b));
  return out;
}

void append(std::vector<std::byte>& out, std::string_view s) {
  for (char c : s) out.push_back(std::byte(c));
}

// service-layer.md A.2, as serf 0.9.4 writes {role: web, dc: x} (Go's map order: role first).
std::vector<std::byte> serf_role_web_dc_x() {
  auto b = bytes({0xff, 0x82, 0xa4});
  append(b, "role");
  b.push_back(std::byte(0xa3));
  append(b, "web");
  b.push_back(std::byte(0xa2));
  append(b, "dc");
  b.push_back(std::byte(0xa1));
  append(b, "x");
  return b;
}

TEST(Tags, DecodesSerfBytes) {
  auto t = decode_tags(serf_role_web_dc_x());
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, (Tags{{"dc", "x"}, {"role", "web"}}));
}

TEST(Tags, EncodesSortedKeysInSerfForm) {
  auto e = encode_tags(Tags{{"role", "web"}, {"dc", "x"}});
  ASSERT_TRUE(e.has_value());
  auto want = bytes({0xff, 0x82, 0xa2});
  append(want, "dc");
  want.push_back(std::byte(0xa1));
  append(want, "x");
  want.push_back(std::byte(0xa4));
  append(want, "role");
  want.push_back(std::byte(0xa3));
  append(want, "web");
  EXPECT_EQ(*e, want);
}

TEST(Tags, RoundTripsIncludingEmptyAndLongValues) {
  for (const Tags& t : {Tags{}, Tags{{"k", ""}}, Tags{{"a", std::string(40, 'v')}, {"b", "c"}},
                        Tags{{std::string(200, 'k'), std::string(300, 'v')}}}) {
    auto e = encode_tags(t);
    ASSERT_TRUE(e.has_value());
    auto d = decode_tags(*e);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, t);
  }
  EXPECT_EQ(*encode_tags(Tags{}), bytes({0xff, 0x80}));
}

TEST(Tags, LimitIs512BytesWithTheMagicByte) {
  // 1 magic + 1 map header + 2 (fixstr "k") + 3 (str16 header) + n = 512 -> n = 505.
  auto fits = encode_tags(Tags{{"k", std::string(505, 'v')}});
  ASSERT_TRUE(fits.has_value());
  EXPECT_EQ(fits->size(), kTagsBytesMax);
  auto over = encode_tags(Tags{{"k", std::string(506, 'v')}});
  ASSERT_FALSE(over.has_value());
  EXPECT_EQ(over.error().code, Errc::too_large);
}

TEST(Tags, LegacyAndEmptyMetadata) {
  EXPECT_TRUE(decode_tags({}).value().empty());
  std::vector<std::byte> raw;
  append(raw, "web");
  EXPECT_EQ(decode_tags(raw).value(), (Tags{{"role", "web"}}));
}

TEST(Tags, MalformedInputIsAnError) {
  EXPECT_FALSE(decode_tags(bytes({0xff})).has_value());              // no map
  EXPECT_FALSE(decode_tags(bytes({0xff, 0x81, 0xa1, 'k'})).has_value());  // no value
  EXPECT_FALSE(decode_tags(bytes({0xff, 0x81, 0x01, 0xa1, 'v'})).has_value());  // int key
  EXPECT_FALSE(decode_tags(bytes({0xff, 0x80, 0x00})).has_value());  // trailing bytes
  EXPECT_FALSE(decode_tags(bytes({0xff, 0x91, 0xa1, 'v'})).has_value());  // an array
  EXPECT_FALSE(decode_tags(bytes({0xff, 0xdf, 0xff, 0xff, 0xff, 0xff})).has_value());  // count
  EXPECT_TRUE(decode_tags(bytes({0xff, 0xc0})).value().empty());     // nil map, as Go reads it
}

}  // namespace
}  // namespace grapevine
