// The runtime's limits on what peers can make a node spend (RuntimeOptions; docs/limits.md),
// each shown to bite and to be counted in IoStats, on real sockets on 127.0.0.1 (kernel-picked
// ports; every wait bounded, a second or less each): inbound_streams_max, inbound_stream_bytes_max,
// stream_timeout per stream, allowed_cidrs for datagrams and streams, and the per-source datagram
// rate. Also Cidr parsing and the rate limiter's bounded table (io/inbound_guard.h).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "io/inbound_guard.h"
#include "live_cluster.h"

namespace grapevine::testing {
namespace {

// A blocking TCP connection to `to` (closed on destruction).
class RawConn {
 public:
  explicit RawConn(const Address& to) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(to.port);
    std::memcpy(&sa.sin_addr, to.ip.data(), 4);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
  }
  ~RawConn() { ::close(fd_); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  [[nodiscard]] bool connected() const { return connected_; }
  // Sends up to `n` bytes without blocking (what the kernel takes); a 4-byte big-endian length
  // header announcing `announce` first if asked.
  std::size_t send_some(std::size_t n, std::uint32_t announce = 0) {
    std::vector<std::byte> buf(n + 4, std::byte{0});
    std::size_t off = 4;
    if (announce != 0) {
      const std::uint32_t be = htonl(announce);
      std::memcpy(buf.data(), &be, 4);
      off = 0;
    }
    ssize_t s = ::send(fd_, buf.data() + off, buf.size() - off, MSG_DONTWAIT | MSG_NOSIGNAL);
    return s > 0 ? std::size_t(s) : 0;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

void send_datagrams(const Address& to, int count) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(to.port);
  std::memcpy(&sa.sin_addr, to.ip.data(), 4);
  const char junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  for (int i = 0; i < count; ++i) {
    ::sendto(fd, junk, sizeof junk, 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  }
  ::close(fd);
}

struct OneNode {
  explicit OneNode(const RuntimeOptions& o) : c(1, fast_local_config(), o) {}
  LiveCluster c;
  const IoStats& io() { return c.node(0).io_stats(); }
  Address addr() { return c.node(0).address(); }
  void run(std::int64_t ms) { c.run_for(Duration::milliseconds(ms)); }
};

TEST(RuntimeLimits, InboundStreamsOverTheCapAreClosedAndCounted) {
  RuntimeOptions o;
  o.inbound_streams_max = 4;
  OneNode n(o);
  ASSERT_TRUE(n.c.ok());
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 10; ++i) {
    conns.push_back(std::make_unique<RawConn>(n.addr()));
    ASSERT_TRUE(conns.back()->connected());
  }
  n.c.run_until([&] { return n.io().streams_refused == 6; }, Duration::seconds(2));
  EXPECT_EQ(n.io().streams_refused, 6u);
  EXPECT_EQ(n.io().inbound_streams_open, 4u);
  conns.clear();  // the four held ones hang up: their slots come back
  n.c.run_until([&] { return n.io().inbound_streams_open == 0; }, Duration::seconds(2));
  EXPECT_EQ(n.io().inbound_streams_open, 0u);
  RawConn again(n.addr());
  n.run(100);
  EXPECT_EQ(n.io().inbound_streams_open, 1u);
  EXPECT_EQ(n.io().streams_refused, 6u);
}

TEST(RuntimeLimits, BytesBufferedAcrossInboundStreamsAreBounded) {
  RuntimeOptions o;
  o.inbound_stream_bytes_max = 1 << 20;
  OneNode n(o);
  ASSERT_TRUE(n.c.ok());
  // Four streams each announcing 10 MB and sending up to 512 KiB: together more than 1 MiB.
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 4; ++i) conns.push_back(std::make_unique<RawConn>(n.addr()));
  std::uint64_t peak = 0;
  for (int round = 0; round < 50 && n.io().streams_over_budget < 2; ++round) {
    for (auto& c : conns) c->send_some(64 << 10, round == 0 ? 10000000 : 0);
    n.run(10);
    peak = std::max(peak, n.io().inbound_stream_bytes);
  }
  EXPECT_GE(n.io().streams_over_budget, 2u);
  EXPECT_LE(peak, o.inbound_stream_bytes_max);
  conns.clear();
  n.c.run_until([&] { return n.io().inbound_streams_open == 0; }, Duration::seconds(2));
  EXPECT_EQ(n.io().inbound_stream_bytes, 0u);
}

TEST(RuntimeLimits, AStalledStreamTimesOutOnItsOwnClock) {
  RuntimeOptions o;
  o.stream_timeout = Duration::milliseconds(300);
  OneNode n(o);
  ASSERT_TRUE(n.c.ok());
  RawConn slow(n.addr());
  slow.send_some(2);  // two bytes of a length header, then nothing
  n.run(100);
  EXPECT_EQ(n.io().inbound_streams_open, 1u);
  n.c.run_until([&] { return n.io().streams_timed_out == 1; }, Duration::seconds(2));
  EXPECT_EQ(n.io().streams_timed_out, 1u);
  EXPECT_EQ(n.io().inbound_streams_open, 0u);
}

TEST(RuntimeLimits, AllowedCidrsDropDatagramsAndStreamsFromElsewhere) {
  RuntimeOptions o;
  o.allowed_cidrs = {*Cidr::parse("10.0.0.0/8"), *Cidr::parse("fd00::/8")};
  OneNode n(o);
  ASSERT_TRUE(n.c.ok());
  send_datagrams(n.addr(), 5);
  RawConn conn(n.addr());
  n.c.run_until([&] { return n.io().datagrams_denied == 5 && n.io().streams_denied == 1; },
                Duration::seconds(2));
  EXPECT_EQ(n.io().datagrams_denied, 5u);
  EXPECT_EQ(n.io().datagrams_in, 0u);  // never parsed
  EXPECT_EQ(n.io().streams_denied, 1u);
  EXPECT_EQ(n.io().inbound_streams_open, 0u);
}

TEST(RuntimeLimits, LoopbackAllowedStillJoinsWithSmallBudgets) {
  RuntimeOptions o;
  o.allowed_cidrs = {*Cidr::parse("127.0.0.0/8")};
  o.inbound_streams_max = 2;
  o.inbound_stream_bytes_max = 256 << 10;
  o.datagrams_per_source_per_second = 1000;
  const NodeConfig config = fast_local_config();
  LiveCluster c(3, config, o);
  ASSERT_TRUE(c.ok());
  c.join_all(0);
  EXPECT_TRUE(
      c.run_until([&] { return c.converged(); }, convergence_bound(config.membership, c.size())));
  for (std::size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(c.node(i).io_stats().datagrams_denied, 0u);
    EXPECT_EQ(c.node(i).io_stats().streams_denied, 0u);
  }
}

TEST(RuntimeLimits, DatagramsPerSourceAreRateLimited) {
  RuntimeOptions o;
  o.datagrams_per_source_per_second = 10;
  OneNode n(o);
  ASSERT_TRUE(n.c.ok());
  send_datagrams(n.addr(), 60);
  n.c.run_until([&] { return n.io().datagrams_in + n.io().datagrams_rate_limited == 60; },
                Duration::seconds(2));
  // A burst of 10, plus what refilled while they were read (10 per second: at most a few).
  EXPECT_GE(n.io().datagrams_in, 10u);
  EXPECT_LE(n.io().datagrams_in, 15u);
  EXPECT_EQ(n.io().datagrams_in + n.io().datagrams_rate_limited, 60u);
}

TEST(InboundGuard, RateTableIsBoundedAndRefills) {
  RuntimeOptions o;
  o.datagrams_per_source_per_second = 2;
  o.rate_limited_sources_max = 8;
  io::InboundGuard g(o);
  IoStats io;
  const Time t0 = Time::from_ns(1000000000);
  for (std::uint32_t i = 0; i < 100; ++i) {
    EXPECT_TRUE(g.admit_datagram(Address::ipv4_u32(0x0a000000 + i, 1), t0, io));
  }
  EXPECT_EQ(g.tracked_sources(), 8u);
  const Address a = Address::ipv4(192, 0, 2, 1, 7946);
  EXPECT_TRUE(g.admit_datagram(a, t0, io));
  EXPECT_TRUE(g.admit_datagram(Address::ipv4(192, 0, 2, 1, 9999), t0, io));  // any port: same
  EXPECT_FALSE(g.admit_datagram(a, t0, io));
  EXPECT_EQ(io.datagrams_rate_limited, 1u);
  EXPECT_TRUE(g.admit_datagram(a, t0 + Duration::milliseconds(500), io));  // one refilled
  EXPECT_FALSE(g.admit_datagram(a, t0 + Duration::milliseconds(500), io));
  EXPECT_EQ(g.tracked_sources(), 8u);
}

TEST(Cidr, ParsesAndMatchesIpv4AndIpv6) {
  auto c = Cidr::parse("10.1.2.3/8");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to_string(), "10.0.0.0/8");
  EXPECT_TRUE(c->contains(Address::ipv4(10, 200, 1, 1, 1)));
  EXPECT_FALSE(c->contains(Address::ipv4(11, 0, 0, 1, 1)));
  auto host = Cidr::parse("192.168.1.7");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->prefix_bits, 32);
  EXPECT_TRUE(host->contains(Address::ipv4(192, 168, 1, 7, 5)));
  EXPECT_FALSE(host->contains(Address::ipv4(192, 168, 1, 8, 5)));
  auto odd = Cidr::parse("172.16.0.0/12");
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(Address::ipv4(172, 31, 255, 255, 1)));
  EXPECT_FALSE(odd->contains(Address::ipv4(172, 32, 0, 0, 1)));
  auto all = Cidr::parse("0.0.0.0/0");
  ASSERT_TRUE(all);
  EXPECT_TRUE(all->contains(Address::ipv4(8, 8, 8, 8, 1)));

  auto v6 = Cidr::parse("fd00::/8");
  ASSERT_TRUE(v6);
  auto pa = Address::parse("[fd12::1]:7946");
  auto pb = Address::parse("[fe80::1]:7946");
  ASSERT_TRUE(pa && pb);
  const Address a = *pa, b = *pb;
  EXPECT_TRUE(v6->contains(a));
  EXPECT_FALSE(v6->contains(b));
  EXPECT_FALSE(v6->contains(Address::ipv4(10, 0, 0, 1, 1)));  // families do not mix
  EXPECT_FALSE(c->contains(a));
  Address mapped;  // ::ffff:10.9.8.7, IPv4-mapped: counts as IPv4
  mapped.family = 6;
  mapped.ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 9, 8, 7};
  EXPECT_TRUE(c->contains(mapped));

  for (const char* bad : {"", "10.0.0.0/33", "fd00::/129", "10.0.0/8", "x/8", "10.0.0.0/",
                          "10.0.0.0/8x", "10.0.0.0/-1", "::1/1234"}) {
    EXPECT_FALSE(Cidr::parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace grapevine::testing
