// memberlist's TCP stream framing, both directions (memberlist.md section 2.8).
//
//   stream    := [label header]? envelope
//   envelope  := [10][u32 BE length][vsn][nonce][ciphertext+tag]     (encrypted; length <= 20 MB,
//                                  AAD = [10][length] + label; the plaintext is a body or a
//                                  compressed body)
//              | [9][msgpack compress{0, LZW(body)}]                 (compressed)
//              | body
//   body      := [6][pushPullHeader][pushNodeState x Nodes][UserStateLen raw bytes]
//              | [8][userMsgHeader][UserMsgLen raw bytes]
//              | [0][ping]  |  [2][ackResp]  |  [13][errResp]
//
// A plain stream has no overall length: msgpack is self-delimiting. StreamReader is therefore
// incremental: hand it everything received so far and it says "need more" (with how many bytes
// it wants in total) or gives the next event, or fails for good. Each buffered msgpack value is
// capped (kStreamValueBytesMax) so a peer cannot make us wait for, or hold, an unbounded value;
// user state and messages are capped at 20 MB, node counts at kPushPullNodesMax.
//
// Rules from Go's readStream: with a keyring and verify_incoming, an unencrypted stream is
// rejected; without a keyring, an encrypted one is. A compressed or encrypted envelope holds the
// whole body, so its events come from an internal buffer. Bytes after the body are ignored (one
// request per connection). Deviation: an empty decrypted or decompressed body is malformed (Go
// v0.2.2 indexes byte 0 and panics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "grapevine/result.h"
#include "wire/memberlist/messages.h"
#include "wire/memberlist/packet.h"
#include "wire/memberlist/types.h"

namespace grapevine::wire::ml {

/// [6][header][nodes...][user_state]: a push/pull body (header.nodes and user_state_len are set
/// from the arguments). Errors: too_large over the node, meta or user-state limits.
Result<std::vector<std::byte>> encode_push_pull(std::span<const PushNodeState> nodes,
                                                ByteSpan user_state, bool join);

/// [8][userMsgHeader][payload]: a reliable user message body. Errors: too_large over 20 MB.
Result<std::vector<std::byte>> encode_user_msg(ByteSpan payload);

/// Wraps a stream body for the wire: compressed when cfg.compress (always, no size check, as
/// memberlist does on streams), then encrypted as [10][len][...] when cfg.keyring is set, then
/// the label header. cfg.crc is ignored (streams carry no CRC). Errors: invalid_argument for an
/// empty body (memberlist v0.2.2 panics on one), too_large for a label over 255 bytes or an
/// encrypted body over 20 MB, those of encrypt_payload.
Result<std::vector<std::byte>> seal_stream(ByteSpan body, const SendConfig& cfg);

enum class StreamEventKind : std::uint8_t {
  need_more,         // read more bytes, then call next() again with all unconsumed bytes
  ping,              // ev.ping
  ack,               // ev.ack
  err,               // ev.err (a remote error reply)
  push_pull_header,  // ev.header; ev.header.nodes node events follow, then user_state
  node,              // ev.node
  user_state,        // ev.bytes: the push/pull user state (possibly empty)
  user_msg,          // ev.bytes: a reliable user message payload
  done,              // the body is complete; later calls return done again
};

struct StreamEvent {
  StreamEventKind kind = StreamEventKind::need_more;
  /// Bytes of the caller's input this call consumed: drop them from the front of the buffer
  /// after using the event (spans below may point into them).
  std::size_t consumed = 0;
  /// For need_more: the input size (counted from the same start) that would let parsing
  /// progress; a lower bound for msgpack values.
  std::size_t wanted = 0;
  Ping ping;
  AckResp ack;
  ErrResp err;
  PushPullHeader header;
  PushNodeState node;
  ByteSpan bytes;
};

/// Incremental reader for one inbound stream (one request or reply). The label and keyring that
/// `cfg` points to must outlive the reader.
class StreamReader {
 public:
  explicit StreamReader(const ReceiveConfig& cfg) : cfg_(cfg) {}

  /// Parses the next event from `in`: every byte received and not yet consumed. Errors are
  /// final: truncated (inside an encrypted/compressed body), malformed, too_large,
  /// unknown_type, rejected (label, encryption policy, decryption), unsupported_version.
  Result<StreamEvent> next(ByteSpan in);

  /// The body's message type once known (after the envelope).
  [[nodiscard]] std::uint8_t type() const noexcept { return type_; }

 private:
  enum class Phase : std::uint8_t { label, envelope, header, nodes, tail, done, failed };

  // Each step returns true when `ev` is ready to hand out (an event or need_more), false to go
  // on with the next phase in the same call.
  Result<bool> step(ByteSpan in, StreamEvent& ev);
  Result<bool> step_label(ByteSpan src, StreamEvent& ev);
  Result<bool> step_envelope(ByteSpan src, StreamEvent& ev);
  Result<bool> step_encrypted(ByteSpan src, StreamEvent& ev);
  Result<bool> step_compressed(ByteSpan src, StreamEvent& ev);
  Result<bool> step_header(ByteSpan src, StreamEvent& ev);
  Result<bool> step_nodes(ByteSpan src, StreamEvent& ev);
  Result<bool> step_tail(ByteSpan src, StreamEvent& ev);
  Result<void> adopt_body(std::vector<std::byte> body);
  template <class T>
  Result<bool> read_value(ByteSpan src, T& out, StreamEvent& ev);
  Result<bool> emit(Result<bool> got, StreamEventKind kind, Phase next, StreamEvent& ev);
  /// Not enough input: need_more on a live stream, truncated inside a whole body.
  Result<bool> short_input(std::size_t src_bytes_wanted, StreamEvent& ev);
  /// The unread bytes: of the caller's input, or of body_ once the body is internal.
  ByteSpan source(ByteSpan in, const StreamEvent& ev) const noexcept;
  void advance(std::size_t n, StreamEvent& ev) noexcept;

  ReceiveConfig cfg_;
  Phase phase_ = Phase::label;
  std::uint8_t type_ = 0;
  std::uint32_t nodes_left_ = 0;
  std::uint32_t tail_bytes_ = 0;  // user state or user message length
  bool internal_ = false;         // the body lives in body_, whole
  std::vector<std::byte> body_;   // decrypted/decompressed body
  std::size_t body_pos_ = 0;
  Error error_{Errc::malformed, ""};  // the final error once failed
};

}  // namespace grapevine::wire::ml
