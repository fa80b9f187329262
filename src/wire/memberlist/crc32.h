// CRC32-IEEE (the reflected 0xEDB88320 polynomial, Go's crc32.ChecksumIEEE and zlib's crc32) and
// memberlist's CRC wrapper for UDP packets (memberlist.md section 2.5, step 4):
//
//   [12][CRC32-IEEE(rest), big-endian u32][rest]
//
// memberlist adds it when the recipient's PMax >= 5 and checks it when byte 0 is 12 and the
// packet has at least 5 bytes; shorter type-12 packets fall through to dispatch, where 12 is an
// unknown message type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "grapevine/result.h"

namespace grapevine::wire::ml {

/// CRC32-IEEE of `data` (table-driven; same as zlib's crc32(0, data, len)).
std::uint32_t crc32_ieee(std::span<const std::byte> data) noexcept;

/// Bytes the CRC wrapper adds.
inline constexpr std::size_t kCrcHeaderBytes = 5;

/// [12][crc][msg] in a new buffer.
std::vector<std::byte> add_crc(std::span<const std::byte> msg);

/// If `packet` is CRC-wrapped (byte 0 is 12 and it has >= 5 bytes), verifies the checksum and
/// returns the inner message; otherwise returns `packet` unchanged. Errors: rejected on a
/// checksum mismatch.
Result<std::span<const std::byte>> strip_crc(std::span<const std::byte> packet) noexcept;

}  // namespace grapevine::wire::ml
