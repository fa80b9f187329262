// AES-GCM as memberlist's security.go: with the nonce fixed, our ciphertexts equal Go's for every
// key size, both versions and with and without AAD; Go's decrypt with ours; wrong keys, wrong
// AAD and tampering are rejected; the keyring behaves like memberlist's.
#include <gtest/gtest.h>

#include "memberlist_test_util.h"
#include "wire/memberlist/crypto.h"

namespace grapevine::wire::ml {
namespace {

using test::Bytes;
using test::golden;
using test::to_hex;

Keyring ring(std::size_t key_bytes) {
  auto k = Keyring::create(test::seq_bytes(key_bytes, 0));
  EXPECT_TRUE(k.has_value());
  return std::move(*k);
}

TEST(MemberlistCrypto, MatchesGoForAllKeySizesAndVersions) {
  const Bytes plain = golden("aes_plain");
  test::FixedNonces nonces;
  for (std::size_t key_bytes : {16u, 24u, 32u}) {
    for (int v : {0, 1}) {
      for (std::string aad : {"", "prod"}) {
        const std::string name =
            "aes" + std::to_string(key_bytes * 8) + "_v" + std::to_string(v) + "_aad" + aad;
        SCOPED_TRACE(name);
        const Bytes go = golden(name);
        const Bytes key = test::seq_bytes(key_bytes, 0);
        Bytes ours;
        ASSERT_TRUE(
            encrypt_payload(EncryptionVersion(v), key, plain, test::bytes_of(aad), nonces, ours)
                .has_value());
        EXPECT_EQ(to_hex(ours), to_hex(go));
        EXPECT_EQ(ours.size(), encrypted_size(EncryptionVersion(v), plain.size()));
        Bytes back;
        ASSERT_TRUE(decrypt_payload(ring(key_bytes), go, test::bytes_of(aad), back).has_value());
        EXPECT_EQ(to_hex(back), to_hex(plain));
        // The wrong AAD (a label mismatch) fails authentication.
        EXPECT_EQ(
            decrypt_payload(ring(key_bytes), go, test::bytes_of(aad + "x"), back).error().code,
            Errc::rejected);
      }
    }
  }
}

TEST(MemberlistCrypto, RoundTripsWithRealNonces) {
  for (std::size_t key_bytes : {16u, 24u, 32u}) {
    for (auto v : {EncryptionVersion::v0_padded, EncryptionVersion::v1}) {
      for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 1400u}) {
        const Bytes plain = test::seq_bytes(n, 7);
        const Keyring k = ring(key_bytes);
        Bytes sealed, opened;
        ASSERT_TRUE(encrypt_payload(v, k.primary(), plain, {}, os_nonce_source(), sealed));
        EXPECT_EQ(sealed.size(), encrypted_size(v, n));
        ASSERT_TRUE(decrypt_payload(k, sealed, {}, opened).has_value());
        EXPECT_TRUE(opened == plain);
      }
    }
  }
  EXPECT_EQ(encrypt_overhead(EncryptionVersion::v0_padded), 45u);
  EXPECT_EQ(encrypt_overhead(EncryptionVersion::v1), 29u);
}

TEST(MemberlistCrypto, WrongKeyAndTamperingRejected) {
  const Bytes go = golden("aes256_v1_aad");
  Bytes out;
  const Keyring other = *Keyring::create(test::seq_bytes(32, 1));
  EXPECT_EQ(decrypt_payload(other, go, {}, out).error().code, Errc::rejected);
  for (std::size_t i = 0; i < go.size(); i += 5) {
    Bytes bad = go;
    bad[i] ^= std::byte{0x80};
    auto r = decrypt_payload(ring(32), bad, {}, out);
    EXPECT_FALSE(r.has_value()) << i;
  }
}

