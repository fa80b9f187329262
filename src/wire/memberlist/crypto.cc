// memberlist's AES-GCM encryption format and keyring: see crypto.h. The cipher itself is the
// crypto seam's (crypto/aead.h): this file holds no cipher code and includes no OpenSSL.
#include "wire/memberlist/crypto.h"

#include <algorithm>
#include <climits>
#include <memory>
#include <new>

#include "crypto/aead.h"

namespace grapevine::wire::ml {
namespace {

class OsNonces final : public NonceSource {
 public:
  bool fill(std::span<std::byte> out) noexcept override {
    const detail::Aead* a = detail::aead();
    return a != nullptr && a->random_bytes(out);
  }
};

}  // namespace

NonceSource& os_nonce_source() noexcept {
  static OsNonces source;
  return source;
}

Result<Keyring> Keyring::create(std::span<const std::byte> primary,
                                std::span<const std::span<const std::byte>> extra) {
  if (!valid_key_size(primary.size())) {
    return make_error(Errc::invalid_argument, "key must be 16, 24 or 32 bytes");
  }
  Keyring k;
  k.keys_.emplace_back(primary.begin(), primary.end());
  for (const auto& key : extra) {
    if (auto r = k.add_key(key); !r) return r.error();
  }
  return k;
}

std::ptrdiff_t Keyring::find(std::span<const std::byte> key) const noexcept {
  for (std::size_t i = 0; i < keys_.size(); ++i) {
    if (std::equal(keys_[i].begin(), keys_[i].end(), key.begin(), key.end())) {
      return std::ptrdiff_t(i);
    }
  }
  return -1;
}

Result<void> Keyring::add_key(std::span<const std::byte> key) {
  if (!valid_key_size(key.size())) {
    return make_error(Errc::invalid_argument, "key must be 16, 24 or 32 bytes");
  }
  if (find(key) < 0) keys_.emplace_back(key.begin(), key.end());
  return {};
}

Result<void> Keyring::use_key(std::span<const std::byte> key) {
  const std::ptrdiff_t i = find(key);
  if (i < 0) return make_error(Errc::invalid_argument, "key is not installed");
  std::rotate(keys_.begin(), keys_.begin() + i, keys_.begin() + i + 1);
  return {};
}

Result<void> Keyring::remove_key(std::span<const std::byte> key) {
  const std::ptrdiff_t i = find(key);
  if (i < 0) return make_error(Errc::invalid_argument, "key is not installed");
  if (i == 0) return make_error(Errc::invalid_argument, "cannot remove the primary key");
  keys_.erase(keys_.begin() + i);
  return {};
}

Result<void> encrypt_payload(EncryptionVersion version, std::span<const std::byte> key,
                             std::span<const std::byte> plain, std::span<const std::byte> aad,
                             NonceSource& nonces, std::vector<std::byte>& out) {
  if (!valid_key_size(key.size())) {
    return make_error(Errc::invalid_argument, "key must be 16, 24 or 32 bytes");
  }
  if (plain.size() > INT_MAX / 2 || aad.size() > INT_MAX / 2) {
    return make_error(Errc::too_large, "payload too large to encrypt");
  }
  const detail::Aead* a = detail::aead();
  if (a == nullptr) return make_error(Errc::invalid_argument, detail::kNoAeadError);
  const std::size_t start = out.size();
  out.resize(start + encrypted_size(version, plain.size()));
  std::byte* p = out.data() + start;
  p[0] = std::byte(version);
  if (!nonces.fill({p + 1, kNonceBytes})) {
    out.resize(start);
    return make_error(Errc::io, "no randomness for the nonce");
  }
  std::vector<std::byte> padded;
  if (version == EncryptionVersion::v0_padded) {  // PKCS7 to the AES block size
    const std::size_t pad = kAesBlockBytes - plain.size() % kAesBlockBytes;
    padded.assign(plain.begin(), plain.end());
    padded.insert(padded.end(), pad, std::byte(pad));
    plain = padded;
  }
  auto k = a->gcm_key(key);
  if (!k || !k->seal({p + 1, kNonceBytes}, aad, plain, p + 1 + kNonceBytes)) {
    out.resize(start);
    return make_error(Errc::io, "AES-GCM seal failed");
  }
  return {};
}

Result<void> decrypt_payload(const Keyring& keys, std::span<const std::byte> msg,
                             std::span<const std::byte> aad, std::vector<std::byte>& out) {
  out.clear();
  if (msg.empty()) return make_error(Errc::malformed, "empty encrypted payload");
  const std::uint8_t v = std::to_integer<std::uint8_t>(msg[0]);
  if (v > 1) return make_error(Errc::unsupported_version, "unknown encryption version");
  const auto version = EncryptionVersion(v);
  if (msg.size() < encrypted_size(version, 0)) {
    return make_error(Errc::malformed, "encrypted payload too short");
  }
  if (msg.size() > INT_MAX / 2 || aad.size() > INT_MAX / 2) {
    return make_error(Errc::too_large, "payload too large to decrypt");
  }
  const auto nonce = msg.subspan(1, kNonceBytes);
  const auto sealed = msg.subspan(1 + kNonceBytes);
  const detail::Aead* a = detail::aead();
  if (a == nullptr) return make_error(Errc::invalid_argument, detail::kNoAeadError);
  out.resize(sealed.size() - kTagBytes);
  std::size_t i = 0;
  for (; i < keys.size(); ++i) {
    auto k = a->gcm_key(keys.key(i));
    if (k && k->open(nonce, aad, sealed, out.data())) break;
  }
  if (i == keys.size()) {
    out.clear();
    return make_error(Errc::rejected, "no installed key could decrypt the message");
  }
  if (version == EncryptionVersion::v0_padded) {
    const std::size_t pad = out.empty() ? SIZE_MAX : std::to_integer<std::size_t>(out.back());
    if (pad > out.size()) {
      out.clear();
      return make_error(Errc::malformed, "bad PKCS7 padding");
    }
    out.resize(out.size() - pad);
  }
  return {};
}

// ---- GcmKeyring: one provider key per keyring key, initialised once ----

struct GcmKeyring::Impl {
  std::vector<std::unique_ptr<detail::AeadKey>> keys;  // primary first; empty: no provider
};

GcmKeyring::GcmKeyring(const Keyring& keys) : impl_(std::make_unique<Impl>()) {
  const detail::Aead* a = detail::aead();
  if (a == nullptr) return;  // encrypt and decrypt report it
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto k = a->gcm_key(keys.key(i));
    if (!k) throw std::bad_alloc();  // the provider is out of memory: nothing sensible to do
    impl_->keys.push_back(std::move(k));
  }
}

