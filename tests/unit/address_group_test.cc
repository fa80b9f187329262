// Address parsing and printing, node ids, and the two Group implementations (the stored
// StaticGroup and the computed sim::SimGroup), whose subnet arithmetic the topology-aware
// gossip depends on.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "grapevine/address.h"
#include "grapevine/group.h"
#include "sim/sim_group.h"
#include "sim/simulator.h"

namespace grapevine {
namespace {

TEST(Address, ParseIpv4) {
  auto a = Address::parse("192.168.1.20:7946");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->family, 4);
  EXPECT_EQ(a->port, 7946);
  EXPECT_EQ(a->ip[0], 192);
  EXPECT_EQ(a->ip[1], 168);
  EXPECT_EQ(a->ip[2], 1);
  EXPECT_EQ(a->ip[3], 20);
  EXPECT_EQ(*a, Address::ipv4(192, 168, 1, 20, 7946));
  EXPECT_EQ(a->ipv4_u32(), 0xC0A80114u);
  EXPECT_TRUE(a->valid());
}

TEST(Address, Ipv4RoundTrips) {
  for (const char* text :
       {"0.0.0.0:0", "1.2.3.4:1", "10.0.0.1:7946", "255.255.255.255:65535", "127.0.0.1:8080"}) {
    auto a = Address::parse(text);
    ASSERT_TRUE(a.has_value()) << text;
    EXPECT_EQ(a->to_string(), text);
    EXPECT_EQ(Address::parse(a->to_string()), a);
  }
}

TEST(Address, ParseIpv6) {
  auto a = Address::parse("[::1]:7946");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->family, 6);
  EXPECT_EQ(a->port, 7946);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(a->ip[i], 0) << i;
  EXPECT_EQ(a->ip[15], 1);
  EXPECT_EQ(a->ipv4_u32(), 0u);  // not an IPv4 address
  EXPECT_EQ(a->to_string(), "[::1]:7946");
}

TEST(Address, Ipv6RoundTrips) {
  // inet_ntop's canonical forms (RFC 5952: lower case, longest zero run compressed).
  for (const char* text : {"[::1]:1", "[2001:db8::1]:80", "[fe80::1:2:3:4]:65535",
                           "[2001:db8:0:1:1:1:1:1]:7946", "[::]:0"}) {
    auto a = Address::parse(text);
    ASSERT_TRUE(a.has_value()) << text;
    EXPECT_EQ(a->to_string(), text);
    EXPECT_EQ(Address::parse(a->to_string()), a);
  }
  // Non-canonical input parses to the same address and prints canonically.
  auto a = Address::parse("[2001:DB8:0:0:0:0:0:1]:80");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->to_string(), "[2001:db8::1]:80");
}

TEST(Address, RejectsBadInput) {
  for (const char* text : {"",
                           ":",
                           "1.2.3.4",
                           "1.2.3.4:",
                           "1.2.3.4:65536",
                           "1.2.3.4:-1",
                           "1.2.3.4:+1",
                           "1.2.3.4:80x",
                           "1.2.3.4: 80",
                           "1.2.3:80",
                           "1.2.3.4.5:80",
                           "256.1.1.1:80",
                           "localhost:80",
                           "example.com:80",
                           "[::1]",
                           "[::1]80",
                           "[::1]:",
                           "[::1:80",
                           "[]:80",
                           "[::g]:80",
                           "[::1]:99999",
                           "1.2.3.4:99999999999999999999"}) {
    EXPECT_FALSE(Address::parse(text).has_value()) << "'" << text << "'";
  }
}

TEST(Address, UnsetPrintsAsUnset) {
  Address a;
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(a.to_string(), "unset");
}

TEST(Address, Ipv4U32RoundTrip) {
  for (std::uint32_t ip : {0u, 1u, 0x0A000001u, 0xC0A80114u, 0xFFFFFFFFu}) {
    Address a = Address::ipv4_u32(ip, 123);
    EXPECT_EQ(a.ipv4_u32(), ip);
    EXPECT_EQ(a.port, 123);
    EXPECT_EQ(a.family, 4);
  }
}

