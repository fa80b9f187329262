// Queries: serf's request/response on the group (serf 0.9.4 query.go; service-layer.md), in the
// native dialect. A node issues a query (a name, a payload, filters); it spreads like a user
// event (its own Lamport clock, deduplicated); every member that passes the filters may answer
// it, with an ack (if asked) and its application's response, sent straight to the querier and
// also relayed through `relay_factor` random members. The querier gathers acks and responses
// until the deadline, one per member.
//
// On a Node (node.h): Node::query() issues, a `query` event tells the application a query
// arrived (Event::user_name, payload, ltime, query_id, subject = the querier), Node::respond()
// answers it; the querier sees `query_ack`, `query_response` (subject_name = the member,
// payload = its answer) and finally `query_done`, all events raised in machine calls and handed
// out by the driver after the call, as every other event.
//
// Internal queries (names starting with kInternalQueryPrefix) are answered by the node itself
// and never raised as `query` events: Node::keyring_query() rotates the cluster's keys with
// them (serf's `_serf_install-key` and friends).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "grapevine/result.h"
#include "grapevine/time.h"

namespace grapevine {

/// An encoded query frame (name, payload, filters, header) at most: serf's QuerySizeLimit.
inline constexpr std::size_t kQueryBytesMax = 1024;
/// An encoded response frame (member name, payload, header) at most: serf's
/// QueryResponseSizeLimit.
inline constexpr std::size_t kQueryResponseBytesMax = 1024;
/// Relays per response at most (serf caps the relay factor at 5).
inline constexpr std::uint8_t kQueryRelayFactorMax = 5;
/// Filters of one query at most (node names plus tag filters), and one regex's length.
inline constexpr std::size_t kQueryFiltersMax = 64;
inline constexpr std::size_t kQueryRegexBytesMax = 128;
/// Queries this node tracks at once: its own pending ones, and received ones it may answer.
inline constexpr std::size_t kQueriesPendingMax = 64;
inline constexpr std::size_t kQueriesReceivedMax = 256;
/// The shortest default timeout of a keyring query (Node::keyring_query): a small cluster's
/// default query timeout (1.6 s with the local profile) is short for a busy host, and a
/// rotation that misses a member must be run again.
inline constexpr Duration kKeyringQueryTimeoutMin = Duration::seconds(5);
/// Names of internal queries; an application can neither issue nor receive them.
inline constexpr std::string_view kInternalQueryPrefix = "_grapevine_";

/// Only members with tag `key` whose value the ECMAScript regex `regex` matches somewhere
/// (serf's query filter: regexp.MatchString, not anchored; `members --tag` anchors).
struct QueryTagFilter {
  std::string key;
  std::string regex;
};

struct QueryParams {
  /// Only members with one of these names answer (empty: any).
  std::vector<std::string> nodes;
  /// And only those matching every tag filter.
  std::vector<QueryTagFilter> tags;
  /// Members send an ack when they receive the query (serf's RequestAck).
  bool request_ack = false;
  /// Each ack and response is also sent through this many random members (<= 5).
  std::uint8_t relay_factor = 0;
  /// Zero: default_query_timeout() for the live group's size.
  Duration timeout = Duration::zero();
};

/// serf's DefaultQueryTimeout: gossip_interval * mult * ceil(log10(n + 1)), n the live members.
Duration default_query_timeout(Duration gossip_interval, std::uint32_t mult,
                               std::size_t n) noexcept;

/// A query this node issued: its Lamport time, its id, and when it ends (`query_done`).
struct QueryTicket {
  std::uint64_t ltime = 0;
  std::uint32_t id = 0;
  Time deadline{};
};

/// Answers internal queries inside the membership machine's call (the Node answers keyring
/// queries with its seal). Returns the response, or nothing to stay silent.
class InternalQueryHandler {
 public:
  virtual ~InternalQueryHandler() = default;
  virtual std::optional<std::vector<std::byte>> answer(std::string_view name,
                                                       std::span<const std::byte> payload) = 0;
};

// ---- cluster-wide keyring (serf's `keys`) ------------------------------------------------

enum class KeyringCommand : std::uint8_t { list = 0, install = 1, use = 2, remove = 3 };
const char* keyring_command_name(KeyringCommand c) noexcept;

/// One member's answer to a keyring query: whether the operation worked there, why not, and
/// its keyring afterwards (primary first).
struct KeyringAnswer {
  bool ok = false;
  std::string message;
  std::vector<std::vector<std::byte>> keys;
};

/// The answer's bytes (a query response). Keys beyond what fits in kQueryResponseBytesMax are
/// left out (with a message saying so).
std::vector<std::byte> encode_keyring_answer(const KeyringAnswer& a);
/// Errors: malformed / truncated (bad bytes), too_large (over kQueryResponseBytesMax).
Result<KeyringAnswer> decode_keyring_answer(std::span<const std::byte> bytes);

}  // namespace grapevine
