// The agent's RPC server (rpc.h): one thread, one poll loop, non-blocking sockets. Each client
// has an input buffer (cut into request lines, each at most request_bytes_max) and an output
// queue (at most output_bytes_max: a monitor client further behind is dropped; an ordinary
// client is simply not read from until it has taken its responses). Events published on the
// EventHub by the runtime's thread wake the loop through an eventfd and are queued to every
// monitor client.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>

#include "io/socket_util.h"
#include "poll_loop.h"
#include "rpc.h"

namespace grapevine::tools {

struct RpcServer::Client {
  io::Fd fd;
  std::string in, out;
  bool monitor = false;
  bool closing = false;  // close once `out` is written (after a refusal or an error)
  bool gone = false;     // remove now
  std::int64_t progress_ms = 0;  // when `out` was last empty or last drained a little
};

namespace {

std::string error_line(const std::string& why) {
  return nlohmann::json{{"ok", false}, {"error", why}}.dump() + "\n";
}

}  // namespace

bool token_equal(std::string_view given, std::string_view expected) noexcept {
  // Every byte of `given` is compared (against expected, cycled), whatever differs first.
  volatile unsigned char diff = given.size() == expected.size() ? 0 : 1;
  if (expected.empty()) return given.empty();
  for (std::size_t i = 0; i < given.size(); ++i) {
    diff = diff | (static_cast<unsigned char>(given[i]) ^
                   static_cast<unsigned char>(expected[i % expected.size()]));
  }
  return diff == 0;
}

// ---- EventHub -------------------------------------------------------------------------------

void EventHub::publish(const std::string& line) {
  if (subscribers_.load() == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (wake_fd_ < 0) return;
  if (pending_.size() >= kPendingMax) {
    if (stats_ != nullptr) ++stats_->events_dropped;
    return;
  }
  pending_.push_back(line);
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void EventHub::attach(int wake_fd, RpcStats* stats) {
  std::lock_guard<std::mutex> lock(mu_);
  wake_fd_ = wake_fd;
  stats_ = stats;
  if (wake_fd < 0) pending_.clear();
}

std::deque<std::string> EventHub::take() {
  std::lock_guard<std::mutex> lock(mu_);
  std::deque<std::string> out;
  out.swap(pending_);
  return out;
}

// ---- RpcServer ------------------------------------------------------------------------------

RpcServer::RpcServer(Handler handler, EventHub& hub, RpcOptions options)
    : handler_(std::move(handler)), hub_(hub), options_(std::move(options)) {}

RpcServer::~RpcServer() {
  stop();
}

std::string RpcServer::start(const Address& bind) {
  std::string error;
  auto fd = io::listen_tcp(bind, error);
  if (!fd) return "cannot listen on " + bind.to_string() + ": " + error;
  bound_ = io::local_address(fd->get());
  listen_fd_ = fd->release();
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  hub_.attach(wake_fd_, &stats_);
  thread_ = std::thread([this] { loop(); });
  return {};
}

void RpcServer::stop() {
  if (stopping_.exchange(true)) return;
  if (wake_fd_ >= 0) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  hub_.attach(-1, nullptr);
  clients_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
}

void RpcServer::loop() {
  std::vector<pollfd> fds;
  auto interest = [this](const Client& c) -> short {
    short ev = 0;
    // Read a client only while its responses are taken (monitor clients: to see hangups).
    if (!c.closing && (c.monitor || (c.out.size() < options_.output_bytes_max &&
                                     c.in.size() <= options_.request_bytes_max))) {
      ev |= POLLIN;
    }
    if (!c.out.empty()) ev |= POLLOUT;
    return ev;
  };
  auto serve = [this](Client& c, short re, std::int64_t now) {
    if (c.out.empty()) c.progress_ms = now;
    if (re & (POLLIN | POLLHUP | POLLERR)) read_client(c);
    if (!c.gone && (re & POLLOUT)) {
      const std::size_t queued = c.out.size();
      write_client(c);
      if (c.out.size() < queued) c.progress_ms = now;
      process_lines(c);  // requests held back while its responses were queued
    }
    if (c.closing && c.out.empty()) c.gone = true;
    if (!c.gone && !c.out.empty() && now - c.progress_ms > options_.output_stall_ms) {
      ++stats_.slow_clients_dropped;  // takes nothing we send: its slot goes back
      c.gone = true;
    }
  };
  while (!stopping_.load()) {
    const PollRound round = poll_clients(
        wake_fd_, listen_fd_, 1000, clients_, fds, interest, [this] { return stopping_.load(); },
        [this] { fan_out(); }, serve);
    if (!round.ok || stopping_.load()) return;
    std::size_t monitors = 0;
    std::erase_if(clients_, [](const auto& c) { return c->gone; });
    for (const auto& c : clients_) monitors += c->monitor ? 1 : 0;
    hub_.set_subscribers(monitors);
    if (round.acceptable) accept_clients();
    stats_.clients_open.store(clients_.size());
  }
}

void RpcServer::accept_clients() {
  accept_bounded(
      listen_fd_, options_.clients_max,
      error_line("too many RPC clients (rpc_clients_max " + std::to_string(options_.clients_max) +
                 "); try again later"),
      [this] { return clients_.size(); }, [this] { ++stats_.clients_refused; },
      [this](int fd) {
        auto c = std::make_unique<Client>();
        c->fd = io::Fd(fd);
        clients_.push_back(std::move(c));
      });
}

void RpcServer::read_client(Client& c) {
  char chunk[16384];
  for (;;) {
    ssize_t n = ::recv(c.fd.get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) {  // hung up or failed: nothing more to say to it
      c.gone = true;
      return;
    }
    if (c.monitor || c.closing) continue;  // a monitor's further lines mean nothing
    c.in.append(chunk, std::size_t(n));
    if (c.in.size() > options_.request_bytes_max + 1) break;  // judged below
  }
  process_lines(c);
}

void RpcServer::process_lines(Client& c) {
  if (c.gone || c.closing || c.monitor) {
    c.in.clear();
    return;
  }
  std::size_t start = 0;
  for (;;) {
    const auto pos = c.in.find('\n', start);
    const std::size_t len = (pos == std::string::npos ? c.in.size() : pos) - start;
    if (len > options_.request_bytes_max) {
      ++stats_.requests_oversized;
      c.out += error_line("request over " + std::to_string(options_.request_bytes_max) +
                          " bytes (rpc_request_bytes_max)");
      c.closing = true;
      c.in.clear();
      return;
    }
    if (pos == std::string::npos || c.closing || c.monitor) break;
    if (c.out.size() >= options_.output_bytes_max) break;  // until the client reads
    handle_line(c, c.in.substr(start, len));
    start = pos + 1;
  }
  c.in.erase(0, start);
  if (c.monitor || c.closing) c.in.clear();
  if (!c.out.empty()) write_client(c);
}

void RpcServer::handle_line(Client& c, const std::string& line) {
  nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
  if (request.is_discarded() || !request.is_object()) {
    c.out += error_line("request must be one JSON object per line");
    return;
  }
  if (!options_.auth.empty()) {
    const auto it = request.find("auth");
    const std::string given = it != request.end() && it->is_string() ? it->get<std::string>() : "";
    if (!token_equal(given, options_.auth)) {
      ++stats_.auth_failures;
      c.out += error_line(given.empty() ? "unauthorized: this agent requires --rpc-auth TOKEN"
                                        : "unauthorized: wrong --rpc-auth token");
      c.closing = true;
      return;
    }
  }
  if (request.value("cmd", "") == "monitor") {
    c.monitor = true;
    // Keep what the kernel holds for a monitor modest (no send-buffer autotuning to 4 MiB), so
    // that output_bytes_max, not the kernel, decides when a client is too far behind.
    int sndbuf = 256 << 10;
    ::setsockopt(c.fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    c.out += "{\"ok\":true}\n";
    hub_.set_subscribers(1);  // at least this one, from now (recounted by the loop)
    return;
  }
  nlohmann::json response;
  try {
    response = handler_(request);
  } catch (const std::exception& e) {
    response = {{"ok", false}, {"error", e.what()}};
  }
  c.out += response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void RpcServer::write_client(Client& c) {
  if (!send_queued(c.fd.get(), c.out)) c.gone = true;
}

void RpcServer::fan_out() {
  std::deque<std::string> lines = hub_.take();
  if (lines.empty()) return;
  for (auto& c : clients_) {
    if (!c->monitor || c->gone) continue;
    for (const auto& l : lines) {
      if (c->out.size() + l.size() + 1 > options_.output_bytes_max) {
        ++stats_.slow_clients_dropped;  // too far behind: dropped, not left to grow
        c->gone = true;
        break;
      }
      c->out += l;
      c->out += '\n';
    }
    if (!c->gone) write_client(*c);
  }
}

std::string render_rpc_metrics(const RpcStats& s) {
  std::string o;
  auto metric = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    o += std::string("# HELP ") + name + ' ' + help + "\n# TYPE " + name + ' ' + type + '\n' +
         name + ' ' + std::to_string(v) + '\n';
  };
  metric("grapevine_rpc_clients", "gauge", "RPC clients connected now.", s.clients_open.load());
  metric("grapevine_rpc_clients_refused_total", "counter",
         "RPC connections refused: rpc_clients_max were connected.", s.clients_refused.load());
  metric("grapevine_rpc_auth_failures_total", "counter",
         "RPC requests without the right rpc_auth token.", s.auth_failures.load());
  metric("grapevine_rpc_requests_oversized_total", "counter",
         "RPC request lines over rpc_request_bytes_max.", s.requests_oversized.load());
  metric("grapevine_rpc_slow_clients_dropped_total", "counter",
         "Monitor clients dropped with rpc_output_bytes_max queued.",
         s.slow_clients_dropped.load());
  metric("grapevine_rpc_events_dropped_total", "counter",
         "Events not queued for monitor clients (10,000 already waiting).",
         s.events_dropped.load());
  return o;
}

}  // namespace grapevine::tools
