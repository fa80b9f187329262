// memberlist's AES-GCM encryption and keyring (memberlist.md section 2.6), on the crypto seam
// (crypto/aead.h: grapevine::crypto, OpenSSL, provides the cipher; core holds none).
//
//   encrypted := [version u8][nonce, 12 random bytes][ciphertext + 16-byte GCM tag]
//
// The key length picks AES-128/192/256 (16/24/32 bytes). Version 0 PKCS7-pads the plaintext to
// a multiple of 16 before sealing (memberlist uses it when speaking protocol version 1); version
// 1 does not pad (everyone else). Decryption accepts both and tries every keyring key in order,
// primary first. The AAD is the label for UDP packets, and [10][u32 length] + label for streams.
//
// Deviation: Go's pkcs7decode trusts the last byte and panics when it exceeds the plaintext
// length (only a key holder can get there); we return malformed. Like Go we do not check the
// other padding bytes. Nonces come from a NonceSource so tests can fix them; production uses
// the provider's OS randomness (OpenSSL's RAND_bytes). Without a provider (a program linking
// grapevine::core alone) every encrypt and decrypt fails with invalid_argument
// (detail::kNoAeadError); validate(MembershipConfig) refuses keys before it comes to that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "grapevine/result.h"

namespace grapevine::wire::ml {

enum class EncryptionVersion : std::uint8_t { v0_padded = 0, v1 = 1 };

inline constexpr std::size_t kNonceBytes = 12;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kAesBlockBytes = 16;

/// Bytes encrypt_payload produces for `plain_bytes` of input (Go's encryptedLength).
constexpr std::size_t encrypted_size(EncryptionVersion v, std::size_t plain_bytes) noexcept {
  const std::size_t padding =
      v == EncryptionVersion::v0_padded ? kAesBlockBytes - plain_bytes % kAesBlockBytes : 0;
  return 1 + kNonceBytes + plain_bytes + padding + kTagBytes;
}
/// Worst-case overhead, for packet budgets: 45 for version 0, 29 for version 1.
constexpr std::size_t encrypt_overhead(EncryptionVersion v) noexcept {
  return v == EncryptionVersion::v0_padded ? 45 : 29;
}

/// Fills nonces. Implementations must be thread-safe if shared between threads.
class NonceSource {
 public:
  virtual ~NonceSource() = default;
  /// Fills `out` with unpredictable bytes; false when no randomness could be had.
  virtual bool fill(std::span<std::byte> out) noexcept = 0;
};

/// The production source: the crypto provider's OS randomness (fails without a provider).
NonceSource& os_nonce_source() noexcept;

/// The keys a node accepts, primary (the one it encrypts with) first, as memberlist's Keyring.
class Keyring {
 public:
  /// Errors: invalid_argument unless `primary` and every extra key is 16, 24 or 32 bytes.
  static Result<Keyring> create(std::span<const std::byte> primary,
                                std::span<const std::span<const std::byte>> extra = {});

  /// Adds a decrypt-only key (a no-op when present). Errors: invalid_argument for a bad length.
  Result<void> add_key(std::span<const std::byte> key);
  /// Makes an installed key the primary. Errors: invalid_argument when it is not installed.
  Result<void> use_key(std::span<const std::byte> key);
  /// Removes a key. Errors: invalid_argument for the primary key or one not installed.
  Result<void> remove_key(std::span<const std::byte> key);

  [[nodiscard]] std::span<const std::byte> primary() const noexcept { return keys_.front(); }
  [[nodiscard]] std::size_t size() const noexcept { return keys_.size(); }
  [[nodiscard]] std::span<const std::byte> key(std::size_t i) const noexcept { return keys_[i]; }

 private:
  Keyring() = default;
  [[nodiscard]] std::ptrdiff_t find(std::span<const std::byte> key) const noexcept;
  std::vector<std::vector<std::byte>> keys_;  // never empty
};

/// True for 16, 24 and 32 bytes.
constexpr bool valid_key_size(std::size_t n) noexcept {
  return n == 16 || n == 24 || n == 32;
}

/// Appends [version][nonce][ciphertext+tag] for `plain` to `out`. Errors: invalid_argument for
/// a bad key length or no crypto provider, too_large past 2 GB, io when the nonce source or the
/// cipher fails.
Result<void> encrypt_payload(EncryptionVersion version, std::span<const std::byte> key,
                             std::span<const std::byte> plain, std::span<const std::byte> aad,
                             NonceSource& nonces, std::vector<std::byte>& out);

/// Decrypts [version][nonce][ciphertext+tag] into `out` (replacing its contents), trying each
/// key of `keys` in order. Errors: malformed (empty, shorter than the version's minimum, bad
/// padding), unsupported_version (version > 1), rejected (no key authenticates it: wrong key,
/// wrong AAD/label, or tampering), invalid_argument (no crypto provider).
Result<void> decrypt_payload(const Keyring& keys, std::span<const std::byte> msg,
                             std::span<const std::byte> aad, std::vector<std::byte>& out);

/// The same AES-GCM (version 1, unpadded) with each key's schedule computed once: one ready
/// encrypt and decrypt context per keyring key, re-used for every message (only the nonce is
/// set per call). For hot paths (the native seal: wire/seal.h); byte-for-byte the format of
/// encrypt_payload / decrypt_payload. A snapshot of the keyring: rebuild it after a change.
/// Not thread-safe.
class GcmKeyring {
 public:
  explicit GcmKeyring(const Keyring& keys);
  ~GcmKeyring();
  GcmKeyring(GcmKeyring&&) noexcept;
  GcmKeyring& operator=(GcmKeyring&&) noexcept;

  /// encrypt_payload(v1, primary, ...). Errors: too_large past 1 GB, io (nonce or cipher),
  /// invalid_argument (built while no crypto provider was registered).
  Result<void> encrypt(std::span<const std::byte> plain, std::span<const std::byte> aad,
                       NonceSource& nonces, std::vector<std::byte>& out);
  /// decrypt_payload of a version-1 message: malformed (short), unsupported_version (not 1),
  /// rejected (no key authenticates it), invalid_argument (no crypto provider).
  Result<void> decrypt(std::span<const std::byte> msg, std::span<const std::byte> aad,
                       std::vector<std::byte>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grapevine::wire::ml
