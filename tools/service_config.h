// The agent's service-layer settings: event handlers, snapshot, seeds by name and retry-join
// (tools/event_handlers.h, tools/snapshot.h, tools/seeds.h, tools/agent_services.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "grapevine/time.h"

namespace grapevine::tools {

struct ServiceConfig {
  /// `[FILTER=]SCRIPT` each (--event-handler, TOML event_handlers).
  std::vector<std::string> event_handlers;
  Duration coalesce_period = Duration::seconds(5);   // serf's agent defaults
  Duration quiescent_period = Duration::seconds(1);
  Duration handler_timeout = Duration::seconds(30);
  /// --snapshot FILE (TOML snapshot); empty = none.
  std::string snapshot;
  /// --join entries that are not IP:PORT (DNS names, SRV names), resolved when joining.
  std::vector<std::string> join_names;
  /// --retry-join seeds (any form), tried until a join succeeds or retry_max attempts.
  std::vector<std::string> retry_join;
  Duration retry_interval = Duration::seconds(30);  // serf's default; the backoff's cap
  std::uint32_t retry_max = 0;                      // 0 = no limit (serf's)
  /// --replay: joins (--join, --retry-join, the snapshot's members) deliver the user events the
  /// seed still buffers (serf's agent -replay; JoinOptions::replay).
  bool replay = false;
};

}  // namespace grapevine::tools
