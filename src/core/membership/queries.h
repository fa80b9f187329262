// QueryTable: the state of serf's queries (serf 0.9.4 query.go, serf.go Query/handleQuery/
// handleQueryResponse; service-layer.md) in a membership machine, native dialect.
//
// Algorithm, as serf: a query takes the query Lamport clock's time (a clock of its own, beside
// the user events'), spreads through the membership's piggybacked broadcasts and is re-broadcast
// by every member on first sight; copies are recognised by (Lamport time, querier, id) in a
// 512-slot buffer (UserEventLog) and dropped. A member that passes the filters (node names;
// every tag filter's regex found in its tag's value) sends an ack if asked, then may respond
// once before its deadline (receipt + the query's timeout): straight to the querier, and through
// `relay_factor` random other members (a relay frame that member forwards). The querier holds
// the query until its deadline, keeps the first ack and the first response of each member and
// drops the rest as duplicates; at the deadline it raises `query_done` and forgets it.
//
// Deviations from serf: every table is bounded (kQueriesPendingMax own queries,
// kQueriesReceivedMax answerable ones: the oldest is forgotten, and can no longer be answered);
// regexes (at most kQueryRegexBytesMax) go through util/tag_regex.h: RE2, as serf's, where the
// host installed it, literal patterns only otherwise; a regex that does not compile filters the
// member out. Members are identified by id and name.
// The querier's own answer (it handles its own query, as serf's) is taken locally, not sent.
//
// Re-ask (ours; serf has none): gossip alone can miss a member of a small group. A holder
// piggybacks a query on at most retransmit_mult x ceil(log10(n + 1)) datagrams (2 with the local
// profile up to 9 members), which probes and acks may all spend on the same peer; in the
// simulator 3 members with the local profile missed one in 2 of 300 queries, 9 members in 203
// of 300 (tests/sim/query_reach_test.cc). So the querier, which knows its member list, sends the
// query again, as is (same Lamport time and id: a member that has it drops the copy as a
// duplicate, serf's rule too), one datagram each with nothing piggybacked, to every live member
// that passes the query's filters as the querier knows its name and tags and has neither acked
// nor answered: at 1/4 and again at 1/2 of the timeout (kQueryReaskRounds), at most
// kQueryReaskMembersMax members a round (a random choice among more). A member that receives
// it then answers and re-gossips it as on first sight. Cost: nothing when every member answered
// by then; otherwise at most 2 x 32 datagrams of one query (<= 1 KiB each) per query. A member
// that got the query but whose answer was lost is asked again and drops the copy (the relays
// are for lost answers).
#pragma once

#include <cstdint>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/membership.h"
#include "grapevine/time.h"
#include "core/membership/user_events.h"

namespace grapevine::detail {

/// Re-ask rounds of a query (at 1/4 and 1/2 of its timeout), and members re-asked per round.
inline constexpr std::uint32_t kQueryReaskRounds = 2;
inline constexpr std::uint32_t kQueryReaskMembersMax = 32;

struct QueryTable {
  /// A query this node issued, gathering answers until `deadline`.
  struct Pending {
    std::uint64_t ltime = 0;
    std::uint32_t id = 0;
    Time deadline{};
    std::vector<NodeId> acks, responses;  // members heard from (duplicates dropped)
    // Re-ask: the next round (Time::max(): none left), the time between rounds, the rounds
    // left, the encoded query (one message, re-sent as is) and its filters (wire::QueryFrame's).
    Time reask_at = Time::max();
    Duration reask_step{};
    std::uint32_t reasks_left = 0;
    std::vector<std::byte> message, filters;
    std::uint32_t filter_count = 0;
  };
  /// A query this node received and may still answer.
  struct Received {
    std::uint64_t ltime = 0;
    std::uint32_t id = 0;
    NodeId querier = 0;
    Address querier_address;
    Time deadline{};
    std::uint8_t relay_factor = 0;
    bool responded = false;
  };

  UserEventLog log;  // the query clock and the recent-query buffer
  std::vector<Pending> pending;
  std::vector<Received> received;  // oldest first

  [[nodiscard]] Pending* find_pending(std::uint64_t ltime, std::uint32_t id) noexcept;
  [[nodiscard]] Received* find_received(std::uint64_t ltime, std::uint32_t id) noexcept;
  void remember(const Received& r);
  /// The earliest pending deadline or re-ask round (Time::max() when none).
  [[nodiscard]] Time next_deadline() const noexcept;
};

}  // namespace grapevine::detail
