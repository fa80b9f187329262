// Native wire format of consistent membership (Rapid): frame family 0x40 (see wire/native.h for
// the datagram framing) and one stream message. Types:
//
//   0x40 probe, 0x41 probe_ack := seq config                  edge monitoring + anti-entropy
//   0x42 pre_join              := config address               joiner -> seed
//   0x43 join_info             := config count address*        seed -> joiner: K gatekeepers
//   0x44 join                  := config address               joiner -> each gatekeeper
//   0x45 alerts                := config count alert*          gossiped REMOVE / JOIN alerts
//   0x46 vote                  := config cut bitmap            fast-round votes for one cut
//   0x47 phase1a               := config rank                  classic round, coordinator -> all
//   0x48 phase1b               := config rank vrank cut        acceptor -> coordinator
//   0x49 phase2a               := config rank cut              coordinator -> all
//   0x4a phase2b               := config rank digest:u64be     acceptor -> coordinator
//   0x4b decision              := config cut                   the cut decided in `config`
//   0x4c sync_request          := config                       "I am at config; catch me up"
//   0x4d leave                 := config                       leaver -> its observers
//   0x4e cut_request           := config digest:u64be          "send me the members of this cut"
//   0x4f profiles              := config count profile*        members' names and metadata
//   (0x4e and 0x4f are also the stream types of cut_state and config_state below)
//
//   config  := epoch:varint id:u64be          (epoch = view changes since the first config)
//   alert   := subject:address kind:u8 rings:varint   (kind 0 remove, 1 join, 2 remove because
//              the subject said it leaves, 3 suspect: a missed probe, observer to observers; rings: bit k = ring k, < 2^kRingsMax: the rings on
//              which the subject's observers (gatekeepers) reported it, merged by relays)
//   cut     := digest:u64be total:varint count:varint address*count
//              (a cut is the member list a view change toggles, sorted by node id; digest =
//              cut_digest(config, list); count is total (members inline) or 0 (by digest
//              only: a cut of more than kCutMembersMax, whose list is fetched with cut_request)
//   bitmap  := length:varint byte*            (bit i = member i of the config, in id order)
//   rank    := round:varint node:u64be
//   profile := address version:varint name_len:varint name meta_len:varint meta
//              (name <= kNameBytesMax, meta <= kMetaBytesMax bytes; version orders the
//              member's own updates: the highest wins)
//
//   stream config_state := length:u32be version:u8 0x4f epoch:varint id:u64be count:varint
//                          address* [pcount:varint (version name_len name meta_len meta)*pcount]
//                          (the whole configuration: join replies, catch-up; the optional tail
//                          holds each member's profile in the same order, pcount = count)
//   stream cut_state    := length:u32be version:u8 0x4e epoch:varint id:u64be digest:u64be
//                          count:varint address*   (a cut's members, answering cut_request)
//
// Every count has a named limit below; over it is Errc::too_large. Encoders refuse (return
// false) what the decoder would refuse, so every accepted frame re-encodes to itself.
#pragma once

#include "grapevine/limits.h"
#include <compare>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/result.h"
#include "wire/reader.h"
#include "wire/writer.h"

