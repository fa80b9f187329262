// A small, bounded HTTP/1.1 server for the browser UI (tools/ui_server.h): GET only, one
// response per connection (Connection: close), and server-sent event streams.
//
// One thread runs one poll loop over non-blocking sockets: the listener, an eventfd (stop and
// published events) and at most clients_max clients. Every byte a client can make us hold is
// bounded, each limit a named option with a counter (HttpStats):
//   - clients_max connections at once; more get "503" and are closed (clients_refused);
//   - a request head (request line and headers) of at most request_bytes_max bytes; longer:
//     "431" and closed (bad_requests); a head not complete within request_timeout_ms: closed
//     (timeouts); anything but GET/HEAD: "405"; a malformed request line: "400";
//   - an event stream queues at most stream_bytes_max bytes for one client; a client further
//     behind is dropped (slow_clients_dropped), as is one that takes none of its queued output
//     for output_stall_ms; at most kPendingMax published events wait for the loop
//     (events_dropped past it).
// Whatever a client sends after its request head is ignored (never buffered).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "grapevine/address.h"

namespace grapevine::tools {

struct HttpOptions {
  std::uint32_t clients_max = 32;
  std::size_t request_bytes_max = 8192;
  std::int64_t request_timeout_ms = 5000;
  std::size_t stream_bytes_max = std::size_t(1) << 20;
  std::int64_t output_stall_ms = 10000;
  /// An event stream with nothing to say gets a comment line this often (finds dead clients).
  std::int64_t keepalive_ms = 15000;
};

/// Read from any thread.
struct HttpStats {
  std::atomic<std::uint64_t> requests{0}, clients_refused{0}, bad_requests{0}, timeouts{0},
      slow_clients_dropped{0}, events_dropped{0};
  std::atomic<std::uint64_t> clients_open{0}, streams_open{0};
};

struct HttpRequest {
  std::string method;  // "GET" or "HEAD"
  std::string path;    // percent-decoded, without the query
  std::map<std::string, std::string> query;  // percent-decoded ("a=1&b" -> {a:1, b:""})
  std::string host;    // the Host header, as sent ("" when absent)
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  /// Serve an event stream (text/event-stream): `body` is sent first, then every published
  /// event, until the client hangs up or falls behind.
  bool event_stream = false;
};

class HttpServer {
 public:
  /// Runs on the server's thread, one request at a time; an exception answers 500.
  using Handler = std::function<HttpResponse(const HttpRequest&)>;
  explicit HttpServer(Handler handler, HttpOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and starts serving; returns an error message, empty on success.
  std::string start(const Address& bind);
  /// The bound address (the real port when 0 was asked for).
  [[nodiscard]] Address address() const { return bound_; }
  /// Stops the thread and closes every connection. Idempotent.
  void stop();
  /// Sends `event: name` / `data: data` (one line: no '\n' in data) to every event stream.
  /// Thread-safe; a no-op when no stream is open.
  void publish(std::string_view name, std::string_view data);
  [[nodiscard]] const HttpStats& stats() const { return stats_; }

  static constexpr std::size_t kPendingMax = 10000;

 private:
  struct Client;
  void loop();
  void accept_clients();
  void read_client(Client& c);
  void respond(Client& c, std::string_view head);
  void write_client(Client& c);
  void fan_out();
  void housekeeping(Client& c, std::int64_t now_ms);

  Handler handler_;
  HttpOptions options_;
  HttpStats stats_;
  Address bound_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<Client>> clients_;
  std::mutex mu_;  // guards pending_
  std::deque<std::string> pending_;
};

/// Parses a request head (request line + headers, up to the blank line). False if malformed.
/// Exposed for the fuzz target and the unit test.
bool parse_http_request(std::string_view head, HttpRequest& out);

}  // namespace grapevine::tools
