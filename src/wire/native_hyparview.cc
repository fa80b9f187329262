#include "wire/native_hyparview.h"

#include <array>

#include "util/assert.h"
#include "wire/framing.h"

namespace grapevine::wire::hpv {
namespace {

// Bodies are built in a stack buffer first, then framed: the frame header needs the length.
bool put_frame(Writer& w, Frame type, const Writer& body) noexcept {
  return framing::put(w, std::uint8_t(type), body);
}

void write_peer(Writer& w, PeerWire p) noexcept {
  w.u32be(std::uint32_t(p >> 16));
  w.u16be(std::uint16_t(p & 0xffff));
}

PeerWire read_peer(Reader& r) noexcept {
  std::uint64_t ip = r.u32be();
  std::uint64_t port = r.u16be();
  PeerWire p = ip << 16 | port;
  if (r.ok() && (ip == 0 || port == 0)) r.fail(Errc::malformed, "peer without address or port");
  return p;
}

std::uint8_t read_ttl(Reader& r) noexcept {
  std::uint8_t ttl = r.u8();
  if (ttl > kWalkTtlMax) r.fail(Errc::malformed, "walk ttl over kWalkTtlMax");
  return ttl;
}

Result<void> finish_void(Reader& r) noexcept {
  return framing::finish(r);
}

using framing::finish;

void read_peer_list(Reader& r, ShuffleFrame& out) noexcept {
  std::uint8_t n = r.u8();
  if (n > kShufflePeersMax) {
    r.fail(Errc::too_large, "shuffle over kShufflePeersMax peers");
    return;
  }
  out.count = n;
  for (std::uint8_t i = 0; i < n && r.ok(); ++i) out.peers[i] = read_peer(r);
}

}  // namespace

bool write_control(Writer& w, ControlKind kind) noexcept {
  std::array<std::byte, 1> buf{};
  Writer b(buf);
  b.u8(std::uint8_t(kind));
  return put_frame(w, Frame::control, b);
}

bool write_forward_join(Writer& w, const ForwardJoinFrame& f) noexcept {
  std::array<std::byte, 8> buf{};
  Writer b(buf);
  write_peer(b, f.peer);
  b.u8(f.ttl);
  return put_frame(w, Frame::forward_join, b);
}

bool write_shuffle(Writer& w, PeerWire origin, std::uint8_t ttl,
                   std::span<const PeerWire> peers) noexcept {
  GV_ASSERT(peers.size() <= kShufflePeersMax);
  std::array<std::byte, 8 + 6 * kShufflePeersMax> buf{};
  Writer b(buf);
  write_peer(b, origin);
  b.u8(ttl);
  b.u8(std::uint8_t(peers.size()));
  for (PeerWire p : peers) write_peer(b, p);
  return put_frame(w, Frame::shuffle, b);
}

bool write_shuffle_reply(Writer& w, std::span<const PeerWire> peers) noexcept {
  GV_ASSERT(peers.size() <= kShufflePeersMax);
  std::array<std::byte, 1 + 6 * kShufflePeersMax> buf{};
  Writer b(buf);
  b.u8(std::uint8_t(peers.size()));
  for (PeerWire p : peers) write_peer(b, p);
  return put_frame(w, Frame::shuffle_reply, b);
}

bool write_gossip(Writer& w, const GossipFrame& f) noexcept {
  if (f.payload.size() > kMulticastPayloadBytesMax) return false;
  std::array<std::byte, 20 + kMulticastPayloadBytesMax> buf;
  Writer b(buf);
  b.varint(f.id);
  b.varint(f.hops);
  b.bytes(f.payload);
  return put_frame(w, Frame::gossip, b);
}

bool write_ihave(Writer& w, std::span<const IHaveEntry> entries) noexcept {
  GV_ASSERT(entries.size() <= kIHaveIdsMax);
  std::array<std::byte, 2 + 15 * kIHaveIdsMax> buf;
  Writer b(buf);
  b.varint(entries.size());
  for (const auto& e : entries) {
    b.varint(e.id);
    b.varint(e.hops);
  }
  return put_frame(w, Frame::ihave, b);
}

bool write_graft(Writer& w, std::span<const std::uint64_t> ids) noexcept {
  GV_ASSERT(ids.size() <= kIHaveIdsMax);
  std::array<std::byte, 2 + 10 * kIHaveIdsMax> buf;
  Writer b(buf);
  b.varint(ids.size());
  for (auto id : ids) b.varint(id);
  return put_frame(w, Frame::graft, b);
}

Result<ControlFrame> decode_control(std::span<const std::byte> body) noexcept {
  Reader r(body);
  std::uint8_t k = r.u8();
  if (r.ok() && (k == 0 || k > kControlKindMax)) r.fail(Errc::malformed, "unknown control kind");
  return finish(r, ControlFrame{ControlKind(k)});
}

Result<ForwardJoinFrame> decode_forward_join(std::span<const std::byte> body) noexcept {
  Reader r(body);
  ForwardJoinFrame f;
  f.peer = read_peer(r);
  f.ttl = read_ttl(r);
  return finish(r, f);
}

Result<void> decode_shuffle(std::span<const std::byte> body, ShuffleFrame& out) noexcept {
  Reader r(body);
  out.origin = read_peer(r);
  out.ttl = read_ttl(r);
  read_peer_list(r, out);
  return finish_void(r);
}

Result<void> decode_shuffle_reply(std::span<const std::byte> body, ShuffleFrame& out) noexcept {
  Reader r(body);
  out.origin = 0;
  out.ttl = 0;
  read_peer_list(r, out);
  return finish_void(r);
}

Result<GossipFrame> decode_gossip(std::span<const std::byte> body) noexcept {
  Reader r(body);
  GossipFrame f;
  f.id = r.varint();
  f.hops = std::uint32_t(r.varint_max(UINT32_MAX, "hop count over 32 bits"));
  if (r.ok() && r.remaining() > kMulticastPayloadBytesMax) {
    r.fail(Errc::too_large, "gossip payload over kMulticastPayloadBytesMax");
  }
  f.payload = r.rest();
  return finish(r, f);
}

Result<void> decode_ihave(std::span<const std::byte> body, IHaveFrame& out) noexcept {
  Reader r(body);
  out.count = std::uint32_t(r.varint_max(kIHaveIdsMax, "ihave over kIHaveIdsMax ids"));
  for (std::uint32_t i = 0; i < out.count && r.ok(); ++i) {
    out.entries[i].id = r.varint();
    out.entries[i].hops = std::uint32_t(r.varint_max(UINT32_MAX, "hop count over 32 bits"));
  }
  return finish_void(r);
}

Result<void> decode_graft(std::span<const std::byte> body, GraftFrame& out) noexcept {
  Reader r(body);
  out.count = std::uint32_t(r.varint_max(kIHaveIdsMax, "graft over kIHaveIdsMax ids"));
  for (std::uint32_t i = 0; i < out.count && r.ok(); ++i) out.ids[i] = r.varint();
  return finish_void(r);
}

}  // namespace grapevine::wire::hpv
