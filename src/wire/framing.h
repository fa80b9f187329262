// Framing shared by the native frame codecs (membership, views, HyParView): a frame is
// [type][varint body length][body]. Bodies are built in a scratch buffer first, because the
// header needs the length; a frame that does not fit leaves the writer as it was. Decoders end
// with finish(), which refuses trailing bytes and turns the reader's state into a Result.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>

#include "grapevine/result.h"
#include "wire/native.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace grapevine::wire::framing {

/// Appends [type][length][body] when it all fits in `w`.
inline bool put(Writer& w, std::uint8_t type, const Writer& body) noexcept {
  if (!body.ok()) return false;
  const std::size_t n = body.size();
  if (w.remaining() < 1 + varint_size(n) + n) return false;
  w.u8(type);
  w.varint(n);
  w.bytes(body.written());
  return w.ok();
}

/// Builds a body with `body(Writer&)` (returning bool, false = refuse, or nothing) and frames it.
template <class Body>
bool write(Writer& w, std::uint8_t type, Body&& body) noexcept {
  std::array<std::byte, kPacketBudgetBytesMax> scratch;
  Writer b(scratch);
  if constexpr (std::is_same_v<std::invoke_result_t<Body&, Writer&>, bool>) {
    if (!body(b)) return false;
  } else {
    body(b);
  }
  return put(w, type, b);
}

inline Result<void> finish(Reader& r) noexcept {
  if (r.ok() && !r.at_end()) r.fail(Errc::malformed, "trailing bytes in frame");
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  return {};
}

template <class T>
Result<T> finish(Reader& r, T value) noexcept {
  if (auto ok = finish(r); !ok) return ok.error();
  return value;
}

}  // namespace grapevine::wire::framing
