// The UI's HTTP server (http_server.h): one thread, one poll loop, non-blocking sockets. A client
// is first a request (its head buffered up to request_bytes_max), then either a response queued
// in `out` and closed once written, or an event stream whose `out` takes published events.
#include "http_server.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "io/socket_util.h"
#include "poll_loop.h"

namespace grapevine::tools {

struct HttpServer::Client {
  io::Fd fd;
  std::string in, out;
  bool responded = false;  // `out` holds the whole response: close once written
  bool stream = false;     // an event stream: `out` takes published events
  bool eof = false;        // the client half-closed after its request: still owed `out`
  bool gone = false;       // remove now
  std::int64_t opened_ms = 0;
  std::int64_t progress_ms = 0;  // when `out` was last empty or last drained a little
  std::int64_t said_ms = 0;      // a stream: when we last queued something for it
};

namespace {

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    default: return status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

std::string response_text(const HttpResponse& r, bool head_only) {
  std::string s = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) +
                  "\r\nContent-Type: " + (r.event_stream ? "text/event-stream" : r.content_type) +
                  "\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                  "Content-Security-Policy: default-src 'self'; img-src 'self' data:\r\n";
  if (r.event_stream) return s + "Connection: keep-alive\r\n\r\n" + (head_only ? "" : r.body);
  s += "Connection: close\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n\r\n";
  return head_only ? s : s + r.body;
}

std::string simple(int status, std::string_view text) {
  HttpResponse r;
  r.status = status;
  r.body = std::string(text) + "\n";
  return response_text(r, false);
}

}  // namespace

HttpServer::HttpServer(Handler handler, HttpOptions options)
    : handler_(std::move(handler)), options_(options) {}

HttpServer::~HttpServer() {
  stop();
}

