#include "io/shared_sockets.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace grapevine::io {

namespace {

// Receive buffer asked for each shared UDP socket: SO_RCVBUFFORCE where allowed (CAP_NET_ADMIN),
// else SO_RCVBUF, which the kernel caps at net.core.rmem_max.
constexpr int kSharedBufferBytes = 16 << 20;
// Accept backlog of the shared listener (the kernel caps it at net.core.somaxconn): it queues
// the connections of every hosted node, where per-node listeners queued 128 each.
constexpr int kSharedBacklog = 65535;
constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(in_pktinfo));

void best_effort_options(int fd) {
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  // Loopback only: nothing from another interface reaches the wildcard bind (unprivileged since
  // Linux 5.7 for an unbound socket; where refused, unroutable traffic is dropped and counted).
  static const char kLo[] = "lo";
  ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, kLo, sizeof kLo);
}

Fd shared_udp(std::uint16_t port, std::string& error) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = std::string("socket(udp): ") + std::strerror(errno);
    return fd;
  }
  best_effort_options(fd.get());
  int one = 1;
  ::setsockopt(fd.get(), IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  int size = kSharedBufferBytes;
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0) {
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  const Address any = Address::ipv4(0, 0, 0, 0, port);
  sockaddr_storage sa;
  const socklen_t len = to_sockaddr(any, sa);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0) {
    error = "bind udp 0.0.0.0:" + std::to_string(port) + ": " + std::strerror(errno);
    return Fd();
  }
  return fd;
}

Fd shared_listener(std::uint16_t port, std::string& error) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = std::string("socket(tcp): ") + std::strerror(errno);
    return fd;
  }
  int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  static const char kLo[] = "lo";
  ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, kLo, sizeof kLo);
  const Address any = Address::ipv4(0, 0, 0, 0, port);
  sockaddr_storage sa;
  const socklen_t len = to_sockaddr(any, sa);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0 ||
      ::listen(fd.get(), kSharedBacklog) != 0) {
    error = "bind tcp 0.0.0.0:" + std::to_string(port) + ": " + std::strerror(errno);
    return Fd();
  }
  return fd;
}

}  // namespace

bool is_loopback_v4(const Address& a) noexcept { return a.family == 4 && a.ip[0] == 127; }

std::unique_ptr<SharedSockets> SharedSockets::open(std::uint16_t port, std::uint32_t udp_count,
                                                   std::string& error) {
  if (udp_count == 0) udp_count = 1;
  // Port 0: the kernel picks a free UDP port, whose TCP twin may be taken; pick again.
  for (int attempt = 0; attempt < 32; ++attempt) {
    auto s = std::unique_ptr<SharedSockets>(new SharedSockets());
    Fd first = shared_udp(port, error);
    if (!first) return nullptr;
    s->port_ = local_address(first.get()).port;
    s->udp_.push_back(std::move(first));
    for (std::uint32_t k = 1; k < udp_count; ++k) {
      Fd more = shared_udp(s->port_, error);
      if (!more) return nullptr;
      s->udp_.push_back(std::move(more));
    }
    s->tcp_ = shared_listener(s->port_, error);
    if (s->tcp_) return s;
    if (port != 0) return nullptr;
  }
  return nullptr;
}

bool SharedSockets::add(std::uint32_t ip, std::uint32_t node) {
  return routes_.emplace(ip, node).second;
}

int SharedSockets::receive(std::size_t k, std::span<std::byte> buf, std::size_t slot_bytes,
                           std::span<Datagram> out) {
  constexpr std::size_t kMax = 64;
  const std::size_t batch = std::min(out.size(), kMax);
  mmsghdr msgs[kMax];
  iovec iov[kMax];
  sockaddr_storage from[kMax];
  alignas(cmsghdr) unsigned char control[kMax][kControlBytes];
  for (std::size_t i = 0; i < batch; ++i) {
    iov[i] = iovec{buf.data() + i * slot_bytes, slot_bytes};
    std::memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = control[i];
    msgs[i].msg_hdr.msg_controllen = kControlBytes;
  }
  const int got = ::recvmmsg(udp_[k].get(), msgs, unsigned(batch), MSG_DONTWAIT, nullptr);
  for (int i = 0; i < got; ++i) {
    Datagram& d = out[std::size_t(i)];
    d.to_ip = 0;  // no IP_PKTINFO: routed nowhere (counted by the caller)
    for (cmsghdr* c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c != nullptr;
         c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
      if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO) continue;
      in_pktinfo info;
      std::memcpy(&info, CMSG_DATA(c), sizeof info);
      d.to_ip = ntohl(info.ipi_addr.s_addr);
    }
    d.from = from_sockaddr(from[i]);
    d.length = msgs[i].msg_len;
  }
  return std::max(got, 0);
}

int SharedSockets::send_from(const Address& from, mmsghdr* msgs, unsigned n) {
  alignas(cmsghdr) unsigned char control[kControlBytes] = {};
  msghdr probe{};  // only to lay the cmsg out with the macros
  probe.msg_control = control;
  probe.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&probe);
  c->cmsg_level = IPPROTO_IP;
  c->cmsg_type = IP_PKTINFO;
  c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
  in_pktinfo info{};
  info.ipi_spec_dst.s_addr = htonl(from.ipv4_u32());  // the source address
  std::memcpy(CMSG_DATA(c), &info, sizeof info);
  for (unsigned i = 0; i < n; ++i) {  // read-only for the kernel: one buffer serves all
    msgs[i].msg_hdr.msg_control = control;
    msgs[i].msg_hdr.msg_controllen = sizeof control;
  }
  return ::sendmmsg(udp_[0].get(), msgs, n, 0);
}

}  // namespace grapevine::io
