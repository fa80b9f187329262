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
// Errors: {"ok":false,"error":"what went wrong"}.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "grapevine/address.h"

namespace grapevine::tools {

/// Fan-out of event lines to every monitoring client. Thread-safe.
class EventHub {
 public:
  struct Subscriber {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::string> lines;
    bool closed = false;
  };
  void publish(const std::string& line);
  std::shared_ptr<Subscriber> subscribe();
  void close_all();

 private:
  std::mutex mu_;
  std::vector<std::weak_ptr<Subscriber>> subs_;
};

/// A small threaded TCP server of JSON lines (one thread per client; local use only).
class RpcServer {
 public:
  using Handler = std::function<nlohmann::json(const nlohmann::json& request)>;
  RpcServer(Handler handler, EventHub& hub) : handler_(std::move(handler)), hub_(hub) {}
  ~RpcServer();
  /// Binds and starts serving; returns an error message, empty on success.
  std::string start(const Address& bind);
  void stop();

 private:
  void accept_loop();
  void serve(int fd);

  Handler handler_;
  EventHub& hub_;
  int listen_fd_ = -1;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> clients_;
  bool stopping_ = false;
};

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

/// Client side: one request, one response. Throws std::runtime_error with an actionable
/// message if the agent cannot be reached.
nlohmann::json rpc_call(const Address& agent, const nlohmann::json& request);
/// Client side: sends `request` and calls `on_line` for each line until the agent closes.
void rpc_stream(const Address& agent, const nlohmann::json& request,
                const std::function<void(const nlohmann::json&)>& on_line);

}  // namespace grapevine::tools
