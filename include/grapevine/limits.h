// Public limits: every hard bound the library puts on what a caller passes in or a peer sends,
// in one place, as named constants (units in the names: *_bytes are bytes, *_max counts).
//
// These are the wire's caps, fixed at compile time and the same on every member; the settings a
// config may lower or raise (StateConfig::value_bytes_max, RuntimeOptions::inbound_streams_max,
// ...) are documented on their fields, with their defaults, and never exceed the cap here.
// The private wire constants (src/wire/) are using-declarations of these (the same entities,
// so code with both namespaces in scope is not ambiguous), and the two cannot drift.
// Standard library only; constexpr, usable in static_assert and array bounds.
#pragma once

#include <cstddef>
#include <cstdint>

namespace grapevine {

// ---- datagrams ----
/// Largest UDP payload a node accepts (the IPv4 maximum); larger reads are dropped.
inline constexpr std::size_t kDatagramBytesMax = 65507;
/// Default send budget per datagram, bytes: fits a 1500-byte Ethernet MTU with IP/UDP headers.
/// MulticastConfig::packet_budget_bytes and StateConfig::packet_budget_bytes default to it.
inline constexpr std::size_t kPacketBudgetBytes = 1400;
/// Largest send budget per datagram a config may ask for (jumbo frames), bytes.
inline constexpr std::size_t kPacketBudgetBytesMax = 8192;
/// Most frames looked at in one native datagram; the rest are dropped as malformed.
inline constexpr std::size_t kFramesPerDatagramMax = 256;

// ---- multicast ----
/// Largest payload of one multicast (Node::multicast, NodeHandle::multicast, view broadcast),
/// bytes: it travels in one datagram. Larger payloads are refused with Errc::too_large.
inline constexpr std::size_t kMulticastPayloadBytesMax = 1200;
/// Most message ids one pull request lists.
inline constexpr std::size_t kPullDigestIdsMax = 64;

// ---- membership ----
/// Largest member metadata (MembershipConfig::meta, update_meta, encoded tags), bytes; as
/// memberlist's MetaMaxSize.
inline constexpr std::size_t kMetaBytesMax = 512;
/// Longest member name (MembershipConfig::name), bytes.
inline constexpr std::size_t kNameBytesMax = 255;
/// Longest zone name (topology-aware gossip), bytes.
inline constexpr std::size_t kZoneBytesMax = 64;
/// A user event's name and payload together, bytes (serf's UserEventSizeLimit default).
inline constexpr std::size_t kUserEventBytesMax = 512;
/// Most members one push-pull (full state exchange) may carry; as memberlist.
inline constexpr std::size_t kPushPullMembersMax = std::size_t(1) << 20;
/// Largest stream message (push-pull, state sync) sent or accepted, bytes: memberlist's 20 MiB.
/// RuntimeOptions::inbound_stream_bytes_max should be at least this to accept the largest one.
inline constexpr std::size_t kStreamBytesMax = std::size_t(20) << 20;
/// Most heartbeat entries in one datagram.
inline constexpr std::size_t kHeartbeatListMax = 4096;
/// Longest cluster label (MembershipConfig::memberlist.label), bytes.
inline constexpr std::size_t kLabelBytesMax = 255;

// ---- encryption keys ----
/// Native dialect keys (SealConfig, Node::change_keyring): AES-256, exactly this many bytes.
inline constexpr std::size_t kNativeKeyBytes = 32;
/// Memberlist dialect keys: AES-128, -192 or -256, one of these sizes in bytes.
inline constexpr std::size_t kMemberlistKeyBytes[] = {16, 24, 32};

// ---- replicated node state (StateConfig: its limits default lower and may not pass these) ----
/// Longest state key the wire carries, bytes (StateConfig::key_bytes_max defaults to 256).
inline constexpr std::size_t kStateKeyBytesWireMax = 4096;
/// Largest state value the wire carries, bytes (StateConfig::value_bytes_max: 64 KiB default).
inline constexpr std::size_t kStateValueBytesWireMax = std::size_t(1) << 20;
/// Most entries in one state digest or request.
inline constexpr std::size_t kStateEntriesMax = std::size_t(1) << 20;
/// Largest state stream message, bytes (StateConfig::stream_bytes_max must be <= it).
inline constexpr std::size_t kStateStreamBytesMax = std::size_t(20) << 20;

// ---- partial views and consistent membership ----
/// Most entries in one view shuffle / join reply.
inline constexpr std::size_t kViewEntriesMax = 64;
/// Most peers one HyParView shuffle carries.
inline constexpr std::size_t kShufflePeersMax = 32;
/// Most rings of consistent membership (MembershipConfig consistent `rings`).
inline constexpr std::uint32_t kRingsMax = 16;
/// Most members of one consistent-membership configuration.
inline constexpr std::size_t kConsistentMembersMax = 8192;

}  // namespace grapevine
