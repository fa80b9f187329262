// Small POSIX socket helpers for the runtime: address conversion, non-blocking UDP and TCP
// sockets bound to one address. Errors come back as Result with the errno text in `detail`.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

#include "grapevine/address.h"
#include "grapevine/result.h"

namespace grapevine::io {

/// sockaddr for an Address; returns its length.
socklen_t to_sockaddr(const Address& a, sockaddr_storage& out) noexcept;
Address from_sockaddr(const sockaddr_storage& in) noexcept;

/// A file descriptor that closes itself.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept;
  ~Fd();
  [[nodiscard]] int get() const noexcept { return fd_; }
  int release() noexcept {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  explicit operator bool() const noexcept { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

/// A non-blocking UDP socket bound to `bind`, with large buffers.
Result<Fd> bind_udp(const Address& bind, std::string& error);
/// A non-blocking TCP listener on `bind`.
Result<Fd> listen_tcp(const Address& bind, std::string& error);
/// Starts a non-blocking connect; the socket becomes writable when connected (or failed).
/// `from` (optional): the local address to connect from (its port is ignored: the kernel picks
/// one per destination, IP_BIND_ADDRESS_NO_PORT), as shared sockets' nodes do.
Result<Fd> connect_tcp(const Address& to, std::string& error, const Address* from = nullptr);
/// The address a socket is bound to.
Address local_address(int fd) noexcept;
/// Raises RLIMIT_NOFILE to its hard limit (hosting thousands of nodes needs fds).
void raise_fd_limit() noexcept;

}  // namespace grapevine::io