TEST(MemberlistCrypto, KeyringTriesEveryKeyInOrder) {
  const Bytes k16 = test::seq_bytes(16, 0), k32 = test::seq_bytes(32, 0);
  const Bytes other = test::seq_bytes(24, 9);
  const std::span<const std::byte> extra[] = {other, k16};
  auto k = Keyring::create(k32, extra);
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->size(), 3u);
  Bytes out;
  EXPECT_TRUE(decrypt_payload(*k, golden("aes128_v1_aad"), {}, out).has_value());  // third key
  EXPECT_TRUE(decrypt_payload(*k, golden("aes256_v0_aad"), {}, out).has_value());  // primary
  // Rotation as memberlist does it: add, use, remove.
  ASSERT_TRUE(k->use_key(k16).has_value());
  EXPECT_EQ(to_hex(k->primary()), to_hex(k16));
  EXPECT_EQ(k->remove_key(k16).error().code, Errc::invalid_argument);  // the primary
  ASSERT_TRUE(k->remove_key(k32).has_value());
  EXPECT_EQ(k->size(), 2u);
  EXPECT_EQ(decrypt_payload(*k, golden("aes256_v0_aad"), {}, out).error().code, Errc::rejected);
  ASSERT_TRUE(k->add_key(k16).has_value());  // already there: no-op
  EXPECT_EQ(k->size(), 2u);
  EXPECT_EQ(k->add_key(test::seq_bytes(20, 0)).error().code, Errc::invalid_argument);
  EXPECT_FALSE(Keyring::create(test::seq_bytes(31, 0)).has_value());
  EXPECT_EQ(k->use_key(k32).error().code, Errc::invalid_argument);
}

TEST(MemberlistCrypto, MalformedInputs) {
  Bytes out;
  const Keyring k = ring(16);
  EXPECT_EQ(decrypt_payload(k, {}, {}, out).error().code, Errc::malformed);
  Bytes v2 = golden("aes128_v1_aad");
  v2[0] = std::byte{2};
  EXPECT_EQ(decrypt_payload(k, v2, {}, out).error().code, Errc::unsupported_version);
  const Bytes v1 = golden("aes128_v1_aad");
  EXPECT_EQ(decrypt_payload(k, ByteSpan(v1).first(28), {}, out).error().code, Errc::malformed);
  const Bytes v0 = golden("aes128_v0_aad");
  EXPECT_EQ(decrypt_payload(k, ByteSpan(v0).first(44), {}, out).error().code, Errc::malformed);
  EXPECT_EQ(
      encrypt_payload(EncryptionVersion::v1, test::seq_bytes(10, 0), {}, {}, os_nonce_source(), out)
          .error()
          .code,
      Errc::invalid_argument);
}

TEST(MemberlistCrypto, BadPaddingIsAnErrorNotACrash) {
  // Version 0 with a last plaintext byte (40) larger than the plaintext (16 bytes): Go panics.
  Bytes plain(16, std::byte{40});
  Bytes sealed;
  test::FixedNonces nonces;
  // Seal as version 1 (no padding added), then relabel as version 0: same GCM input.
  ASSERT_TRUE(
      encrypt_payload(EncryptionVersion::v1, test::seq_bytes(16, 0), plain, {}, nonces, sealed));
  sealed[0] = std::byte{0};
  Bytes out;
  EXPECT_EQ(decrypt_payload(ring(16), sealed, {}, out).error().code, Errc::malformed);
}

class FailingNonces final : public NonceSource {
 public:
  bool fill(std::span<std::byte>) noexcept override { return false; }
};

TEST(MemberlistCrypto, NoRandomnessNoCiphertext) {
  FailingNonces none;
  Bytes out = {std::byte{1}};
  EXPECT_EQ(encrypt_payload(EncryptionVersion::v1, test::seq_bytes(16, 0), {}, {}, none, out)
                .error()
                .code,
            Errc::io);
  EXPECT_EQ(out.size(), 1u);
}

}  // namespace
}  // namespace grapevine::wire::ml