GcmKeyring::~GcmKeyring() = default;
GcmKeyring::GcmKeyring(GcmKeyring&&) noexcept = default;
GcmKeyring& GcmKeyring::operator=(GcmKeyring&&) noexcept = default;

Result<void> GcmKeyring::encrypt(std::span<const std::byte> plain,
                                 std::span<const std::byte> aad, NonceSource& nonces,
                                 std::vector<std::byte>& out) {
  if (plain.size() > INT_MAX / 2 || aad.size() > INT_MAX / 2) {
    return make_error(Errc::too_large, "payload too large to encrypt");
  }
  if (impl_->keys.empty()) return make_error(Errc::invalid_argument, detail::kNoAeadError);
  const std::size_t start = out.size();
  out.resize(start + encrypted_size(EncryptionVersion::v1, plain.size()));
  std::byte* p = out.data() + start;
  p[0] = std::byte(EncryptionVersion::v1);
  const bool ok = nonces.fill({p + 1, kNonceBytes}) &&
                  impl_->keys.front()->seal({p + 1, kNonceBytes}, aad, plain,
                                            p + 1 + kNonceBytes);
  if (!ok) {
    out.resize(start);
    return make_error(Errc::io, "AES-GCM seal failed (nonce or cipher)");
  }
  return {};
}

Result<void> GcmKeyring::decrypt(std::span<const std::byte> msg, std::span<const std::byte> aad,
                                 std::vector<std::byte>& out) {
  out.clear();
  if (msg.empty()) return make_error(Errc::malformed, "empty encrypted payload");
  if (std::to_integer<std::uint8_t>(msg[0]) != std::uint8_t(EncryptionVersion::v1)) {
    return make_error(Errc::unsupported_version, "expected encryption version 1");
  }
  if (msg.size() < encrypted_size(EncryptionVersion::v1, 0)) {
    return make_error(Errc::malformed, "encrypted payload too short");
  }
  if (msg.size() > INT_MAX / 2 || aad.size() > INT_MAX / 2) {
    return make_error(Errc::too_large, "payload too large to decrypt");
  }
  if (impl_->keys.empty()) return make_error(Errc::invalid_argument, detail::kNoAeadError);
  const auto nonce = msg.subspan(1, kNonceBytes);
  const auto sealed = msg.subspan(1 + kNonceBytes);
  out.resize(sealed.size() - kTagBytes);
  for (auto& k : impl_->keys) {
    if (k->open(nonce, aad, sealed, out.data())) return {};
  }
  out.clear();
  return make_error(Errc::rejected, "no installed key could decrypt the message");
}

}  // namespace grapevine::wire::ml
