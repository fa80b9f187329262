// Fuzz target: memberlist compound messages ([count][len u16 x count][parts]).
//
// Input: a compound body (after type byte 7). Properties: parts stay inside the input and
// account for the announced count (whole + truncated); whole parts re-encode with
// write_compound and decode back to the same parts (except empty parts, which the writer
// refuses); a body with no truncated parts and no
// trailing bytes re-encodes to exactly itself.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz_check.h"
#include "wire/memberlist/compound.h"

using namespace grapevine;
using namespace grapevine::wire;
using namespace grapevine::wire::ml;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteSpan body(reinterpret_cast<const std::byte*>(data), size);
  auto parts = decode_compound(body);
  if (!parts) return 0;
  FUZZ_CHECK(size >= 1 && parts->count + parts->truncated == std::size_t(data[0]));
  std::size_t used = 1 + 2 * std::size_t(data[0]);
  for (std::size_t i = 0; i < parts->count; ++i) {
    const ByteSpan p = parts->parts[i];
    FUZZ_CHECK(p.data() == body.data() + used);
    used += p.size();
  }
  FUZZ_CHECK(used <= size);
  const std::span<const ByteSpan> whole(parts->parts.data(), parts->count);
  std::vector<std::byte> buf(compound_size(whole));
  Writer w(buf);
  const bool has_empty =
      std::any_of(whole.begin(), whole.end(), [](ByteSpan p) { return p.empty(); });
  auto written = write_compound(w, whole);
  if (has_empty) {  // read (and reported as malformed on dispatch), never written
    FUZZ_CHECK(!written.has_value() && written.error().code == Errc::invalid_argument);
    return 0;
  }
  FUZZ_CHECK(written.has_value());
  auto again = decode_compound(ByteSpan(buf).subspan(1));
  FUZZ_CHECK(again.has_value() && again->count == parts->count && again->truncated == 0);
  for (std::size_t i = 0; i < parts->count; ++i) {
    FUZZ_CHECK(std::equal(again->parts[i].begin(), again->parts[i].end(), parts->parts[i].begin(),
                          parts->parts[i].end()));
  }
  if (parts->truncated == 0 && used == size) {
    FUZZ_CHECK(buf.size() == size + 1 && std::equal(body.begin(), body.end(), buf.begin() + 1));
  }
  return 0;
}
