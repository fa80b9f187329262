// LZW exactly as Go's compress/lzw with LSB bit order and literal width 8 (memberlist.md section
// 2.7): the GIF flavour of LZW without GIF's sub-block framing.
//
//   codes 0..255 literals, 256 clear, 257 end of stream, 258.. dictionary entries;
//   codes are 9 bits wide, growing to 12 as the dictionary fills; bits are packed LSB first;
//   the writer starts with a clear code, emits a clear (and starts over) when the next code
//   would be 4095, and ends with EOF then any partial byte.
//
// Compression is byte-identical to Go's writer (tests decode and compare streams Go produced).
// Decompression follows Go's reader: a stream need not start with a clear code; at 4096
// entries the dictionary stops growing until a clear ("deferred clear"); a code above the next
// free entry is malformed; input that ends before the EOF code is truncated (Go returns
// io.ErrUnexpectedEOF, which memberlist treats as failure); bytes after EOF are ignored.
// Deviation: output is capped (Go v0.2.2 has no cap; v0.6.0 caps at 40 MB) and over-cap is
// Errc::too_large.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "grapevine/result.h"
#include "wire/memberlist/types.h"

namespace grapevine::wire::ml {

/// Compresses `in` into `out` (replacing its contents). Allocates a 64 KiB hash table.
void lzw_compress(std::span<const std::byte> in, std::vector<std::byte>& out);
std::vector<std::byte> lzw_compress(std::span<const std::byte> in);

/// Decompresses `in` into `out` (replacing its contents). Errors: malformed (a code the
/// dictionary does not have yet), truncated (no EOF code), too_large (output would pass
/// `max_bytes`; `out` is left holding the first max_bytes or fewer).
Result<void> lzw_decompress(std::span<const std::byte> in, std::vector<std::byte>& out,
                            std::size_t max_bytes = kDecompressedBytesMax);

}  // namespace grapevine::wire::ml
