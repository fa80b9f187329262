// The runtime's shared sockets (RuntimeOptions::shared_sockets, io/shared_sockets.h): every
// hosted node on its own 127.0.0.0/8 address behind a few UDP sockets and one listener;
// datagrams and connections routed to the node their destination address names.
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "io/runtime_hosted.h"

namespace grapevine {

using namespace runtime_detail;

Result<Address> Runtime::Impl::share_address(const Address& bind, std::uint32_t index) {
  if (!io::is_loopback_v4(bind)) {
    return make_error(Errc::invalid_argument,
                      "shared sockets host IPv4 addresses in 127.0.0.0/8 only");
  }
  if (!shared_) {
    std::string error;
    shared_ = io::SharedSockets::open(bind.port, options_.shared_udp_sockets, error);
    if (!shared_) {
      log(LogLevel::warn, "cannot open the shared sockets: " + error);
      return make_error(Errc::io, "cannot bind the shared sockets (port in use?)");
    }
    for (std::size_t k = 0; k < shared_->udp_count(); ++k) {
      watch(shared_->udp(k), tag(kSharedUdp, k), EPOLLIN);
    }
    watch(shared_->listener(), tag(kSharedListener, 0), EPOLLIN);
  }
  if (bind.port != 0 && bind.port != shared_->port()) {
    return make_error(Errc::invalid_argument, "shared sockets: every node on the same port");
  }
  if (!shared_->add(bind.ipv4_u32(), index)) {
    const std::uint32_t holder = shared_->find(bind.ipv4_u32());
    if (nodes_[holder] != nullptr && nodes_[holder]->running_) {
      return make_error(Errc::invalid_argument, "shared sockets: address already hosted");
    }
    shared_->remove(bind.ipv4_u32());  // a crashed node's address is free again
    shared_->add(bind.ipv4_u32(), index);
  }
  Address addr = bind;
  addr.port = shared_->port();
  return addr;
}

// Every hosted node's datagrams arrive here: each goes to the node its destination address
// names; each node that got some then sends, re-arms and delivers once (after_call), as after
// a recvmmsg batch of its own socket.
void Runtime::Impl::read_shared_udp(std::size_t k) {
  io::SharedSockets::Datagram got[64];
  const std::span<io::SharedSockets::Datagram> slots(got, options_.batch);
  for (int rounds = 0; rounds < kSharedReadRoundsMax; ++rounds) {
    const int count = shared_->receive(k, recv_buf_, kRecvBytes, slots);
    if (count <= 0) break;
    const Time now = Runtime::now(), node_now = this->node_now();
    for (int i = 0; i < count; ++i) {
      const io::SharedSockets::Datagram& d = got[i];
      const std::uint32_t index = shared_->find(d.to_ip);
      if (index == UINT32_MAX || nodes_[index] == nullptr || !nodes_[index]->running_) {
        ++shared_->unroutable_datagrams;
        continue;
      }
      Hosted& n = *nodes_[index];
      if (!guards_[index].admit_datagram(d.from, now, n.io_)) continue;  // before parsing
      n.on_datagram(node_now, d.from,
                    std::span<const std::byte>(recv_buf_.data() + std::size_t(i) * kRecvBytes,
                                               d.length));
      touched_.push_back(index);
    }
    std::sort(touched_.begin(), touched_.end());
    touched_.erase(std::unique(touched_.begin(), touched_.end()), touched_.end());
    for (std::uint32_t index : touched_) {
      if (nodes_[index] != nullptr) nodes_[index]->after_call();
    }
    touched_.clear();
    if (std::uint32_t(count) < options_.batch) break;
  }
}

// Connections to any hosted node: each goes to the node its local address names.
void Runtime::Impl::accept_shared() {
  for (int i = 0; i < kSharedAcceptsMax; ++i) {
    sockaddr_storage sa{};
    socklen_t len = sizeof sa;
    const int fd = ::accept4(shared_->listener(), reinterpret_cast<sockaddr*>(&sa), &len,
                             SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    const std::uint32_t index = shared_->find(io::local_address(fd).ipv4_u32());
    if (index == UINT32_MAX || nodes_[index] == nullptr || !nodes_[index]->running_) {
      ++shared_->unroutable_streams;
      const linger reset{1, 0};  // a reset, as a closed port refuses a connection
      ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      ::close(fd);
      continue;
    }
    adopt_inbound(*nodes_[index], fd, io::from_sockaddr(sa));
  }
}

}  // namespace grapevine
