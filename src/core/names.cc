// Names of enums, for logs, JSON and the command line.
#include <cstring>

#include "grapevine/event.h"
#include "grapevine/multicast.h"
#include "grapevine/result.h"

namespace grapevine {

const char* errc_name(Errc code) noexcept {
  switch (code) {
    case Errc::truncated: return "truncated";
    case Errc::malformed: return "malformed";
    case Errc::too_large: return "too_large";
    case Errc::unsupported_version: return "unsupported_version";
    case Errc::unknown_type: return "unknown_type";
    case Errc::no_space: return "no_space";
    case Errc::invalid_argument: return "invalid_argument";
    case Errc::not_ready: return "not_ready";
    case Errc::io: return "io";
    case Errc::rejected: return "rejected";
  }
  return "unknown";
}

const char* event_kind_name(EventKind kind) noexcept {
  switch (kind) {
    case EventKind::delivered: return "delivered";
    case EventKind::joined: return "joined";
    case EventKind::suspected: return "suspected";
    case EventKind::failed: return "failed";
    case EventKind::left: return "left";
    case EventKind::alive: return "alive";
    case EventKind::updated: return "updated";
    case EventKind::view_changed: return "view_changed";
    case EventKind::view_stalled: return "view_stalled";
    case EventKind::state_changed: return "state_changed";
    case EventKind::replaced: return "replaced";
    case EventKind::conflict: return "conflict";
    case EventKind::user_event: return "user_event";
    case EventKind::query: return "query";
    case EventKind::query_ack: return "query_ack";
    case EventKind::query_response: return "query_response";
    case EventKind::query_done: return "query_done";
  }
  return "unknown";
}

const char* state_op_name(StateOp op) noexcept {
  switch (op) {
    case StateOp::set: return "set";
    case StateOp::update: return "update";
    case StateOp::erase: return "delete";
  }
  return "unknown";
}

namespace {
constexpr const char* kProtocolNames[] = {"push",        "pull",     "pushpull",
                                          "centralized", "tree-ack", "tree-nack"};
constexpr const char* kStopRuleNames[] = {"none", "rounds", "infect-and-die", "counter", "coin"};
}  // namespace

const char* protocol_name(MulticastProtocolKind kind) noexcept {
  return kProtocolNames[static_cast<int>(kind)];
}

bool parse_protocol(const char* text, MulticastProtocolKind& out) noexcept {
  for (int i = 0; i < 6; ++i) {
    if (std::strcmp(text, kProtocolNames[i]) == 0) {
      out = static_cast<MulticastProtocolKind>(i);
      return true;
    }
  }
  return false;
}

const char* stop_rule_name(StopRule rule) noexcept {
  return kStopRuleNames[static_cast<int>(rule)];
}

bool parse_stop_rule(const char* text, StopRule& out) noexcept {
  for (int i = 0; i < 5; ++i) {
    if (std::strcmp(text, kStopRuleNames[i]) == 0) {
      out = static_cast<StopRule>(i);
      return true;
    }
  }
  return false;
}

}  // namespace grapevine
