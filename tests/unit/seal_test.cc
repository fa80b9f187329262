// The native seal (wire/seal.h, core/node_seal.h): round trip, wrong key, key rotation (primary
// seals, any key opens), truncation and tampering, label mismatch, keyless nodes, plaintext
// refused (and accepted in transition mode), stale and replayed packets, the nonce generator.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/node_seal.h"
#include "wire/seal.h"

namespace grapevine {
namespace {

using Bytes = std::vector<std::byte>;
namespace seal = wire::seal;

Bytes key(std::uint8_t fill) { return Bytes(32, std::byte(fill)); }
Bytes text(std::string_view s) {
  Bytes b;
  for (char c : s) b.push_back(std::byte(c));
  return b;
}
wire::ml::Keyring ring(std::initializer_list<std::uint8_t> fills) {
  std::vector<Bytes> ks;
  for (auto f : fills) ks.push_back(key(f));
  std::vector<std::span<const std::byte>> extra(ks.begin() + 1, ks.end());
  return *wire::ml::Keyring::create(ks.front(), extra);
}
seal::NonceGenerator nonces(std::uint8_t fill = 9) {
  return seal::NonceGenerator(Bytes(seal::kSeedBytes, std::byte(fill)));
}

Bytes sealed(const wire::ml::Keyring& k, std::string_view label, std::string_view msg,
             std::int64_t ts = 1234) {
  auto n = nonces();
  Bytes out;
  EXPECT_TRUE(seal::seal(k, label, ts, text(msg), n, out).has_value());
  return out;
}

TEST(Seal, RoundTripCarriesTimestampAndBytes) {
  const auto k = ring({1});
  const Bytes s = sealed(k, "", "\x01hello", 987654321);
  EXPECT_EQ(s.size(), seal::overhead(0) + 6);
  EXPECT_TRUE(seal::is_sealed(s));
  Bytes scratch;
  seal::Opened o;
  ASSERT_FALSE(seal::open(&k, "", s, scratch, o).has_value());
  EXPECT_EQ(o.timestamp_ms, 987654321);
  EXPECT_EQ(Bytes(o.plain.begin(), o.plain.end()), text("\x01hello"));
}

TEST(Seal, WrongKeyNoKeyAndLabel) {
  const Bytes s = sealed(ring({1}), "prod", "payload");
  Bytes scratch;
  seal::Opened o;
  const auto other = ring({2});
  EXPECT_EQ(seal::open(&other, "prod", s, scratch, o), SealReject::wrong_key);
  const auto right = ring({1});
  EXPECT_EQ(seal::open(&right, "dev", s, scratch, o), SealReject::label_mismatch);
  EXPECT_EQ(seal::open(&right, "", s, scratch, o), SealReject::label_mismatch);
  EXPECT_EQ(seal::open(static_cast<const wire::ml::Keyring*>(nullptr), "prod", s, scratch, o),
            SealReject::no_key);
  EXPECT_FALSE(seal::open(&right, "prod", s, scratch, o).has_value());
}

TEST(Seal, RotationPrimarySealsEveryKeyOpens) {
  // Rolling rotation: install K2 (K1 primary), use K2, remove K1.
  const Bytes by_k1 = sealed(ring({1}), "", "old");
  const Bytes by_k2 = sealed(ring({2, 1}), "", "new");  // K2 primary: seals with K2
  Bytes scratch;
  seal::Opened o;
  const auto both = ring({1, 2});
  EXPECT_FALSE(seal::open(&both, "", by_k1, scratch, o).has_value());
  EXPECT_FALSE(seal::open(&both, "", by_k2, scratch, o).has_value());
  const auto only_k1 = ring({1});
  EXPECT_EQ(seal::open(&only_k1, "", by_k2, scratch, o), SealReject::wrong_key);
  const auto only_k2 = ring({2});
  EXPECT_EQ(seal::open(&only_k2, "", by_k1, scratch, o), SealReject::wrong_key);
}

TEST(Seal, TruncatedAndTamperedNeverOpen) {
  const auto k = ring({1});
  const Bytes s = sealed(k, "prod", "some native datagram");
  Bytes scratch;
  seal::Opened o;
  for (std::size_t n = 0; n < s.size(); ++n) {
    auto r = seal::open(&k, "prod", std::span(s).first(n), scratch, o);
    ASSERT_TRUE(r.has_value()) << n;
  }
  for (std::size_t i = 0; i < s.size(); ++i) {
    Bytes t = s;
    t[i] ^= std::byte(0x40);
    ASSERT_TRUE(seal::open(&k, "prod", t, scratch, o).has_value()) << i;
  }
  EXPECT_EQ(seal::open(&k, "prod", std::span(s).first(1), scratch, o), SealReject::malformed);
}

TEST(Seal, GcmKeyringIsMemberlistsFormat) {
  // The cached-context cipher and memberlist's per-call one read each other, both ways, for
  // every key of a keyring, and reject what the other sealed under a key it lacks.
  const auto both = ring({1, 2});
  wire::ml::GcmKeyring gcm(both);
  const Bytes plain = text("the same bytes either way");
  const Bytes aad = text("aad");
  auto n = nonces();
  Bytes ours;
  ASSERT_TRUE(gcm.encrypt(plain, aad, n, ours).has_value());
  Bytes back;
  ASSERT_TRUE(wire::ml::decrypt_payload(both, ours, aad, back).has_value());
  EXPECT_EQ(back, plain);
  for (std::uint8_t k : {1, 2}) {
    Bytes theirs;
    ASSERT_TRUE(wire::ml::encrypt_payload(wire::ml::EncryptionVersion::v1, key(k), plain, aad, n,
                                          theirs)
                    .has_value());
    ASSERT_TRUE(gcm.decrypt(theirs, aad, back).has_value()) << int(k);
    EXPECT_EQ(back, plain);
    // Reuse after a failure (wrong AAD) must not poison the contexts.
    EXPECT_EQ(gcm.decrypt(theirs, text("other"), back).error().code, Errc::rejected);
    ASSERT_TRUE(gcm.decrypt(theirs, aad, back).has_value());
  }
  Bytes foreign;
  ASSERT_TRUE(wire::ml::encrypt_payload(wire::ml::EncryptionVersion::v1, key(3), plain, aad, n,
                                        foreign)
                  .has_value());
  EXPECT_EQ(gcm.decrypt(foreign, aad, back).error().code, Errc::rejected);
}

TEST(Seal, NonceGeneratorIsDeterministicAndDoesNotRepeat) {
  auto a = nonces(1), b = nonces(1), c = nonces(2);
  std::set<Bytes> seen;
  for (int i = 0; i < 20000; ++i) {
    Bytes x(12), y(12), z(12);
    ASSERT_TRUE(a.fill(x));
    ASSERT_TRUE(b.fill(y));
    ASSERT_TRUE(c.fill(z));
    EXPECT_EQ(x, y);
    EXPECT_NE(x, z);
    EXPECT_TRUE(seen.insert(x).second);
    EXPECT_TRUE(seen.insert(z).second);
  }
}

// ---- NodeSeal: the Node-boundary rules ----

NodeConfig keyed_config(std::vector<Bytes> keys) {
  NodeConfig c;
  c.membership.memberlist.keys = std::move(keys);
  return c;
}

class Capture final : public Effects {
 public:
  void send(const Address&, std::span<const std::byte> d) override { sent.emplace_back(d.begin(), d.end()); }
  void emit(const Event&) override {}
  void send_stream(const Address&, std::span<const std::byte> m) override {
    streams.emplace_back(m.begin(), m.end());
  }
  std::vector<Bytes> sent, streams;
};

const Address kSelf = Address::ipv4_u32(0x0a000001, 7946);
const Time kT0 = Time::zero() + Duration::seconds(100);

TEST(NodeSeal, PlaintextRefusedUnlessTransition) {
  detail::NodeSeal s(keyed_config({key(1)}), kSelf, 1);
  const Bytes plain = {std::byte(1), std::byte(0x20), std::byte(0)};
  EXPECT_FALSE(s.open_datagram(kT0, plain).has_value());
  EXPECT_EQ(s.stats().rejected[std::size_t(SealReject::plaintext_refused)], 1u);

  NodeConfig transition = keyed_config({key(1)});
  transition.membership.memberlist.gossip_verify_incoming = false;
  detail::NodeSeal t(transition, kSelf, 1);
  EXPECT_TRUE(t.open_datagram(kT0, plain).has_value());
  EXPECT_EQ(t.stats().plaintext_accepted, 1u);

  detail::NodeSeal open_node(NodeConfig{}, kSelf, 1);  // keyless: plaintext in, sealed refused
  EXPECT_TRUE(open_node.open_datagram(kT0, plain).has_value());
  EXPECT_FALSE(open_node.open_datagram(kT0, sealed(ring({1}), "", "x")).has_value());
  EXPECT_EQ(open_node.stats().rejected[std::size_t(SealReject::no_key)], 1u);
}

TEST(NodeSeal, SendsSealedOpensOnceRefusesReplayAndStale) {
  detail::NodeSeal a(keyed_config({key(1)}), kSelf, 1), b(keyed_config({key(1)}), kSelf, 2);
  Capture fx;
  const Bytes msg = text("\x01\x20\x03\x01\x02\x03");
  a.wrap(kT0, fx).send(kSelf, msg);
  ASSERT_EQ(fx.sent.size(), 1u);
  const Bytes wire = fx.sent[0];
  EXPECT_TRUE(seal::is_sealed(wire));
  auto got = b.open_datagram(kT0 + Duration::seconds(1), wire);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(Bytes(got->begin(), got->end()), msg);
  // The same packet again, a second later: a replay.
  EXPECT_FALSE(b.open_datagram(kT0 + Duration::seconds(2), wire).has_value());
  EXPECT_EQ(b.stats().rejected[std::size_t(SealReject::replayed)], 1u);
  // Past the window: stale (the replay cache has forgotten it by then).
  EXPECT_FALSE(b.open_datagram(kT0 + Duration::seconds(200), wire).has_value());
  EXPECT_EQ(b.stats().rejected[std::size_t(SealReject::stale)], 1u);
  // From the future beyond max_age: stale too.
  detail::NodeSeal c(keyed_config({key(1)}), kSelf, 3);
  c.set_clock_offset(Duration::seconds(-120));
  EXPECT_FALSE(c.open_datagram(kT0, wire).has_value());
  EXPECT_EQ(c.stats().rejected[std::size_t(SealReject::stale)], 1u);
}

// A node refuses what was sealed before it started (less SealConfig::start_slack), even inside
// max_age: its tag cache starts empty, so a replay recorded before a restart would pass it.
TEST(NodeSeal, RefusesWhatWasSealedBeforeItStarted) {
  detail::NodeSeal a(keyed_config({key(1)}), kSelf, 1);
  Capture fx;
  const Bytes msg = text("\x01\x20\x03\x01\x02\x03");
  a.wrap(kT0, fx).send(kSelf, msg);
  a.wrap(kT0 + Duration::seconds(10), fx).send(kSelf, msg);
  ASSERT_EQ(fx.sent.size(), 2u);
  detail::NodeSeal b(keyed_config({key(1)}), kSelf, 2);
  Capture out;
  (void)b.wrap(kT0 + Duration::milliseconds(10500), out);  // b starts 10.5 s after kT0
  EXPECT_FALSE(b.open_datagram(kT0 + Duration::seconds(11), fx.sent[0]).has_value());
  EXPECT_EQ(b.stats().rejected[std::size_t(SealReject::stale)], 1u);
  // Sealed 0.5 s before b started: within the slack (clock skew), accepted.
  EXPECT_TRUE(b.open_datagram(kT0 + Duration::seconds(11), fx.sent[1]).has_value());
}

TEST(NodeSeal, StreamsAreFramedSealedAndOpened) {
  detail::NodeSeal a(keyed_config({key(1)}), kSelf, 1), b(keyed_config({key(1)}), kSelf, 2);
  Capture fx;
  const Bytes msg = {std::byte(0), std::byte(0), std::byte(0), std::byte(3),
                     std::byte(1), std::byte(1), std::byte(7)};  // a native stream message
  a.wrap(kT0, fx).send_stream(kSelf, msg);
  ASSERT_EQ(fx.streams.size(), 1u);
  const Bytes& framed = fx.streams[0];
  const std::size_t len = std::size_t(framed[2]) << 8 | std::size_t(framed[3]);
  EXPECT_EQ(len + 4, framed.size());
  auto got = b.open_stream(kT0, framed);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(Bytes(got->begin(), got->end()), msg);
  EXPECT_FALSE(b.open_stream(kT0, msg).has_value());  // plaintext stream refused
  EXPECT_EQ(b.stats().rejected[std::size_t(SealReject::plaintext_refused)], 1u);
  // Transition mode: a plaintext stream message is routed whole, length header included.
  NodeConfig transition = keyed_config({key(1)});
  transition.membership.memberlist.gossip_verify_incoming = false;
  detail::NodeSeal t(transition, kSelf, 3);
  auto plain = t.open_stream(kT0, msg);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(Bytes(plain->begin(), plain->end()), msg);
}

TEST(NodeSeal, NativeKeysMustBe32Bytes) {
  NodeConfig c = keyed_config({Bytes(16, std::byte(1))});
  EXPECT_FALSE(validate(c).has_value());
  c.membership.dialect = Dialect::memberlist;
  c.membership.name = "m";
  EXPECT_TRUE(validate(c).has_value());
}

}  // namespace
}  // namespace grapevine