std::string HttpServer::start(const Address& bind) {
  std::string error;
  auto fd = io::listen_tcp(bind, error);
  if (!fd) return "cannot listen on " + bind.to_string() + ": " + error;
  bound_ = io::local_address(fd->get());
  listen_fd_ = fd->release();
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::thread([this] { loop(); });
  return {};
}

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  if (wake_fd_ >= 0) {
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  clients_.clear();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::lock_guard<std::mutex> lock(mu_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  listen_fd_ = wake_fd_ = -1;
  pending_.clear();
}

void HttpServer::publish(std::string_view name, std::string_view data) {
  if (stats_.streams_open.load() == 0) return;
  std::string text = "event: ";
  text.append(name).append("\ndata: ");
  for (char c : data) text.push_back(c == '\n' || c == '\r' ? ' ' : c);
  text += "\n\n";
  std::lock_guard<std::mutex> lock(mu_);
  if (wake_fd_ < 0 || stopping_.load()) return;
  if (pending_.size() >= kPendingMax) {
    ++stats_.events_dropped;
    return;
  }
  pending_.push_back(std::move(text));
  std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void HttpServer::loop() {
  std::vector<pollfd> fds;
  auto interest = [](const Client& c) -> short {
    // A request's head; afterwards, to see hangups (input is discarded).
    short ev = c.eof ? 0 : POLLIN;
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
    }
    housekeeping(c, now);
  };
  while (!stopping_.load()) {
    const PollRound round = poll_clients(
        wake_fd_, listen_fd_, 500, clients_, fds, interest, [this] { return stopping_.load(); },
        [this] { fan_out(); }, serve);
    if (!round.ok || stopping_.load()) return;
    std::erase_if(clients_, [](const auto& c) { return c->gone; });
    if (round.acceptable) accept_clients();
    std::uint64_t streams = 0;
    for (const auto& c : clients_) streams += c->stream ? 1 : 0;
    stats_.streams_open.store(streams);
    stats_.clients_open.store(clients_.size());
  }
}

// Timeouts, stalls and keepalives of one client.
void HttpServer::housekeeping(Client& c, std::int64_t now) {
  if (c.gone) return;
  if (c.responded && !c.stream && c.out.empty()) {
    c.gone = true;  // response written
    return;
  }
  if (!c.responded && now - c.opened_ms > options_.request_timeout_ms) {
    ++stats_.timeouts;  // said too little, too slowly
    c.gone = true;
    return;
  }
  if (!c.out.empty() && now - c.progress_ms > options_.output_stall_ms) {
    ++stats_.slow_clients_dropped;  // takes nothing we send: its slot goes back
    c.gone = true;
    return;
  }
  if (c.stream && now - c.said_ms > options_.keepalive_ms) {
    c.out += ": keepalive\n\n";
    c.said_ms = now;
    write_client(c);
  }
}

void HttpServer::accept_clients() {
  accept_bounded(
      listen_fd_, options_.clients_max, simple(503, "too many clients; try again later"),
      [this] { return clients_.size(); }, [this] { ++stats_.clients_refused; },
      [this](int fd) {
        auto c = std::make_unique<Client>();
        c->fd = io::Fd(fd);
        c->opened_ms = c->progress_ms = c->said_ms = steady_ms();
        clients_.push_back(std::move(c));
      });
}

void HttpServer::read_client(Client& c) {
  char chunk[4096];
  for (;;) {
    ssize_t n = ::recv(c.fd.get(), chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n == 0 && c.responded && !c.stream) {  // half-closed after its request: still answer
      c.eof = true;
      break;
    }
    if (n <= 0) {  // hung up or failed
      c.gone = true;
      return;
    }
    if (c.responded) continue;  // anything after the head is not ours to keep
    c.in.append(chunk, std::size_t(n));
    std::size_t end = c.in.find("\r\n\r\n");
    std::size_t skip = 4;
    if (end == std::string::npos) {
      end = c.in.find("\n\n");
      skip = 2;
    }
    if (end != std::string::npos && end + skip <= options_.request_bytes_max) {
      const std::string head = c.in.substr(0, end + skip);
      c.in.clear();
      respond(c, head);
    } else if (c.in.size() > options_.request_bytes_max) {
      ++stats_.bad_requests;
      c.in.clear();
      c.out = simple(431, "request head too large");
      c.responded = true;
    }
  }
  if (!c.out.empty()) write_client(c);
}

void HttpServer::respond(Client& c, std::string_view head) {
  c.responded = true;
  HttpRequest req;
  if (!parse_http_request(head, req)) {
    ++stats_.bad_requests;
    c.out = simple(400, "malformed request");
    return;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    ++stats_.bad_requests;
    c.out = simple(405, "only GET");
    return;
  }
  ++stats_.requests;
  HttpResponse r;
  try {
    r = handler_(req);
  } catch (const std::exception& e) {
    r = HttpResponse{};
    r.status = 503;
    r.body = std::string(e.what()) + "\n";
  }
  const bool head_only = req.method == "HEAD";
  c.out = response_text(r, head_only);
  if (r.event_stream && !head_only) {
    c.stream = true;
    c.said_ms = steady_ms();
    // Keep what the kernel holds for a stream modest, so stream_bytes_max decides when a client
    // is too far behind.
    int sndbuf = 64 << 10;
    ::setsockopt(c.fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    stats_.streams_open.fetch_add(1);  // publish() starts queueing now (recounted by the loop)
  }
}

void HttpServer::write_client(Client& c) {
  if (!send_queued(c.fd.get(), c.out)) c.gone = true;
}

void HttpServer::fan_out() {
  std::deque<std::string> events;
  {
    std::lock_guard<std::mutex> lock(mu_);
    events.swap(pending_);
  }
  if (events.empty()) return;
  const std::int64_t now = steady_ms();
  for (auto& c : clients_) {
    if (!c->stream || c->gone) continue;
    for (const auto& e : events) {
      if (c->out.size() + e.size() > options_.stream_bytes_max) {
        ++stats_.slow_clients_dropped;  // too far behind: dropped, not left to grow
        c->gone = true;
        break;
      }
      c->out += e;
    }
    c->said_ms = now;
    if (!c->gone) write_client(*c);
  }
}

}  // namespace grapevine::tools