TEST(Address, OrderingEqualityAndHash) {
  Address a = Address::ipv4(10, 0, 0, 1, 1);
  Address b = Address::ipv4(10, 0, 0, 1, 2);
  Address c = Address::ipv4(10, 0, 0, 2, 1);
  EXPECT_NE(a, b);
  EXPECT_LT(a, c);
  EXPECT_EQ(a, Address::ipv4(10, 0, 0, 1, 1));
  AddressHash h;
  EXPECT_EQ(h(a), h(Address::ipv4(10, 0, 0, 1, 1)));
  EXPECT_NE(h(a), h(b));
  EXPECT_NE(h(a), h(c));
}

TEST(NodeId, Ipv4IsAddressAndPort) {
  EXPECT_EQ(node_id_of(Address::ipv4(10, 0, 0, 1, 7946)), (0x0A000001ULL << 16) | 7946);
  EXPECT_EQ(node_id_of(Address::ipv4(255, 255, 255, 255, 65535)), 0xFFFFFFFFFFFFULL);
}

TEST(NodeId, Ipv6HasTopBitAndDependsOnAllFields) {
  auto a = Address::parse("[2001:db8::1]:7946");
  auto b = Address::parse("[2001:db8::2]:7946");
  auto c = Address::parse("[2001:db8::1]:7947");
  ASSERT_TRUE(a && b && c);
  EXPECT_NE(node_id_of(*a) >> 63, 0u);
  EXPECT_NE(node_id_of(*a), node_id_of(*b));
  EXPECT_NE(node_id_of(*a), node_id_of(*c));
  EXPECT_EQ(node_id_of(*a), node_id_of(*Address::parse("[2001:db8::1]:7946")));
}

// ---- StaticGroup --------------------------------------------------------------------------

std::vector<Address> shuffled_addresses() {
  // Deliberately not sorted, so index_of must use its sorted side index.
  return {Address::ipv4(10, 0, 0, 9, 1), Address::ipv4(10, 0, 0, 3, 1),
          Address::ipv4(10, 0, 0, 7, 1), Address::ipv4(10, 0, 0, 1, 1),
          *Address::parse("[::1]:5"),    Address::ipv4(10, 0, 0, 3, 2)};
}

TEST(StaticGroup, IndexOfFindsEveryMember) {
  const auto addrs = shuffled_addresses();
  StaticGroup g(addrs);
  ASSERT_EQ(g.size(), addrs.size());
  for (std::uint32_t i = 0; i < addrs.size(); ++i) {
    EXPECT_EQ(g.address(i), addrs[i]);
    auto found = g.index_of(addrs[i]);
    ASSERT_TRUE(found.has_value()) << i;
    EXPECT_EQ(*found, i);
  }
  EXPECT_FALSE(g.index_of(Address::ipv4(10, 0, 0, 4, 1)).has_value());
  EXPECT_FALSE(g.index_of(Address::ipv4(10, 0, 0, 9, 2)).has_value());
  EXPECT_FALSE(g.index_of(Address{}).has_value());
}

TEST(StaticGroup, SortedInputAlsoWorks) {
  std::vector<Address> addrs;
  for (int i = 0; i < 50; ++i) addrs.push_back(Address::ipv4(10, 0, 0, std::uint8_t(i), 1));
  StaticGroup g(addrs);
  for (std::uint32_t i = 0; i < 50; ++i) EXPECT_EQ(g.index_of(addrs[i]), i);
}

TEST(StaticGroup, OneSubnetByDefault) {
  StaticGroup g(shuffled_addresses());
  EXPECT_EQ(g.subnet_count(), 1u);
  EXPECT_EQ(g.subnet_begin(0), 0u);
  EXPECT_EQ(g.subnet_end(0), g.size());
  for (std::uint32_t i = 0; i < g.size(); ++i) EXPECT_EQ(g.subnet_of(i), 0u);
}

