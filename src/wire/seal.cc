// Sealed native datagrams and streams: see seal.h.
#include "wire/seal.h"

#include <algorithm>
#include <cstring>

#include "crypto/aead.h"
#include "util/assert.h"

namespace grapevine {

const char* seal_reject_name(SealReject r) noexcept {
  switch (r) {
    case SealReject::no_key:
      return "no_key";
    case SealReject::wrong_key:
      return "wrong_key";
    case SealReject::malformed:
      return "malformed";
    case SealReject::label_mismatch:
      return "label_mismatch";
    case SealReject::plaintext_refused:
      return "plaintext_refused";
    case SealReject::stale:
      return "stale";
    case SealReject::replayed:
      return "replayed";
  }
  return "unknown";
}

}  // namespace grapevine

namespace grapevine::wire::seal {
namespace {

constexpr std::size_t kPlainBytesMax = std::size_t(1) << 30;

std::uint64_t load_u64(const std::byte* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | std::to_integer<std::uint8_t>(p[i]);
  return v;
}

}  // namespace

struct NonceGenerator::Ctx {
  std::unique_ptr<detail::BlockKey> key;  // null without a crypto provider: fill() fails
};

NonceGenerator::NonceGenerator(std::span<const std::byte> seed) : ctx_(std::make_unique<Ctx>()) {
  GV_ASSERT(seed.size() == kSeedBytes);
  if (const detail::Aead* a = detail::aead()) {
    ctx_->key = a->aes256_key(seed);
    GV_ASSERT(ctx_->key != nullptr);  // a 32-byte key: only out of memory fails
  }
}

NonceGenerator::~NonceGenerator() = default;

bool NonceGenerator::fill(std::span<std::byte> out) noexcept {
  if (!ctx_->key) return false;
  while (!out.empty()) {
    std::array<std::byte, 16> block{};
    const std::uint64_t n = counter_++;
    for (int i = 0; i < 8; ++i) block[std::size_t(15 - i)] = std::byte(n >> (8 * i));
    std::array<std::byte, 16> enc;
    if (!ctx_->key->encrypt_block(block, enc)) return false;
    const std::size_t take = std::min<std::size_t>(12, out.size());
    std::memcpy(out.data(), enc.data(), take);
    out = out.subspan(take);
  }
  return true;
}

std::array<std::byte, kSeedBytes> derive_seed_bytes(std::span<const std::byte> input) {
  std::array<std::byte, kSeedBytes> out{};
  static_assert(kSeedBytes == 32);
  const detail::Aead* a = detail::aead();
  // Without a provider nothing can seal (the generator's fill fails): zeros do no harm.
  if (a != nullptr) {
    const bool ok = a->sha256(input, out);
    GV_ASSERT(ok);
  }
  return out;
}

Result<void> seal(const ml::Keyring& keys, std::string_view label, std::int64_t timestamp_ms,
                  std::span<const std::byte> plain, ml::NonceSource& nonces,
                  std::vector<std::byte>& out) {
  ml::GcmKeyring gcm(keys);
  return seal(gcm, label, timestamp_ms, plain, nonces, out);
}

std::optional<SealReject> open(const ml::Keyring* keys, std::string_view label,
                               std::span<const std::byte> sealed,
                               std::vector<std::byte>& scratch, Opened& out) {
  if (keys == nullptr) return open(static_cast<ml::GcmKeyring*>(nullptr), label, sealed, scratch, out);
  ml::GcmKeyring gcm(*keys);
  return open(&gcm, label, sealed, scratch, out);
}

Result<void> seal(ml::GcmKeyring& keys, std::string_view label, std::int64_t timestamp_ms,
                  std::span<const std::byte> plain, ml::NonceSource& nonces,
                  std::vector<std::byte>& out) {
  if (label.size() > kLabelBytesMax) return make_error(Errc::too_large, "label over 255 bytes");
  if (plain.size() > kPlainBytesMax) return make_error(Errc::too_large, "message over 1 GB");
  const std::size_t start = out.size();
  out.reserve(start + overhead(label.size()) + plain.size());
  out.push_back(std::byte(kSealedVersion));
  out.push_back(std::byte(label.size()));
  for (char c : label) out.push_back(std::byte(c));
  const std::size_t header = out.size() - start;
  // The plaintext is [timestamp][message]: assembled once, then sealed after the header.
  std::vector<std::byte> inner(kTimestampBytes + plain.size());
  const auto ts = std::uint64_t(timestamp_ms);
  for (int i = 0; i < 8; ++i) inner[std::size_t(i)] = std::byte(ts >> (56 - 8 * i));
  if (!plain.empty()) std::memcpy(inner.data() + kTimestampBytes, plain.data(), plain.size());
  const std::vector<std::byte> aad(out.begin() + std::ptrdiff_t(start),
                                   out.begin() + std::ptrdiff_t(start + header));
  if (auto r = keys.encrypt(inner, aad, nonces, out); !r) {
    out.resize(start);
    return r;
  }
  return {};
}

std::optional<SealReject> open(ml::GcmKeyring* keys, std::string_view label,
                               std::span<const std::byte> sealed,
                               std::vector<std::byte>& scratch, Opened& out) {
  if (sealed.size() < 2 || !is_sealed(sealed)) return SealReject::malformed;
  const std::size_t label_len = std::to_integer<std::uint8_t>(sealed[1]);
  const std::size_t header = 2 + label_len;
  if (sealed.size() < header) return SealReject::malformed;
  const auto got_label = sealed.subspan(2, label_len);
  if (!std::equal(got_label.begin(), got_label.end(), label.begin(), label.end(),
                  [](std::byte b, char c) { return b == std::byte(c); })) {
    return SealReject::label_mismatch;
  }
  if (keys == nullptr) return SealReject::no_key;
  const auto body = sealed.subspan(header);
  if (body.size() < ml::encrypted_size(ml::EncryptionVersion::v1, kTimestampBytes) ||
      std::to_integer<std::uint8_t>(body[0]) != std::uint8_t(ml::EncryptionVersion::v1)) {
    return SealReject::malformed;
  }
  auto r = keys->decrypt(body, sealed.first(header), scratch);
  if (!r) return r.error().code == Errc::rejected ? SealReject::wrong_key : SealReject::malformed;
  if (scratch.size() < kTimestampBytes) return SealReject::malformed;
  out.timestamp_ms = std::int64_t(load_u64(scratch.data()));
  out.plain = std::span<const std::byte>(scratch).subspan(kTimestampBytes);
  out.tag_id = load_u64(sealed.data() + sealed.size() - 8);
  return std::nullopt;
}

}  // namespace grapevine::wire::seal
