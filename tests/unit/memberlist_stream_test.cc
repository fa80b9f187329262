// TCP streams: push/pull streams memberlist wrote (compressed, encrypted, plain) parse
// incrementally, fed one byte at a time; our sender reproduces them byte for byte; the reader
// tells "need more" from "malformed"; every limit a peer could push us past is an error.
#include <gtest/gtest.h>

#include "memberlist_test_util.h"
#include "wire/memberlist/compress.h"
#include "wire/memberlist/label.h"
#include "wire/memberlist/stream.h"

namespace grapevine::wire::ml {
namespace {

using test::Bytes;
using test::golden;
using test::to_hex;

Keyring go_keyring() {
  const Bytes k16 = test::seq_bytes(16, 0);
  const std::span<const std::byte> extra[] = {k16};
  return *Keyring::create(test::seq_bytes(32, 0), extra);
}

// What the Go side put in its push/pull: two nodes and "user state bytes".
const Bytes kMeta = test::bytes_of("m");
std::vector<PushNodeState> go_nodes() {
  std::vector<PushNodeState> nodes(2);
  for (int i = 0; i < 2; ++i) {
    nodes[i].name = i == 0 ? "node-a" : "node-b";
    nodes[i].addr.bytes = {10, 0, 0, std::uint8_t(i + 1)};
    nodes[i].addr.size = 4;
    nodes[i].port = 7946;
    nodes[i].meta = kMeta;
    nodes[i].incarnation = std::uint32_t(i + 1);
    nodes[i].state = i;
    nodes[i].vsn = default_vsn();
  }
  return nodes;
}

// Feeds `stream` to a reader `chunk` bytes at a time, as a TCP reader would, and renders the
// events. Stops at done or an error ("error <code>").
std::vector<std::string> read_stream(ByteSpan stream, const ReceiveConfig& cfg, std::size_t chunk) {
  StreamReader reader(cfg);
  std::vector<std::string> out;
  Bytes buffer;
  std::size_t fed = 0;
  for (int guard = 0; guard < 1000000; ++guard) {
    auto ev = reader.next(buffer);
    if (!ev) {
      out.push_back(std::string("error ") + errc_name(ev.error().code));
      return out;
    }
    switch (ev->kind) {
      case StreamEventKind::need_more: {
        EXPECT_GT(ev->wanted, buffer.size());  // asks for more than it has
        if (fed == stream.size()) {
          out.push_back("eof");
          return out;
        }
        const std::size_t n = std::min(chunk, stream.size() - fed);
        buffer.insert(buffer.end(), stream.begin() + fed, stream.begin() + fed + n);
        fed += n;
        break;
      }
      case StreamEventKind::push_pull_header:
        out.push_back("header " + std::to_string(ev->header.nodes) + " " +
                      std::to_string(ev->header.user_state_len) + (ev->header.join ? " join" : ""));
        break;
      case StreamEventKind::node:
        out.push_back("node " + std::string(ev->node.name) + " " +
                      std::to_string(ev->node.incarnation) + " " + std::to_string(ev->node.state));
        break;
      case StreamEventKind::user_state:
        out.push_back("state " + std::string(as_chars(ev->bytes)));
        break;
      case StreamEventKind::user_msg:
        out.push_back("user " + std::string(as_chars(ev->bytes)));
        break;
      case StreamEventKind::ping:
        out.push_back("ping " + std::to_string(ev->ping.seq_no));
        break;
      case StreamEventKind::ack:
        out.push_back("ack " + std::to_string(ev->ack.seq_no));
        break;
      case StreamEventKind::err:
        out.push_back("err " + std::string(ev->err.error));
        break;
      case StreamEventKind::done:
        out.push_back("done");
        return out;
    }
    buffer.erase(buffer.begin(), buffer.begin() + std::ptrdiff_t(ev->consumed));
  }
  ADD_FAILURE() << "reader did not finish";
  return out;
}

const std::vector<std::string> kGoPushPull = {"header 2 16 join", "node node-a 1 0",
                                              "node node-b 2 1", "state user state bytes", "done"};

TEST(MemberlistStream, ParsesGoStreamsInAnyChunking) {
  const Keyring keys = go_keyring();
  ReceiveConfig plain, enc;
  enc.keyring = &keys;
  for (std::size_t chunk : {1u, 2u, 7u, 64u, 100000u}) {
    SCOPED_TRACE(chunk);
    EXPECT_EQ(read_stream(golden("tcp_push_pull_plain"), plain, chunk), kGoPushPull);
    EXPECT_EQ(read_stream(golden("tcp_push_pull_encrypted"), enc, chunk), kGoPushPull);
    std::vector<std::string> no_join = kGoPushPull;
    no_join[0] = "header 2 16";
    EXPECT_EQ(read_stream(golden("tcp_push_pull_uncompressed"), plain, chunk), no_join);
    EXPECT_EQ(read_stream(golden("tcp_ping_encrypted_uncompressed"), enc, chunk),
              (std::vector<std::string>{"ping 5", "done"}));
  }
}

TEST(MemberlistStream, SealsLikeGo) {
  const Keyring keys = go_keyring();
  test::FixedNonces nonces;
  const Bytes user = test::bytes_of("user state bytes");
  auto body = encode_push_pull(go_nodes(), user, true);
  ASSERT_TRUE(body.has_value());
  SendConfig cfg;
  auto plain = seal_stream(*body, cfg);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(to_hex(*plain), to_hex(golden("tcp_push_pull_plain")));
  cfg.keyring = &keys;
  cfg.nonces = &nonces;
  auto enc = seal_stream(*body, cfg);
  ASSERT_TRUE(enc.has_value());
  EXPECT_EQ(to_hex(*enc), to_hex(golden("tcp_push_pull_encrypted")));
  auto no_join = encode_push_pull(go_nodes(), user, false);
  EXPECT_EQ(to_hex(*no_join), to_hex(golden("tcp_push_pull_uncompressed")));
  cfg.compress = false;
  // ping{SeqNo: 5, Node: "node-b"} as memberlist encodes it.
  auto ping = seal_stream(test::from_hex("0082a44e6f6465a66e6f64652d62a55365714e6f05"), cfg);
  ASSERT_TRUE(ping.has_value());
  EXPECT_EQ(to_hex(*ping), to_hex(golden("tcp_ping_encrypted_uncompressed")));
}

TEST(MemberlistStream, UserMessagesErrorsAndLabels) {
  auto body = encode_user_msg(test::bytes_of("reliable hello"));
  ASSERT_TRUE(body.has_value());
  SendConfig cfg;
  cfg.label = "prod";
  cfg.compress = false;
  auto s = seal_stream(*body, cfg);
  ASSERT_TRUE(s.has_value());
  ReceiveConfig recv;
  recv.label = "prod";
  EXPECT_EQ(read_stream(*s, recv, 3), (std::vector<std::string>{"user reliable hello", "done"}));
  recv.label = "dev";
  EXPECT_EQ(read_stream(*s, recv, 1), std::vector<std::string>{"error rejected"});
  recv.label = "";
  EXPECT_EQ(read_stream(*s, recv, 1), std::vector<std::string>{"error rejected"});
  EXPECT_EQ(read_stream(golden("err"), ReceiveConfig{}, 5),
            (std::vector<std::string>{"err remote node state is larger than limit", "done"}));
  EXPECT_EQ(read_stream(golden("ack_doc"), ReceiveConfig{}, 5),
            (std::vector<std::string>{"ack 1", "done"}));
}

TEST(MemberlistStream, EncryptionPolicy) {
  const Keyring keys = go_keyring();
  ReceiveConfig enc;
  enc.keyring = &keys;
  EXPECT_EQ(read_stream(golden("tcp_push_pull_plain"), enc, 64),
            std::vector<std::string>{"error rejected"});
  EXPECT_EQ(read_stream(golden("tcp_push_pull_encrypted"), ReceiveConfig{}, 64),
            std::vector<std::string>{"error rejected"});
  enc.verify_incoming = false;
  EXPECT_EQ(read_stream(golden("tcp_push_pull_plain"), enc, 64), kGoPushPull);
  // A wrong key.
  const Keyring other = *Keyring::create(test::seq_bytes(16, 5));
  ReceiveConfig wrong;
  wrong.keyring = &other;
  EXPECT_EQ(read_stream(golden("tcp_push_pull_encrypted"), wrong, 64),
            std::vector<std::string>{"error rejected"});
  // The label is part of the stream AAD.
  SendConfig labeled;
  labeled.keyring = &keys;
  labeled.label = "prod";
  auto s = seal_stream(golden("ack_doc"), labeled);
  ReceiveConfig skip;
  skip.keyring = &keys;
  skip.skip_inbound_label_check = true;
  skip.label = "prod";
  const Bytes stripped(s->begin() + 6, s->end());
  EXPECT_EQ(read_stream(stripped, skip, 8), (std::vector<std::string>{"ack 1", "done"}));
  skip.label = "prox";
  EXPECT_EQ(read_stream(stripped, skip, 8), std::vector<std::string>{"error rejected"});
}

TEST(MemberlistStream, NeedMoreVersusMalformed) {
  const Bytes s = golden("tcp_push_pull_uncompressed");
  // Every strict prefix only ever asks for more.
  for (std::size_t n = 0; n < s.size(); ++n) {
    auto events = read_stream(ByteSpan(s).first(n), ReceiveConfig{}, 1000);
    EXPECT_EQ(events.back(), "eof") << n;
  }
  // A broken byte inside the header is malformed at once, not a wait.
  Bytes bad = s;
  bad[1] = std::byte{0xc1};
  EXPECT_EQ(read_stream(bad, ReceiveConfig{}, 1000), std::vector<std::string>{"error malformed"});
  // An unknown body type.
  EXPECT_EQ(read_stream(test::from_hex("05"), ReceiveConfig{}, 1),
            std::vector<std::string>{"error unknown_type"});
  // Inside a compressed body there is no "more": a short body is truncated.
  const Bytes whole = *encode_push_pull(go_nodes(), test::bytes_of("user state bytes"), true);
  const Bytes cut(whole.begin(), whole.end() - 1);
  SendConfig cfg;
  EXPECT_EQ(read_stream(*seal_stream(cut, cfg), ReceiveConfig{}, 64),
            (std::vector<std::string>{"header 2 16 join", "node node-a 1 0", "node node-b 2 1",
                                      "error truncated"}));
}

TEST(MemberlistStream, Limits) {
  // Nodes over 1,048,576 and user state over 20 MB: too_large from the header alone.
  EXPECT_EQ(read_stream(test::from_hex("0681a54e6f646573ce00100001"), ReceiveConfig{}, 100),
            std::vector<std::string>{"error too_large"});
  EXPECT_EQ(
      read_stream(test::from_hex("0681ac5573657253746174654c656ece01400001"), ReceiveConfig{}, 100),
      std::vector<std::string>{"error too_large"});
  EXPECT_EQ(
      read_stream(test::from_hex("0881aa557365724d73674c656ece01400001"), ReceiveConfig{}, 100),
      std::vector<std::string>{"error too_large"});
  // An encrypted length over 20 MB, before any of it arrives.
  const Keyring keys = go_keyring();
  ReceiveConfig enc;
  enc.keyring = &keys;
  EXPECT_EQ(read_stream(test::from_hex("0a01400001"), enc, 100),
            std::vector<std::string>{"error too_large"});
  // A node state that never ends (a 1 GB name announced): too_large once 64 KiB are buffered.
  Bytes endless = test::from_hex(
      "0683a44a6f696ec2a54e6f64657301ac5573657253746174654c656e00"
      "81a44e616d65db40000000");
  endless.resize(endless.size() + kStreamValueBytesMax + 10, std::byte{'x'});
  EXPECT_EQ(read_stream(endless, ReceiveConfig{}, 4096),
            (std::vector<std::string>{"header 1 0", "error too_large"}));
  // Encoders refuse the same limits.
  EXPECT_EQ(encode_user_msg(Bytes(kUserMsgBytesMax + 1)).error().code, Errc::too_large);
  EXPECT_EQ(encode_push_pull({}, Bytes(kUserStateBytesMax + 1), false).error().code,
            Errc::too_large);
}

TEST(MemberlistStream, EmptyCompressedBodyIsMalformed) {
  SendConfig cfg;
  EXPECT_EQ(seal_stream({}, cfg).error().code, Errc::invalid_argument);  // we never send one
  // compress{LZW("")}: Go v0.2.2 would index byte 0 of the result and panic.
  auto s = std::optional<Bytes>(compress_message({}));
  EXPECT_EQ(read_stream(*s, ReceiveConfig{}, 64), std::vector<std::string>{"error malformed"});
}

}  // namespace
}  // namespace grapevine::wire::ml
