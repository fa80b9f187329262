// SerfLayer: Serf's protocol layer (serf 0.9.4 serf.go, delegate.go, query.go,
// internal_query.go; service-layer.md A) on top of the memberlist dialect, so a grapevine node
// is a full member of a serf cluster. I/O-free: it reads no clock and touches no socket; the
// membership node hands it serf's messages (memberlist user messages and push-pull user state)
// and gives it a Host to gossip, send and read the member list through.
//
// Algorithm (Serf's):
//  - three Lamport clocks (member, event, query), each starting at 1; witness(v) = max(c, v+1);
//  - intents: a join intent after joining, a leave intent (member clock, then increment) before
//    memberlist's leave, so serf shows this node `left`, not `failed`; an intent newer than the
//    member's status time is recorded and re-broadcast, an older one dropped; a leave intent
//    about this node while it is alive is refuted with a join intent;
//  - user events: the native dialect's UserEventLog (512-slot ring, de-duplication, too-old
//    drop), delivered as EventKind::user_event and re-broadcast when fresh;
//  - queries: a 512-slot ring of query ids per Lamport time; a fresh query is re-broadcast
//    (unless flagged no-broadcast), filtered (node list, tag regular expression), acked and
//    answered by UDP to its Addr:Port, with `relay_factor` extra copies through random members
//    (type 9); relays addressed to others are forwarded;
//  - internal queries: `_serf_ping` (ack), `_serf_conflict` (the named member as we know it),
//    `_serf_install-key` / `use-key` / `remove-key` / `list-keys` on the node's keyring, and
//    sent by key_query (serf's key manager, keymanager.go) for `grapevine keys`;
//  - replay to joiners: the last events (RecentEvents) ride our push-pull as serf's Events; a
//    join's push-pull raises eventMinTime unless set_replay (serf's `join -replay`);
//  - push-pull user state: clocks, status times and left members (serf's LocalState), merged
//    by witnessing the clocks and replaying the status times as intents (MergeRemoteState).
//
// User queries: a fixed table (name -> response payload, from the configuration) answers first;
// a query it does not answer is emitted as EventKind::query and held (kReceivedMax, with its
// deadline: receipt + the query's timeout) so the application (the agent's `query` event
// handlers) answers it later through respond(), once, within serf's 1024-byte response limit.
//
// Re-ask (ours; serf has none, and drops a copy of a query it has: same LTime and ID): gossip
// alone can miss a member of a small group (2 sends per holder with memberlist's local timings),
// so at 1/4 and at 1/2 of our query's timeout we send it again, one memberlist user message
// each, to every alive or suspect member that passes its filters (as we know the member's name
// and tags) and has neither acked nor answered, at most kReaskMembersMax a round (a random
// choice among more). Wire format unchanged.
//
// Deviations: our push-pull carries our recent events (RecentEvents: the last 512 events up to
// 64 KiB, where serf sends its whole 512-slot ring); a remote ring is replayed from periodic
// exchanges, and from our join's push-pull only with set_replay (serf's -replay; off:
// eventMinTime); intents for members not known yet share the member table (serf keeps them
// apart for 5 minutes) and the table is bounded (kMembersMax); tag filters go through
// util/tag_regex.h (RE2, as Go's regexp, where the host installed it; literals only otherwise).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/membership/user_events.h"
#include "core/serf/messages.h"
#include "grapevine/address.h"
#include "grapevine/event.h"
#include "grapevine/membership.h"
#include "grapevine/time.h"
#include "util/rng.h"

