// memberlist's UDP packet pipeline, both directions (memberlist.md section 2.5).
//
// Send, inside out: message (or compound) -> compress if smaller -> CRC if the peer has
// PMax >= 5 -> encrypt (AAD = label) -> label header.
// Receive: label check -> decrypt with every key (plaintext fallback only when
// verify_incoming is off) -> CRC verify when byte 0 is 12 and there are >= 5 bytes -> dispatch
// on the type byte, following compound and compress wrappers recursively.
//
// As in Go, each part of a compound succeeds or fails on its own: a bad part is reported to the
// handler and the others are still delivered. Deviations: nesting of wrappers is capped at
// kNestingMax, and an empty message (Go v0.2.2 indexes byte 0 and panics) is malformed.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "grapevine/result.h"
#include "wire/memberlist/crypto.h"
#include "wire/memberlist/messages.h"
#include "wire/memberlist/types.h"

namespace grapevine::wire::ml {

/// How this node receives packets and streams.
struct ReceiveConfig {
  std::string_view label;                 // our cluster label; empty = none
  bool skip_inbound_label_check = false;  // memberlist's SkipInboundLabelCheck
  const Keyring* keyring = nullptr;       // null = encryption off
  bool verify_incoming = true;            // GossipVerifyIncoming: only encrypted input
  std::size_t decompressed_bytes_max = kDecompressedBytesMax;
};

/// How this node sends a packet or stream to one peer.
struct SendConfig {
  std::string_view label;
  const Keyring* keyring = nullptr;  // encrypt with its primary key when set
  EncryptionVersion version = EncryptionVersion::v1;
  NonceSource* nonces = nullptr;  // null = os_nonce_source()
  bool compress = true;           // EnableCompression
  bool crc = false;               // the peer's PMax >= 5 (UDP only)
};

/// Wraps one message (or compound) for the wire. Errors: invalid_argument for an empty message
/// (memberlist v0.2.2 panics on one, e.g. [12][crc of nothing]), too_large for a label over 255
/// bytes or a sealed packet over kPacketBytesMax, those of encrypt_payload.
Result<std::vector<std::byte>> seal_packet(ByteSpan msg, const SendConfig& cfg);

/// Bytes left for messages in a packet of `udp_buffer_bytes` (memberlist's UDPBufferSize) once
/// the compound header, the label header and the encryption overhead are taken out, as
/// memberlist budgets its piggybacking; each part then costs kCompoundPartOverhead more.
std::size_t packet_budget(const SendConfig& cfg,
                          std::size_t udp_buffer_bytes = kUdpBufferBytes) noexcept;

/// Label, decryption and CRC of a received packet. Returns the message to dispatch: a span into
/// `packet`, or into `scratch` when it was decrypted. Errors: too_large over kPacketBytesMax;
/// those of check_label; rejected
/// when it does not decrypt (and verify_incoming is on) or the CRC does not match; malformed
/// for an empty message.
Result<ByteSpan> open_packet(ByteSpan packet, const ReceiveConfig& cfg,
                             std::vector<std::byte>& scratch);

/// Receives the messages of a packet. Spans and string_views in the arguments point into the
/// packet or a decompression buffer, valid only during the call.
class PacketHandler {
 public:
  virtual ~PacketHandler() = default;
  virtual void on_ping(const Ping&) {}
  virtual void on_indirect_ping(const IndirectPingReq&) {}
  virtual void on_ack(const AckResp&) {}
  virtual void on_nack(const NackResp&) {}
  virtual void on_suspect(const Suspect&) {}
  virtual void on_alive(const Alive&) {}
  virtual void on_dead(const Dead&) {}
  /// A best-effort user message ([8][raw payload]).
  virtual void on_user(ByteSpan) {}
  /// A message that failed to decode, had a type not carried on UDP, or a broken wrapper.
  /// `type` is its type byte (0 when the message was empty).
  virtual void on_error(std::uint8_t /*type*/, const Error&) {}
};

struct DispatchStats {
  std::size_t messages = 0;         // delivered to a handler method other than on_error
  std::size_t errors = 0;           // on_error calls
  std::size_t truncated_parts = 0;  // compound parts dropped for running past the buffer
};

/// Dispatches an opened message, recursing into compound and compress (at most kNestingMax
/// deep). Never fails as a whole: problems go to on_error and the stats.
DispatchStats dispatch_packet(ByteSpan msg, PacketHandler& handler,
                              std::size_t decompressed_bytes_max = kDecompressedBytesMax);

/// open_packet then dispatch_packet; a packet that does not open counts as one error.
DispatchStats receive_packet(ByteSpan packet, const ReceiveConfig& cfg, PacketHandler& handler);

}  // namespace grapevine::wire::ml
