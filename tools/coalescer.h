// Coalescing of handler events, as serf's agent (serf 0.9.4 serf/coalesce.go,
// coalesce_member.go, coalesce_user.go): a pure state machine over a caller-given clock.
//
// Member events: per member the latest event wins (a join then a failure of the same member
// within the window is one member-failed); a batch is flushed when `quiescent` passed with no new
// member event, or `period` passed since the batch's first event, whichever comes first; the
// flush gives one event per type, listing its members (serf's MemberEvent with many members).
// User events sent with coalesce=true: within `user_period` of the first, only the latest (by
// Lamport time) per name is kept; flushed at the period's end. Events with coalesce=false pass
// straight through. A period of zero turns that kind of coalescing off.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "grapevine/time.h"

namespace grapevine::tools {

struct HandlerMember {
  std::string name, ip, role, tags;  // tags "k=v,k=v" (sorted), as serf's stdin line
};

struct HandlerEvent {
  std::string type;  // member-join, member-leave, member-failed, member-update, member-reap,
                     // user, query
  std::vector<HandlerMember> members;  // member events
  std::string name, payload;           // user events and queries
  std::uint64_t ltime = 0;
  bool coalesce = false;
  [[nodiscard]] bool is_member() const { return type.rfind("member-", 0) == 0; }
};

class Coalescer {
 public:
  Coalescer(Duration period, Duration quiescent, Duration user_period)
      : period_(period), quiescent_(quiescent), user_period_(user_period) {}
  /// Takes `e` at `now`: returns it at once when it is not coalesced, else holds it.
  std::optional<HandlerEvent> add(Time now, HandlerEvent e);
  /// The events due at `now` (member batches first, then user events by Lamport time).
  std::vector<HandlerEvent> flush(Time now);
  /// Everything held, regardless of time (shutdown).
  std::vector<HandlerEvent> flush_all();
  /// When flush() next has something to give; Time::max() when nothing is held.
  [[nodiscard]] Time next_deadline() const;
  [[nodiscard]] bool empty() const { return members_.empty() && users_.empty(); }
  /// Events absorbed by a later one so far.
  [[nodiscard]] std::uint64_t coalesced() const { return coalesced_; }

 private:
  std::vector<HandlerEvent> take_members();
  std::vector<HandlerEvent> take_users();

  Duration period_, quiescent_, user_period_;
  std::map<std::string, std::pair<std::string, HandlerMember>> members_;  // name -> (type, m)
  Time member_first_ = Time::zero(), member_last_ = Time::zero();
  std::map<std::string, HandlerEvent> users_;  // name -> latest
  Time user_first_ = Time::zero();
  std::uint64_t coalesced_ = 0;
};

}  // namespace grapevine::tools
