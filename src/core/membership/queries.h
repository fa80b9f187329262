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
#pragma once

#include <cstdint>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/membership.h"
#include "grapevine/time.h"
#include "core/membership/user_events.h"

namespace grapevine::detail {

struct QueryTable {
  /// A query this node issued, gathering answers until `deadline`.
  struct Pending {
    std::uint64_t ltime = 0;
    std::uint32_t id = 0;
    Time deadline{};
    std::vector<NodeId> acks, responses;  // members heard from (duplicates dropped)
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
  /// The earliest pending deadline (Time::max() when none).
  [[nodiscard]] Time next_deadline() const noexcept;
};

}  // namespace grapevine::detail
