// memberlist's compress wrapper: see compress.h.
#include "wire/memberlist/compress.h"

#include "util/assert.h"
#include "wire/memberlist/lzw.h"
#include "wire/memberlist/messages.h"

namespace grapevine::wire::ml {

std::vector<std::byte> compress_message(ByteSpan msg) {
  const std::vector<std::byte> lzw = lzw_compress(msg);
  const Compress c{kLzwAlgo, lzw};
  std::vector<std::byte> out(1 + encoded_size_max(c));
  Writer w(out);
  w.u8(std::uint8_t(MessageType::compress));
  const auto r = encode(w, c);
  GV_ASSERT(r.has_value());  // the buffer was sized by encoded_size_max
  out.resize(w.size());
  return out;
}

Result<void> decompress_message(ByteSpan body, std::vector<std::byte>& out, std::size_t max_bytes) {
  auto c = decode<Compress>(body);
  if (!c) return c.error();
  if (c->algo != kLzwAlgo) return make_error(Errc::unsupported_version, "unknown compression");
  if (auto r = lzw_decompress(c->buf, out, max_bytes); !r) return r;
  if (out.empty()) return make_error(Errc::malformed, "compressed message decompresses to nothing");
  return {};
}

}  // namespace grapevine::wire::ml
