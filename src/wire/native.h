// The native wire format: compact binary for grapevine-to-grapevine traffic.
//
//   datagram := version:u8 frame+
//   frame    := type:u8 length:varint body[length]
//
// A datagram carries one or more frames (a pull reply with several messages, a probe with
// piggybacked membership updates). Receivers skip frames of unknown type (forward compatibility)
// and count them. Integers inside bodies are LEB128 varints unless stated. Every limit a peer can
// push us into is a named constant below; over a limit is Errc::too_large.
#pragma once

#include "grapevine/limits.h"
#include <cstddef>
#include <cstdint>
#include <span>

#include "grapevine/event.h"
#include "grapevine/result.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace grapevine::wire {

inline constexpr std::uint8_t kNativeVersion = 1;
/// Largest UDP payload we ever accept (IPv4 maximum).
using grapevine::kDatagramBytesMax;  // limits.h
/// Default send budget per datagram: fits a 1500-byte Ethernet MTU with IP/UDP headers to spare.
using grapevine::kPacketBudgetBytes;  // limits.h
/// Largest send budget a config may ask for (jumbo frames); encoders use stack buffers this big.
using grapevine::kPacketBudgetBytesMax;  // limits.h
/// Largest multicast payload carried in one datagram.
using grapevine::kMulticastPayloadBytesMax;  // limits.h
/// Most message ids a pull request may list.
using grapevine::kPullDigestIdsMax;  // limits.h
/// Most frames we look at in one datagram; the rest are dropped as malformed.
using grapevine::kFramesPerDatagramMax;  // limits.h

/// Frame types are grouped in families of 16, one per component, so a node composed of several
/// protocols can hand each frame to its owner: 0x10 multicast, 0x20 membership, 0x30 views,
/// 0x40 consistent membership (Rapid, wire/native_consistent.h), 0x50 the replicated node state
/// (wire/native_state.h).
enum class FrameFamily : std::uint8_t {
  multicast = 0x10,
  membership = 0x20,
  views = 0x30,
  consistent = 0x40,
  state = 0x50,
};
constexpr bool in_family(std::uint8_t type, FrameFamily f) noexcept {
  return (type & 0xf0) == std::uint8_t(f);
}
/// A frame that belongs to another component of a composed node: skipped, not counted.
constexpr bool other_component(std::uint8_t type, FrameFamily own) noexcept {
  return !in_family(type, own) &&
         (in_family(type, FrameFamily::multicast) || in_family(type, FrameFamily::membership) ||
          in_family(type, FrameFamily::views) || in_family(type, FrameFamily::consistent) ||
          in_family(type, FrameFamily::state));
}

enum class FrameType : std::uint8_t {
  // multicast family
  data = 0x10,          // a multicast payload (push, pull reply, tree data, repair)
  pull_request = 0x11,  // "anything new?" with the ids the asker already holds
  feedback = 0x12,      // push receiver tells the sender whether the push was news
  ack = 0x13,           // tree: child acknowledges a message to its parent (RMTP-style)
  nack = 0x14,          // tree: repair request for a missing message (SRM-style)
  session = 0x15,       // tree: source announces its highest sequence number
};

/// Flags on a data frame.
enum DataFlags : std::uint8_t {
  kDataPush = 0,
  kDataPullReply = 1u << 0,
  kDataRepair = 1u << 1,
  kDataRetransmit = 1u << 2,
};

struct DataFrame {
  MessageId id;
  std::uint32_t hops = 0;
  std::uint8_t flags = 0;
  std::span<const std::byte> payload;  // points into the datagram
};

struct PullRequestFrame {
  std::uint32_t count = 0;
  MessageId ids[kPullDigestIdsMax];
};

struct FeedbackFrame {
  MessageId id;
  bool was_new = false;
};

struct AckFrame {
  MessageId id;
};

struct NackFrame {
  MessageId id;
  std::uint32_t requester_hops = 0;  // requester's depth in the tree: scales repair timers
};

struct SessionFrame {
  std::uint64_t origin = 0;
  std::uint32_t highest_seq = 0;
};

/// Starts a datagram: writes the version byte.
inline void begin_datagram(Writer& w) noexcept { w.u8(kNativeVersion); }

/// Frame writers return false (and leave the writer rolled back) when the frame does not fit.
bool write_data(Writer& w, const DataFrame& f) noexcept;
bool write_pull_request(Writer& w, std::span<const MessageId> ids) noexcept;
bool write_feedback(Writer& w, const FeedbackFrame& f) noexcept;
bool write_ack(Writer& w, const AckFrame& f) noexcept;
bool write_nack(Writer& w, const NackFrame& f) noexcept;
bool write_session(Writer& w, const SessionFrame& f) noexcept;

/// Bytes a data frame with this payload takes on the wire (for packet budgeting).
std::size_t data_frame_size(const DataFrame& f) noexcept;

Result<DataFrame> decode_data(std::span<const std::byte> body) noexcept;
Result<PullRequestFrame> decode_pull_request(std::span<const std::byte> body) noexcept;
/// The same, into `out` (1 KiB: a hot path decodes in place rather than copy it through a
/// Result). False if malformed; `out` is then unspecified.
bool decode_pull_request_into(std::span<const std::byte> body, PullRequestFrame& out) noexcept;
Result<FeedbackFrame> decode_feedback(std::span<const std::byte> body) noexcept;
Result<AckFrame> decode_ack(std::span<const std::byte> body) noexcept;
Result<NackFrame> decode_nack(std::span<const std::byte> body) noexcept;
Result<SessionFrame> decode_session(std::span<const std::byte> body) noexcept;

struct Frame {
  std::uint8_t type = 0;
  std::span<const std::byte> body;
};

/// Walks the frames of a datagram. Usage:
///   FrameIterator it(datagram); Frame f; while (it.next(f)) {...} if (!it.ok()) count error
class FrameIterator {
 public:
  explicit FrameIterator(std::span<const std::byte> datagram) noexcept;
  bool next(Frame& out) noexcept;
  [[nodiscard]] bool ok() const noexcept { return reader_.ok(); }
  [[nodiscard]] Errc error() const noexcept { return reader_.error(); }

 private:
  Reader reader_;
  std::size_t frames_ = 0;
};

}  // namespace grapevine::wire
