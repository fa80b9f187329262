// The OpenSSL crypto provider (crypto/aead.h): the grapevine_crypto target, grapevine::crypto.
//
// EVP AES-GCM with one encrypt and one decrypt context per key, each keyed once on first use
// (only the nonce is set per message), EVP AES-256-ECB without padding for single blocks,
// SHA256(), and RAND_bytes. It registers itself from a static initializer; the target's link
// interface carries -u grapevine_crypto_openssl so a static link keeps this object (and so the
// initializer) even though nothing calls into it by name.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <climits>
#include <cstring>
#include <memory>

#include "crypto/aead.h"

namespace grapevine::detail {
namespace {

constexpr int kTagBytes = 16;

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

bool fits_int(std::span<const std::byte> a, std::span<const std::byte> b) noexcept {
  return a.size() <= INT_MAX / 2 && b.size() <= INT_MAX / 2;
}

// Each direction's context is set up with the key on first use and re-used after: a one-shot
// encrypt (memberlist's per-packet path) pays for one key schedule, not two.
class OpensslGcmKey final : public AeadKey {
 public:
  OpensslGcmKey(const EVP_CIPHER* cipher, std::span<const std::byte> key) : cipher_(cipher) {
    std::memcpy(key_.data(), key.data(), key.size());
  }
  ~OpensslGcmKey() override { OPENSSL_cleanse(key_.data(), key_.size()); }

  bool seal(std::span<const std::byte> nonce, std::span<const std::byte> aad,
            std::span<const std::byte> plain, std::byte* out) noexcept override {
    if (!fits_int(plain, aad)) return false;
    EVP_CIPHER_CTX* c = ready(enc_, true, nonce);
    int n = 0;
    return c != nullptr &&
           (aad.empty() || EVP_EncryptUpdate(c, nullptr, &n, u8(aad), int(aad.size())) == 1) &&
           (plain.empty() ||
            EVP_EncryptUpdate(c, u8(out), &n, u8(plain), int(plain.size())) == 1) &&
           EVP_EncryptFinal_ex(c, u8(out + plain.size()), &n) == 1 &&
           EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, kTagBytes, u8(out + plain.size())) == 1;
  }

  bool open(std::span<const std::byte> nonce, std::span<const std::byte> aad,
            std::span<const std::byte> sealed, std::byte* out) noexcept override {
    if (sealed.size() < std::size_t(kTagBytes) || !fits_int(sealed, aad)) return false;
    const auto ct = sealed.first(sealed.size() - kTagBytes);
    const auto tag = sealed.last(kTagBytes);
    std::byte none{};  // the final step writes nothing for GCM but wants a pointer
    std::byte* dst = ct.empty() ? &none : out;
    EVP_CIPHER_CTX* c = ready(dec_, false, nonce);
    int n = 0;
    return c != nullptr &&
           (aad.empty() || EVP_DecryptUpdate(c, nullptr, &n, u8(aad), int(aad.size())) == 1) &&
           (ct.empty() || EVP_DecryptUpdate(c, u8(dst), &n, u8(ct), int(ct.size())) == 1) &&
           EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, kTagBytes,
                               const_cast<unsigned char*>(u8(tag))) == 1 &&
           EVP_DecryptFinal_ex(c, u8(dst + ct.size()), &n) == 1;
  }

 private:
  // The context of one direction with `nonce` set: keyed (nonce and key in one call) on first
  // use, only the nonce set after. Null when OpenSSL fails (out of memory).
  EVP_CIPHER_CTX* ready(Ctx& slot, bool encrypt, std::span<const std::byte> nonce) noexcept {
    const unsigned char* iv = u8(nonce);
    if (slot) {
      const int ok = encrypt ? EVP_EncryptInit_ex(slot.get(), nullptr, nullptr, nullptr, iv)
                             : EVP_DecryptInit_ex(slot.get(), nullptr, nullptr, nullptr, iv);
      return ok == 1 ? slot.get() : nullptr;
    }
    Ctx c(EVP_CIPHER_CTX_new());
    if (!c) return nullptr;
    const int ok = encrypt ? EVP_EncryptInit_ex(c.get(), cipher_, nullptr, key_.data(), iv)
                           : EVP_DecryptInit_ex(c.get(), cipher_, nullptr, key_.data(), iv);
    if (ok != 1) return nullptr;
    slot = std::move(c);
    return slot.get();
  }

  const EVP_CIPHER* cipher_;
  std::array<unsigned char, 32> key_{};
  Ctx enc_, dec_;
};

class OpensslBlockKey final : public BlockKey {
 public:
  explicit OpensslBlockKey(Ctx c) : c_(std::move(c)) {}
  bool encrypt_block(std::span<const std::byte, 16> in,
                     std::span<std::byte, 16> out) noexcept override {
    unsigned char enc[32];  // EVP may write up to a block more than it is given
    int len = 0;
    if (EVP_EncryptUpdate(c_.get(), enc, &len, u8(in), 16) != 1 || len != 16) return false;
    for (std::size_t i = 0; i < 16; ++i) out[i] = std::byte(enc[i]);
    return true;
  }

 private:
  Ctx c_;
};

class OpensslAead final : public Aead {
 public:
  const char* name() const noexcept override { return "openssl"; }

  std::unique_ptr<AeadKey> gcm_key(std::span<const std::byte> key) const override {
    const EVP_CIPHER* cipher = gcm_for(key.size());
    if (cipher == nullptr) return nullptr;
    return std::make_unique<OpensslGcmKey>(cipher, key);
  }

  std::unique_ptr<BlockKey> aes256_key(std::span<const std::byte> key) const override {
    if (key.size() != 32) return nullptr;
    Ctx c(EVP_CIPHER_CTX_new());
    if (!c || EVP_EncryptInit_ex(c.get(), EVP_aes_256_ecb(), nullptr, u8(key), nullptr) != 1) {
      return nullptr;
    }
    EVP_CIPHER_CTX_set_padding(c.get(), 0);
    return std::make_unique<OpensslBlockKey>(std::move(c));
  }

  bool random_bytes(std::span<std::byte> out) const noexcept override {
    return out.size() <= INT_MAX && RAND_bytes(u8(out.data()), int(out.size())) == 1;
  }

  bool sha256(std::span<const std::byte> in, std::span<std::byte, 32> out) const noexcept override {
    static_assert(SHA256_DIGEST_LENGTH == 32);
    return SHA256(u8(in), in.size(), u8(out.data())) != nullptr;
  }
};

const OpensslAead kOpenssl;

struct Register {
  Register() noexcept { set_aead(&kOpenssl); }
};
const Register kRegister;

}  // namespace
}  // namespace grapevine::detail

// The anchor the target's link interface names (-u): keeps this object in static links.
extern "C" {
extern const int grapevine_crypto_openssl;
const int grapevine_crypto_openssl = 1;
}
