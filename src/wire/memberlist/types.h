// memberlist dialect: message type bytes and every limit a peer can push us into.
//
// HashiCorp memberlist (../shared/reference/memberlist.md section 2) frames every message as
// [type u8][msgpack body]. The type values are "only append" in the Go source; 244 (hasLabel) is
// the outermost prefix added in memberlist v0.3.0. Limits are named here so that every decoder
// refuses, with Errc::too_large, anything that would make us allocate or wait for more than a
// named amount. Where memberlist (v0.2.2, Debian's) has no limit we pick one and say why.
#pragma once

#include "grapevine/limits.h"
#include <cstddef>
#include <cstdint>

namespace grapevine::wire::ml {

/// First byte of every memberlist message (section 2.2).
enum class MessageType : std::uint8_t {
  ping = 0,
  indirect_ping = 1,
  ack_resp = 2,
  suspect = 3,
  alive = 4,
  dead = 5,
  push_pull = 6,
  compound = 7,
  user = 8,  // UDP: [8][raw payload]; TCP: [8][userMsgHeader][payload]
  compress = 9,
  encrypt = 10,  // TCP only; encrypted UDP packets carry no type byte
  nack_resp = 11,
  has_crc = 12,
  err = 13,
  has_label = 244,
};

/// memberlist's node states as carried in pushNodeState.State.
enum class NodeState : std::int32_t { alive = 0, suspect = 1, dead = 2, left = 3 };

/// Node metadata (alive.Meta, pushNodeState.Meta): memberlist's MetaMaxSize.
using grapevine::kMetaBytesMax;  // limits.h
/// Cluster label: memberlist's LabelMaxSize (the length byte is 1..255).
using grapevine::kLabelBytesMax;  // limits.h
/// Members in one push/pull (memberlist v0.6.0's cap on pushPullHeader.Nodes).
inline constexpr std::size_t kPushPullNodesMax = 1'048'576;
/// User state in a push/pull (v0.6.0's cap on UserStateLen; maxPushStateBytes).
inline constexpr std::size_t kUserStateBytesMax = 20 * 1024 * 1024;
/// Reliable (TCP) user message payload (v0.6.0's cap on UserMsgLen).
inline constexpr std::size_t kUserMsgBytesMax = 20 * 1024 * 1024;
/// Encrypted stream length field ([10][u32 len]): maxPushStateBytes in every version.
inline constexpr std::size_t kEncryptedStreamBytesMax = 20 * 1024 * 1024;
/// Decompressed LZW output (memberlist v0.6.0 caps decompression at 40 MB).
inline constexpr std::size_t kDecompressedBytesMax = 40 * 1024 * 1024;
/// A compressed stream body's msgpack value (compress{Algo,Buf}) before decompression. memberlist
/// has no cap; LZW never shrinks input below 9/8 bits per code, so anything larger could not
/// decompress under kDecompressedBytesMax anyway.
inline constexpr std::size_t kCompressedStreamBytesMax = kDecompressedBytesMax;
/// One msgpack value on a plain (unencrypted, uncompressed) stream: a pushNodeState, header,
/// ping or errResp. memberlist has no cap (a 4 GB str32 inside an unknown key would be read);
/// a node state is name + 16-byte address + 512 B meta + a few ints, so 64 KiB is generous.
inline constexpr std::size_t kStreamValueBytesMax = 64 * 1024;
/// Largest UDP packet we read (memberlist's receive buffer is 65,536 bytes) or seal (more could
/// not be sent as one datagram anyway; memberlist itself does not check, memberlist#348).
inline constexpr std::size_t kPacketBytesMax = 65536;
/// memberlist's UDPBufferSize default: the packet budget before the overheads below.
inline constexpr std::size_t kUdpBufferBytes = 1400;
/// Budget overheads as memberlist counts them (compoundHeaderOverhead, compoundOverhead,
/// userMsgOverhead). The 5-byte CRC header and compression are not counted (section 2.5).
inline constexpr std::size_t kCompoundHeaderOverhead = 2;
inline constexpr std::size_t kCompoundPartOverhead = 2;
inline constexpr std::size_t kUserMsgOverhead = 1;
/// Parts in one compound message (the count is one byte).
inline constexpr std::size_t kCompoundPartsMax = 255;
/// Bytes in one compound part (the length prefix is a big-endian u16).
inline constexpr std::size_t kCompoundPartBytesMax = 65535;
/// Nesting of compound/compress wrappers we follow on receive. memberlist recurses without a
/// limit; its senders produce at most compress(compound(...)), so 4 is plenty.
inline constexpr int kNestingMax = 4;
/// msgpack nesting we skip through inside unknown fields (stack depth bound).
inline constexpr int kMsgpackDepthMax = 32;
/// alive.Vsn / pushNodeState.Vsn bytes kept: [pmin,pmax,pcur,dmin,dmax,dcur]. Longer vectors are
/// malformed (memberlist only ever sends 6).
inline constexpr std::size_t kVsnBytesMax = 6;

}  // namespace grapevine::wire::ml