namespace grapevine::wire {

/// Most rings (K) a configuration may use; ring masks fit in 16 bits.
using grapevine::kRingsMax;  // limits.h
/// Most members of a cut sent inline in a frame; larger cuts travel by digest (cut_state).
inline constexpr std::size_t kCutMembersMax = 128;
/// Most alerts in one alerts frame.
inline constexpr std::size_t kAlertsPerFrameMax = 64;
/// Most members of a consistent configuration (bitmaps of kMembersMax bits per vote).
using grapevine::kConsistentMembersMax;  // limits.h
inline constexpr std::size_t kBitmapBytesMax = kConsistentMembersMax / 8;
/// Most profiles in one profiles frame.
inline constexpr std::size_t kProfilesPerFrameMax = 32;
/// Largest encoded profile after its address.
inline constexpr std::size_t kProfileBytesMax = 5 + 2 + kNameBytesMax + 2 + kMetaBytesMax;
/// Largest config_state stream message.
inline constexpr std::size_t kConfigStateBytesMax =
    40 + kConsistentMembersMax * (20 + kProfileBytesMax);
/// Most members of one cut (it may remove every member of a configuration and add as many).
inline constexpr std::size_t kCutTotalMax = 2 * kConsistentMembersMax;
/// Largest cut_state stream message.
inline constexpr std::size_t kCutStateBytesMax = 40 + kCutTotalMax * 20;

enum class RapidFrame : std::uint8_t {
  probe = 0x40,
  probe_ack = 0x41,
  pre_join = 0x42,
  join_info = 0x43,
  join = 0x44,
  alerts = 0x45,
  vote = 0x46,
  phase1a = 0x47,
  phase1b = 0x48,
  phase2a = 0x49,
  phase2b = 0x4a,
  decision = 0x4b,
  sync_request = 0x4c,
  leave = 0x4d,
  cut_request = 0x4e,
  profiles = 0x4f,
};
inline constexpr std::uint8_t kConfigStateStreamType = 0x4f;
inline constexpr std::uint8_t kCutStateStreamType = 0x4e;
inline constexpr std::uint8_t kRapidFrameLast = 0x4f;

/// suspect (3): an observer's probe of the subject went unanswered; sent directly to the
/// subject's other observers (never gossiped, never counted by the cut detector) so that they
/// probe it at once and every probe_interval until it answers (consistent_node.h).
enum class AlertKind : std::uint8_t { remove = 0, join = 1, leave = 2, suspect = 3 };

struct ConfigRef {
  std::uint64_t epoch = 0;
  std::uint64_t id = 0;
  friend constexpr bool operator==(const ConfigRef&, const ConfigRef&) = default;
};

/// A Paxos rank: (round, node id), compared lexicographically. The fast round is (1, 0).
struct Rank {
  std::uint32_t round = 0;
  std::uint64_t node = 0;
  friend constexpr bool operator==(const Rank&, const Rank&) = default;
  friend constexpr auto operator<=>(const Rank&, const Rank&) = default;
};

struct Alert {
  Address subject;
  AlertKind kind = AlertKind::remove;
  std::uint16_t rings = 0;
  friend bool operator==(const Alert&, const Alert&) = default;
};

/// A member's name and metadata (views: into the decoded bytes, or the encoder's caller's).
struct ProfileView {
  Address address;
  std::uint32_t version = 0;
  std::string_view name;
  std::span<const std::byte> meta;
};

/// One decoded frame of family 0x40; which fields are meaningful depends on `type` (above).
struct RapidMessage {
  RapidFrame type = RapidFrame::probe;
  ConfigRef config;
  std::uint32_t seq = 0;
  Address address;        // pre_join, join: the joiner
  Rank rank, vrank;       // phase1a/1b/2a/2b
  std::uint64_t digest = 0;  // cut frames, phase2b, cut_request: the cut's digest
  std::uint32_t total = 0;   // cut frames: members in the cut (count == total, or 0: by digest)
  std::uint32_t count = 0;   // entries in addrs (cut inline, or gatekeepers)
  Address addrs[kCutMembersMax];
  std::uint32_t alert_count = 0;
  Alert alerts[kAlertsPerFrameMax];
  std::uint32_t bitmap_bytes = 0;
  std::byte bitmap[kBitmapBytesMax];
  std::uint32_t profile_count = 0;  // profiles: views into the decoded body (or the caller's)
  ProfileView profiles[kProfilesPerFrameMax];

  [[nodiscard]] std::span<const Address> cut() const noexcept { return {addrs, count}; }
  [[nodiscard]] std::span<const Alert> alert_list() const noexcept { return {alerts, alert_count}; }
  [[nodiscard]] std::span<const ProfileView> profile_list() const noexcept {
    return {profiles, profile_count};
  }
  [[nodiscard]] std::span<const std::byte> bitmap_span() const noexcept {
    return {bitmap, bitmap_bytes};
  }
};

constexpr bool is_rapid_frame(std::uint8_t type) noexcept {
  return type >= std::uint8_t(RapidFrame::probe) && type <= kRapidFrameLast;
}

/// Appends one frame; false (writer unchanged) if it does not fit or breaks a limit.
bool write_rapid(Writer& w, const RapidMessage& m) noexcept;
/// Decodes the body of a frame of type `type` into `out` (large: keep one per machine).
Result<void> decode_rapid(std::uint8_t type, std::span<const std::byte> body,
                          RapidMessage& out) noexcept;

/// A profile owned by its holder (decode_config_state's output).
struct Profile {
  std::uint32_t version = 0;
  std::string name;
  std::vector<std::byte> meta;
};

/// Encodes a config_state stream message (with its length header). Empty on a broken limit.
/// `profiles`: empty, or one per member in the same order (the optional tail).
std::vector<std::byte> encode_config_state(ConfigRef config, std::span<const Address> members,
                                           std::span<const ProfileView> profiles = {});
/// Decodes a whole config_state stream message (length header included). `profiles`, if not
/// null, gets one entry per member (empty when the message has no profile tail).
Result<void> decode_config_state(std::span<const std::byte> message, ConfigRef& config,
                                 std::vector<Address>& members,
                                 std::vector<Profile>* profiles = nullptr);

/// Encodes a cut_state stream message (with its length header). Empty on a broken limit.
std::vector<std::byte> encode_cut_state(ConfigRef config, std::uint64_t digest,
                                        std::span<const Address> cut);
/// Decodes a whole cut_state stream message (length header included).
Result<void> decode_cut_state(std::span<const std::byte> message, ConfigRef& config,
                              std::uint64_t& digest, std::vector<Address>& cut);
/// The stream type byte of a consistent stream message (after length and version), or 0.
std::uint8_t consistent_stream_type(std::span<const std::byte> message) noexcept;

}  // namespace grapevine::wire
