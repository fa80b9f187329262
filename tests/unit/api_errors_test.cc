// The errors the public headers document (node.h, membership.h, multicast.h, runtime.h), each
// checked on a lone Node with a recording Effects: no sockets, no simulator, microseconds each.
// One test per documented Errc that no other test checked.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "grapevine/limits.h"
#include "grapevine/node.h"

namespace grapevine {
namespace {

class Count final : public Effects {
 public:
  void send(const Address&, std::span<const std::byte>) override { ++sends; }
  void emit(const Event&) override { ++events; }
  int sends = 0, events = 0;
};

Address addr(const char* text) { return *Address::parse(text); }
const Time kT0 = Time::from_ns(1'000'000'000);

std::vector<std::byte> bytes(std::size_t n) { return std::vector<std::byte>(n, std::byte{7}); }

TEST(ApiErrors, MulticastAloneIsNotReadyAndSendsNothing) {
  Node n(NodeConfig{}, addr("127.0.0.1:7000"), 1);
  Count fx;
  auto r = n.multicast(kT0, bytes(10), fx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_ready);
  EXPECT_EQ(fx.sends, 0);
}

// MembershipConfig::expected_members: a hint up to kMembersMax; a node with room for a
// thousand members behaves as one without (it only reserves).
TEST(ApiErrors, ExpectedMembersPastTheListLimitIsInvalid) {
  NodeConfig c;
  c.membership.expected_members = 4194304;
  EXPECT_TRUE(validate(c));
  c.membership.expected_members = 4194305;
  auto r = validate(c);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  c.membership.expected_members = 1000;
  Node n(c, addr("127.0.0.1:7000"), 1);
  EXPECT_EQ(n.membership().member_count(MemberState::alive), 1u);
}

TEST(ApiErrors, MulticastOverThePublicLimitIsTooLarge) {
  Node n(NodeConfig{}, addr("127.0.0.1:7000"), 1);
  Count fx;
  auto r = n.multicast(kT0, bytes(kMulticastPayloadBytesMax + 1), fx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::too_large);
}

TEST(ApiErrors, JoinWithOnlyOurOwnAddressIsInvalid) {
  const Address self = addr("127.0.0.1:7000");
  Node n(NodeConfig{}, self, 1);
  Count fx;
  auto r = n.join(kT0, std::span(&self, 1), fx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  EXPECT_FALSE(n.join(kT0, {}, fx));
  EXPECT_EQ(fx.sends, 0);
}

TEST(ApiErrors, ForceLeaveOfAnUnknownOrLiveMemberIsInvalid) {
  Node n(NodeConfig{}, addr("127.0.0.1:7000"), 1);
  const Address peer = addr("127.0.0.1:7001");
  n.preload(kT0, std::span(&peer, 1));
  Count fx;
  auto unknown = n.force_leave(kT0, "nobody", fx);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::invalid_argument);
  EXPECT_STREQ(unknown.error().detail, "no member with that name");
  // The preloaded peer is alive, not failed (a preloaded member's name is whatever it lists).
  std::optional<std::string> name;
  for (const MemberInfo& m : n.membership().members()) {
    if (m.address == peer) name = m.name;
  }
  ASSERT_TRUE(name);
  auto alive = n.force_leave(kT0, *name, fx);
  ASSERT_FALSE(alive);
  EXPECT_EQ(alive.error().code, Errc::invalid_argument);
  EXPECT_STREQ(alive.error().detail, "member is not failed");
}

TEST(ApiErrors, UpdateMetaOverKMetaBytesMaxIsTooLargeAndKeepsTheOld) {
  Node n(NodeConfig{}, addr("127.0.0.1:7000"), 1);
  Count fx;
  ASSERT_TRUE(n.update_meta(kT0, bytes(kMetaBytesMax), fx));
  auto r = n.update_meta(kT0, bytes(kMetaBytesMax + 1), fx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::too_large);
  for (const MemberInfo& m : n.membership().members()) {
    if (m.address == addr("127.0.0.1:7000")) {
      EXPECT_EQ(m.meta.size(), kMetaBytesMax);
    }
  }
}

TEST(ApiErrors, UserEventErrors) {
  Node n(NodeConfig{}, addr("127.0.0.1:7000"), 1);
  Count fx;
  auto empty = n.user_event(kT0, "", bytes(1), false, fx);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::invalid_argument);
  auto big = n.user_event(kT0, "e", bytes(kUserEventBytesMax), false, fx);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Errc::too_large);
  EXPECT_TRUE(n.user_event(kT0, "e", bytes(kUserEventBytesMax - 1), false, fx));
}

TEST(ApiErrors, ChangeKeyringWithoutKeysIsNotReady) {
  Node n(NodeConfig{}, addr("127.0.0.1:7000"), 1);
  auto r = n.change_keyring(KeyringOp::install, bytes(kNativeKeyBytes));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::not_ready);
}

