// Sealed native datagrams and streams: grapevine's own wire under AES-256-GCM.
//
//   sealed := [0xC5][label_len u8][label][1][nonce, 12 bytes][ciphertext + 16-byte GCM tag]
//   plaintext (what the ciphertext hides) := [timestamp_ms i64 big-endian][native datagram or
//                                            stream message, unchanged]
//
// The first byte tells a sealed datagram (0xC5, kSealedVersion) from a plaintext native one
// (kNativeVersion, 1). The label travels in clear (so a mismatch is counted as such) and is
// authenticated: the AAD is the whole header, [0xC5][label_len][label]. After the header comes
// memberlist's encrypted form (version 1, unpadded; wire/memberlist/crypto.h), so the AES-GCM
// code, the keyring (primary seals, every key opens) and the key checks are memberlist's, not a
// second copy (ml::GcmKeyring: the same format with each key's AES schedule computed once).
// Overhead: 38 bytes + the label.
//
// The timestamp is the sender's wall clock (Node: driver time + a driver-given offset); the
// receiver refuses packets too far from its own clock and remembers the tags of the packets it
// accepted for the rest of that window (core/node_seal.h): together they make a replay stale.
//
// Nonces: 96 bits from a NonceGenerator, a CTR-DRBG (AES-256 of a 128-bit counter under a
// 32-byte seed key, first 12 bytes of each block). The runtime seeds it from the OS CSPRNG
// (getrandom); the simulator from the node's seed, so runs stay reproducible. Random 96-bit
// nonces keep the collision odds of one key under 2^-32 for 2^32 packets (NIST SP 800-38D 8.3).
// Within one generator the counter makes every block distinct (AES is a permutation).
//
// The ciphers (AES-GCM, the AES-256 block, SHA-256 for seeds) are the crypto seam's
// (crypto/aead.h, provided by grapevine::crypto): without a provider nothing seals.
#pragma once

#include "grapevine/limits.h"
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "grapevine/node.h"
#include "grapevine/result.h"
#include "wire/memberlist/crypto.h"

namespace grapevine::wire::seal {

inline constexpr std::uint8_t kSealedVersion = 0xC5;
using grapevine::kLabelBytesMax;  // limits.h
inline constexpr std::size_t kTimestampBytes = 8;
inline constexpr std::size_t kSeedBytes = 32;
/// Native dialect keys: AES-256 only.
inline constexpr std::size_t kKeyBytes = grapevine::kNativeKeyBytes;  // limits.h

/// Bytes sealing adds to a datagram or stream message with a label of `label_bytes`.
constexpr std::size_t overhead(std::size_t label_bytes) noexcept {
  return 2 + label_bytes + ml::encrypted_size(ml::EncryptionVersion::v1, 0) + kTimestampBytes;
}

/// True when `bytes` starts with the sealed version byte.
inline bool is_sealed(std::span<const std::byte> bytes) noexcept {
  return !bytes.empty() && std::to_integer<std::uint8_t>(bytes[0]) == kSealedVersion;
}

/// The CTR-DRBG nonce source described above. Not thread-safe (one per node).
class NonceGenerator final : public ml::NonceSource {
 public:
  /// `seed` must be kSeedBytes long (asserted).
  explicit NonceGenerator(std::span<const std::byte> seed);
  ~NonceGenerator() override;
  NonceGenerator(const NonceGenerator&) = delete;
  NonceGenerator& operator=(const NonceGenerator&) = delete;
  /// Fills `out` (12 bytes from each block; longer spans use several). False without a crypto
  /// provider.
  bool fill(std::span<std::byte> out) noexcept override;

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
  std::uint64_t counter_ = 0;
};

/// Derives a kSeedBytes seed from arbitrary input (SHA-256; zeros without a crypto provider).
std::array<std::byte, kSeedBytes> derive_seed_bytes(std::span<const std::byte> input);

/// Appends the sealed form of `plain` to `out`, sealed with the keyring's primary key.
/// Errors: too_large (label over 255 bytes, or payload past 1 GB), io (no nonce or the cipher
/// failed), invalid_argument (bad key length, or no crypto provider).
Result<void> seal(ml::GcmKeyring& keys, std::string_view label, std::int64_t timestamp_ms,
                  std::span<const std::byte> plain, ml::NonceSource& nonces,
                  std::vector<std::byte>& out);
/// The same with a plain Keyring (builds its contexts for this one call: tests, tools).
Result<void> seal(const ml::Keyring& keys, std::string_view label, std::int64_t timestamp_ms,
                  std::span<const std::byte> plain, ml::NonceSource& nonces,
                  std::vector<std::byte>& out);

struct Opened {
  std::int64_t timestamp_ms = 0;
  std::span<const std::byte> plain;  // points into the scratch vector given to open()
  std::uint64_t tag_id = 0;          // 8 bytes of the GCM tag: names this packet for replays
};

/// Opens a sealed datagram or stream message. `keys` null means this node has none. On success
/// returns nullopt and fills `out` (its span valid until `scratch` changes); else the reason:
/// no_key, malformed (short, bad header, unknown inner version, no timestamp), label_mismatch,
/// wrong_key (no key authenticates it: wrong key or tampering). Never reads past `sealed`.
std::optional<SealReject> open(ml::GcmKeyring* keys, std::string_view label,
                               std::span<const std::byte> sealed,
                               std::vector<std::byte>& scratch, Opened& out);
/// The same with a plain Keyring (builds its contexts for this one call: tests, tools).
std::optional<SealReject> open(const ml::Keyring* keys, std::string_view label,
                               std::span<const std::byte> sealed,
                               std::vector<std::byte>& scratch, Opened& out);

}  // namespace grapevine::wire::seal
