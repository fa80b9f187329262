// The crypto seam: the few primitives grapevine's encryption needs, behind an interface, so
// grapevine_core holds no cipher code and links no crypto library.
//
//   AES-GCM (128/192/256-bit keys, 12-byte nonce, 16-byte tag) seal and open with AAD;
//   AES-256 single-block encryption (the seal's CTR-DRBG nonce generator, wire/seal.h);
//   SHA-256 (that generator's seed); OS random bytes (memberlist's nonces).
//
// Users in core: wire/memberlist/crypto.cc (memberlist's encryption format and keyring) and
// wire/seal.cc (the native seal). Formats, key checks and keyring logic stay there; a provider
// only does the primitive, so every provider gives byte-identical packets.
//
// The provider registers itself: grapevine_crypto (grapevine::crypto, src/crypto/openssl_aead.cc,
// OpenSSL) sets it from a static initializer before main, and its link interface forces that
// object into static links (-u grapevine_crypto_openssl). grapevine_io, grapevine_sim and the
// tools link it. A program with core alone has no provider: validate(MembershipConfig) refuses
// keys with invalid_argument "encryption needs grapevine::crypto", and every encrypt call fails
// (nothing is ever sent in clear instead).
#pragma once

#include <cstddef>
#include <memory>
#include <span>

namespace grapevine::detail {

/// One AES-GCM key with its schedule computed once. Not thread-safe (one per user).
class AeadKey {
 public:
  virtual ~AeadKey() = default;
  /// Seals `plain` under `nonce` (12 bytes) and `aad`, writing the ciphertext then the 16-byte
  /// tag at `out` (plain.size() + 16 bytes, may not overlap the inputs). False on failure.
  virtual bool seal(std::span<const std::byte> nonce, std::span<const std::byte> aad,
                    std::span<const std::byte> plain, std::byte* out) noexcept = 0;
  /// Opens `sealed` (ciphertext then 16-byte tag; at least 16 bytes) into `out`
  /// (sealed.size() - 16 bytes). False on any failure, authentication included; `out` is then
  /// garbage.
  virtual bool open(std::span<const std::byte> nonce, std::span<const std::byte> aad,
                    std::span<const std::byte> sealed, std::byte* out) noexcept = 0;
};

/// One AES-256 key for raw single-block encryption. Not thread-safe.
class BlockKey {
 public:
  virtual ~BlockKey() = default;
  /// Encrypts one 16-byte block. False on failure.
  virtual bool encrypt_block(std::span<const std::byte, 16> in,
                             std::span<std::byte, 16> out) noexcept = 0;
};

/// A crypto provider. Its methods are thread-safe; the objects they return are not.
class Aead {
 public:
  virtual ~Aead() = default;
  /// Short name for logs ("openssl").
  [[nodiscard]] virtual const char* name() const noexcept = 0;
  /// An AES-GCM key of 16, 24 or 32 bytes; null for another length or when out of memory.
  [[nodiscard]] virtual std::unique_ptr<AeadKey> gcm_key(std::span<const std::byte> key) const = 0;
  /// An AES-256 block key (32 bytes); null for another length or when out of memory.
  [[nodiscard]] virtual std::unique_ptr<BlockKey> aes256_key(
      std::span<const std::byte> key) const = 0;
  /// Fills `out` from the OS CSPRNG. False when no randomness could be had. Thread-safe.
  virtual bool random_bytes(std::span<std::byte> out) const noexcept = 0;
  /// SHA-256 of `in` into `out`. False on failure.
  virtual bool sha256(std::span<const std::byte> in,
                      std::span<std::byte, 32> out) const noexcept = 0;
};

/// The registered provider, or null when the program links no crypto target.
const Aead* aead() noexcept;
/// Registers `provider` (null unregisters: tests of the keyless path); returns the previous one.
/// `provider` must outlive every use (providers are static objects).
const Aead* set_aead(const Aead* provider) noexcept;

/// The error text for "no provider", one string for every place that reports it.
inline constexpr const char* kNoAeadError =
    "encryption needs grapevine::crypto (link the grapevine::crypto target, OpenSSL)";

}  // namespace grapevine::detail
