// A minimal msgpack reader and writer with HashiCorp memberlist's conventions (go-msgpack's
// MsgpackHandle{} with default settings; memberlist.md section 2.3).
//
// Writing (byte-identical to go-msgpack v0.5, the codec of Debian's memberlist 0.2.2):
//  - strings and []byte are both "raw": fixstr (< 32 bytes), str16, str32. Never str8 or bin.
//  - unsigned integers take the smallest form (positive fixint, uint8/16/32/64).
//  - signed integers >= 0 are written as unsigned (v0.5; go-msgpack v2 writes int16/int32 for
//    values > 127, which we accept but do not produce), negatives take the smallest int form.
//  - structs are maps keyed by Go field name, keys in sorted order (the caller writes them so).
// Reading (what either codec version may send, and a little more):
//  - any integer width and signedness, range-checked against the field's Go type; nil reads as
//    zero, as in Go.
//  - raw fields accept fixstr/str8/str16/str32 and bin8/bin16/bin32; nil reads as empty.
//  - structs as maps (unknown keys skipped) or as arrays (fields in Go declaration order, extra
//    elements skipped), or nil (all fields zero).
// Deviations: go-msgpack v0.5 also reads a negative fixint as a string (a masking bug) and v2
// reads bools from integers other than 0/1 in some paths; we reject both. Nothing allocates:
// raw values come back as spans into the input. Errors are sticky, as in wire::Reader: read a
// whole struct, check ok() once.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "grapevine/result.h"
#include "wire/memberlist/types.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace grapevine::wire::ml {

using ByteSpan = std::span<const std::byte>;

