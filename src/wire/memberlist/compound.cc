// memberlist compound messages: see compound.h.
#include "wire/memberlist/compound.h"

#include <algorithm>

namespace grapevine::wire::ml {

Result<CompoundParts> decode_compound(ByteSpan body) noexcept {
  Reader r(body);
  CompoundParts out;
  const std::size_t count = r.u8();
  std::array<std::uint16_t, kCompoundPartsMax> lengths{};
  for (std::size_t i = 0; i < count; ++i) lengths[i] = r.u16be();
  if (!r.ok()) return make_error(Errc::truncated, "compound length table cut short");
  for (std::size_t i = 0; i < count; ++i) {
    if (r.remaining() < lengths[i]) {
      out.truncated = count - i;
      break;
    }
    out.parts[out.count++] = r.bytes(lengths[i]);
  }
  return out;
}

std::size_t compound_size(std::span<const ByteSpan> parts) noexcept {
  std::size_t n = 2 + 2 * parts.size();
  for (const ByteSpan& p : parts) n += p.size();
  return n;
}

Result<void> write_compound(Writer& w, std::span<const ByteSpan> parts) noexcept {
  if (parts.size() > kCompoundPartsMax) {
    return make_error(Errc::too_large, "more than 255 parts in one compound");
  }
  for (const ByteSpan& p : parts) {
    if (p.size() > kCompoundPartBytesMax) {
      return make_error(Errc::too_large, "compound part over 65535 bytes");
    }
    if (p.empty()) return make_error(Errc::invalid_argument, "empty compound part");
  }
  if (w.remaining() < compound_size(parts)) {
    return make_error(Errc::no_space, "compound does not fit the buffer");
  }
  w.u8(std::uint8_t(MessageType::compound));
  w.u8(std::uint8_t(parts.size()));
  for (const ByteSpan& p : parts) w.u16be(std::uint16_t(p.size()));
  for (const ByteSpan& p : parts) w.bytes(p);
  return {};
}

Result<std::vector<std::vector<std::byte>>> make_compounds(std::span<const ByteSpan> parts,
                                                           std::size_t parts_max) {
  if (parts_max == 0 || parts_max > kCompoundPartsMax) {
    return make_error(Errc::invalid_argument, "compound parts_max not in 1..255");
  }
  std::vector<std::vector<std::byte>> out;
  for (std::size_t first = 0; first < parts.size(); first += parts_max) {
    const auto chunk = parts.subspan(first, std::min(parts_max, parts.size() - first));
    std::vector<std::byte> buf(compound_size(chunk));
    Writer w(buf);
    if (auto r = write_compound(w, chunk); !r) return r.error();
    out.push_back(std::move(buf));
  }
  return out;
}

}  // namespace grapevine::wire::ml
