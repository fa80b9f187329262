// Native wire format of the membership protocols (frames 0x20..0x2f in a datagram, see
// native.h for the datagram framing; stream messages for full-state exchange).
//
//   address       := family:u8 (4|6) ip[4|16] port:u16be
//   ping          := seq target_id sender_id                       (varints)
//   ping_req      := seq target_id address want_nack:u8
//   ack, nack     := seq
//   alive         := id incarnation address meta_len meta name_len name [zone_len zone]
//   suspect, dead := id incarnation from_id                        (dead with from == id: left)
//   heartbeat     := sender_id counter                             (all-to-all)
//   hb_list       := count (id address counter flags:u8)*          (gossip-style heartbeating)
//   state_digest  := count digest                                  (anti-entropy at rest)
//   user_event    := ltime flags:u8 (1 = may coalesce) name_len name payload_len payload
//                    (serf's user events: Lamport time, name + payload <= kUserEventBytesMax)
//   query, query_response (0x2d, 0x2e): serf's queries, see wire/native_query.h
//
//   stream        := length:u32be version:u8 type:u8 body   (length counts what follows it)
//   push_pull     := flags:u8 (1 = join, 2 = reply, 4 = zones) sender_id address count member*
//   member        := id address incarnation state:u8 meta_len meta name_len name
//                    [zone_len zone]                        (present iff flags has 4)
//   stream_ping   := seq target_id sender_id     (type 2: SWIM's TCP fallback probe)
//   stream_ack    := seq                         (type 3: its answer, on the same stream)
//
// Zones (topology-aware gossip) were added after version 1 without a version bump, compatibly
// for members without a zone: an alive frame carries the optional trailing zone only when the
// member has one, and a push-pull sets flag 4 (members carry zones) only when some member has
// one; otherwise the bytes are exactly the old ones. A node that predates zones refuses what
// a zoned member sends, clearly ("trailing bytes in frame" on alive, "push-pull flags" on the
// stream: counted as malformed), so a group mixes old nodes only with zoneless members.
//
// Every count and length has a named limit below; over it is Errc::too_large.
#pragma once

#include "grapevine/limits.h"
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "grapevine/address.h"
#include "grapevine/result.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace grapevine::wire {

using grapevine::kMetaBytesMax;  // limits.h; as memberlist's MetaMaxSize
using grapevine::kNameBytesMax;  // limits.h
using grapevine::kZoneBytesMax;  // limits.h; a zone's name (topology-aware gossip)
using grapevine::kPushPullMembersMax;  // limits.h; as memberlist v0.6
using grapevine::kStreamBytesMax;  // limits.h; as memberlist's 20 MB cap
using grapevine::kHeartbeatListMax;  // limits.h; entries in one datagram
/// A user event's name and payload together, as serf's UserEventSizeLimit default.
using grapevine::kUserEventBytesMax;  // limits.h

enum class MemberFrame : std::uint8_t {
  ping = 0x20,
  ping_req = 0x21,
  ack = 0x22,
  nack = 0x23,
  alive = 0x24,
  suspect = 0x25,
  dead = 0x26,
  heartbeat = 0x27,
  hb_list = 0x28,
  state_digest = 0x29,
  user_event = 0x2c,
  query = 0x2d,           // wire/native_query.h
  query_response = 0x2e,  // wire/native_query.h
};

enum class StreamType : std::uint8_t { push_pull = 1, ping = 2, ack = 3 };

/// Member states on the wire (same numbering as memberlist's).
enum class WireState : std::uint8_t { alive = 0, suspect = 1, dead = 2, left = 3 };

struct PingFrame {
  std::uint32_t seq = 0;
  std::uint64_t target = 0;
  std::uint64_t sender = 0;
};
struct PingReqFrame {
  std::uint32_t seq = 0;
  std::uint64_t target = 0;
  Address target_address;
  bool want_nack = false;
};
struct SeqFrame {
  std::uint32_t seq = 0;
};
/// memberlist's Vsn: [pmin, pmax, pcur, dmin, dmax, dcur]; all zero = unknown. Not carried
/// on the native wire; the memberlist dialect fills and reads it.
using Vsn = std::array<std::uint8_t, 6>;

