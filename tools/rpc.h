// The agent's local control channel: JSON lines over TCP (default 127.0.0.1:7373, as serf).
// A client sends one request object per line and reads one response object per line; the
// "monitor" request instead streams event objects until the client hangs up.
//
//   {"cmd":"members"}                  -> {"ok":true,"members":[{"name","id","address",
//                                          "state","incarnation","meta"}...]}
//   {"cmd":"join","seeds":["IP:PORT"]} -> {"ok":true}
//   {"cmd":"leave"}                    -> {"ok":true}   (the agent leaves, then exits)
//   {"cmd":"force-leave","name":"N"}   -> {"ok":true}
//   {"cmd":"send","payload":"text"}    -> {"ok":true,"id":"<origin hex>:<seq>"}
//   {"cmd":"info"}                     -> {"ok":true,"name","address","detector","multicast",
//                                          "health_score","stats":{"probes","suspicions",
//                                          "refutations","datagrams_out","datagrams_in",
//                                          "delivered" (multicasts delivered here),"malformed"}}
//   {"cmd":"monitor"}                  -> {"event":"member","kind":"joined",...} ... (stream)
//   {"cmd":"query",...}, {"cmd":"keys",...}: queries and the cluster-wide keyring, query_rpc.h
// Errors: {"ok":false,"error":"what went wrong"}.
//
// Authentication: an agent started with --rpc-auth TOKEN (TOML rpc_auth) answers only requests
// that carry the token in an "auth" field, in every request object (as serf's -rpc-auth, but
// per request rather than per connection, so one-shot clients stay one line):
//   {"cmd":"members","auth":"TOKEN"}   (a monitor request carries it once, in its one line)
// Anything else gets {"ok":false,"error":"unauthorized: ..."} and the connection is closed. The
// token is compared in constant time. Use it with a loopback or otherwise private RPC address:
// the channel itself is not encrypted.
//
// Limits (RpcOptions): clients_max connections at once (more are answered with one error line
// and closed), request_bytes_max per request line (longer: an error line, then closed), and
// output_bytes_max queued for one client (a monitor client that far behind is dropped; a client
// that does not read its responses is not read from until it does, and dropped if it takes
// nothing for output_stall_ms). Each is counted (RpcStats)
// and exported by the agent's /metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "grapevine/address.h"

namespace grapevine::tools {

struct RpcOptions {
  /// Clients connected at once; more are refused with an error line (RpcStats::clients_refused).
  std::uint32_t clients_max = 64;
  /// Longest request line, in bytes (RpcStats::requests_oversized).
  std::size_t request_bytes_max = std::size_t(1) << 20;
  /// Output queued for one client, in bytes: a monitor client further behind is dropped
  /// (RpcStats::slow_clients_dropped).
  std::size_t output_bytes_max = std::size_t(4) << 20;
  /// A client with output queued that takes none of it for this long is dropped
  /// (RpcStats::slow_clients_dropped), so a client that never reads cannot hold its slot.
  std::int64_t output_stall_ms = 10000;
  /// Empty: no token needed. Otherwise every request must carry "auth": this token.
  std::string auth;
};

/// What the RPC server refused or dropped, and how many clients it has. Read from any thread.
struct RpcStats {
  std::atomic<std::uint64_t> clients_refused{0}, auth_failures{0}, requests_oversized{0},
      slow_clients_dropped{0}, events_dropped{0};
  std::atomic<std::uint64_t> clients_open{0};
};

/// True if `given` equals `expected`, in time that depends only on given's length (never on
/// where they differ, nor on expected's content).
bool token_equal(std::string_view given, std::string_view expected) noexcept;

/// Fan-out of event lines to the monitoring clients of one RpcServer. publish() is
/// thread-safe (the runtime's loop calls it); the server's loop takes the lines and queues them
/// to each monitor client. Lines published while nobody monitors are not kept.
class EventHub {
 public:
  /// Queues `line` for the monitor clients (dropped, and counted, past 10,000 waiting lines).
  void publish(const std::string& line);

  // ---- used by RpcServer ----
  /// Where publish() signals new lines (an eventfd), or -1; and the server's stats.
  void attach(int wake_fd, RpcStats* stats);
  void set_subscribers(std::size_t n) { subscribers_.store(n); }
  std::deque<std::string> take();

 private:
  static constexpr std::size_t kPendingMax = 10000;
  std::mutex mu_;
  std::deque<std::string> pending_;
  int wake_fd_ = -1;
  RpcStats* stats_ = nullptr;
  std::atomic<std::size_t> subscribers_{0};
};

/// The RPC server: one thread running one poll loop over non-blocking sockets (the listener, an
/// eventfd for stop and events, and at most clients_max clients), JSON lines in and out.
/// Requests run `handler` on that thread, one at a time (the agent's handler posts to the
/// runtime's loop and waits for it, at most 10 s).
class RpcServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;
  RpcServer(Handler handler, EventHub& hub, RpcOptions options = {});
  ~RpcServer();
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;
  /// Binds and starts serving; returns an error message, empty on success.
  std::string start(const Address& bind);
  /// The bound address (the real port when 0 was asked for).
  [[nodiscard]] Address address() const { return bound_; }
  void stop();
  [[nodiscard]] const RpcStats& stats() const { return stats_; }

 private:
  struct Client;
  void loop();
  void accept_clients();
  void read_client(Client& c);
  void process_lines(Client& c);
  void handle_line(Client& c, const std::string& line);
  void write_client(Client& c);
  void fan_out();

  Handler handler_;
  EventHub& hub_;
  RpcOptions options_;
  RpcStats stats_;
  Address bound_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Client>> clients_;
};

/// Prometheus text for `stats` (appended to the node's metrics by the agent).
std::string render_rpc_metrics(const RpcStats& stats);

/// A tiny HTTP server for Prometheus scrapes: any GET returns `render()` as text/plain.
class MetricsServer {
 public:
  explicit MetricsServer(std::function<std::string()> render) : render_(std::move(render)) {}
  ~MetricsServer();
  std::string start(const Address& bind);
  void stop();

 private:
  std::function<std::string()> render_;
  int listen_fd_ = -1;
  std::thread thread_;
  bool stopping_ = false;
};

/// Client side: one request, one response; `auth` (if not empty) is added as the request's
/// "auth" field. Throws std::runtime_error with an actionable message if the agent cannot be
/// reached.
nlohmann::json rpc_call(const Address& agent, nlohmann::json request, const std::string& auth = {},
                        int timeout_seconds = 10);
/// Client side: sends `request` (with `auth` as rpc_call) and calls `on_line` for each line
/// until the agent closes.
void rpc_stream(const Address& agent, nlohmann::json request,
                const std::function<void(const nlohmann::json&)>& on_line,
                const std::string& auth = {});

}  // namespace grapevine::tools
