// Agent-side event handlers, as serf's agent (serf 0.9.4 cmd/serf/command/agent/
// event_handler.go, invoke.go; service-layer.md): `--event-handler [FILTER=]SCRIPT` runs SCRIPT
// for each event FILTER matches, with serf's environment and stdin, so serf handler scripts run
// unchanged.
//
// Filters (comma-separated; none = `*`): member-join, member-leave, member-failed, member-update,
// member-reap, user, user:NAME, query, query:NAME, `*`.
// Environment: SERF_EVENT / GRAPEVINE_EVENT (member-join..., user, query), SERF_SELF_NAME,
// SERF_SELF_ROLE (this node's `role` tag), SERF_TAG_<KEY> for each of this node's tags (key
// upper-cased), SERF_USER_EVENT + SERF_USER_LTIME (user events), SERF_QUERY_NAME +
// SERF_QUERY_LTIME (queries); every SERF_ variable also as GRAPEVINE_.
// Stdin: member events one line per member, "NAME\tIP\tROLE\tK=V,K=V\n" (serf's); user events
// and queries their payload.
//
// Threading: the agent's loop thread calls submit() (cheap: a copy into a bounded queue); one
// worker thread coalesces (coalescer.h) and runs the scripts one after another in order, each
// with a timeout and an output bound. A failure is logged and counted, never blocking the node.
// Deviation from serf: the queue is bounded (events_queue_max); beyond it events are dropped and
// counted instead of blocking the node.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "coalescer.h"
#include "grapevine/event.h"
#include "grapevine/tags.h"
#include "grapevine/time.h"

namespace grapevine::tools {

/// One filter of a handler: type "member-join"... "user", "query" or "*"; name for user:NAME
/// and query:NAME (empty = any).
struct HandlerFilter {
  std::string type, name;
};

struct HandlerSpec {
  std::vector<HandlerFilter> filters;
  std::string script;
};

/// "member-join,user:deploy=script.sh" -> filters and script; "script.sh" -> `*`. Throws
/// UsageError naming `flag` for an unknown event type or an empty script.
HandlerSpec parse_handler_spec(const std::string& flag, const std::string& text);
/// Whether `spec` runs for `e`.
bool handler_matches(const HandlerSpec& spec, const HandlerEvent& e);

/// The HandlerEvent of a node event, or nullopt for kinds handlers do not see (suspected, alive,
/// delivered, view changes...). Member kinds: joined -> member-join, left -> member-leave,
/// failed -> member-failed, updated -> member-update, replaced -> member-reap (the old entry).
std::optional<HandlerEvent> handler_event_of(const Event& e);

/// The script's environment (serf's names and GRAPEVINE_ ones) and its stdin.
std::vector<std::pair<std::string, std::string>> handler_env(const std::string& self_name,
                                                             const Tags& self_tags,
                                                             const HandlerEvent& e);
std::string handler_stdin(const HandlerEvent& e);

struct HandlerOptions {
  std::vector<HandlerSpec> handlers;
  std::string self_name;
  Tags self_tags;
  Duration coalesce_period = Duration::seconds(5);   // serf's agent default (member events)
  Duration quiescent_period = Duration::seconds(1);  // serf's agent default
  /// User events sent with coalesce=true: latest per name within this period (0 = off; serf
  /// coalesces them with the same periods as its agent's member events).
  Duration user_coalesce_period = Duration::seconds(5);
  Duration script_timeout = Duration::seconds(30);
  std::size_t output_max = 8192;          // bytes of a script's output kept (serf logs 8 KiB)
  std::size_t query_response_max = 1024;  // serf's QueryResponseSizeLimit
  std::size_t events_queue_max = 1024;
  /// User events with ltime < this are not handled (restored from the snapshot: they were
  /// handled before the restart; serf's eventMinTime).
  std::uint64_t user_event_min_ltime = 0;
};

struct HandlerStats {
  std::atomic<std::uint64_t> events{0}, runs{0}, failures{0}, timeouts{0}, dropped{0},
      coalesced{0}, skipped_old{0};
};

class HandlerRunner {
 public:
  explicit HandlerRunner(HandlerOptions options);
  ~HandlerRunner();  // stops the worker after the scripts already started finish
  HandlerRunner(const HandlerRunner&) = delete;
  HandlerRunner& operator=(const HandlerRunner&) = delete;

  /// Queues a node event (loop thread; copies what it keeps). Returns false if dropped.
  bool submit(const Event& e);
  bool submit(HandlerEvent e);
  /// Answers a query as serf's agent does: every matching handler runs in order, and the first
  /// that succeeds with output answers with its stdout (at most query_response_max bytes);
  /// nullopt when none matches, fails or prints anything. Blocking (runs the
  /// script in the calling thread): call it off the loop thread.
  std::optional<std::string> answer_query(const std::string& name, const std::string& payload,
                                          std::uint64_t ltime);
  /// Whether a `query` handler matches the query `name`.
  [[nodiscard]] bool has_query_handler(const std::string& name) const;
  /// answer_query on the query thread (one at a time, at most events_queue_max / 16 waiting;
  /// false when full), then `done` with the answer there. For the agent's on_query, which must
  /// not block the loop: `done` posts the response back to it.
  bool submit_query(std::string name, std::string payload, std::uint64_t ltime,
                    std::function<void(std::optional<std::string>)> done);
  /// Waits until the queue is empty and nothing is running or coalescing (tests).
  void drain();
  [[nodiscard]] const HandlerStats& stats() const { return stats_; }

 private:
  void worker();
  void run_handlers(const HandlerEvent& e);
  bool run_one(const HandlerSpec& spec, const HandlerEvent& e, std::string* out);

  HandlerOptions opt_;
  HandlerStats stats_;
  Coalescer coalescer_;
  std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<HandlerEvent> queue_;
  bool stop_ = false, busy_ = false;
  std::thread thread_;
  struct QueryJob {
    std::string name, payload;
    std::uint64_t ltime = 0;
    std::function<void(std::optional<std::string>)> done;
  };
  void query_worker();
  std::deque<QueryJob> queries_;
  std::condition_variable query_cv_;
  std::thread query_thread_;
};

}  // namespace grapevine::tools
