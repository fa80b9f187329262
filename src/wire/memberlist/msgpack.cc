// msgpack reader/writer with memberlist's conventions: see msgpack.h for the rules and where
// they deviate from go-msgpack.
#include "wire/memberlist/msgpack.h"

#include <limits>

namespace grapevine::wire::ml {

void MpWriter::uint(std::uint64_t v) noexcept {
  if (v <= 0x7f) {
    w_.u8(std::uint8_t(v));
  } else if (v <= 0xff) {
    w_.u8(0xcc);
    w_.u8(std::uint8_t(v));
  } else if (v <= 0xffff) {
    w_.u8(0xcd);
    w_.u16be(std::uint16_t(v));
  } else if (v <= 0xffffffff) {
    w_.u8(0xce);
    w_.u32be(std::uint32_t(v));
  } else {
    w_.u8(0xcf);
    w_.u64be(v);
  }
}

void MpWriter::sint(std::int64_t v) noexcept {
  if (v >= 0) return uint(std::uint64_t(v));
  if (v >= -32) {
    w_.u8(std::uint8_t(v));  // negative fixint 0xe0..0xff
  } else if (v >= INT8_MIN) {
    w_.u8(0xd0);
    w_.u8(std::uint8_t(v));
  } else if (v >= INT16_MIN) {
    w_.u8(0xd1);
    w_.u16be(std::uint16_t(v));
  } else if (v >= INT32_MIN) {
    w_.u8(0xd2);
    w_.u32be(std::uint32_t(v));
  } else {
    w_.u8(0xd3);
    w_.u64be(std::uint64_t(v));
  }
}

void MpWriter::raw(ByteSpan v) noexcept {
  if (v.size() < 32) {
    w_.u8(std::uint8_t(0xa0 | v.size()));
  } else if (v.size() <= 0xffff) {
    w_.u8(0xda);
    w_.u16be(std::uint16_t(v.size()));
  } else if (v.size() <= 0xffffffff) {
    w_.u8(0xdb);
    w_.u32be(std::uint32_t(v.size()));
  } else {
    too_long_ = true;  // msgpack cannot say it; never fits a packet or a 20 MB stream anyway
    return;
  }
  w_.bytes(v);
}

void MpWriter::map_header(std::uint32_t n) noexcept {
  if (n < 16) {
    w_.u8(std::uint8_t(0x80 | n));
  } else if (n <= 0xffff) {
    w_.u8(0xde);
    w_.u16be(std::uint16_t(n));
  } else {
    w_.u8(0xdf);
    w_.u32be(n);
  }
}

void MpWriter::array_header(std::uint32_t n) noexcept {
  if (n < 16) {
    w_.u8(std::uint8_t(0x90 | n));
  } else if (n <= 0xffff) {
    w_.u8(0xdc);
    w_.u16be(std::uint16_t(n));
  } else {
    w_.u8(0xdd);
    w_.u32be(n);
  }
}

std::uint8_t MpReader::peek() noexcept {
  if (!ok()) return 0;
  if (r_.remaining() == 0) {
    r_.fail(Errc::truncated, "input ended before a msgpack value");
    return 0;
  }
  return std::to_integer<std::uint8_t>(in_[r_.position()]);
}

std::uint64_t MpReader::integer(bool& non_negative) noexcept {
  non_negative = true;
  const std::uint8_t b = r_.u8();
  std::int64_t s = 0;
  switch (b) {
    case 0xc0:
      return 0;  // nil: Go leaves the field zero
    case 0xcc:
      return r_.u8();
    case 0xcd:
      return r_.u16be();
    case 0xce:
      return r_.u32be();
    case 0xcf:
      return r_.u64be();
    case 0xd0:
      s = std::int8_t(r_.u8());
      break;
    case 0xd1:
      s = std::int16_t(r_.u16be());
      break;
    case 0xd2:
      s = std::int32_t(r_.u32be());
      break;
    case 0xd3:
      s = std::int64_t(r_.u64be());
      break;
    default:
      if (b <= 0x7f) return b;
      if (b >= 0xe0) {
        s = std::int8_t(b);
        break;
      }
      r_.fail(Errc::malformed, "expected an integer");
      return 0;
  }
  if (s >= 0) return std::uint64_t(s);
  non_negative = false;
  return std::uint64_t(0) - std::uint64_t(s);  // magnitude, well defined for INT64_MIN too
}

std::uint64_t MpReader::uint(std::uint64_t max) noexcept {
  bool non_negative = true;
  const std::uint64_t v = integer(non_negative);
  if (!ok()) return 0;
  if (!non_negative) {
    r_.fail(Errc::malformed, "negative value for an unsigned field");
    return 0;
  }
  if (v > max) {
    r_.fail(Errc::malformed, "integer too large for its field");
    return 0;
  }
  return v;
}

std::int64_t MpReader::sint(std::int64_t min, std::int64_t max) noexcept {
  bool non_negative = true;
  const std::uint64_t mag = integer(non_negative);
  if (!ok()) return 0;
  if (non_negative) {
    if (mag > std::uint64_t(max)) {
      r_.fail(Errc::malformed, "integer out of range for its field");
      return 0;
    }
    return std::int64_t(mag);
  }
  // -mag >= min  <=>  mag <= -min (computed without overflow).
  if (min >= 0 || mag > std::uint64_t(0) - std::uint64_t(min)) {
    r_.fail(Errc::malformed, "integer out of range for its field");
    return 0;
  }
  return std::int64_t(std::uint64_t(0) - mag);
}

bool MpReader::boolean() noexcept {
  const std::uint8_t b = r_.u8();
  switch (b) {
    case 0xc0:
    case 0xc2:
    case 0x00:
      return false;
    case 0xc3:
    case 0x01:
      return true;
    default:
      r_.fail(Errc::malformed, "expected a bool");
      return false;
  }
}

std::uint64_t MpReader::raw_length() noexcept {
  const std::uint8_t b = r_.u8();
  if (b >= 0xa0 && b <= 0xbf) return b & 0x1f;
  switch (b) {
    case 0xc0:
      return 0;
    case 0xd9:
    case 0xc4:
      return r_.u8();
    case 0xda:
    case 0xc5:
      return r_.u16be();
    case 0xdb:
    case 0xc6:
      return r_.u32be();
    default:
      r_.fail(Errc::malformed, "expected a string or bytes");
      return 0;
  }
}

ByteSpan MpReader::raw(std::size_t max) noexcept {
  const std::uint64_t n = raw_length();
  if (!ok()) return {};
  if (n > max) {
    r_.fail(Errc::too_large, "string or bytes over the field's limit");
    return {};
  }
  return r_.bytes(std::size_t(n));
}

std::uint32_t MpReader::map_header() noexcept {
  if (peek() == 0xc0) {
    r_.u8();
    return 0;
  }
  if (!ok()) return 0;
  bool is_map = false;
  const std::uint32_t n = container(is_map);
  if (ok() && !is_map) {
    fail(Errc::malformed, "expected a map");
    return 0;
  }
  return n;
}

std::uint32_t MpReader::array_header() noexcept {
  if (peek() == 0xc0) {
    r_.u8();
    return 0;
  }
  if (!ok()) return 0;
  bool is_map = false;
  const std::uint32_t n = container(is_map);
  if (ok() && is_map) {
    fail(Errc::malformed, "expected an array");
    return 0;
  }
  return n;
}

std::uint32_t MpReader::container(bool& is_map) noexcept {
  const std::uint8_t b = r_.u8();
  std::uint32_t n = 0;
  is_map = false;
  if (b >= 0x80 && b <= 0x8f) {
    is_map = true;
    n = b & 0x0f;
  } else if (b >= 0x90 && b <= 0x9f) {
    n = b & 0x0f;
  } else if (b == 0xde || b == 0xdf) {
    is_map = true;
    n = b == 0xde ? r_.u16be() : r_.u32be();
  } else if (b == 0xdc || b == 0xdd) {
    n = b == 0xdc ? r_.u16be() : r_.u32be();
  } else {
    r_.fail(Errc::malformed, "expected a map or array");
    return 0;
  }
  // Every element takes at least one byte (two per map entry): a count the remaining input
  // cannot hold is truncated now, before we loop over it.
  const std::uint64_t min_bytes = std::uint64_t(n) * (is_map ? 2 : 1);
  if (ok() && min_bytes > r_.remaining()) {
    r_.fail(Errc::truncated, "container count exceeds the input");
    return 0;
  }
  return n;
}

void MpReader::read_byte_array(std::uint8_t* out, std::size_t cap, std::uint8_t& size) noexcept {
  bool is_map = false;
  const std::uint32_t n = container(is_map);
  if (!ok()) return;
  if (n > cap) return fail(Errc::malformed, "byte array longer than its type allows");
  for (std::uint32_t i = 0; i < n; ++i) out[i] = std::uint8_t(uint(0xff));
  if (ok()) size = std::uint8_t(n);
}

void MpReader::skip_depth(int depth) noexcept {
  if (depth > kMsgpackDepthMax) return fail(Errc::malformed, "msgpack nested too deep");
  const std::uint8_t b = peek();
  if (!ok()) return;
  if ((b >= 0x80 && b <= 0x9f) || (b >= 0xdc && b <= 0xdf)) {
    bool is_map = false;
    const std::uint64_t n = container(is_map);
    const std::uint64_t values = is_map ? 2 * n : n;
    for (std::uint64_t i = 0; i < values && ok(); ++i) skip_depth(depth + 1);
    return;
  }
  if (b <= 0x7f || b >= 0xe0) return void(r_.u8());
  if ((b >= 0xa0 && b <= 0xbf) || b == 0xd9 || b == 0xda || b == 0xdb || (b >= 0xc4 && b <= 0xc6)) {
    return void(raw());
  }
  r_.u8();
  switch (b) {
    case 0xc0:
    case 0xc2:
    case 0xc3:
      return;
    case 0xcc:
    case 0xd0:
      return void(r_.bytes(1));
    case 0xcd:
    case 0xd1:
      return void(r_.bytes(2));
    case 0xca:
    case 0xce:
    case 0xd2:
      return void(r_.bytes(4));
    case 0xcb:
    case 0xcf:
    case 0xd3:
      return void(r_.bytes(8));
    case 0xd4:
      return void(r_.bytes(2));  // fixext 1: type + data
    case 0xd5:
      return void(r_.bytes(3));
    case 0xd6:
      return void(r_.bytes(5));
    case 0xd7:
      return void(r_.bytes(9));
    case 0xd8:
      return void(r_.bytes(17));
    case 0xc7:
      return void(r_.bytes(std::size_t(r_.u8()) + 1));
    case 0xc8:
      return void(r_.bytes(std::size_t(r_.u16be()) + 1));
    case 0xc9:
      return void(r_.bytes(std::size_t(r_.u32be()) + 1));
    default:
      return fail(Errc::malformed, "invalid msgpack type byte");
  }
}

int MpReader::find(std::span<const std::string_view> names, std::string_view key) noexcept {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == key) return int(i);
  }
  return -1;
}

}  // namespace grapevine::wire::ml
