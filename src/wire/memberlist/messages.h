// memberlist message structs and their msgpack codecs (memberlist.md sections 2.3 and 2.4).
//
// Each struct mirrors a Go struct of memberlist's net.go, field for field. Encoders write
// [type byte][msgpack map], keys in Go's sorted order, `omitempty` fields left out when zero, so
// the bytes equal go-msgpack v0.5's (Debian's memberlist 0.2.2); tests pin this against output
// of Go itself (tests/interop/golden/). Decoders take the msgpack body *after* the type byte and
// accept every form either go-msgpack version writes (see msgpack.h). Strings and byte fields are
// spans into the input: a decoded message lives no longer than its buffer.
//
// Deviations from Go, all on decode and all stricter:
//  - address fields ([]byte Addr/Target/SourceAddr) must be 0, 4 or 16 bytes long;
//  - Meta over kMetaBytesMax and Vsn over kVsnBytesMax are errors (Go accepts and later panics
//    or truncates);
//  - negative counts (Nodes, UserStateLen, UserMsgLen) are malformed, counts over their named
//    limits are too_large (Go v0.2.2 would try to allocate them);
//  - trailing bytes after the struct are ignored, as Go's decode() does.
// Encoding writes an empty []byte as nil (0xc0): Go cannot tell them apart after decoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/result.h"
#include "wire/memberlist/msgpack.h"
#include "wire/memberlist/types.h"
#include "wire/writer.h"

