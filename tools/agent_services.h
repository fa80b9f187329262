// The agent's service layer, glued to a running node: event handlers (event_handlers.h), the
// snapshot and rejoin at start (snapshot.h), seeds by DNS/SRV name and --retry-join (seeds.h).
// Owned by run_agent; on_event() and on_leave() run on the loop thread, joins on a thread of
// ours (DNS lookups block), which reaches the node only through `post`.
#pragma once

#include <CLI/CLI.hpp>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "agent_config.h"
#include "event_handlers.h"
#include "grapevine/runtime.h"
#include "snapshot.h"

namespace grapevine::tools {

/// The service flags of `grapevine agent` (empty = as the TOML file or the default).
struct ServiceFlags {
  std::vector<std::string> event_handlers, retry_join;
  bool replay = false;
  std::string coalesce_period, quiescent_period, handler_timeout, snapshot, retry_interval,
      retry_max;
};
void add_service_flags(CLI::App& cmd, ServiceFlags& f);
/// The flags over the file's values; throws UsageError.
void apply_service_flags(const ServiceFlags& f, AgentConfig& c);

class AgentServices {
 public:
  /// Opens the snapshot (restoring what it holds) and starts the handler worker. Throws
  /// std::runtime_error when the snapshot file cannot be opened.
  explicit AgentServices(const AgentConfig& cfg);
  ~AgentServices();
  /// Loop thread: each node event.
  void on_event(const Event& e);
  /// Loop thread: a clean leave is starting.
  void on_leave();
  /// Starts the joins: seeds by name (--join), the snapshot's members when restored, and the
  /// --retry-join loop. `rt` and `node` must outlive this object.
  void start(Runtime& rt, NodeHandle& node);
  [[nodiscard]] HandlerRunner* handlers() { return handlers_.get(); }
  /// Prometheus lines of the service layer's counters.
  [[nodiscard]] std::string render_metrics() const;

 private:
  bool try_join(const std::vector<std::string>& seeds, const char* why);
  void retry_loop();
  /// Runs `fn` on the loop thread and waits; false when stopping or the loop did not answer.
  bool in_loop(const std::function<void()>& fn);
  /// Sleeps `d` unless stopped; false when stopped.
  bool sleep_for(Duration d);

  const AgentConfig& cfg_;
  SnapshotState restored_;
  std::unique_ptr<Snapshotter> snapshot_;
  std::unique_ptr<HandlerRunner> handlers_;
  Runtime* rt_ = nullptr;
  NodeHandle* node_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread joiner_;
  std::atomic<std::uint64_t> join_attempts_{0}, join_failures_{0};
};

}  // namespace grapevine::tools
