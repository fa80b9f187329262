// grapevine_core alone, without grapevine_crypto (this executable links core and GoogleTest
// only, so its link proves core needs no OpenSSL symbol): no cipher is registered, keys are
// refused at configuration time with a clear error, every wire-level encrypt and decrypt fails
// (nothing goes out in clear instead), and keyless nodes run as ever.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "crypto/aead.h"
#include "grapevine/crypto.h"
#include "grapevine/node.h"
#include "wire/memberlist/crypto.h"
#include "wire/seal.h"

namespace grapevine {
namespace {

using Bytes = std::vector<std::byte>;

NodeConfig keyed(Dialect dialect, std::size_t key_bytes) {
  NodeConfig c;
  c.membership.dialect = dialect;
  c.membership.name = "a";
  c.membership.memberlist.keys.push_back(Bytes(key_bytes, std::byte{1}));
  return c;
}

TEST(CoreOnly, NoProviderIsRegistered) {
  EXPECT_FALSE(crypto_available());
  EXPECT_STREQ(crypto_provider_name(), "none");
  EXPECT_EQ(detail::aead(), nullptr);
}

TEST(CoreOnly, KeysAreRefusedAtConfigurationTime) {
  for (auto dialect : {Dialect::native, Dialect::memberlist}) {
    auto r = validate(keyed(dialect, 32));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::invalid_argument);
    EXPECT_NE(std::string(r.error().detail).find("grapevine::crypto"), std::string::npos);
    EXPECT_FALSE(validate(keyed(dialect, 32).membership));
  }
  NodeConfig keyless;
  EXPECT_TRUE(validate(keyless));
}

TEST(CoreOnly, MemberlistEncryptionFailsInsteadOfSendingPlaintext) {
  const Bytes key(32, std::byte{2}), plain(40, std::byte{3});
  Bytes out{std::byte{9}};
  auto r = wire::ml::encrypt_payload(wire::ml::EncryptionVersion::v1, key, plain, {},
                                     wire::ml::os_nonce_source(), out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_EQ(out, Bytes{std::byte{9}});  // nothing appended
  auto ring = wire::ml::Keyring::create(key);
  ASSERT_TRUE(ring);
  Bytes msg(1 + 12 + 16 + 8, std::byte{0});
  msg[0] = std::byte{1};
  Bytes back;
  EXPECT_EQ(wire::ml::decrypt_payload(*ring, msg, {}, back).error().code, Errc::invalid_argument);
  std::byte nonce[12];
  EXPECT_FALSE(wire::ml::os_nonce_source().fill(nonce));
}

TEST(CoreOnly, NativeSealFailsInsteadOfSendingPlaintext) {
  auto ring = wire::ml::Keyring::create(Bytes(32, std::byte{2}));
  ASSERT_TRUE(ring);
  wire::ml::GcmKeyring gcm(*ring);
  wire::seal::NonceGenerator nonces(Bytes(wire::seal::kSeedBytes, std::byte{4}));
  std::byte nonce[12];
  EXPECT_FALSE(nonces.fill(nonce));
  Bytes out;
  auto r = wire::seal::seal(gcm, "", 0, Bytes(10, std::byte{5}), nonces, out);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_TRUE(out.empty());
}

// Datagrams between nodes held in memory: no sockets, no simulator.
class Wire final : public Effects {
 public:
  struct Packet {
    Address to, from;
    Bytes bytes;
  };
  void send(const Address& to, std::span<const std::byte> d) override {
    queue.push_back({to, from, Bytes(d.begin(), d.end())});
  }
  void emit(const Event&) override {}
  Address from;
  std::deque<Packet> queue;
};

TEST(CoreOnly, KeylessNodesStillRun) {
  const Address a = *Address::parse("127.0.0.1:7000"), b = *Address::parse("127.0.0.1:7001");
  Node na(NodeConfig{}, a, 1), nb(NodeConfig{}, b, 2);
  Time now = Time::from_ns(1'000'000'000);
  na.preload(now, std::span(&b, 1));
  nb.preload(now, std::span(&a, 1));
  Wire fx;
  std::size_t delivered = 0;
  for (int step = 0; step < 100; ++step) {  // 5 s in 50 ms steps
    now = now + Duration::milliseconds(50);
    fx.from = a;
    na.on_timeout(now, fx);
    fx.from = b;
    nb.on_timeout(now, fx);
    while (!fx.queue.empty()) {
      auto p = std::move(fx.queue.front());
      fx.queue.pop_front();
      ASSERT_FALSE(wire::seal::is_sealed(p.bytes));
      fx.from = p.to;
      (p.to == a ? na : nb).on_datagram(now, p.from, p.bytes, fx);
      ++delivered;
    }
  }
  EXPECT_GT(delivered, 4u);
  EXPECT_EQ(na.membership().member_count(MemberState::alive), 2u);
  EXPECT_EQ(nb.membership().member_count(MemberState::alive), 2u);
}

}  // namespace
}  // namespace grapevine