/// Views bytes as characters (Go strings are byte strings; no UTF-8 check, as in Go).
inline std::string_view as_chars(ByteSpan b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline ByteSpan as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// A short byte string kept inline (addresses, Vsn): decodes from raw or from an array of ints.
template <std::size_t N>
struct SmallBytes {
  std::array<std::uint8_t, N> bytes{};
  std::uint8_t size = 0;

  [[nodiscard]] ByteSpan span() const noexcept {
    return {reinterpret_cast<const std::byte*>(bytes.data()), size};
  }
  friend bool operator==(const SmallBytes& a, const SmallBytes& b) noexcept {
    return a.span().size() == b.span().size() &&
           std::equal(a.bytes.begin(), a.bytes.begin() + a.size, b.bytes.begin());
  }
};

class MpWriter {
 public:
  explicit MpWriter(Writer& w) noexcept : w_(w) {}
  [[nodiscard]] bool ok() const noexcept { return w_.ok() && !too_long_; }

  void nil() noexcept { w_.u8(0xc0); }
  void boolean(bool v) noexcept { w_.u8(v ? 0xc3 : 0xc2); }
  void uint(std::uint64_t v) noexcept;
  /// go-msgpack v0.5's form: non-negative values as unsigned, negatives as the smallest int.
  void sint(std::int64_t v) noexcept;
  /// A raw string (fixstr/str16/str32), for Go string and []byte alike.
  void raw(ByteSpan v) noexcept;
  void str(std::string_view v) noexcept { raw(as_bytes(v)); }
  /// A Go []byte field: nil (0xc0) when empty, as memberlist's nil slices encode. An empty
  /// non-nil slice (fixstr 0xa0) decodes the same in Go, so nothing is lost.
  void bytes_or_nil(ByteSpan v) noexcept {
    if (v.empty()) {
      nil();
    } else {
      raw(v);
    }
  }
  void map_header(std::uint32_t n) noexcept;
  void array_header(std::uint32_t n) noexcept;

 private:
  Writer& w_;
  bool too_long_ = false;
};

/// Bytes MpWriter::raw takes for a value of `n` bytes (header + data).
constexpr std::size_t raw_size(std::size_t n) noexcept {
  return n + (n < 32 ? 1 : n <= 0xffff ? 3 : 5);
}

class MpReader {
 public:
  explicit MpReader(ByteSpan in) noexcept : in_(in), r_(in) {}

  [[nodiscard]] bool ok() const noexcept { return r_.ok(); }
  [[nodiscard]] Errc error() const noexcept { return r_.error(); }
  [[nodiscard]] const char* error_detail() const noexcept { return r_.error_detail(); }
  [[nodiscard]] std::size_t position() const noexcept { return r_.position(); }
  [[nodiscard]] std::size_t remaining() const noexcept { return r_.remaining(); }
  void fail(Errc code, const char* detail) noexcept { r_.fail(code, detail); }

  /// An unsigned field: any integer form in [0, max]; nil reads as 0.
  std::uint64_t uint(std::uint64_t max) noexcept;
  /// A signed field (Go int): any integer form in [min, max]; nil reads as 0.
  std::int64_t sint(std::int64_t min, std::int64_t max) noexcept;
  /// A bool field: true/false, or fixint 0/1 as go-msgpack accepts; nil reads as false.
  bool boolean() noexcept;
  /// A raw field (str or bin, any width) of at most `max` bytes; nil reads as empty. The length
  /// is checked before the bytes are needed, so a stream reader learns too_large at once.
  ByteSpan raw(std::size_t max = SIZE_MAX) noexcept;
  std::string_view str(std::size_t max = SIZE_MAX) noexcept { return as_chars(raw(max)); }
  /// A short []byte field: raw, or an array of integers 0..255; longer than N is malformed.
  template <std::size_t N>
  void small_bytes(SmallBytes<N>& out) noexcept {
    out.size = 0;
    const std::uint8_t first = peek();
    if ((first >= 0x90 && first <= 0x9f) || first == 0xdc || first == 0xdd) {
      read_byte_array(out.bytes.data(), N, out.size);
      return;
    }
    ByteSpan b = raw(SIZE_MAX);
    if (!ok()) return;
    if (b.size() > N) return fail(Errc::malformed, "byte field longer than its type allows");
    for (std::size_t i = 0; i < b.size(); ++i) out.bytes[i] = std::to_integer<std::uint8_t>(b[i]);
    out.size = std::uint8_t(b.size());
  }
  /// A map header: the number of key/value pairs. nil reads as an empty map; anything else is
  /// malformed. A count the remaining input cannot hold is truncated.
  std::uint32_t map_header() noexcept;
  /// An array header: the number of elements. nil reads as an empty array; anything else is
  /// malformed. A count the remaining input cannot hold is truncated.
  std::uint32_t array_header() noexcept;
  /// Skips one value of any type (depth-limited by kMsgpackDepthMax).
  void skip() noexcept { skip_depth(0); }

  /// Decodes a struct: a map (keys matched against `names`, unknown keys skipped), an array
  /// (element i is field i of `names`, which must be in Go declaration order) or nil.
  /// `on_field(i)` must read exactly one value.
  template <class F>
  void struct_fields(std::span<const std::string_view> names, F&& on_field) noexcept {
    std::uint8_t b = peek();
    if (!ok()) return;
    if (b == 0xc0) {
      r_.u8();
      return;
    }
    bool is_map = false;
    std::uint32_t n = container(is_map);
    for (std::uint32_t i = 0; i < n && ok(); ++i) {
      int field = is_map ? find(names, str()) : (i < names.size() ? int(i) : -1);
      if (!ok()) return;
      if (field < 0) {
        skip();
      } else {
        on_field(field);
      }
    }
  }

 private:
  std::uint8_t peek() noexcept;
  /// Reads a map or array header; fails (malformed) on anything else.
  std::uint32_t container(bool& is_map) noexcept;
  std::uint64_t raw_length() noexcept;
  /// Reads an integer of any form as magnitude + sign (false = negative).
  std::uint64_t integer(bool& non_negative) noexcept;
  void read_byte_array(std::uint8_t* out, std::size_t cap, std::uint8_t& size) noexcept;
  void skip_depth(int depth) noexcept;
  static int find(std::span<const std::string_view> names, std::string_view key) noexcept;

  ByteSpan in_;
  Reader r_;
};

}  // namespace grapevine::wire::ml
