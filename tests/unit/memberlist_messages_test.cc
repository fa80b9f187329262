// memberlist messages: memberlist.md section 2.3's examples byte for byte, every struct against
// bytes memberlist itself produced (tests/interop/golden), decode of the other codec's forms,
// round trips, and malformed or truncated input.
#include <gtest/gtest.h>

#include "memberlist_test_util.h"
#include "wire/memberlist/messages.h"

namespace grapevine::wire::ml {
namespace {

using test::Bytes;
using test::from_hex;
using test::golden;
using test::to_hex;

IpBytes ip(std::initializer_list<std::uint8_t> b) {
  IpBytes r;
  for (std::uint8_t x : b) r.bytes[r.size++] = x;
  return r;
}

template <class T>
std::string hex_of(const T& m) {
  auto out = encode_to_vector(m);
  EXPECT_TRUE(out.has_value());
  return out ? to_hex(*out) : "";
}

// Hex of a string, for spelling memberlist.md's examples: a4"Node" -> a4 4e6f6465.
std::string s(std::string_view text) {
  return to_hex(test::bytes_of(text));
}

TEST(MemberlistMessages, DocPingExample) {
  Ping p{1, "node-b", ip({10, 0, 0, 1}), 7946, "node-a"};
  const std::string want =
      "0085"
      "a4" +
      s("Node") + "a6" + s("node-b") + "a5" + s("SeqNo") +
      "01"
      "aa" +
      s("SourceAddr") +
      "a40a000001"
      "aa" +
      s("SourceNode") + "a6" + s("node-a") + "aa" + s("SourcePort") + "cd1f0a";
  EXPECT_EQ(hex_of(p), want);
  EXPECT_EQ(want.size() / 2, 69u);
  EXPECT_EQ(to_hex(golden("ping_doc")), want);
}

TEST(MemberlistMessages, DocAckExample) {
  const std::string want =
      "0282"
      "a7" +
      s("Payload") +
      "c0"
      "a5" +
      s("SeqNo") + "01";
  EXPECT_EQ(hex_of(AckResp{1, {}}), want);
  EXPECT_EQ(to_hex(golden("ack_doc")), want);
}

TEST(MemberlistMessages, DocAliveExample) {
  Alive a{1, "node-a", ip({10, 0, 0, 1}), 7946, {}, default_vsn()};
  const std::string want =
      "0486"
      "a4" +
      s("Addr") +
      "a40a000001"
      "ab" +
      s("Incarnation") +
      "01"
      "a4" +
      s("Meta") +
      "c0"
      "a4" +
      s("Node") + "a6" + s("node-a") + "a4" + s("Port") +
      "cd1f0a"
      "a3" +
      s("Vsn") + "a6010502000000";
  EXPECT_EQ(hex_of(a), want);
  EXPECT_EQ(want.size() / 2, 62u);
  EXPECT_EQ(to_hex(golden("alive_doc")), want);
}

// Encodes `m` and compares with Go's bytes; decodes Go's bytes and re-encodes to the same.
template <class T>
void check_golden(const char* name, const T& m, bool has_type_byte = true) {
  SCOPED_TRACE(name);
  const Bytes go = golden(name);
  EXPECT_EQ(hex_of(m), to_hex(go));
  auto back = decode<T>(ByteSpan(go).subspan(has_type_byte ? 1 : 0));
  ASSERT_TRUE(back.has_value()) << back.error().detail;
  EXPECT_EQ(hex_of(*back), to_hex(go));
}

TEST(MemberlistMessages, EveryStructMatchesGo) {
  const auto v4 = ip({10, 0, 0, 1});
  const auto mapped = ip({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2});
  const auto v6 = ip({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34});
  const std::string long_name(40, 'n');
  const Bytes payload = test::seq_bytes(40, 1), meta = test::seq_bytes(512, 3);
  Vsn serf;
  serf.bytes = {1, 5, 2, 2, 5, 4};
  serf.size = 6;
  check_golden("ping_minimal", Ping{70000, "", {}, 0, ""});
  check_golden("ping_mapped_long", Ping{4294967295u, long_name, mapped, 80, "a"});
  check_golden("indirect_full",
               IndirectPingReq{300, v6, 65535, "node-c", true, v4, 7946, "node-a"});
  check_golden("indirect_minimal", IndirectPingReq{2, v4, 7946, "node-c", false, {}, 0, ""});
  check_golden("ack_payload", AckResp{128, payload});
  check_golden("nack", NackResp{65536});
  check_golden("err", ErrResp{"remote node state is larger than limit"});
  check_golden("suspect", Suspect{7, "node-b", "node-a"});
  check_golden("dead_leave", Dead{256, "node-a", "node-a"});
  check_golden("alive_meta512_v6", Alive{99, "node-6", v6, 1, meta, serf});
  check_golden("push_pull_header", PushPullHeader{200, 70000, true}, false);
  check_golden("push_pull_header_small", PushPullHeader{3, 0, false}, false);
  const Bytes m4 = test::bytes_of("meta");
  check_golden("push_node_state", PushNodeState{"node-a", v4, 7946, m4, 3, 2, default_vsn()},
               false);
  check_golden("push_node_state_negative", PushNodeState{"x", {}, 0, {}, 0, -1, default_vsn()},
               false);
  check_golden("user_msg_header", UserMsgHeader{1000}, false);
  const Bytes abc = test::bytes_of("abc");
  check_golden("compress_struct", Compress{0, abc}, false);
}

// Inputs in forms memberlist never writes (array structs, str8/bin, int16/int32, unknown keys,
// floats, nil): Go decoded each and re-encoded it; we must reach the same struct.
template <class T>
void check_variant(const char* name) {
  SCOPED_TRACE(name);
  const Bytes in = golden(std::string(name) + "_in");
  auto m = decode<T>(in);
  ASSERT_TRUE(m.has_value()) << m.error().detail;
  auto out = encode_to_vector(*m);
  ASSERT_TRUE(out.has_value());
  const Bytes want = golden(std::string(name) + "_out");
  if constexpr (std::is_same_v<T, PushPullHeader>) {
    EXPECT_EQ(to_hex(*out), to_hex(ByteSpan(want).subspan(1)));  // Go's output has a type byte
  } else {
    EXPECT_EQ(to_hex(*out), to_hex(want));
  }
}

TEST(MemberlistMessages, DecodesWhatGoDecodes) {
  check_variant<Alive>("alive_array");
  check_variant<Ping>("ping_shuffled");
  check_variant<PushPullHeader>("push_pull_header_v2");
  check_variant<AckResp>("ack_nil");
}

TEST(MemberlistMessages, EveryPrefixOfEveryGoldenFailsCleanly) {
  for (const char* name :
       {"ping_doc", "indirect_full", "ack_payload", "alive_meta512_v6", "suspect", "nack", "err"}) {
    const Bytes go = golden(name);
    const ByteSpan body = ByteSpan(go).subspan(1);
    for (std::size_t n = 0; n < body.size(); ++n) {
      bool ok = true;
      switch (MessageType(std::to_integer<int>(go[0]))) {
        case MessageType::ping:
          ok = decode<Ping>(body.first(n)).has_value();
          break;
        case MessageType::indirect_ping:
          ok = decode<IndirectPingReq>(body.first(n)).has_value();
          break;
        case MessageType::ack_resp:
          ok = decode<AckResp>(body.first(n)).has_value();
          break;
        case MessageType::alive:
          ok = decode<Alive>(body.first(n)).has_value();
          break;
        case MessageType::suspect:
          ok = decode<Suspect>(body.first(n)).has_value();
          break;
        case MessageType::nack_resp:
          ok = decode<NackResp>(body.first(n)).has_value();
          break;
        default:
          ok = decode<ErrResp>(body.first(n)).has_value();
          break;
      }
      EXPECT_FALSE(ok) << name << " cut at " << n;
    }
  }
}

TEST(MemberlistMessages, RejectsBadFields) {
  // Addr of 5 bytes.
  auto bad_ip = decode<Alive>(from_hex("81a441646472a50102030405"));
  ASSERT_FALSE(bad_ip.has_value());
  EXPECT_EQ(bad_ip.error().code, Errc::malformed);
  // Meta of 513 bytes.
  Bytes meta = from_hex("81a44d657461da0201");
  meta.resize(meta.size() + 513);
  auto big_meta = decode<Alive>(meta);
  ASSERT_FALSE(big_meta.has_value());
  EXPECT_EQ(big_meta.error().code, Errc::too_large);
  // Vsn of 7 bytes.
  EXPECT_FALSE(decode<Alive>(from_hex("81a356736ea701050200000000")).has_value());
  // SeqNo over uint32.
  EXPECT_FALSE(decode<NackResp>(from_hex("81a55365714e6fcf0000000100000000")).has_value());
  // Port over uint16.
  EXPECT_FALSE(decode<Alive>(from_hex("81a4506f7274ce00010000")).has_value());
  // A struct that is a string.
  EXPECT_EQ(decode<Ping>(from_hex("a3616263")).error().code, Errc::malformed);
}

TEST(MemberlistMessages, PushPullCountLimits) {
  // Nodes = 1,048,577 and -1; UserStateLen = 20 MB + 1; UserMsgLen = 20 MB + 1.
  auto nodes = decode<PushPullHeader>(from_hex("81a54e6f646573ce00100001"));
  ASSERT_FALSE(nodes.has_value());
  EXPECT_EQ(nodes.error().code, Errc::too_large);
  auto ok = decode<PushPullHeader>(from_hex("81a54e6f646573ce00100000"));
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->nodes, kPushPullNodesMax);
  EXPECT_EQ(decode<PushPullHeader>(from_hex("81a54e6f646573ff")).error().code, Errc::malformed);
  EXPECT_EQ(decode<PushPullHeader>(from_hex("81ac5573657253746174654c656ece01400001")).error().code,
            Errc::too_large);
  EXPECT_EQ(decode<UserMsgHeader>(from_hex("81aa557365724d73674c656ece01400001")).error().code,
            Errc::too_large);
  // And the encoders refuse the same.
  Bytes buf(64);
  Writer w(buf);
  EXPECT_EQ(encode(w, PushPullHeader{kPushPullNodesMax + 1, 0, false}).error().code,
            Errc::too_large);
  const Bytes meta(kMetaBytesMax + 1);
  Bytes big(2000);
  Writer w2(big);
  EXPECT_EQ(encode(w2, Alive{1, "a", {}, 0, meta, {}}).error().code, Errc::too_large);
}

TEST(MemberlistMessages, EncodeRollsBackWhenItDoesNotFit) {
  Bytes buf(10);
  Writer w(buf);
  w.u8(0xaa);
  auto r = encode(w, Suspect{1, "node-b", "node-a"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, Errc::no_space);
  EXPECT_EQ(w.size(), 1u);
}

TEST(MemberlistMessages, Addresses) {
  auto a = to_address(ip({10, 0, 0, 1}), 7946);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(*a, Address::ipv4(10, 0, 0, 1, 7946));
  auto mapped = to_address(ip({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2}), 1);
  ASSERT_TRUE(mapped.has_value());
  EXPECT_EQ(*mapped, Address::ipv4(10, 0, 0, 2, 1));
  auto v6 = to_address(ip({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}), 2);
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->family, 6);
  EXPECT_FALSE(to_address(IpBytes{}, 1).has_value());
  EXPECT_EQ(ip_bytes(Address::ipv4(1, 2, 3, 4, 5)).size, 4);
  EXPECT_EQ(ip_bytes(*v6).size, 16);
}

}  // namespace
}  // namespace grapevine::wire::ml
