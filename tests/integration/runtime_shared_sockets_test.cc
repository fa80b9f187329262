// Shared sockets (RuntimeOptions::shared_sockets, src/io/shared_sockets.h): nodes on their own
// 127.0.0.0/8 addresses, all on one port, served by a few UDP sockets and one TCP listener. Real
// sockets, a kernel-picked port. Each group here only accepts datagrams and streams from its
// members' exact addresses (allowed_cidrs, /32 each): a datagram leaving from the wrong source
// address (IP_PKTINFO's ipi_spec_dst not honoured) or a stream from the wrong one (no bind before
// connect) is denied and counted, so "nothing denied" checks what peers see on the wire.
#include <functional>

#include "live_cluster.h"

namespace grapevine::testing {
namespace {

// Addresses 127.0.99.1 .. 127.0.99.n; an outside node (its own sockets) at 127.0.0.1.
Address member_ip(std::size_t i) { return Address::ipv4(127, 0, 99, std::uint8_t(1 + i), 0); }

RuntimeOptions shared_options(std::size_t n, bool with_outsider) {
  RuntimeOptions o;
  o.shared_sockets = true;
  o.shared_udp_sockets = 3;
  for (std::size_t i = 0; i < n; ++i) {
    o.allowed_cidrs.push_back(Cidr{member_ip(i), 32});
  }
  if (with_outsider) o.allowed_cidrs.push_back(*Cidr::parse("127.0.0.1/32"));
  return o;
}

struct SharedGroup {
  SharedGroup(std::size_t n, const NodeConfig& base, bool with_outsider = false)
      : rt(shared_options(n, with_outsider)), failed_seen(n, 0), delivered(n, 0) {
    for (std::size_t i = 0; i < n; ++i) {
      NodeConfig c = base;
      c.membership.name = "s" + std::to_string(i);
      NodeCallbacks cb;
      cb.on_member_event = [this, i](const Event& e) {
        if (e.kind == EventKind::failed) ++failed_seen[i];
      };
      cb.on_delivery = [this, i](const MessageId&, std::span<const std::byte>, std::uint32_t) {
        ++delivered[i];
      };
      auto h = rt.add_node(c, member_ip(i), std::move(cb));
      EXPECT_TRUE(h) << "add_node " << i << ": " << (h ? "" : h.error().detail);
      nodes.push_back(h ? *h : nullptr);
    }
  }
  bool run_until(const std::function<bool()>& done, Duration timeout,
                 Runtime* other = nullptr) {
    const Time end = Runtime::now() + timeout;
    while (!done() && Runtime::now() < end) {
      rt.run_for(Duration::milliseconds(10));
      if (other != nullptr) other->run_for(Duration::milliseconds(10));
    }
    return done();
  }
  bool all_list_alive(std::size_t count) const {
    for (auto* n : nodes) {
      if (n->running() && n->membership().member_count(MemberState::alive) != count) return false;
    }
    return true;
  }
  std::uint64_t denied() const {
    std::uint64_t d = 0;
    for (auto* n : nodes) d += n->io_stats().datagrams_denied + n->io_stats().streams_denied;
    return d;
  }

