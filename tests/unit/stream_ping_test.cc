// SWIM's TCP fallback ping on the wire. Native: the stream_ping / stream_ack messages byte for
// byte, round trips, and every malformed form refused. Codecs: a ping encoded by one node's
// codec is answered by the target's codec with an ack that reaches the prober's sink, in both
// dialects; the memberlist one is memberlist's own stream ping ([0][msgpack ping], compressed
// and encrypted as rawSendMsgStream would), checked with the memberlist stream reader.
#include <gtest/gtest.h>

#include "core/membership/codec.h"
#include "core/membership/memberlist_codec.h"
#include "memberlist_test_util.h"
#include "wire/memberlist/stream.h"
#include "wire/native_membership.h"

namespace grapevine::detail {
namespace {

namespace test = wire::ml::test;

using wire::Reader;
using wire::Writer;

Bytes write_with(bool (*write)(Writer&, const wire::PingFrame&), const wire::PingFrame& f) {
  Bytes out(64);
  Writer w(out);
  EXPECT_TRUE(write(w, f));
  out.resize(w.size());
  return out;
}

Bytes ack_bytes(std::uint32_t seq) {
  Bytes out(64);
  Writer w(out);
  EXPECT_TRUE(wire::write_stream_ack(w, wire::SeqFrame{seq}));
  out.resize(w.size());
  return out;
}

TEST(NativeStreamPing, GoldenBytes) {
  // length 6, version 1, type 2 (ping), seq 5, target 0x1234 (varint b4 24), sender 0x42.
  const Bytes ping = write_with(wire::write_stream_ping, wire::PingFrame{5, 0x1234, 0x42});
  EXPECT_EQ(test::to_hex(ping), "00000006010205b42442");
  // length 4, version 1, type 3 (ack), seq 300 (varint ac 02).
  EXPECT_EQ(test::to_hex(ack_bytes(300)), "000000040103ac02");
}

TEST(NativeStreamPing, RoundTripAndType) {
  const wire::PingFrame f{0xffffffffu, 0xa000001'1f0aULL, ~0ULL};
  const Bytes ping = write_with(wire::write_stream_ping, f);
  EXPECT_LE(ping.size(), wire::kStreamPingBytesMax);
  auto type = wire::stream_type(ping);
  ASSERT_TRUE(type.has_value());
  EXPECT_EQ(*type, wire::StreamType::ping);
  auto back = wire::decode_stream_ping(ping);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->seq, f.seq);
  EXPECT_EQ(back->target, f.target);
  EXPECT_EQ(back->sender, f.sender);
  auto ack = wire::decode_stream_ack(ack_bytes(77));
  ASSERT_TRUE(ack.has_value());
  EXPECT_EQ(ack->seq, 77u);
  EXPECT_EQ(*wire::stream_type(ack_bytes(77)), wire::StreamType::ack);
}

TEST(NativeStreamPing, EveryPrefixFails) {
  const Bytes ping = write_with(wire::write_stream_ping, wire::PingFrame{5, 0x1234, 0x42});
  for (std::size_t n = 0; n < ping.size(); ++n) {
    std::span<const std::byte> cut(ping.data(), n);
    EXPECT_FALSE(wire::decode_stream_ping(cut).has_value()) << n;
    EXPECT_FALSE(wire::stream_type(cut).has_value()) << n;
  }
}

TEST(NativeStreamPing, MalformedFormsAreRefused) {
  const Bytes ping = write_with(wire::write_stream_ping, wire::PingFrame{5, 0x1234, 0x42});
  // The wrong decoder for the type.
  EXPECT_EQ(wire::decode_stream_ack(ping).error().code, Errc::unknown_type);
  EXPECT_EQ(wire::decode_stream_ping(ack_bytes(1)).error().code, Errc::unknown_type);
  // A push-pull reader refuses a ping stream.
  EXPECT_FALSE(wire::PushPullReader(ping).ok());
  // Trailing byte, with the length header telling the truth.
  Bytes trailing = ping;
  trailing.push_back(std::byte{0});
  trailing[3] = std::byte{7};
  EXPECT_EQ(wire::decode_stream_ping(trailing).error().code, Errc::malformed);
  // Length header disagreeing with the bytes.
  Bytes lying = ping;
  lying[3] = std::byte{9};
  EXPECT_EQ(wire::stream_type(lying).error().code, Errc::malformed);
  // Another version, an unknown type.
  Bytes version = ping;
  version[4] = std::byte{9};
  EXPECT_EQ(wire::stream_type(version).error().code, Errc::unsupported_version);
  Bytes type = ping;
  type[5] = std::byte{0x7f};
  EXPECT_EQ(wire::stream_type(type).error().code, Errc::unknown_type);
  // A sequence number over 32 bits.
  Bytes big = test::from_hex("000000090102ffffffff1f0000");
  EXPECT_EQ(wire::decode_stream_ping(big).error().code, Errc::too_large);
  // A writer too small is left as it was.
  std::array<std::byte, 6> tiny;
  Writer w(tiny);
  EXPECT_FALSE(wire::write_stream_ping(w, wire::PingFrame{5, 0x1234, 0x42}));
  EXPECT_EQ(w.size(), 0u);
}

// Records what a codec hands its node.
class Sink final : public StreamSink {
 public:
  void on_ping(const wire::PingFrame&, const Address&) override { ++other; }
  void on_ping_req(const wire::PingReqFrame&, const Address&) override { ++other; }
  void on_ack(std::uint32_t) override { ++other; }
  void on_nack(std::uint32_t) override { ++other; }
  void on_alive(const wire::AliveFrame&, std::uint8_t) override { ++other; }
  void on_suspect(const wire::AccuseFrame&) override { ++other; }
  void on_dead(const wire::AccuseFrame&) override { ++other; }
  void on_heartbeat(const wire::HeartbeatFrame&, const Address&) override { ++other; }
  void on_hb_entry(const wire::HeartbeatEntry&) override { ++other; }
  void on_user(std::span<const std::byte>) override { ++other; }
  void on_malformed() override { ++malformed; }
  void on_unknown() override { ++other; }
  void on_rejected() override { ++rejected; }
  void on_push_pull(const wire::PushPullHeader&) override { ++other; }
  void on_member(const wire::MemberEntry&, std::uint8_t) override { ++other; }
  void on_stream_ack(std::uint32_t seq) override { acks.push_back(seq); }
  std::vector<std::uint32_t> acks;
  int malformed = 0, rejected = 0, other = 0;
};

const Address kA = Address::ipv4_u32(0x0a000001, 7946);
const Address kB = Address::ipv4_u32(0x0a000002, 7946);

TEST(NativeCodecStreamPing, TargetAnswersAndTheAckReachesTheProber) {
  auto a = make_native_codec(node_id_of(kA));
  auto b = make_native_codec(node_id_of(kB));
  const Bytes ping = a->stream_ping(wire::PingFrame{9, node_id_of(kB), node_id_of(kA)});
  ASSERT_FALSE(ping.empty());
  Sink at_b;
  const Bytes reply = b->unpack_stream(ping, kA, at_b);
  EXPECT_EQ(test::to_hex(reply), test::to_hex(ack_bytes(9)));
  EXPECT_EQ(at_b.other + at_b.malformed, 0);
  Sink at_a;
  EXPECT_TRUE(a->unpack_stream(reply, kB, at_a).empty());
  EXPECT_EQ(at_a.acks, std::vector<std::uint32_t>{9});
  // A ping meant for someone else gets no answer; garbage is counted.
  Sink at_a2;
  EXPECT_TRUE(a->unpack_stream(ping, kB, at_a2).empty());
  EXPECT_TRUE(a->unpack_stream(test::from_hex("0000000101"), kB, at_a2).empty());
  EXPECT_EQ(at_a2.malformed, 1);
  EXPECT_TRUE(at_a2.acks.empty());
}

struct MlNode {
  MlNode(const std::string& name, const Address& self, const MembershipConfig& base)
      : config(base), list(memberlist_id(name), self, Time::zero()), rng(7) {
    config.name = name;
    config.dialect = Dialect::memberlist;
    list.set_extra(memberlist_id(name), name, {});
    codec = make_memberlist_codec(config, self, list, rng);
  }
  void know(const std::string& name, const Address& at) {
    list.add(memberlist_id(name), at, 1, MemberState::alive, Time::zero());
    list.set_extra(memberlist_id(name), name, {});
  }
  MembershipConfig config;
  MemberList list;
  Rng rng;
  std::unique_ptr<Codec> codec;
};

// The ping as memberlist's stream reader sees it (what a Go member's handleConn decodes).
void expect_go_sees_ping(const Bytes& stream, const wire::ml::ReceiveConfig& cfg) {
  wire::ml::StreamReader reader(cfg);
  auto ev = reader.next(stream);
  ASSERT_TRUE(ev.has_value()) << errc_name(ev.error().code);
  ASSERT_EQ(ev->kind, wire::ml::StreamEventKind::ping);
  EXPECT_EQ(ev->ping.seq_no, 11u);
  EXPECT_EQ(ev->ping.node, "b");
  EXPECT_EQ(ev->ping.source_node, "a");
  EXPECT_EQ(ev->ping.source_port, 7946);
  EXPECT_EQ(ev->ping.source_addr.size, 4u);
}

TEST(MemberlistCodecStreamPing, IsMemberlistsTcpPingAndIsAnswered) {
  for (bool secure : {false, true}) {
    MembershipConfig base;
    if (secure) {
      base.memberlist.keys.push_back(test::seq_bytes(32, 0));
      base.memberlist.label = "dc1";
    }
    MlNode a("a", kA, base), b("b", kB, base);
    a.know("b", kB);
    b.know("a", kA);
    const Bytes ping = a.codec->stream_ping(wire::PingFrame{11, memberlist_id("b"), 0});
    ASSERT_FALSE(ping.empty());
    if (!secure) {
      // Compression on (memberlist's default): the stream body is always compressed.
      EXPECT_EQ(std::to_integer<int>(ping[0]), 9);
    } else {
      EXPECT_EQ(std::to_integer<int>(ping[0]), 244);  // label first
    }
    std::optional<wire::ml::Keyring> keys;
    wire::ml::ReceiveConfig cfg;
    if (secure) {
      keys.emplace(*wire::ml::Keyring::create(test::seq_bytes(32, 0), {}));
      cfg.keyring = &*keys;
      cfg.label = "dc1";
    }
    expect_go_sees_ping(ping, cfg);
    Sink at_b;
    const Bytes reply = b.codec->unpack_stream(ping, kA, at_b);
    ASSERT_FALSE(reply.empty());
    EXPECT_EQ(at_b.malformed + at_b.rejected, 0);
    Sink at_a;
    EXPECT_TRUE(a.codec->unpack_stream(reply, kB, at_a).empty());
    EXPECT_EQ(at_a.acks, std::vector<std::uint32_t>{11}) << "secure " << secure;
    // The same ping reaching "a" (not its target) is not answered.
    Sink wrong;
    EXPECT_TRUE(a.codec->unpack_stream(ping, kB, wrong).empty());
  }
}

}  // namespace
}  // namespace grapevine::detail
