// Fuzz target: Go-compatible LZW (compress/lzw, LSB, width 8).
//
// Input: arbitrary bytes, used both ways. Properties:
//  - decompressing never crashes and never passes its cap (1 MiB here);
//  - what decompresses re-compresses and decompresses back to the same bytes;
//  - compressing the input and decompressing gives the input back.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_check.h"
#include "wire/memberlist/lzw.h"

using namespace grapevine;
using namespace grapevine::wire::ml;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kCap = 1 << 20;
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  std::vector<std::byte> out, back;
  auto r = lzw_decompress(in, out, kCap);
  FUZZ_CHECK(out.size() <= kCap);
  if (r) {
    const std::vector<std::byte> again = lzw_compress(out);
    FUZZ_CHECK(lzw_decompress(again, back, kCap).has_value() && back == out);
  }
  const std::vector<std::byte> c = lzw_compress(in);
  FUZZ_CHECK(lzw_decompress(c, back, size + 1).has_value());
  FUZZ_CHECK(back.size() == size && std::equal(back.begin(), back.end(), in.begin()));
  return 0;
}
