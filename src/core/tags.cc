// Serf's tag encoding (see grapevine/tags.h), over the memberlist dialect's msgpack.
#include "grapevine/tags.h"

#include "wire/memberlist/msgpack.h"

namespace grapevine {

Result<std::vector<std::byte>> encode_tags(const Tags& tags) {
  std::vector<std::byte> out(kTagsBytesMax);
  wire::Writer w(out);
  w.u8(0xff);
  wire::ml::MpWriter mp(w);
  mp.map_header(std::uint32_t(tags.size() > 0xffffffffu ? 0xffffffffu : tags.size()));
  for (const auto& [k, v] : tags) {
    mp.str(k);
    mp.str(v);
  }
  if (!mp.ok()) return make_error(Errc::too_large, "tags over 512 bytes encoded");
  out.resize(w.size());
  return out;
}

Result<Tags> decode_tags(std::span<const std::byte> meta) {
  Tags tags;
  if (meta.empty()) return tags;
  if (meta[0] != kTagsMagic) {
    tags.emplace("role", std::string(wire::ml::as_chars(meta)));
    return tags;
  }
  wire::ml::MpReader r(meta.subspan(1));
  const std::uint32_t n = r.map_header();
  for (std::uint32_t i = 0; i < n && r.ok(); ++i) {
    std::string_view k = r.str();
    std::string_view v = r.str();
    if (r.ok()) tags.insert_or_assign(std::string(k), std::string(v));
  }
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  if (r.remaining() != 0) return make_error(Errc::malformed, "bytes after the tags map");
  return tags;
}

}  // namespace grapevine
