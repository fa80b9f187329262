// Native frames of the partial-view protocols: family 0x30 (see wire/native.h for the datagram
// framing). Types 0x30-0x37 are SCAMP, Cyclon, T-MAN and the flood broadcast; 0x38-0x3F are
// reserved for HyParView and Plumtree (their codecs live beside their machines' owner).
//
//   address       := family:u8 (4|6) ip[4|16] port:u16be        (as in native_membership.h)
//   subscribe     := flags:u8 (1 = new, from the subscriber itself) hops:varint subscriber:address
//   inview        := flags:u8 (1 = add, 0 = remove)             "I (the sender) point at you"
//   unsubscribe   := leaving:address has_replacement:u8 [replacement:address]
//   walk          := ttl:varint joiner:address                   (Cyclon join random walk)
//   shuffle       := flags:u8 (0 request, 1 reply, 2 join reply) count:varint (address age:varint)*
//   tman          := flags:u8 (0 request, 1 reply) count:varint address*
//   view_gossip   := msg_id:varint hops:varint payload[rest]
//
// Limits: at most kViewEntriesMax entries per frame, payloads up to kMulticastPayloadBytesMax,
// ages up to kViewAgeMax, hops and ttls up to kViewHopsMax. Over a limit is Errc::too_large.
#pragma once

#include "grapevine/limits.h"
#include <cstddef>
#include <cstdint>
#include <span>

#include "grapevine/address.h"
#include "grapevine/result.h"
#include "wire/native.h"

namespace grapevine::wire {

/// Most descriptors in one shuffle or T-MAN frame (a view is never sent whole beyond this).
using grapevine::kViewEntriesMax;  // limits.h
/// Largest age a Cyclon entry may carry.
inline constexpr std::uint32_t kViewAgeMax = 1u << 20;
/// Largest hop count or walk ttl a frame may carry.
inline constexpr std::uint32_t kViewHopsMax = 1u << 16;

enum class ViewFrame : std::uint8_t {
  subscribe = 0x30,    // SCAMP: a subscription (new, or being forwarded)
  inview = 0x31,       // SCAMP: the sender added (removed) the receiver to its partial view
  unsubscribe = 0x32,  // SCAMP: the sender leaves; replace your link to it
  walk = 0x33,         // Cyclon: join random walk carrying the joiner
  shuffle = 0x34,      // Cyclon: shuffle request / reply / join reply
  tman = 0x35,         // T-MAN: ranked descriptors, request / reply
  view_gossip = 0x36,  // flood broadcast over the view
  // 0x37 unassigned; 0x38-0x3F reserved for HyParView / Plumtree.
  reserved_hyparview_first = 0x38,
  reserved_hyparview_last = 0x3f,
};

enum SubscribeFlags : std::uint8_t { kSubscribeNew = 1 };
enum ShuffleKind : std::uint8_t { kShuffleRequest = 0, kShuffleReply = 1, kShuffleJoinReply = 2 };
enum TmanKind : std::uint8_t { kTmanRequest = 0, kTmanReply = 1 };

struct SubscribeFrame {
  bool is_new = false;
  std::uint32_t hops = 0;
  Address subscriber;
};

struct InviewFrame {
  bool add = true;
};

struct UnsubscribeFrame {
  Address leaving;
  Address replacement;  // family 0 = none: just drop the link
};

struct WalkFrame {
  std::uint32_t ttl = 0;
  Address joiner;
};

struct ViewEntry {
  Address address;
  std::uint32_t age = 0;
  friend constexpr bool operator==(const ViewEntry&, const ViewEntry&) = default;
};

/// Shuffle (with ages) and T-MAN (ages ignored, not on the wire) share this shape.
struct EntriesFrame {
  std::uint8_t kind = 0;
  std::uint32_t count = 0;
  ViewEntry entries[kViewEntriesMax];
};

struct ViewGossipFrame {
  std::uint64_t msg_id = 0;
  std::uint32_t hops = 0;
  std::span<const std::byte> payload;  // points into the datagram
};

bool write_subscribe(Writer& w, const SubscribeFrame& f) noexcept;
bool write_inview(Writer& w, const InviewFrame& f) noexcept;
bool write_unsubscribe(Writer& w, const UnsubscribeFrame& f) noexcept;
bool write_walk(Writer& w, const WalkFrame& f) noexcept;
/// Writes at most kViewEntriesMax entries; false if more are given or the frame does not fit.
bool write_shuffle(Writer& w, std::uint8_t kind, std::span<const ViewEntry> entries) noexcept;
bool write_tman(Writer& w, std::uint8_t kind, std::span<const Address> peers) noexcept;
bool write_view_gossip(Writer& w, const ViewGossipFrame& f) noexcept;

Result<SubscribeFrame> decode_subscribe(std::span<const std::byte> body) noexcept;
Result<InviewFrame> decode_inview(std::span<const std::byte> body) noexcept;
Result<UnsubscribeFrame> decode_unsubscribe(std::span<const std::byte> body) noexcept;
Result<WalkFrame> decode_walk(std::span<const std::byte> body) noexcept;
Result<EntriesFrame> decode_shuffle(std::span<const std::byte> body) noexcept;
/// Entries come back with age 0.
Result<EntriesFrame> decode_tman(std::span<const std::byte> body) noexcept;
Result<ViewGossipFrame> decode_view_gossip(std::span<const std::byte> body) noexcept;

}  // namespace grapevine::wire
