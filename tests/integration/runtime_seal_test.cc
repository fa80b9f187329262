// The native seal on real sockets (docs/security.md): an encrypted 3-node cluster on 127.0.0.1
// joins (datagrams and TCP push-pulls, all sealed), converges and multicasts; plaintext, a
// wrong key and sealed-looking garbage are refused and counted by reason; a keyless node is
// never admitted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#include "live_cluster.h"
#include "wire/seal.h"

namespace grapevine::testing {
namespace {

using Bytes = std::vector<std::byte>;

NodeConfig keyed_config() {
  NodeConfig c = fast_local_config();
  c.membership.memberlist.keys = {Bytes(32, std::byte(0x42)), Bytes(32, std::byte(0x43))};
  c.membership.memberlist.label = "test";
  return c;
}

bool udp_send(const Address& to, std::span<const std::byte> bytes) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(to.port);
  std::memcpy(&sa.sin_addr, to.ip.data(), 4);
  const bool ok = ::sendto(fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&sa),
                           sizeof sa) == ssize_t(bytes.size());
  ::close(fd);
  return ok;
}

std::uint64_t rejected(LiveCluster& c, std::size_t i, SealReject r) {
  return c.node(i).seal_stats().rejected[std::size_t(r)];
}

TEST(RuntimeSeal, EncryptedClusterConvergesMulticastsAndRefusesOutsiders) {
  const NodeConfig config = keyed_config();
  LiveCluster c(3, config);
  ASSERT_TRUE(c.ok());
  c.join_all(0);
  ASSERT_TRUE(c.run_until([&] { return c.converged(); },
                          convergence_bound(config.membership, c.size())));
  const std::string text = "sealed hello";
  ASSERT_TRUE(c.node(1).multicast(std::as_bytes(std::span(text.data(), text.size()))));
  ASSERT_TRUE(c.run_until(
      [&] {
        for (std::size_t i = 0; i < c.size(); ++i) {
          if (c.deliveries(i).empty()) return false;
        }
        return true;
      },
      Duration::seconds(5)));
  EXPECT_GE(c.node(0).io_stats().streams_in, 2u);  // the joins' push-pulls, sealed
  for (std::size_t i = 0; i < c.size(); ++i) {
    EXPECT_EQ(c.deliveries(i).size(), 1u);
    EXPECT_GT(c.node(i).seal_stats().sealed, 0u);
    EXPECT_GT(c.node(i).seal_stats().opened, 0u);
    EXPECT_EQ(c.node(i).seal_stats().rejected_total(), 0u) << i;
  }

  // Outsiders: plaintext, a packet sealed under another key (fresh timestamp), garbage.
  const Address at = c.node(2).address();
  const Bytes plain = {std::byte(1), std::byte(0x20), std::byte(0)};
  ASSERT_TRUE(udp_send(at, plain));
  auto other = *wire::ml::Keyring::create(Bytes(32, std::byte(7)));
  wire::seal::NonceGenerator nonces(Bytes(32, std::byte(1)));
  Bytes forged;
  ASSERT_TRUE(wire::seal::seal(other, "test", std::int64_t(std::time(nullptr)) * 1000, plain,
                               nonces, forged));
  ASSERT_TRUE(udp_send(at, forged));
  Bytes relabeled;
  ASSERT_TRUE(wire::seal::seal(other, "prod", 0, plain, nonces, relabeled));
  ASSERT_TRUE(udp_send(at, relabeled));
  const Bytes garbage = {std::byte(0xC5), std::byte(4), std::byte('t'), std::byte('e'),
                         std::byte('s'), std::byte('t'), std::byte(1), std::byte(2)};
  ASSERT_TRUE(udp_send(at, garbage));
  EXPECT_TRUE(c.run_until(
      [&] {
        return rejected(c, 2, SealReject::plaintext_refused) >= 1 &&
               rejected(c, 2, SealReject::wrong_key) >= 1 &&
               rejected(c, 2, SealReject::label_mismatch) >= 1 &&
               rejected(c, 2, SealReject::malformed) >= 1;
      },
      Duration::seconds(3)));

  // A keyless node joining through node 0 is never admitted.
  Runtime rt;
  auto open = rt.add_node(fast_local_config(), *Address::parse("127.0.0.1:0"));
  ASSERT_TRUE(open);
  const Address seed[] = {c.node(0).address()};
  ASSERT_TRUE((*open)->join(seed));
  for (int i = 0; i < 20; ++i) {
    rt.run_for(Duration::milliseconds(50));
    c.run_for(Duration::milliseconds(50));
  }
  EXPECT_EQ(c.node(0).members().size(), 3u);
  EXPECT_EQ((*open)->members().size(), 1u);
  EXPECT_GT(rejected(c, 0, SealReject::plaintext_refused), 0u);
}

}  // namespace
}  // namespace grapevine::testing