namespace grapevine::detail::serf {

/// One member as the serf layer needs it.
struct HostMember {
  std::string_view name;
  Address address;
  MemberState state = MemberState::alive;
  std::span<const std::byte> meta;  // tags (0xFF + msgpack)
  std::array<std::uint8_t, 6> vsn{};
};

enum class KeyOp : std::uint8_t { install, use, remove };

/// What the layer needs from its membership node. Calls happen only inside a layer call, with
/// that call's Effects.
class Host {
 public:
  virtual ~Host() = default;
  /// Queues a serf message for gossip (a memberlist user message, retransmit-limited).
  virtual void gossip(std::span<const std::byte> message) = 0;
  /// Sends a serf message to `to` now, as one memberlist user message in a datagram.
  virtual void send(const Address& to, std::span<const std::byte> message, Effects& fx) = 0;
  /// Every member known, this node included.
  virtual void members(std::vector<HostMember>& out) const = 0;
  /// Changes the keyring. Errors: invalid_argument (bad key, unknown key, the primary key),
  /// not_ready when encryption is off.
  virtual Result<void> change_key(KeyOp op, std::span<const std::byte> key) = 0;
  /// The keyring, primary key first; empty when encryption is off.
  [[nodiscard]] virtual std::vector<std::vector<std::byte>> keys() const = 0;
};

struct LayerConfig {
  std::string name;  // this node's name (memberlist's)
  Address address;   // where acks and responses to our queries come
  /// Fixed answers to user queries: query name -> response payload (empty name: any query).
  std::map<std::string, std::string, std::less<>> responses;
  Duration gossip_interval = Duration::milliseconds(200);  // for the default query timeout
};

/// A query this node sent, as collected so far.
struct QueryResult {
  std::uint64_t ltime = 0;
  std::uint32_t id = 0;
  Time deadline;
  bool done = false;
  std::vector<std::string> acks;
  std::vector<std::pair<std::string, std::vector<std::byte>>> responses;
  // Re-ask (ours, as the native dialect's; see Layer): the next round (Time::max(): none
  // left), the time between rounds, rounds left, the encoded query and its encoded filters.
  Time reask_at = Time::max();
  Duration reask_step{};
  std::uint32_t reasks_left = 0;
  Bytes raw;
  std::vector<Bytes> filters;
};

struct QueryParams {
  std::vector<std::string> nodes;                           // node filter (empty: none)
  std::vector<std::pair<std::string, std::string>> tags;    // tag filters: tag, expression
  bool request_ack = false;
  std::uint8_t relay_factor = 0;
  Duration timeout = Duration::zero();  // zero: serf's default (gossip x 16 x ceil(log10(n+1)))
};

struct LayerStats {
  std::uint64_t messages = 0, malformed = 0, intents = 0, refutes = 0;
  std::uint64_t queries = 0, query_duplicates = 0, responses_sent = 0, relays_forwarded = 0;
  std::uint64_t query_reasks = 0;  // direct re-sends of our queries to silent members
};

class Layer {
 public:
  static constexpr std::size_t kQuerySlots = 512;         // serf's QueryBuffer
  static constexpr std::size_t kQueriesPerSlotMax = 64;   // ids at one Lamport time
  static constexpr std::size_t kMembersMax = 65536;       // member/intent table
  static constexpr std::size_t kPendingQueriesMax = 64;   // our own queries collecting
  static constexpr std::size_t kResponseBytesMax = 1024;  // serf's QueryResponseSizeLimit
  static constexpr std::size_t kReceivedMax = 64;         // user queries held for respond()
  static constexpr Duration kQueryTimeoutMax = Duration::seconds(3600);  // a received one's
  static constexpr std::uint32_t kReaskRounds = 2;         // at 1/4 and 1/2 of the timeout
  static constexpr std::size_t kReaskMembersMax = 32;      // members re-asked per round

  Layer(LayerConfig config, Host& host, std::uint64_t seed);

  /// A serf message received (a memberlist user message's payload).
  void on_message(Time now, std::span<const std::byte> message, Effects& fx);
  /// serf's LocalState: [2][push-pull].
  [[nodiscard]] Bytes local_state() const;
  /// serf's MergeRemoteState; `join`: the push-pull was a join's.
  void merge_remote_state(Time now, std::span<const std::byte> state, bool join, Effects& fx);
  /// After memberlist's join started: broadcast our join intent.
  void joined();
  /// JoinOptions::replay for the next join's push-pull (serf's `join -replay`): deliver the
  /// events it carries instead of ignoring everything older than the join.
  void set_replay(bool replay) noexcept { replay_ = replay; }
  /// Before memberlist's leave: broadcast our leave intent.
  void leave();
  /// A user event from this node (delivered here too). Returns its Lamport time.
  /// Errors: invalid_argument (empty name), too_large (name + payload over 512 bytes).
  Result<std::uint64_t> user_event(std::string_view name, std::span<const std::byte> payload,
                                   bool coalesce, Effects& fx);
  /// Starts a query (answered here too); returns its Lamport time, the key of query_result().
  /// Errors: invalid_argument (empty name, `_serf_` prefix), too_large. Past kPendingQueriesMax
  /// running queries the oldest is forgotten.
  Result<std::uint64_t> query(Time now, std::string_view name, std::span<const std::byte> payload,
                              const QueryParams& params, Effects& fx);
  /// serf's key manager (keymanager.go): the internal query `_serf_<op>` where op is
  /// install-key, use-key, remove-key (payload: the key request of `key`) or list-keys (no
  /// payload); every member answers with a KeyResponse. Returns its Lamport time, as query().
  /// Errors: invalid_argument (another op, a key on list-keys, none on the others), too_large.
  Result<std::uint64_t> key_query(Time now, std::string_view op, std::span<const std::byte> key,
                                  const QueryParams& params, Effects& fx);
  /// A query's acks and responses so far (nullptr once forgotten: 64 queries later).
  [[nodiscard]] const QueryResult* query_result(std::uint64_t ltime) const;
  /// Answers a user query this node emitted (EventKind::query: ltime, query_id), once, before
  /// its deadline; the response goes to the querier and through its relay factor. Errors:
  /// invalid_argument (unknown, forgotten after kReceivedMax newer ones, or already answered),
  /// rejected (the deadline passed), too_large (the encoded response over kResponseBytesMax,
  /// serf's QueryResponseSizeLimit).
  Result<void> respond(Time now, std::uint64_t ltime, std::uint32_t id,
                       std::span<const std::byte> payload, Effects& fx);
  /// Marks queries past their deadline done.
  void on_timeout(Time now);
  /// The same, and re-asks our queries' silent members when a round is due.
  void on_timeout(Time now, Effects& fx);
  /// The earliest deadline or re-ask round of a query not done (Time::max() when none).
  [[nodiscard]] Time next_deadline() const noexcept;

