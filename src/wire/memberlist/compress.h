// memberlist's compress wrapper (memberlist.md sections 2.5 step 3 and 2.8):
//
//   [9][msgpack compress{Algo: 0, Buf: LZW(inner message)}]
//
// where the inner message is itself [type][...] (a single message, a compound, or on streams a
// whole stream body). Algo 0 (LZW) is the only algorithm memberlist knows; any other is
// unsupported and rejected, as in Go.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "grapevine/result.h"
#include "wire/memberlist/msgpack.h"
#include "wire/memberlist/types.h"

namespace grapevine::wire::ml {

/// The LZW algorithm id in compress.Algo.
inline constexpr std::uint8_t kLzwAlgo = 0;

/// [9][compress{0, LZW(msg)}] in a new buffer. memberlist sends it on UDP only when it is
/// smaller than `msg` (the caller decides); on streams always.
std::vector<std::byte> compress_message(ByteSpan msg);

/// Decompresses a compress body (the bytes after type byte 9) into `out`, which then holds the
/// inner message. Errors: those of decode<Compress>, unsupported_version for an unknown Algo,
/// those of lzw_decompress (too_large past `max_bytes`), malformed when the result is empty
/// (memberlist v0.2.2 indexes byte 0 of it without a check).
Result<void> decompress_message(ByteSpan body, std::vector<std::byte>& out,
                                std::size_t max_bytes = kDecompressedBytesMax);

}  // namespace grapevine::wire::ml
