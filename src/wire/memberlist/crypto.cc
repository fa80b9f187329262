// memberlist's AES-GCM encryption and keyring on OpenSSL's EVP interface: see crypto.h.
#include "wire/memberlist/crypto.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <memory>
#include <new>

namespace grapevine::wire::ml {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const noexcept { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

const EVP_CIPHER* gcm_for(std::size_t key_bytes) noexcept {
  switch (key_bytes) {
    case 16:
      return EVP_aes_128_gcm();
    case 24:
      return EVP_aes_192_gcm();
    case 32:
      return EVP_aes_256_gcm();
    default:
      return nullptr;
  }
}

const unsigned char* u8(std::span<const std::byte> s) noexcept {
  static const unsigned char kEmpty = 0;  // OpenSSL wants a pointer even for zero bytes
  return s.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* u8(std::byte* p) noexcept {
  return reinterpret_cast<unsigned char*>(p);
}

class OsNonces final : public NonceSource {
 public:
  bool fill(std::span<std::byte> out) noexcept override {
    return RAND_bytes(u8(out.data()), int(out.size())) == 1;
  }
};

// Seals `plain` with `key` and `nonce`, writing ciphertext + tag at `out` (plain.size() + 16).
bool seal(std::span<const std::byte> key, std::span<const std::byte> nonce,
          std::span<const std::byte> plain, std::span<const std::byte> aad, std::byte* out) {
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), gcm_for(key.size()), nullptr, u8(key), u8(nonce)) != 1) {
    return false;
  }
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &n, u8(aad), int(aad.size())) != 1) {
    return false;
  }
  if (!plain.empty() &&
      EVP_EncryptUpdate(ctx.get(), u8(out), &n, u8(plain), int(plain.size())) != 1) {
    return false;
  }
  return EVP_EncryptFinal_ex(ctx.get(), u8(out + plain.size()), &n) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, int(kTagBytes),
                             u8(out + plain.size())) == 1;
}

// Opens ciphertext+tag `sealed` into `out` (sealed.size() - 16 bytes); false on any failure,
// authentication included.
bool open(std::span<const std::byte> key, std::span<const std::byte> nonce,
          std::span<const std::byte> sealed, std::span<const std::byte> aad, std::byte* out) {
  const auto ct = sealed.first(sealed.size() - kTagBytes);
  const auto tag = sealed.last(kTagBytes);
  Ctx ctx(EVP_CIPHER_CTX_new());
  int n = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), gcm_for(key.size()), nullptr, u8(key), u8(nonce)) != 1) {
    return false;
  }
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &n, u8(aad), int(aad.size())) != 1) {
    return false;
  }
  if (!ct.empty() && EVP_DecryptUpdate(ctx.get(), u8(out), &n, u8(ct), int(ct.size())) != 1) {
    return false;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, int(kTagBytes),
                          const_cast<unsigned char*>(u8(tag))) != 1) {
    return false;
  }
  return EVP_DecryptFinal_ex(ctx.get(), u8(out + ct.size()), &n) == 1;
}

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
  if (!seal(key, {p + 1, kNonceBytes}, plain, aad, p + 1 + kNonceBytes)) {
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
  out.resize(sealed.size() - kTagBytes);
  std::byte none{};  // OpenSSL's final step writes nothing for GCM but wants a pointer
  std::byte* dst = out.empty() ? &none : out.data();
  std::size_t i = 0;
  while (i < keys.size() && !open(keys.key(i), nonce, sealed, aad, dst)) ++i;
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

// ---- GcmKeyring: per-key contexts, initialised once ----

struct GcmKeyring::Impl {
  struct KeyCtx {
    Ctx enc, dec;
  };
  std::vector<KeyCtx> keys;  // primary first
};

GcmKeyring::GcmKeyring(const Keyring& keys) : impl_(std::make_unique<Impl>()) {
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const auto key = keys.key(i);
    Impl::KeyCtx k{Ctx(EVP_CIPHER_CTX_new()), Ctx(EVP_CIPHER_CTX_new())};
    const bool ok =
        k.enc && k.dec &&
        EVP_EncryptInit_ex(k.enc.get(), gcm_for(key.size()), nullptr, u8(key), nullptr) == 1 &&
        EVP_DecryptInit_ex(k.dec.get(), gcm_for(key.size()), nullptr, u8(key), nullptr) == 1;
    if (!ok) throw std::bad_alloc();  // OpenSSL out of memory: nothing sensible to do
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
  const std::size_t start = out.size();
  out.resize(start + encrypted_size(EncryptionVersion::v1, plain.size()));
  std::byte* p = out.data() + start;
  p[0] = std::byte(EncryptionVersion::v1);
  EVP_CIPHER_CTX* c = impl_->keys.front().enc.get();
  std::byte* ct = p + 1 + kNonceBytes;
  int n = 0;
  const bool ok =
      nonces.fill({p + 1, kNonceBytes}) &&
      EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, u8(p + 1)) == 1 &&
      (aad.empty() || EVP_EncryptUpdate(c, nullptr, &n, u8(aad), int(aad.size())) == 1) &&
      (plain.empty() || EVP_EncryptUpdate(c, u8(ct), &n, u8(plain), int(plain.size())) == 1) &&
      EVP_EncryptFinal_ex(c, u8(ct + plain.size()), &n) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, int(kTagBytes), u8(ct + plain.size())) == 1;
  if (!ok) {
    out.resize(start);
    return make_error(Errc::io, "AES-GCM seal failed (nonce or OpenSSL)");
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
  const auto nonce = msg.subspan(1, kNonceBytes);
  const auto sealed = msg.subspan(1 + kNonceBytes);
  const auto ct = sealed.first(sealed.size() - kTagBytes);
  const auto tag = sealed.last(kTagBytes);
  out.resize(ct.size());
  std::byte none{};
  std::byte* dst = out.empty() ? &none : out.data();
  for (auto& k : impl_->keys) {
    EVP_CIPHER_CTX* c = k.dec.get();
    int n = 0;
    const bool ok =
        EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, u8(nonce)) == 1 &&
        (aad.empty() || EVP_DecryptUpdate(c, nullptr, &n, u8(aad), int(aad.size())) == 1) &&
        (ct.empty() || EVP_DecryptUpdate(c, u8(dst), &n, u8(ct), int(ct.size())) == 1) &&
        EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, int(kTagBytes),
                            const_cast<unsigned char*>(u8(tag))) == 1 &&
        EVP_DecryptFinal_ex(c, u8(dst + ct.size()), &n) == 1;
    if (ok) return {};
  }
  out.clear();
  return make_error(Errc::rejected, "no installed key could decrypt the message");
}

}  // namespace grapevine::wire::ml
