// Native wire frames of HyParView and Plumtree (types 0x38..0x3f of the views family, see
// native.h for the datagram framing: version byte, then type:u8 length:varint body frames).
//
//   peer          := ip:u32be port:u16be                 (IPv4 only: see core/views/peer.h)
//   control       := kind:u8                             (join, neighbor, disconnect, ...)
//   forward_join  := peer ttl:u8
//   shuffle       := origin:peer ttl:u8 count:u8 peer*
//   shuffle_reply := count:u8 peer*
//   gossip        := id:varint hops:varint payload[rest]
//   ihave         := count:varint (id:varint hops:varint)*
//   graft         := count:varint id:varint*
//
// Names live in wire::hpv (the other view protocols' frames are in wire, native_views.h).
// Every count has a named limit below; over it is Errc::too_large. Decoders never allocate:
// lists are decoded into fixed arrays, payloads point into the datagram.
#pragma once

#include "grapevine/limits.h"
#include <cstddef>
#include <cstdint>
#include <span>

#include "grapevine/result.h"
#include "wire/native.h"

namespace grapevine::wire::hpv {

/// Most peers one shuffle (or its reply) carries: self + active + passive samples.
using grapevine::kShufflePeersMax;  // limits.h
/// Most ids one IHAVE or GRAFT frame carries; more are split over several datagrams.
inline constexpr std::size_t kIHaveIdsMax = 96;
/// Longest random walk a peer may ask us to continue (ARWL); deeper is malformed.
inline constexpr std::uint8_t kWalkTtlMax = 16;

enum class Frame : std::uint8_t {
  control = 0x38,
  forward_join = 0x39,
  shuffle = 0x3a,
  shuffle_reply = 0x3b,
  gossip = 0x3c,
  ihave = 0x3d,
  graft = 0x3e,
  // 0x3f: free
};

/// The bodiless HyParView/Plumtree messages, one byte each.
enum class ControlKind : std::uint8_t {
  join = 1,           // "add me": sent to the contact
  join_accept = 2,    // "I added you to my active view; add me" (symmetric links)
  neighbor_high = 3,  // promotion request that may not be refused (requester is isolated)
  neighbor_low = 4,   // promotion request the receiver may refuse when full
  neighbor_accept = 5,
  neighbor_reject = 6,
  disconnect = 7,  // "I dropped you from my active view"
  heartbeat = 8,   // keepalive on an otherwise idle active link
  prune = 9,       // Plumtree: "stop pushing payloads to me, IHAVE is enough"
};
inline constexpr std::uint8_t kControlKindMax = 9;

/// IPv4 address and port packed as ip << 16 | port; 0 = none.
using PeerWire = std::uint64_t;

struct ControlFrame {
  ControlKind kind = ControlKind::heartbeat;
};
struct ForwardJoinFrame {
  PeerWire peer = 0;
  std::uint8_t ttl = 0;
};
struct ShuffleFrame {
  PeerWire origin = 0;   // shuffle only
  std::uint8_t ttl = 0;  // shuffle only
  std::uint8_t count = 0;
  PeerWire peers[kShufflePeersMax] = {};
};
struct GossipFrame {
  std::uint64_t id = 0;
  std::uint32_t hops = 0;
  std::span<const std::byte> payload;  // points into the datagram
};
struct IHaveEntry {
  std::uint64_t id = 0;
  std::uint32_t hops = 0;
};
struct IHaveFrame {
  std::uint32_t count = 0;
  IHaveEntry entries[kIHaveIdsMax] = {};
};
struct GraftFrame {
  std::uint32_t count = 0;
  std::uint64_t ids[kIHaveIdsMax] = {};
};

/// Writers return false (and leave the writer rolled back) when the frame does not fit.
/// Lists longer than their limit are a programming error (asserted).
bool write_control(Writer& w, ControlKind kind) noexcept;
bool write_forward_join(Writer& w, const ForwardJoinFrame& f) noexcept;
bool write_shuffle(Writer& w, PeerWire origin, std::uint8_t ttl,
                   std::span<const PeerWire> peers) noexcept;
bool write_shuffle_reply(Writer& w, std::span<const PeerWire> peers) noexcept;
bool write_gossip(Writer& w, const GossipFrame& f) noexcept;
bool write_ihave(Writer& w, std::span<const IHaveEntry> entries) noexcept;
bool write_graft(Writer& w, std::span<const std::uint64_t> ids) noexcept;

/// Decoders: truncated, malformed (unknown control kind, zero peer, ttl over kWalkTtlMax,
/// trailing bytes) or too_large (a count over its limit, a payload over
/// kMulticastPayloadBytesMax).
Result<ControlFrame> decode_control(std::span<const std::byte> body) noexcept;
Result<ForwardJoinFrame> decode_forward_join(std::span<const std::byte> body) noexcept;
/// `out` is filled in place (the frame is ~270 bytes: callers keep one around).
Result<void> decode_shuffle(std::span<const std::byte> body, ShuffleFrame& out) noexcept;
Result<void> decode_shuffle_reply(std::span<const std::byte> body, ShuffleFrame& out) noexcept;
Result<GossipFrame> decode_gossip(std::span<const std::byte> body) noexcept;
Result<void> decode_ihave(std::span<const std::byte> body, IHaveFrame& out) noexcept;
Result<void> decode_graft(std::span<const std::byte> body, GraftFrame& out) noexcept;

}  // namespace grapevine::wire::hpv
