#include "io/socket_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace grapevine::io {

socklen_t to_sockaddr(const Address& a, sockaddr_storage& out) noexcept {
  std::memset(&out, 0, sizeof out);
  if (a.family == 6) {
    auto* s = reinterpret_cast<sockaddr_in6*>(&out);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(a.port);
    std::memcpy(&s->sin6_addr, a.ip.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto* s = reinterpret_cast<sockaddr_in*>(&out);
  s->sin_family = AF_INET;
  s->sin_port = htons(a.port);
  std::memcpy(&s->sin_addr, a.ip.data(), 4);
  return sizeof(sockaddr_in);
}

Address from_sockaddr(const sockaddr_storage& in) noexcept {
  Address a;
  if (in.ss_family == AF_INET6) {
    const auto* s = reinterpret_cast<const sockaddr_in6*>(&in);
    // IPv4-mapped (::ffff:a.b.c.d) is treated as IPv4.
    const auto* b = reinterpret_cast<const std::uint8_t*>(&s->sin6_addr);
    static const std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMapped, 12) == 0) {
      a = Address::ipv4(b[12], b[13], b[14], b[15], ntohs(s->sin6_port));
      return a;
    }
    std::memcpy(a.ip.data(), b, 16);
    a.port = ntohs(s->sin6_port);
    a.family = 6;
    return a;
  }
  if (in.ss_family == AF_INET) {
    const auto* s = reinterpret_cast<const sockaddr_in*>(&in);
    std::memcpy(a.ip.data(), &s->sin_addr, 4);
    a.port = ntohs(s->sin_port);
    a.family = 4;
  }
  return a;
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

Result<Fd> fail(std::string& error, const char* what) {
  error = std::string(what) + ": " + std::strerror(errno);
  return make_error(Errc::io, "socket setup failed");
}

}  // namespace

Result<Fd> bind_udp(const Address& bind, std::string& error) {
  Fd fd(::socket(bind.family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 0));
  if (!fd) return fail(error, "socket(udp)");
  int size = 2 << 20;  // as memberlist: ask for 2 MiB of receive buffer
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  sockaddr_storage sa;
  socklen_t len = to_sockaddr(bind, sa);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    return fail(error, ("bind udp " + bind.to_string()).c_str());
  }
  return fd;
}

Result<Fd> listen_tcp(const Address& bind, std::string& error) {
  Fd fd(::socket(bind.family == 6 ? AF_INET6 : AF_INET,
                 SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return fail(error, "socket(tcp)");
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_storage sa;
  socklen_t len = to_sockaddr(bind, sa);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    return fail(error, ("bind tcp " + bind.to_string()).c_str());
  }
  if (::listen(fd.get(), 128) != 0) return fail(error, "listen");
  return fd;
}

Result<Fd> connect_tcp(const Address& to, std::string& error, const Address* from) {
  Fd fd(::socket(to.family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 0));
  if (!fd) return fail(error, "socket(tcp)");
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_storage sa;
  if (from != nullptr) {
    ::setsockopt(fd.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    Address local = *from;
    local.port = 0;
    const socklen_t local_len = to_sockaddr(local, sa);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), local_len) != 0) {
      return fail(error, ("bind tcp " + local.to_string()).c_str());
    }
  }
  socklen_t len = to_sockaddr(to, sa);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0 && errno != EINPROGRESS) {
    return fail(error, ("connect " + to.to_string()).c_str());
  }
  return fd;
}

Address local_address(int fd) noexcept {
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return from_sockaddr(sa);
}

void raise_fd_limit() noexcept {
  rlimit r{};
  if (::getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &r);
  }
}

}  // namespace grapevine::io