  Runtime rt;
  std::vector<NodeHandle*> nodes;
  std::vector<int> failed_seen, delivered;
};

// Five nodes on one port: the joins (a push-pull stream each, to node 0), gossip of the joins
// and a multicast, then a crash failed by every other member. Nothing denied anywhere: every
// datagram and stream came from its sender's own address.
TEST(RuntimeSharedSockets, JoinGossipStreamsAndCrashDetection) {
  const NodeConfig base = fast_local_config();
  SharedGroup g(5, base);
  ASSERT_EQ(g.nodes.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    Address want = member_ip(i);
    want.port = g.nodes[0]->address().port;
    EXPECT_EQ(g.nodes[i]->address(), want) << "own address, the shared port";
  }
  const Address seed = g.nodes[0]->address();
  for (std::size_t i = 1; i < 5; ++i) EXPECT_TRUE(g.nodes[i]->join(std::span(&seed, 1)));
  ASSERT_TRUE(g.run_until([&] { return g.all_list_alive(5); },
                          convergence_bound(base.membership, 5)));
  EXPECT_GE(g.nodes[0]->io_stats().streams_in, 4u) << "each join's push-pull reached node 0";
  for (std::size_t i = 1; i < 5; ++i) EXPECT_GE(g.nodes[i]->io_stats().streams_out, 1u);

  const std::string text = "over shared sockets";
  ASSERT_TRUE(g.nodes[2]->multicast(std::as_bytes(std::span(text.data(), text.size()))));
  ASSERT_TRUE(g.run_until([&] {
    return std::all_of(g.delivered.begin(), g.delivered.end(), [](int d) { return d >= 1; });
  }, multicast_bound(base.multicast, 5)));

  g.nodes[3]->crash();
  ASSERT_TRUE(g.run_until([&] {
    for (std::size_t i : {0, 1, 2, 4}) {
      if (g.failed_seen[i] == 0) return false;
    }
    return true;
  }, failure_detection_bound(base.membership, 5)));
  EXPECT_GT(g.rt.unroutable_datagrams(), 0u) << "probes to the crashed node's address dropped";
  EXPECT_EQ(g.denied(), 0u) << "a datagram or stream left from the wrong address";
  for (auto* n : g.nodes) EXPECT_EQ(n->io_stats().send_errors, 0u);
}

// A node on its own sockets in another Runtime (as a peer outside the process would be) joins
// the shared-socket group through one of its members and is listed by all, speaking the
// memberlist dialect: what it sees is what per-node sockets would show it.
TEST(RuntimeSharedSockets, AnOutsidePeerOnItsOwnSocketsJoinsInMemberlistDialect) {
  NodeConfig base = fast_local_config();
  base.membership.dialect = Dialect::memberlist;
  SharedGroup g(3, base, /*with_outsider=*/true);
  const Address seed = g.nodes[0]->address();
  for (std::size_t i = 1; i < 3; ++i) EXPECT_TRUE(g.nodes[i]->join(std::span(&seed, 1)));
  RuntimeOptions outside_options;
  outside_options.allowed_cidrs = shared_options(3, false).allowed_cidrs;
  Runtime outside(outside_options);
  NodeConfig oc = base;
  oc.membership.name = "outsider";
  auto o = outside.add_node(oc, *Address::parse("127.0.0.1:0"));
  ASSERT_TRUE(o);
  const Address via = g.nodes[1]->address();
  EXPECT_TRUE((*o)->join(std::span(&via, 1)));
  ASSERT_TRUE(g.run_until([&] {
    return g.all_list_alive(4) && (*o)->membership().member_count(MemberState::alive) == 4;
  }, convergence_bound(base.membership, 4) * 2, &outside));
  for (const MemberInfo& m : (*o)->members()) {
    if (m.name == "outsider") continue;
    EXPECT_EQ(m.address.ip[2], 99) << m.name << " listed at " << m.address.to_string();
  }
  EXPECT_EQ(g.denied(), 0u);
  EXPECT_EQ((*o)->io_stats().datagrams_denied + (*o)->io_stats().streams_denied, 0u)
      << "the outsider got a datagram or stream from an address not a member's";
}

TEST(RuntimeSharedSockets, RefusesAddressesItCannotShare) {
  RuntimeOptions o;
  o.shared_sockets = true;
  Runtime rt(o);
  const NodeConfig c = fast_local_config();
  auto a = rt.add_node(c, member_ip(0));
  ASSERT_TRUE(a);
  auto same = rt.add_node(c, member_ip(0));
  ASSERT_FALSE(same);
  EXPECT_EQ(same.error().code, Errc::invalid_argument);
  Address other_port = member_ip(1);
  other_port.port = std::uint16_t((*a)->address().port == 65535 ? 1024 : (*a)->address().port + 1);
  EXPECT_FALSE(rt.add_node(c, other_port));
  EXPECT_FALSE(rt.add_node(c, *Address::parse("192.0.2.7:0")));
  EXPECT_FALSE(rt.add_node(c, *Address::parse("[::1]:0")));
  Address same_port = member_ip(1);
  same_port.port = (*a)->address().port;
  EXPECT_TRUE(rt.add_node(c, same_port));
  (*a)->crash();  // its address is free again
  EXPECT_TRUE(rt.add_node(c, member_ip(0)));
}

}  // namespace
}  // namespace grapevine::testing