TEST(StaticGroup, UnequalSubnets) {
  StaticGroup g(shuffled_addresses(), {1, 3, 2});
  ASSERT_EQ(g.subnet_count(), 3u);
  EXPECT_EQ(g.subnet_begin(0), 0u);
  EXPECT_EQ(g.subnet_end(0), 1u);
  EXPECT_EQ(g.subnet_begin(1), 1u);
  EXPECT_EQ(g.subnet_end(1), 4u);
  EXPECT_EQ(g.subnet_begin(2), 4u);
  EXPECT_EQ(g.subnet_end(2), 6u);
  const std::uint32_t expected[] = {0, 1, 1, 1, 2, 2};
  for (std::uint32_t i = 0; i < 6; ++i) EXPECT_EQ(g.subnet_of(i), expected[i]) << i;
}

// ---- SimGroup -----------------------------------------------------------------------------

// Checks the subnet layout against a brute-force one built from the documented rule: equal
// consecutive ranges, the remainder spread one each over the first subnets.
void check_layout(std::uint32_t nodes, std::uint32_t subnets) {
  sim::SimGroup g(nodes, subnets);
  const std::uint32_t k = std::max<std::uint32_t>(1, std::min(subnets, nodes));
  ASSERT_EQ(g.subnet_count(), k) << nodes << "/" << subnets;
  std::uint32_t begin = 0;
  for (std::uint32_t s = 0; s < k; ++s) {
    const std::uint32_t size = nodes / k + (s < nodes % k ? 1 : 0);
    ASSERT_EQ(g.subnet_begin(s), begin) << nodes << "/" << subnets << " subnet " << s;
    ASSERT_EQ(g.subnet_end(s), begin + size) << nodes << "/" << subnets << " subnet " << s;
    for (std::uint32_t i = begin; i < begin + size; ++i) {
      ASSERT_EQ(g.subnet_of(i), s) << nodes << "/" << subnets << " node " << i;
    }
    begin += size;
  }
  EXPECT_EQ(begin, nodes);
}

TEST(SimGroup, SubnetRangesWithRemainders) {
  check_layout(10, 3);   // 4 3 3
  check_layout(10, 5);   // even
  check_layout(11, 4);   // 3 3 3 2
  check_layout(7, 7);    // singletons
  check_layout(5, 9);    // more subnets than nodes: clamped to 5
  check_layout(100, 1);  // no topology
  check_layout(100, 0);  // 0 means one subnet
  check_layout(1000, 7);
  check_layout(1000003, 1000);  // remainder 3 on a big group
}

TEST(SimGroup, AddressesAreSimAddresses) {
  sim::SimGroup g(300, 3);
  EXPECT_EQ(g.size(), 300u);
  EXPECT_EQ(g.address(0), Address::ipv4(10, 0, 0, 1, 7946));
  EXPECT_EQ(g.address(255), Address::ipv4(10, 0, 1, 0, 7946));
  EXPECT_EQ(g.address(299), sim::sim_address(299));
  std::set<Address> distinct;
  for (std::uint32_t i = 0; i < g.size(); ++i) {
    distinct.insert(g.address(i));
    ASSERT_EQ(g.index_of(g.address(i)), i);
  }
  EXPECT_EQ(distinct.size(), 300u);
}

TEST(SimGroup, IndexOfRejectsForeignAddresses) {
  sim::SimGroup g(300, 1);
  EXPECT_FALSE(g.index_of(Address::ipv4(10, 0, 1, 45, 7946)).has_value());  // index 300
  EXPECT_FALSE(g.index_of(Address::ipv4(10, 0, 0, 0, 7946)).has_value());   // index -1
  EXPECT_FALSE(g.index_of(Address::ipv4(10, 0, 0, 1, 7947)).has_value());   // wrong port
  EXPECT_FALSE(g.index_of(Address::ipv4(11, 0, 0, 1, 7946)).has_value());   // wrong net
  Address v6 = Address::ipv4(10, 0, 0, 1, 7946);
  v6.family = 6;
  EXPECT_FALSE(g.index_of(v6).has_value());
  EXPECT_FALSE(g.index_of(Address{}).has_value());
}

}  // namespace
}  // namespace grapevine