struct AliveFrame {
  std::uint64_t id = 0;
  std::uint32_t incarnation = 0;
  Address address;
  std::span<const std::byte> meta;
  std::string_view name;
  Vsn vsn{};
  std::string_view zone;  // empty: none (native only; never sent by the memberlist dialect)
};
/// suspect and dead share a shape.
struct AccuseFrame {
  std::uint64_t id = 0;
  std::uint32_t incarnation = 0;
  std::uint64_t from = 0;
};
struct HeartbeatFrame {
  std::uint64_t sender = 0;
  std::uint64_t counter = 0;
};
struct HeartbeatEntry {
  std::uint64_t id = 0;
  Address address;
  std::uint64_t counter = 0;
  bool left = false;
};
/// A summary of the sender's member list (count of records and an order-independent hash of
/// their ids, incarnations and states): a periodic push-pull first sends this, and only a peer
/// whose own summary differs answers with a full state exchange. At rest, lists agree and
/// anti-entropy costs one small datagram per period instead of the whole list.
struct ListDigestFrame {
  std::uint32_t count = 0;
  std::uint64_t digest = 0;
};
struct UserEventFrame;
/// Recent user events a push-pull carries at most (flag 8; RecentEvents::kEventsMax).
inline constexpr std::size_t kPushPullEventsMax = 512;
struct PushPullHeader {
  bool join = false;
  bool reply = false;
  std::uint64_t sender = 0;
  Address sender_address;
  std::uint32_t count = 0;
  /// Flag 4: every member entry carries a zone field (the native codec sets it when some
  /// member has a zone).
  bool zones = false;
  /// memberlist dialect: the delegate's user state (serf's push-pull), sent after the members.
  std::span<const std::byte> user_state{};
  /// Flag 8 (native; a seed's reply to a join, and any other push-pull but a join request
  /// once its sender saw a user event): after the members, the sender's user event clock and
  /// its recent user events (at most kPushPullEventsMax), for the joiner's
  /// JoinOptions::replay and for repairing events gossip missed (serf's push-pull EventLTime
  /// and Events).
  bool events = false;
  std::uint64_t event_clock = 0;
  std::span<const UserEventFrame> recent{};
};
struct MemberEntry {
  std::uint64_t id = 0;
  Address address;
  std::uint32_t incarnation = 0;
  WireState state = WireState::alive;
  std::span<const std::byte> meta;
  std::string_view name;
  Vsn vsn{};  // memberlist only
  std::string_view zone;  // native only; empty = none
};

void write_address(Writer& w, const Address& a) noexcept;
Address read_address(Reader& r) noexcept;
std::size_t address_size(const Address& a) noexcept;

struct UserEventFrame {
  std::uint64_t ltime = 0;
  bool coalesce = false;
  std::string_view name;
  std::span<const std::byte> payload;
};

// Frame writers: false (writer untouched past its old size) if the frame does not fit.
bool write_ping(Writer& w, const PingFrame& f) noexcept;
bool write_ping_req(Writer& w, const PingReqFrame& f) noexcept;
bool write_ack(Writer& w, const SeqFrame& f) noexcept;
bool write_nack(Writer& w, const SeqFrame& f) noexcept;
bool write_alive(Writer& w, const AliveFrame& f) noexcept;
bool write_suspect(Writer& w, const AccuseFrame& f) noexcept;
bool write_dead(Writer& w, const AccuseFrame& f) noexcept;
bool write_heartbeat(Writer& w, const HeartbeatFrame& f) noexcept;
bool write_list_digest(Writer& w, const ListDigestFrame& f) noexcept;
/// Starts a heartbeat list frame for `count` entries; the caller must then write exactly
/// `count` entries with write_hb_entry. hb_list_size() tells the bytes needed up front.
std::size_t hb_entry_size(const HeartbeatEntry& e) noexcept;
bool write_hb_list(Writer& w, std::span<const HeartbeatEntry> entries) noexcept;