TEST(ApiErrors, ChangeKeyringErrorsWithKeys) {
  NodeConfig c;
  c.membership.memberlist.keys = {bytes(kNativeKeyBytes)};
  Node n(c, addr("127.0.0.1:7000"), 1);
  auto short_key = n.change_keyring(KeyringOp::install, bytes(16));
  ASSERT_FALSE(short_key);
  EXPECT_EQ(short_key.error().code, Errc::invalid_argument);
  std::vector<std::byte> other(kNativeKeyBytes, std::byte{9});
  auto use_missing = n.change_keyring(KeyringOp::use, other);
  ASSERT_FALSE(use_missing);
  EXPECT_EQ(use_missing.error().code, Errc::invalid_argument);
  auto remove_primary = n.change_keyring(KeyringOp::remove, bytes(kNativeKeyBytes));
  ASSERT_FALSE(remove_primary);
  EXPECT_EQ(remove_primary.error().code, Errc::invalid_argument);
  EXPECT_TRUE(n.change_keyring(KeyringOp::install, other));
  EXPECT_EQ(n.keyring().size(), 2u);
}

TEST(ApiErrors, StateSetAndEraseErrors) {
  Node n(NodeConfig{}, addr("127.0.0.1:7000"), 1);
  Count fx;
  const Duration no_ttl = Duration::zero();
  auto empty = n.set(kT0, "", "v", no_ttl, fx);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, Errc::invalid_argument);
  const std::string long_key(NodeConfig{}.state.key_bytes_max + 1, 'k');
  auto key = n.set(kT0, long_key, "v", no_ttl, fx);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Errc::too_large);
  const std::string big(NodeConfig{}.state.value_bytes_max + 1, 'v');
  auto value = n.set(kT0, "k", big, no_ttl, fx);
  ASSERT_FALSE(value);
  EXPECT_EQ(value.error().code, Errc::too_large);
  auto missing = n.erase(kT0, "k", fx);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::rejected);

  NodeConfig off;
  off.state.enabled = false;
  Node m(off, addr("127.0.0.1:7001"), 2);
  auto r = m.set(kT0, "k", "v", no_ttl, fx);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::invalid_argument);
  auto e = m.erase(kT0, "k", fx);
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, Errc::invalid_argument);
}

TEST(ApiErrors, ConsistentModeRefusesForceLeaveButUpdatesMeta) {
  NodeConfig c;
  c.membership.mode = MembershipMode::consistent;
  ASSERT_TRUE(validate(c));
  Node n(c, addr("127.0.0.1:7000"), 1);
  Count fx;
  auto fl = n.force_leave(kT0, "x", fx);
  ASSERT_FALSE(fl);
  EXPECT_EQ(fl.error().code, Errc::invalid_argument);
  // update_meta is gossiped outside the views (consistent_profiles.cc); over the limit refused.
  EXPECT_TRUE(n.update_meta(kT0, bytes(1), fx));
  auto um = n.update_meta(kT0, bytes(kMetaBytesMax + 1), fx);
  ASSERT_FALSE(um);
  EXPECT_EQ(um.error().code, Errc::too_large);
}

}  // namespace
}  // namespace grapevine
