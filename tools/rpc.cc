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

nlohmann::json rpc_call(const Address& agent, nlohmann::json request, const std::string& auth,
                        int timeout_seconds) {
  if (!auth.empty()) request["auth"] = auth;
  int fd = connect_blocking(agent);
  timeval tv{timeout_seconds, 0};  // a query's answer comes after its timeout
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string buffer, line;
  bool ok = write_all(fd, request.dump() + "\n") && read_line(fd, buffer, line);
  ::close(fd);
  if (!ok) throw std::runtime_error("the agent at " + agent.to_string() + " closed the connection");
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error("the agent sent a malformed response");
  return j;
}

void rpc_stream(const Address& agent, nlohmann::json request,
                const std::function<void(const nlohmann::json&)>& on_line,
                const std::string& auth) {
  if (!auth.empty()) request["auth"] = auth;
  int fd = connect_blocking(agent);
  timeval none{0, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);  // monitor waits forever
  std::string buffer, line;
  if (!write_all(fd, request.dump() + "\n")) {
    ::close(fd);
    throw std::runtime_error("the agent closed the connection");
  }
  bool first = true;
  while (read_line(fd, buffer, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded()) continue;
    if (first && j.is_object() && j.contains("ok") && !j.value("ok", false)) {
      ::close(fd);  // refused (unauthorized, too many clients...): say why
      throw std::runtime_error("agent: " + j.value("error", "refused"));
    }
    first = false;
    on_line(j);
  }
  ::close(fd);
}

}  // namespace grapevine::tools