namespace grapevine::wire::ml {

/// Raw IP bytes as memberlist sends them: 4 (IPv4), 16 (IPv6 or IPv4-mapped) or 0 (absent).
using IpBytes = SmallBytes<16>;
/// [pmin, pmax, pcur, dmin, dmax, dcur].
using Vsn = SmallBytes<kVsnBytesMax>;

/// The 4-byte form of an IPv4 address, 16 bytes for IPv6, empty when `a` is unset.
IpBytes ip_bytes(const Address& a) noexcept;
/// The address at `ip`:`port`; `::ffff:a.b.c.d` becomes IPv4. nullopt when `ip` is empty or not
/// 4 or 16 bytes long.
std::optional<Address> to_address(const IpBytes& ip, std::uint16_t port) noexcept;
/// Vsn as plain memberlist sends it: [1,5,2,0,0,0].
Vsn default_vsn() noexcept;

struct Ping {
  std::uint32_t seq_no = 0;
  std::string_view node;  // intended target; empty = anyone
  IpBytes source_addr;    // omitempty
  std::uint16_t source_port = 0;
  std::string_view source_node;
};

struct IndirectPingReq {
  std::uint32_t seq_no = 0;
  IpBytes target;
  std::uint16_t port = 0;
  std::string_view node;
  bool nack = false;
  IpBytes source_addr;  // omitempty, as the next two
  std::uint16_t source_port = 0;
  std::string_view source_node;
};

struct AckResp {
  std::uint32_t seq_no = 0;
  ByteSpan payload;  // nil on the wire when empty
};

struct NackResp {
  std::uint32_t seq_no = 0;
};

struct ErrResp {
  std::string_view error;
};

struct Suspect {
  std::uint32_t incarnation = 0;
  std::string_view node;
  std::string_view from;
};

struct Alive {
  std::uint32_t incarnation = 0;
  std::string_view node;
  IpBytes addr;
  std::uint16_t port = 0;
  ByteSpan meta;  // at most kMetaBytesMax
  Vsn vsn;
};

struct Dead {
  std::uint32_t incarnation = 0;
  std::string_view node;
  std::string_view from;  // == node: a graceful leave
};

struct PushPullHeader {
  std::uint32_t nodes = 0;           // at most kPushPullNodesMax
  std::uint32_t user_state_len = 0;  // at most kUserStateBytesMax
  bool join = false;
};

struct PushNodeState {
  std::string_view name;
  IpBytes addr;
  std::uint16_t port = 0;
  ByteSpan meta;  // at most kMetaBytesMax
  std::uint32_t incarnation = 0;
  std::int32_t state = 0;  // NodeState; other values pass through (memberlist ignores them)
  Vsn vsn;
};

struct UserMsgHeader {
  std::uint32_t user_msg_len = 0;  // at most kUserMsgBytesMax
};

struct Compress {
  std::uint8_t algo = 0;  // 0 = LZW, the only one memberlist knows
  ByteSpan buf;
};

/// Encoders append [type][msgpack] (Compress, PushPullHeader, PushNodeState and UserMsgHeader:
/// msgpack only, since on streams they follow a type byte written once). Errors: no_space when
/// `w` is too small (w is then not ok), too_large when a field is over its named limit.
Result<void> encode(Writer& w, const Ping& m) noexcept;
Result<void> encode(Writer& w, const IndirectPingReq& m) noexcept;
Result<void> encode(Writer& w, const AckResp& m) noexcept;
Result<void> encode(Writer& w, const NackResp& m) noexcept;
Result<void> encode(Writer& w, const ErrResp& m) noexcept;
Result<void> encode(Writer& w, const Suspect& m) noexcept;
Result<void> encode(Writer& w, const Alive& m) noexcept;
Result<void> encode(Writer& w, const Dead& m) noexcept;
Result<void> encode(Writer& w, const PushPullHeader& m) noexcept;
Result<void> encode(Writer& w, const PushNodeState& m) noexcept;
Result<void> encode(Writer& w, const UserMsgHeader& m) noexcept;
Result<void> encode(Writer& w, const Compress& m) noexcept;

/// An upper bound on the bytes encode() writes for `m` (for sizing buffers).
std::size_t encoded_size_max(const Ping& m) noexcept;
std::size_t encoded_size_max(const IndirectPingReq& m) noexcept;
std::size_t encoded_size_max(const AckResp& m) noexcept;
std::size_t encoded_size_max(const NackResp& m) noexcept;
std::size_t encoded_size_max(const ErrResp& m) noexcept;
std::size_t encoded_size_max(const Suspect& m) noexcept;
std::size_t encoded_size_max(const Alive& m) noexcept;
std::size_t encoded_size_max(const Dead& m) noexcept;
std::size_t encoded_size_max(const PushPullHeader& m) noexcept;
std::size_t encoded_size_max(const PushNodeState& m) noexcept;
std::size_t encoded_size_max(const UserMsgHeader& m) noexcept;
std::size_t encoded_size_max(const Compress& m) noexcept;

/// Encodes `m` into a new vector of exactly the encoded size.
template <class T>
Result<std::vector<std::byte>> encode_to_vector(const T& m) {
  std::vector<std::byte> out(encoded_size_max(m));
  Writer w(out);
  if (auto r = encode(w, m); !r) return r.error();
  out.resize(w.size());
  return out;
}

/// Readers decode one struct from `r` (a msgpack value; no type byte). Errors are left in `r`:
/// truncated, malformed (wrong type, out-of-range integer, bad address length), too_large.
void read(MpReader& r, Ping& m) noexcept;
void read(MpReader& r, IndirectPingReq& m) noexcept;
void read(MpReader& r, AckResp& m) noexcept;
void read(MpReader& r, NackResp& m) noexcept;
void read(MpReader& r, ErrResp& m) noexcept;
void read(MpReader& r, Suspect& m) noexcept;
void read(MpReader& r, Alive& m) noexcept;
void read(MpReader& r, Dead& m) noexcept;
void read(MpReader& r, PushPullHeader& m) noexcept;
void read(MpReader& r, PushNodeState& m) noexcept;
void read(MpReader& r, UserMsgHeader& m) noexcept;
void read(MpReader& r, Compress& m) noexcept;

/// Decodes a message body (the bytes after the type byte). Trailing bytes are ignored, as in
/// Go. Spans in the result point into `body`.
template <class T>
Result<T> decode(ByteSpan body) noexcept {
  MpReader r(body);
  T m{};
  read(r, m);
  if (!r.ok()) return make_error(r.error(), r.error_detail());
  return m;
}

}  // namespace grapevine::wire::ml
