// Serf's messages (serf 0.9.4 messages.go, internal_query.go; service-layer.md A.3), carried in
// memberlist user messages and push-pull user state: `[type byte][msgpack body]`.
//
// Bodies are msgpack maps keyed by Go field name; we write keys in sorted order, strings and
// []byte as raw, integers in their smallest unsigned form (go-msgpack 0.5, what the Debian
// agent writes), and read any key order, any integer form, str or bin (wire/memberlist/
// msgpack.h). Decoded messages point into the input (string_views and spans): keep the input
// alive while using them. Every count and size is bounded by a named limit below; anything over
// it, or malformed, is an error (the caller counts and drops it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "grapevine/result.h"
#include "grapevine/tags.h"
#include "wire/memberlist/messages.h"

namespace grapevine::detail::serf {

using ByteSpan = std::span<const std::byte>;
using Bytes = std::vector<std::byte>;

enum class MessageType : std::uint8_t {
  leave = 0,
  join = 1,
  push_pull = 2,
  user_event = 3,
  query = 4,
  query_response = 5,
  conflict_response = 6,
  key_request = 7,
  key_response = 8,
  relay = 9,
};

inline constexpr std::uint32_t kQueryFlagAck = 1;
inline constexpr std::uint32_t kQueryFlagNoBroadcast = 2;

// Limits (serf's defaults where it has one).
inline constexpr std::size_t kNameBytesMax = 512;          // node, event and query names
inline constexpr std::size_t kPayloadBytesMax = 64 * 1024;  // event/query/response payloads
inline constexpr std::size_t kFiltersMax = 16;             // filters of one query
inline constexpr std::size_t kFilterBytesMax = 4096;        // one encoded filter
inline constexpr std::size_t kFilterNodesMax = 1024;       // names in one node filter
inline constexpr std::size_t kPushPullMembersMax = 65536;  // StatusLTimes / LeftMembers
inline constexpr std::size_t kPushPullEventsMax = 4096;    // events replayed by a push-pull
inline constexpr std::size_t kKeysMax = 256;               // keys in a key response

struct Leave {
  std::uint64_t ltime = 0;
  std::string_view node;
  bool prune = false;
};

struct Join {
  std::uint64_t ltime = 0;
  std::string_view node;
};

struct UserEvent {
  std::uint64_t ltime = 0;
  std::string_view name;
  ByteSpan payload;
  bool cc = false;  // may be coalesced
};

struct Query {
  std::uint64_t ltime = 0;
  std::uint32_t id = 0;
  wire::ml::IpBytes addr;  // where acks and responses go
  std::uint16_t port = 0;
  std::string_view source_node;
  std::vector<ByteSpan> filters;  // each [0][msgpack []string] or [1][msgpack {Expr, Tag}]
  std::uint32_t flags = 0;
  std::uint8_t relay_factor = 0;
  std::int64_t timeout_ns = 0;
  std::string_view name;
  ByteSpan payload;
};

struct QueryResponse {
  std::uint64_t ltime = 0;
  std::uint32_t id = 0;
  std::string_view from;
  std::uint32_t flags = 0;
  ByteSpan payload;
};

struct PushPull {
  std::uint64_t ltime = 0;
  std::vector<std::pair<std::string_view, std::uint64_t>> status_ltimes;
  std::vector<std::string_view> left_members;
  std::uint64_t event_ltime = 0;
  std::vector<UserEvent> events;  // flattened from serf's ring of {LTime, Events}
  std::uint64_t query_ltime = 0;
};

/// A decoded query filter.
struct Filter {
  bool is_tag = false;
  std::vector<std::string_view> nodes;  // node filter
  std::string_view tag, expr;           // tag filter: regular expression over one tag
};

struct KeyResponse {
  bool result = false;
  std::string message;
  std::vector<std::string> keys;  // base64
  std::string primary_key;        // base64
};

/// serf.Member as `_serf_conflict` answers it (status: 0 none, 1 alive, 2 leaving, 3 left,
/// 4 failed).
struct ConflictMember {
  std::string_view name;
  wire::ml::IpBytes addr;
  std::uint16_t port = 0;
  Tags tags;
  std::uint8_t status = 0;
  std::array<std::uint8_t, 6> vsn{};  // ProtocolMin/Max/Cur, DelegateMin/Max/Cur
};

/// A relayed reply: where it goes and the inner message ([5][response]).
struct Relay {
  wire::ml::IpBytes ip;
  std::uint16_t port = 0;
  std::string_view dest_name;
  ByteSpan inner;
};

// ---- encoders: the whole message, type byte first ----
Bytes encode(const Leave& m);
Bytes encode(const Join& m);
Bytes encode(const UserEvent& m);
Bytes encode(const Query& m);
Bytes encode(const QueryResponse& m);
Bytes encode(const PushPull& m);
Bytes encode(const KeyResponse& m);
/// [6][Member], or [6][nil] for `nullptr`.
Bytes encode_conflict(const ConflictMember* m);
/// [7][{Key}].
Bytes encode_key_request(ByteSpan key);
/// [0][msgpack []string].
Bytes encode_node_filter(std::span<const std::string_view> nodes);
/// [1][msgpack {Expr, Tag}].
Bytes encode_tag_filter(std::string_view tag, std::string_view expr);
/// [9][{DestAddr, DestName}] followed by `inner` (an encoded query response).
Bytes encode_relay(const Relay& m);

// ---- decoders: `body` is the message after its type byte ----
// Errors: malformed or truncated bytes, too_large over a limit above.
Result<Leave> decode_leave(ByteSpan body);
Result<Join> decode_join(ByteSpan body);
Result<UserEvent> decode_user_event(ByteSpan body);
Result<Query> decode_query(ByteSpan body);
Result<QueryResponse> decode_query_response(ByteSpan body);
Result<PushPull> decode_push_pull(ByteSpan body);
Result<KeyResponse> decode_key_response(ByteSpan body);
/// The raw key of a [7] request body.
Result<ByteSpan> decode_key_request(ByteSpan body);
/// Null name (ok, empty) for a nil member.
Result<ConflictMember> decode_conflict(ByteSpan body);
/// A whole filter, type byte included.
Result<Filter> decode_filter(ByteSpan filter);
/// A relay body (after [9]): the header, then the inner message in `inner`.
Result<Relay> decode_relay(ByteSpan body);

}  // namespace grapevine::detail::serf
