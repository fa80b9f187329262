// Shared sockets (RuntimeOptions::shared_sockets): every hosted node on its own loopback address
// 127.a.b.c, all of them on one port P, served by a few UDP sockets and one TCP listener bound to
// 0.0.0.0:P instead of a UDP socket and a TCP listener per node. Ten thousand nodes then hold a
// handful of descriptors, not 20,000 (this machine's RLIMIT_NOFILE hard limit is 20,000, and
// raising it needs CAP_SYS_RESOURCE).
//
// How a datagram finds its node: IP_PKTINFO on receive names the destination address (recvmmsg's
// control data), looked up in the table of hosted addresses. How a node's datagram leaves from
// its own address: sendmmsg with IP_PKTINFO's ipi_spec_dst set to it. How a stream finds its
// node: an accepted connection's local address (getsockname). Outgoing streams bind() to the
// node's address before connect (IP_BIND_ADDRESS_NO_PORT: the port is picked per 4-tuple). A peer
// outside the process sees exactly what it sees from per-node sockets: datagrams and streams from
// 127.a.b.c:P, the address the node advertises.
//
// Limits and choices: IPv4 127.0.0.0/8 only (local on Linux without any setup); the sockets are
// bound to the device "lo" (SO_BINDTODEVICE; where that is refused, what arrives for an address
// no node holds is dropped and counted). Several UDP sockets share the port (SO_REUSEPORT: the
// kernel spreads arriving flows over them) so one socket's receive buffer (net.core.rmem_max, 4
// MiB here) does not bound what ten thousand nodes may have in flight during one loop turn.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/result.h"
#include "io/socket_util.h"

namespace grapevine::io {

/// Is `a` an IPv4 address in 127.0.0.0/8?
bool is_loopback_v4(const Address& a) noexcept;

class SharedSockets {
 public:
  /// One received datagram: its destination (which node) and source, and its length in the
  /// slot receive() filled.
  struct Datagram {
    std::uint32_t to_ip;  // host order
    Address from;
    std::uint32_t length;
  };
  /// Opens `udp_count` (>= 1) UDP sockets and one TCP listener on 0.0.0.0:`port` (0: a port
  /// free for both, picked by the kernel). Returns null with `error` set on failure.
  static std::unique_ptr<SharedSockets> open(std::uint16_t port, std::uint32_t udp_count,
                                             std::string& error);

  [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
  [[nodiscard]] std::size_t udp_count() const noexcept { return udp_.size(); }
  [[nodiscard]] int udp(std::size_t k) const noexcept { return udp_[k].get(); }
  [[nodiscard]] int listener() const noexcept { return tcp_.get(); }

  /// Hosted addresses: `ip` (host order) -> the node's index. add() returns false if taken.
  bool add(std::uint32_t ip, std::uint32_t node);
  void remove(std::uint32_t ip) { routes_.erase(ip); }
  /// The node at `ip`, or UINT32_MAX.
  [[nodiscard]] std::uint32_t find(std::uint32_t ip) const noexcept {
    auto it = routes_.find(ip);
    return it == routes_.end() ? UINT32_MAX : it->second;
  }

  /// Reads up to `out.size()` (<= 64) datagrams from UDP socket `k` without blocking, each into
  /// its slot of `slot_bytes` in `buf` (slot i at i * slot_bytes). Returns how many (0 when
  /// none, or on error).
  int receive(std::size_t k, std::span<std::byte> buf, std::size_t slot_bytes,
              std::span<Datagram> out);
  /// Sends `msgs[0..n)` (n <= 64; addresses and payloads set, no control data) from `from`'s
  /// address as sendmmsg does: returns how many were sent, or -1 with errno set.
  int send_from(const Address& from, mmsghdr* msgs, unsigned n);

  /// Datagrams and streams that arrived for an address no hosted node holds (dropped).
  std::uint64_t unroutable_datagrams = 0;
  std::uint64_t unroutable_streams = 0;

 private:
  std::vector<Fd> udp_;
  Fd tcp_;
  std::uint16_t port_ = 0;
  std::unordered_map<std::uint32_t, std::uint32_t> routes_;  // routing only, never iterated
};

}  // namespace grapevine::io