Result<PingFrame> decode_ping(std::span<const std::byte> body) noexcept;
/// Errors: too_large when name + payload is over kUserEventBytesMax, malformed on a bad flag.
Result<UserEventFrame> decode_user_event(std::span<const std::byte> body) noexcept;
/// False when name + payload is over kUserEventBytesMax or the frame does not fit.
bool write_user_event(Writer& w, const UserEventFrame& f) noexcept;
Result<PingReqFrame> decode_ping_req(std::span<const std::byte> body) noexcept;
Result<SeqFrame> decode_seq(std::span<const std::byte> body) noexcept;
Result<AliveFrame> decode_alive(std::span<const std::byte> body) noexcept;
Result<AccuseFrame> decode_accuse(std::span<const std::byte> body) noexcept;
Result<HeartbeatFrame> decode_heartbeat(std::span<const std::byte> body) noexcept;
Result<ListDigestFrame> decode_list_digest(std::span<const std::byte> body) noexcept;

/// Walks the entries of a hb_list frame without allocating.
class HeartbeatListReader {
 public:
  explicit HeartbeatListReader(std::span<const std::byte> body) noexcept;
  bool next(HeartbeatEntry& out) noexcept;
  [[nodiscard]] bool ok() const noexcept { return r_.ok(); }
  [[nodiscard]] Errc error() const noexcept { return r_.error(); }

 private:
  Reader r_;
  std::uint64_t left_ = 0;
};

// ---- streams --------------------------------------------------------------------------------

/// Writes a push-pull stream header (after 4 bytes reserved for the length, which
/// finish_stream fills in); member entries follow via write_member.
void write_push_pull_header(Writer& w, const PushPullHeader& h) noexcept;
/// Fills in the stream's length header once everything is written.
void finish_stream(Writer& w) noexcept;
/// `zones`: the header's flag 4 (write_push_pull_header takes it from h.zones); every entry
/// then carries its zone.
void write_member(Writer& w, const MemberEntry& m, bool zones = false) noexcept;
/// The events section of a push-pull with flag 8 (h.event_clock, h.recent), after the members.
void write_push_pull_events(Writer& w, const PushPullHeader& h) noexcept;
std::size_t push_pull_events_size(const PushPullHeader& h) noexcept;
std::size_t member_size(const MemberEntry& m, bool zones = false) noexcept;

/// The type of a native stream message, after checking its length header and version byte.
/// Errors: malformed (length header wrong), too_large (over kStreamBytesMax),
/// unsupported_version, unknown_type (a type byte this build does not know).
Result<StreamType> stream_type(std::span<const std::byte> message) noexcept;
/// A whole stream message (length header included) carrying a fallback ping or its ack.
/// False (writer untouched past its old size) if it does not fit.
bool write_stream_ping(Writer& w, const PingFrame& f) noexcept;
bool write_stream_ack(Writer& w, const SeqFrame& f) noexcept;
/// Decodes a whole stream message of type ping / ack. Errors: those of stream_type(),
/// unknown_type (another type), malformed (a bad or trailing field).
Result<PingFrame> decode_stream_ping(std::span<const std::byte> message) noexcept;
Result<SeqFrame> decode_stream_ack(std::span<const std::byte> message) noexcept;
/// Bytes a stream ping or ack message needs, at most.
inline constexpr std::size_t kStreamPingBytesMax = 4 + 2 + 5 + 10 + 10;

/// Parses a push-pull stream message; next() yields its members without allocating.
class PushPullReader {
 public:
  explicit PushPullReader(std::span<const std::byte> message) noexcept;
  [[nodiscard]] const PushPullHeader& header() const noexcept { return header_; }
  bool next(MemberEntry& out) noexcept;
  /// After the members, with flag 8: the sender's event clock (0 without the section).
  [[nodiscard]] std::uint64_t event_clock() noexcept;
  /// After the members, with flag 8: its recent events, one by one (views into the message).
  bool next_event(UserEventFrame& out) noexcept;
  [[nodiscard]] bool ok() const noexcept { return r_.ok(); }
  [[nodiscard]] Errc error() const noexcept { return r_.error(); }
  [[nodiscard]] const char* error_detail() const noexcept { return r_.error_detail(); }

 private:
  Reader r_;
  PushPullHeader header_;
  std::uint32_t left_ = 0;
  bool events_read_ = false;     // the events section's head (clock, count) read
  std::uint32_t events_left_ = 0;
  std::uint64_t event_clock_ = 0;
};

}  // namespace grapevine::wire