  [[nodiscard]] std::uint64_t member_clock() const noexcept { return member_clock_; }
  [[nodiscard]] std::uint64_t event_clock() const noexcept { return events_.clock(); }
  [[nodiscard]] std::uint64_t query_clock() const noexcept { return query_clock_; }
  [[nodiscard]] const LayerStats& stats() const noexcept { return stats_; }
  /// A member's serf status time and whether its last intent was a leave (false if unknown).
  [[nodiscard]] bool intent_of(std::string_view name, std::uint64_t& ltime, bool& leaving) const;

 private:
  struct MemberStatus {
    std::uint64_t ltime = 0;
    bool leaving = false;
  };
  /// A user query received and emitted, answerable through respond() until its deadline.
  struct Received {
    std::uint64_t ltime = 0;
    std::uint32_t id = 0;
    wire::ml::IpBytes addr{};
    std::uint16_t port = 0;
    std::string source_node;
    std::uint8_t relay_factor = 0;
    Time deadline;
    bool responded = false;
  };
  struct QuerySlot {
    std::uint64_t ltime = 0;
    std::vector<std::uint32_t> ids;
  };
  // intents (serf_intents.cc)
  bool on_join_intent(const Join& m);
  bool on_leave_intent(const Leave& m);
  MemberStatus* status(std::string_view name);
  // events and queries (serf_queries.cc)
  bool on_user_event(const UserEvent& m, Effects& fx);
  void deliver(const UserEvent& m, Effects& fx);
  bool on_query(Time now, const Query& m, Effects& fx);
  bool query_seen(std::uint64_t ltime, std::uint32_t id);
  [[nodiscard]] bool passes(const Query& m) const;
  void reask(QueryResult& r, Effects& fx);
  Result<void> respond(const Query& m, std::uint32_t flags, std::span<const std::byte> payload,
                       Effects& fx);
  void emit_query(Time now, const Query& m, Effects& fx);
  void answer_internal(const Query& m, Effects& fx);
  void on_query_response(Time now, const QueryResponse& m);
  void on_relay(std::span<const std::byte> body, Effects& fx);
  [[nodiscard]] Duration default_query_timeout() const;
  Result<std::uint64_t> issue(Time now, std::string_view name, std::span<const std::byte> payload,
                              const QueryParams& params, Effects& fx);

  LayerConfig config_;
  Host& host_;
  Rng rng_;
  std::uint64_t member_clock_ = 1;
  std::uint64_t query_clock_ = 1;
  UserEventLog events_;
  RecentEvents recent_;  // sent in our push-pull (serf's Events), for joiners that replay
  bool replay_ = false;
  std::uint64_t event_min_time_ = 0;  // events older were sent before we joined (serf's)
  std::map<std::string, MemberStatus, std::less<>> members_;
  std::vector<QuerySlot> query_slots_;  // allocated on the first query
  std::map<std::uint64_t, QueryResult> pending_;
  std::vector<Received> received_;  // oldest first, at most kReceivedMax
  LayerStats stats_;
  mutable std::vector<HostMember> scratch_;
};

/// Witnesses `v` on a Lamport clock.
inline void witness(std::uint64_t& clock, std::uint64_t v) noexcept {
  if (v >= clock && v != UINT64_MAX) clock = v + 1;
}

}  // namespace grapevine::detail::serf
