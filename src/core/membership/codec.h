// Codec: how a membership node's messages look on the wire. The node and its failure detectors
// think in one set of messages (wire/native_membership.h's frames: members by 64-bit id); a
// codec turns them into a dialect's bytes and back:
//  - NativeCodec (native_codec.cc): grapevine's compact frames, a length-prefixed push-pull;
//  - MemberlistCodec (memberlist_codec.cc): HashiCorp memberlist's msgpack messages, compound
//    packets, CRC, LZW, AES-GCM and labels, and its TCP push/pull, for interop with Go nodes.
// A packet is a list of encoded messages; pack() wraps them for one peer, unpack() walks a
// received datagram and hands each message to a MessageSink.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/membership.h"
#include "wire/native_membership.h"
#include "wire/native_query.h"

namespace grapevine::detail {

using Bytes = std::vector<std::byte>;

/// Receives the messages of a datagram or stream, translated to the node's terms.
class MessageSink {
 public:
  virtual ~MessageSink() = default;
  /// `reply_to`: where the ack goes (memberlist may name a source address; else `from`).
  virtual void on_ping(const wire::PingFrame& f, const Address& reply_to) = 0;
  virtual void on_ping_req(const wire::PingReqFrame& f, const Address& from) = 0;
  virtual void on_ack(std::uint32_t seq) = 0;
  virtual void on_nack(std::uint32_t seq) = 0;
  /// `pmax`: the highest protocol version the member speaks (memberlist Vsn[1]; 0 = unknown).
  virtual void on_alive(const wire::AliveFrame& f, std::uint8_t pmax) = 0;
  virtual void on_suspect(const wire::AccuseFrame& f) = 0;
  virtual void on_dead(const wire::AccuseFrame& f) = 0;
  virtual void on_heartbeat(const wire::HeartbeatFrame& f, const Address& from) = 0;
  virtual void on_hb_entry(const wire::HeartbeatEntry& e) = 0;
  /// A peer's member-list summary (native anti-entropy at rest).
  virtual void on_state_digest(const wire::ListDigestFrame& /*f*/, const Address& /*from*/) {}
  /// An application message (memberlist user message).
  virtual void on_user(std::span<const std::byte> payload) = 0;
  /// A serf-style user event (native dialect; user_events.h).
  virtual void on_user_event(const wire::UserEventFrame& /*f*/) {}
  /// Serf-style queries and their acks/responses (native dialect; wire/native_query.h).
  virtual void on_query(const wire::QueryFrame& /*f*/) {}
  virtual void on_query_response(const wire::QueryResponseFrame& /*f*/) {}
  virtual void on_malformed() = 0;
  virtual void on_unknown() = 0;
  /// A datagram that did not pass the wire's checks (label, key, CRC): counted as rejected.
  virtual void on_rejected() = 0;
};

/// What a stream carried, translated.
class StreamSink : public MessageSink {
 public:
  /// A push-pull header; the members follow through on_member.
  virtual void on_push_pull(const wire::PushPullHeader& h) = 0;
  virtual void on_member(const wire::MemberEntry& m, std::uint8_t pmax) = 0;
  /// The answer to one of our stream (TCP fallback) pings.
  virtual void on_stream_ack(std::uint32_t seq) = 0;
  /// A push-pull's delegate user state (memberlist dialect; serf's push-pull), non-empty.
  virtual void on_user_state(std::span<const std::byte> /*state*/) {}
  /// After the members of a push-pull with flag 8 (native; a seed's reply to a join, or any
  /// push-pull but a join request, for the anti-entropy of user events): the sender's user
  /// event clock, then each of its recent events.
  virtual void on_push_pull_events(std::uint64_t /*event_clock*/) {}
  virtual void on_push_pull_event(const wire::UserEventFrame& /*f*/) {}
};

/// Per-peer facts the codec needs when sending.
struct Peer {
  Address address;
  std::uint8_t pmax = 0;  // 0 = unknown
};

enum class KeyChange : std::uint8_t { install, use, remove };

class Codec {
 public:
  virtual ~Codec() = default;

