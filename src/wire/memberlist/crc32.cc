// CRC32-IEEE and memberlist's CRC wrapper: see crc32.h. Our own table rather than zlib's so the
// core library keeps to the standard library (the cipher is behind the crypto seam, crypto/aead.h).
#include "wire/memberlist/crc32.h"

#include <algorithm>
#include <array>

#include "wire/memberlist/types.h"

namespace grapevine::wire::ml {
namespace {

constexpr std::array<std::uint32_t, 256> make_table() noexcept {
  std::array<std::uint32_t, 256> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

constexpr std::array<std::uint32_t, 256> kTable = make_table();

}  // namespace

std::uint32_t crc32_ieee(std::span<const std::byte> data) noexcept {
  std::uint32_t c = 0xffffffffu;
  for (std::byte b : data) c = kTable[(c ^ std::to_integer<std::uint32_t>(b)) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

std::vector<std::byte> add_crc(std::span<const std::byte> msg) {
  std::vector<std::byte> out(kCrcHeaderBytes + msg.size());
  const std::uint32_t crc = crc32_ieee(msg);
  out[0] = std::byte(MessageType::has_crc);
  for (int i = 0; i < 4; ++i) out[1 + i] = std::byte((crc >> (24 - 8 * i)) & 0xff);
  std::copy(msg.begin(), msg.end(), out.begin() + kCrcHeaderBytes);
  return out;
}

Result<std::span<const std::byte>> strip_crc(std::span<const std::byte> packet) noexcept {
  if (packet.size() < kCrcHeaderBytes || packet[0] != std::byte(MessageType::has_crc)) {
    return packet;
  }
  std::uint32_t want = 0;
  for (int i = 1; i <= 4; ++i) want = want << 8 | std::to_integer<std::uint32_t>(packet[i]);
  const auto rest = packet.subspan(kCrcHeaderBytes);
  if (crc32_ieee(rest) != want) return make_error(Errc::rejected, "CRC32 mismatch");
  return rest;
}

}  // namespace grapevine::wire::ml
