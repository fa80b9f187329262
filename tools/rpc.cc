#include "rpc.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "io/socket_util.h"

namespace grapevine::tools {
namespace {

constexpr std::size_t kLineBytesMax = 1 << 20;

bool write_all(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return false;
    }
    off += std::size_t(n);
  }
  return true;
}

// Reads one '\n'-terminated line (without it); false on EOF, error or an oversized line.
bool read_line(int fd, std::string& buffer, std::string& line) {
  for (;;) {
    auto pos = buffer.find('\n');
    if (pos != std::string::npos) {
      line = buffer.substr(0, pos);
      buffer.erase(0, pos + 1);
      return true;
    }
    if (buffer.size() > kLineBytesMax) return false;
    char chunk[4096];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, std::size_t(n));
  }
}

int listen_blocking(const Address& bind, std::string& error) {
  sockaddr_storage sa;
  socklen_t len = io::to_sockaddr(bind, sa);
  int fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0 || ::listen(fd, 16) != 0) {
    error = "cannot listen on " + bind.to_string() + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

int connect_blocking(const Address& to) {
  sockaddr_storage sa;
  socklen_t len = io::to_sockaddr(to, sa);
  int fd = ::socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot reach the agent at " + to.to_string() + " (" + why +
                             "); is `grapevine agent` running with this --rpc-addr?");
  }
  return fd;
}

}  // namespace

// ---- EventHub -------------------------------------------------------------------------------

void EventHub::publish(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(subs_, [](const auto& w) { return w.expired(); });
  for (auto& w : subs_) {
    if (auto s = w.lock()) {
      std::lock_guard<std::mutex> l(s->mu);
      if (s->lines.size() < 10000) s->lines.push_back(line);  // a stuck client loses lines
      s->cv.notify_one();
    }
  }
}

std::shared_ptr<EventHub::Subscriber> EventHub::subscribe() {
  auto s = std::make_shared<Subscriber>();
  std::lock_guard<std::mutex> lock(mu_);
  subs_.push_back(s);
  return s;
}

void EventHub::close_all() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& w : subs_) {
    if (auto s = w.lock()) {
      std::lock_guard<std::mutex> l(s->mu);
      s->closed = true;
      s->cv.notify_one();
    }
  }
}

// ---- RpcServer ------------------------------------------------------------------------------

RpcServer::~RpcServer() {
  stop();
}

std::string RpcServer::start(const Address& bind) {
  std::string error;
  listen_fd_ = listen_blocking(bind, error);
  if (listen_fd_ < 0) return error;
  acceptor_ = std::thread([this] { accept_loop(); });
  return {};
}

void RpcServer::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  hub_.close_all();
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  std::vector<std::thread> clients;
  {
    std::lock_guard<std::mutex> lock(mu_);
    clients.swap(clients_);
  }
  for (auto& t : clients) t.detach();  // blocked on their clients; the process is exiting
}

void RpcServer::accept_loop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    clients_.emplace_back([this, fd] { serve(fd); });
  }
}

void RpcServer::serve(int fd) {
  std::string buffer, line;
  while (read_line(fd, buffer, line)) {
    nlohmann::json request = nlohmann::json::parse(line, nullptr, false);
    if (request.is_discarded() || !request.is_object()) {
      write_all(fd, R"({"ok":false,"error":"request must be one JSON object per line"})"
                    "\n");
      continue;
    }
    if (request.value("cmd", "") == "monitor") {
      auto sub = hub_.subscribe();
      write_all(fd, R"({"ok":true})"
                    "\n");
      for (;;) {
        std::unique_lock<std::mutex> lock(sub->mu);
        sub->cv.wait(lock, [&] { return sub->closed || !sub->lines.empty(); });
        if (sub->closed) break;
        std::string out = std::move(sub->lines.front());
        sub->lines.pop_front();
        lock.unlock();
        if (!write_all(fd, out + "\n")) break;
      }
      break;
    }
    nlohmann::json response;
    try {
      response = handler_(request);
    } catch (const std::exception& e) {
      response = {{"ok", false}, {"error", e.what()}};
    }
    if (!write_all(fd,
                   response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"))
      break;
  }
  ::close(fd);
}

// ---- MetricsServer --------------------------------------------------------------------------

MetricsServer::~MetricsServer() {
  stop();
}

std::string MetricsServer::start(const Address& bind) {
  std::string error;
  listen_fd_ = listen_blocking(bind, error);
  if (listen_fd_ < 0) return error;
  thread_ = std::thread([this] {
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) continue;
        return;
      }
      // A client that connects and says nothing must not hold the (single) metrics thread, nor
      // keep the agent from exiting: give up on it after a short while.
      timeval tv{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      // Read the whole request head (up to the empty line): closing with unread request bytes
      // makes the kernel answer with a reset, and the client may lose the response.
      std::string buffer, line;
      bool complete = false;
      for (int lines = 0; lines < 100 && read_line(fd, buffer, line); ++lines) {
        if (line.empty() || line == "\r") {
          complete = true;
          break;
        }
      }
      if (!complete) {
        ::close(fd);
        continue;
      }
      std::string status = "200 OK", body;
      try {
        body = render_();
      } catch (const std::exception& e) {  // the agent's loop is gone (it is exiting)
        status = "503 Service Unavailable";
        body = std::string(e.what()) + "\n";
      }
      std::string head = "HTTP/1.1 " + status +
                         "\r\nContent-Type: text/plain; version=0.0.4\r\n"
                         "Connection: close\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n";
      write_all(fd, head + body);
      ::close(fd);
    }
  });
  return {};
}

void MetricsServer::stop() {
  if (stopping_) return;
  stopping_ = true;
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

// ---- client ---------------------------------------------------------------------------------

nlohmann::json rpc_call(const Address& agent, const nlohmann::json& request) {
  int fd = connect_blocking(agent);
  std::string buffer, line;
  bool ok = write_all(fd, request.dump() + "\n") && read_line(fd, buffer, line);
  ::close(fd);
  if (!ok) throw std::runtime_error("the agent at " + agent.to_string() + " closed the connection");
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error("the agent sent a malformed response");
  return j;
}

void rpc_stream(const Address& agent, const nlohmann::json& request,
                const std::function<void(const nlohmann::json&)>& on_line) {
  int fd = connect_blocking(agent);
  timeval none{0, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);  // monitor waits forever
  std::string buffer, line;
  if (!write_all(fd, request.dump() + "\n")) {
    ::close(fd);
    throw std::runtime_error("the agent closed the connection");
  }
  while (read_line(fd, buffer, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) on_line(j);
  }
  ::close(fd);
}

}  // namespace grapevine::tools
