// memberlist compound messages (memberlist.md section 2.5):
//
//   [7][count u8][len u16 BE x count][part bytes...]
//
// At most 255 parts per compound; larger batches are split into several compounds, as memberlist
// does since v0.3.2 (before that the count byte wrapped, memberlist#239). On decode, parts that
// run past the end of the buffer are counted as truncated and dropped, and the parts before them
// are kept, as Go's decodeCompoundMessage does. Bytes after the last part are ignored (Go too).
//
// Traps in memberlist v0.2.2 (Debian's), both checked against its code: a zero-length part
// makes handleCommand index byte 0 of nothing and panic (the process dies), so we never write
// one; and it computes the length table's size as numParts*2 in uint8
// arithmetic, so it mis-slices every compound of 128 or more parts (checked against its code in
// tests/interop/golden). Senders talking to such peers should split at kCompoundPartsMaxV022.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "grapevine/result.h"
#include "wire/memberlist/msgpack.h"
#include "wire/memberlist/types.h"
#include "wire/writer.h"

namespace grapevine::wire::ml {

struct CompoundParts {
  std::array<ByteSpan, kCompoundPartsMax> parts{};  // spans into the decoded body
  std::size_t count = 0;                            // parts[0..count) are whole
  std::size_t truncated = 0;                        // announced parts dropped for running short
};

/// Splits a compound body (the bytes after the type byte). Errors: truncated when the count byte
/// or the length table is missing. Never allocates.
Result<CompoundParts> decode_compound(ByteSpan body) noexcept;

/// Bytes one compound holding `parts` takes, type byte included.
std::size_t compound_size(std::span<const ByteSpan> parts) noexcept;

/// Writes one compound. Errors: too_large for more than 255 parts or a part over 65,535 bytes,
/// invalid_argument for an empty part, no_space when `w` is too small (nothing is written).
Result<void> write_compound(Writer& w, std::span<const ByteSpan> parts) noexcept;

/// Most parts a memberlist v0.2.2 receiver decodes correctly in one compound (see above).
inline constexpr std::size_t kCompoundPartsMaxV022 = 127;

/// Packs any number of parts into compounds of at most `parts_max` (1..255) parts each, in
/// order. Errors: as write_compound; invalid_argument for a parts_max outside 1..255.
Result<std::vector<std::vector<std::byte>>> make_compounds(
    std::span<const ByteSpan> parts, std::size_t parts_max = kCompoundPartsMax);

}  // namespace grapevine::wire::ml
