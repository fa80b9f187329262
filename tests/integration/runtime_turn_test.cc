// The runtime loop's turn order (src/io/runtime.cc, Runtime::Impl::run): a turn serves every
// ready descriptor before it fires timers, even when more are ready than one epoll_wait returns
// (256). Before, a turn served one batch and then fired every due timer, so with a thousand
// nodes in one process acks waited turns in their sockets while probes timed out (the 1,000-node
// demo join that never converged; docs/performance.md, "Toward 10,000 nodes"). Real sockets on
// 127.0.0.1, kernel-picked ports; one turn of the loop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "live_cluster.h"

namespace grapevine::testing {
namespace {

// One 8-byte junk datagram to each address (counted in IoStats::datagrams_in, then dropped as
// malformed), from one socket; loopback delivers it before sendto returns.
void send_one_each(const std::vector<Address>& to) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  const char junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (const Address& a : to) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(a.port);
    std::memcpy(&sa.sin_addr, a.ip.data(), 4);
    ::sendto(fd, junk, sizeof junk, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  ::close(fd);
}

TEST(RuntimeTurn, ServesEveryReadySocketBeforeTimersAndPostedTasks) {
  // Over one epoll_wait batch (256) of ready sockets, and 2 descriptors a node stay under the
  // common soft RLIMIT_NOFILE of 1,024 even where the runtime cannot raise it.
  constexpr std::uint32_t kNodes = 400;
  Runtime rt;
  std::vector<NodeHandle*> nodes;
  std::vector<Address> addrs;
  for (std::uint32_t i = 0; i < kNodes; ++i) {
    auto r = rt.add_node(fast_local_config(), Address::ipv4(127, 0, 0, 1, 0), {});
    ASSERT_TRUE(r) << "node " << i << ": " << r.error().detail;
    nodes.push_back(*r);
    addrs.push_back((*r)->address());
  }
  send_one_each(addrs);
  // A posted task runs at the end of the turn that saw its wake-up, after that turn's input
  // and timers: by then every node must have read its datagram.
  std::uint32_t served = 0;
  bool ran = false;
  rt.post([&] {
    if (ran) return;
    ran = true;
    for (NodeHandle* n : nodes) served += n->io_stats().datagrams_in >= 1 ? 1 : 0;
    rt.stop();
  });
  rt.run_for(Duration::seconds(5));
  ASSERT_TRUE(ran);
  EXPECT_EQ(served, kNodes);
}

}  // namespace
}  // namespace grapevine::testing
