// Fuzz target: serf's tag encoding (grapevine/tags.h), metadata from any member.
//
// Input: arbitrary bytes as a member's metadata. Properties:
//  - decoding never crashes;
//  - what decodes from the 0xFF form with unique keys re-encodes (when it fits) and decodes to
//    the same tags.
#include <cstddef>
#include <cstdint>

#include "fuzz_check.h"
#include "grapevine/tags.h"

using namespace grapevine;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  auto tags = decode_tags(in);
  if (!tags) return 0;
  auto again = encode_tags(*tags);
  if (!again) return 0;  // legacy role values or duplicate keys can re-encode larger
  auto back = decode_tags(*again);
  FUZZ_CHECK(back.has_value() && *back == *tags);
  return 0;
}