  // Encoders: append one message to `out`. False if this dialect cannot say it.
  virtual bool ping(const wire::PingFrame& f, const Address& target, Bytes& out) = 0;
  virtual bool ping_req(const wire::PingReqFrame& f, Bytes& out) = 0;
  virtual bool ack(std::uint32_t seq, Bytes& out) = 0;
  virtual bool nack(std::uint32_t seq, Bytes& out) = 0;
  virtual bool alive(const wire::AliveFrame& f, Bytes& out) = 0;
  virtual bool suspect(const wire::AccuseFrame& f, Bytes& out) = 0;
  virtual bool dead(const wire::AccuseFrame& f, Bytes& out) = 0;
  virtual bool heartbeat(const wire::HeartbeatFrame& f, Bytes& out) = 0;
  virtual bool hb_list(std::span<const wire::HeartbeatEntry> rows, Bytes& out) = 0;
  virtual bool user(std::span<const std::byte> payload, Bytes& out) = 0;
  /// A member-list summary; dialects without one (memberlist) return false and push-pull the
  /// whole state every period.
  virtual bool state_digest(const wire::ListDigestFrame& /*f*/, Bytes& /*out*/) { return false; }
  /// A user event frame; false when the dialect has none (memberlist: serf's layer, not ours).
  virtual bool user_event(const wire::UserEventFrame& /*f*/, Bytes& /*out*/) { return false; }
  /// Query frames; false when the dialect has none (memberlist).
  virtual bool query(const wire::QueryFrame& /*f*/, Bytes& /*out*/) { return false; }
  virtual bool query_response(const wire::QueryResponseFrame& /*f*/, Bytes& /*out*/) {
    return false;
  }

  /// Bytes the packet wrapper costs (version byte; compound header, label, encryption).
  [[nodiscard]] virtual std::size_t packet_overhead() const = 0;
  /// Bytes each message costs in a packet beyond its own (compound length prefix).
  [[nodiscard]] virtual std::size_t message_overhead() const = 0;
  /// Wraps messages into one datagram for `peer`.
  virtual void pack(std::span<const Bytes> messages, const Peer& peer, Bytes& datagram) = 0;
  /// Walks a received datagram.
  virtual void unpack(std::span<const std::byte> datagram, const Address& from,
                      MessageSink& sink) = 0;

  /// A whole push-pull stream message carrying `members` (with names and metadata).
  virtual Bytes push_pull(const wire::PushPullHeader& h,
                          std::span<const wire::MemberEntry> members) = 0;
  /// A whole stream message carrying a ping (SWIM's TCP fallback probe, memberlist protocol
  /// >= 3), answered by an ack on the same stream. Empty if it cannot be encoded.
  virtual Bytes stream_ping(const wire::PingFrame& f) = 0;
  /// Walks a received stream message (push-pull, a TCP ping, a user message).
  /// Returns a reply to send back on the same stream, if the message asks for one the codec
  /// can give by itself (a TCP ping's ack); empty otherwise.
  virtual Bytes unpack_stream(std::span<const std::byte> message, const Address& from,
                              StreamSink& sink) = 0;
  /// Machine::stream_message_length for this dialect.
  [[nodiscard]] virtual Result<std::size_t> stream_message_length(
      std::span<const std::byte> received) const = 0;
  /// Dialect-specific member identity from a name (memberlist), 0 if the dialect uses
  /// addresses (native).
  [[nodiscard]] virtual NodeId id_for_name(std::string_view name) const = 0;
  /// Changes the keyring (memberlist dialect; serf's key queries). Errors: not_ready when
  /// encryption is off or the dialect has no keyring, invalid_argument from the keyring.
  virtual Result<void> change_key(KeyChange /*op*/, std::span<const std::byte> /*key*/) {
    return make_error(Errc::not_ready, "no keyring");
  }
  /// The keyring, primary first; empty without encryption.
  [[nodiscard]] virtual std::vector<std::vector<std::byte>> keys() const { return {}; }
};

/// `self`: this node's id; a stream ping naming another target gets no answer.
std::unique_ptr<Codec> make_native_codec(NodeId self);

/// Resolves member ids to names (memberlist messages name members).
class NameResolver {
 public:
  virtual ~NameResolver() = default;
  [[nodiscard]] virtual std::string_view name_of(NodeId id) const = 0;
};

/// 64-bit member id for a memberlist member name (bit 62 set: never an address-derived id).
NodeId memberlist_id(std::string_view name) noexcept;

}  // namespace grapevine::detail
