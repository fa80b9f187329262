// Query frames (wire/native_query.h) and the keyring answer (grapevine/query.h): round trips,
// golden bytes, limits; serf's default query timeout.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "grapevine/query.h"
#include "wire/native_membership.h"
#include "wire/native_query.h"

namespace grapevine::wire {
namespace {

std::vector<std::byte> body(const Writer& w) {
  Reader r(w.written());
  r.u8();
  r.varint();
  auto b = r.rest();
  return {b.begin(), b.end()};
}

TEST(QueryFrames, QueryRoundTripWithFilters) {
  QueryParams p;
  p.nodes = {"a", "b"};
  p.tags = {{"role", "^web$"}};
  std::array<std::byte, 256> fbuf;
  Writer fw(fbuf);
  QueryFrame f;
  ASSERT_TRUE(write_query_filters(fw, p, f.filter_count));
  f.ltime = 7;
  f.id = 0xdeadbeef;
  f.querier = 42;
  f.querier_address = *Address::parse("10.0.0.1:7946");
  f.querier_name = "q";
  f.ack = true;
  f.relay_factor = 2;
  f.timeout_ms = 6400;
  f.filters = fw.written();
  f.name = "ping";
  const std::string payload = "hi";
  f.payload = std::as_bytes(std::span(payload));
  std::array<std::byte, 1500> buf;
  Writer w(buf);
  ASSERT_TRUE(write_query(w, f));
  EXPECT_EQ(std::to_integer<int>(buf[0]), 0x2d);
  auto b = body(w);
  auto back = decode_query(b);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->id, 0xdeadbeefu);
  EXPECT_EQ(back->querier_address, f.querier_address);
  EXPECT_TRUE(back->ack);
  EXPECT_EQ(back->relay_factor, 2);
  EXPECT_EQ(back->timeout_ms, 6400u);
  EXPECT_EQ(back->name, "ping");
  QueryFilterReader r(*back);
  QueryFilter q;
  std::vector<std::string> seen;
  while (r.next(q)) seen.push_back(std::string(q.first) + "=" + std::string(q.second));
  EXPECT_EQ(seen, (std::vector<std::string>{"a=", "b=", "role=^web$"}));
  // A relay factor over 5 is malformed; a body over the limit too large.
  f.relay_factor = 6;
  Writer w2(buf);
  EXPECT_FALSE(write_query(w2, f));
  std::vector<std::byte> big(kQueryBytesMax + 1);
  EXPECT_EQ(decode_query(big).error().code, Errc::too_large);
}

TEST(QueryFrames, ResponseGoldenBytesAndRelay) {
  QueryResponseFrame f;
  f.ltime = 3;
  f.id = 5;
  f.ack = true;
  f.from = 9;
  f.from_name = "n";
  std::array<std::byte, 64> buf;
  Writer w(buf);
  ASSERT_TRUE(write_query_response(w, f));
  const std::vector<std::byte> want = {std::byte{0x2e}, std::byte{7}, std::byte{3}, std::byte{5},
                                       std::byte{1},    std::byte{9}, std::byte{1}, std::byte{'n'},
                                       std::byte{0}};
  EXPECT_EQ(std::vector<std::byte>(w.written().begin(), w.written().end()), want);
  f.relay = true;
  f.relay_to = *Address::parse("10.0.0.2:7000");
  Writer w2(buf);
  ASSERT_TRUE(write_query_response(w2, f));
  auto back = decode_query_response(body(w2));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->relay && back->ack);
  EXPECT_EQ(back->relay_to, f.relay_to);
  const std::string huge(kQueryResponseBytesMax, 'x');
  f.payload = std::as_bytes(std::span(huge));
  std::array<std::byte, 1500> big;
  Writer w3(big);
  EXPECT_FALSE(write_query_response(w3, f));
}

TEST(QueryFrames, KeyringAnswerAndDefaultTimeout) {
  KeyringAnswer a;
  a.ok = false;
  a.message = "cannot remove the primary key";
  a.keys = {std::vector<std::byte>(32, std::byte{1}), std::vector<std::byte>(32, std::byte{2})};
  auto bytes = encode_keyring_answer(a);
  auto back = decode_keyring_answer(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_FALSE(back->ok);
  EXPECT_EQ(back->message, a.message);
  EXPECT_EQ(back->keys, a.keys);
  bytes.push_back(std::byte{0});
  EXPECT_FALSE(decode_keyring_answer(bytes).has_value());
  // serf: 200 ms x 16 x ceil(log10(N + 1))
  const auto g = Duration::milliseconds(200);
  EXPECT_EQ(default_query_timeout(g, 16, 1), Duration::milliseconds(3200));
  EXPECT_EQ(default_query_timeout(g, 16, 3), Duration::milliseconds(3200));
  EXPECT_EQ(default_query_timeout(g, 16, 50), Duration::milliseconds(6400));
  EXPECT_EQ(default_query_timeout(g, 16, 1000), Duration::milliseconds(12800));
}

}  // namespace
}  // namespace grapevine::wire
