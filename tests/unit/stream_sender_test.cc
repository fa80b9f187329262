// The push-pull sender claim the runtime's mutual TLS binds to the peer certificate
// (wire/stream_sender.h): the name of the entry whose id is the header's sender; nothing for
// stream messages that carry no name; refused when the sender has no entry, two names, or the
// message is malformed.
#include <gtest/gtest.h>

#include <vector>

#include "wire/native_membership.h"
#include "wire/stream_sender.h"

namespace grapevine::wire {
namespace {

const Address kA = *Address::parse("127.0.0.1:7946");
const Address kB = *Address::parse("127.0.0.1:7947");

std::vector<std::byte> push_pull(std::uint64_t sender, std::vector<MemberEntry> members) {
  std::vector<std::byte> out(1024);
  Writer w(out);
  write_push_pull_header(w, PushPullHeader{true, false, sender, kA, std::uint32_t(members.size())});
  for (const MemberEntry& m : members) write_member(w, m);
  finish_stream(w);
  EXPECT_TRUE(w.ok());
  out.resize(w.size());
  return out;
}

TEST(StreamSender, PushPullNamesItsSenderEntry) {
  const auto msg = push_pull(2, {MemberEntry{1, kA, 0, WireState::alive, {}, "other"},
                                 MemberEntry{2, kB, 3, WireState::alive, {}, "m2"}});
  auto claim = stream_sender_name(msg);
  ASSERT_TRUE(claim.has_value());
  ASSERT_TRUE(claim->has_value());
  EXPECT_EQ(**claim, "m2");
}

TEST(StreamSender, PushPullWithoutOrWithTwoSenderNamesIsRefused) {
  auto none = stream_sender_name(push_pull(9, {MemberEntry{1, kA, 0, WireState::alive, {}, "a"}}));
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, Errc::rejected);
  auto two = stream_sender_name(push_pull(1, {MemberEntry{1, kA, 0, WireState::alive, {}, "a"},
                                              MemberEntry{1, kB, 0, WireState::alive, {}, "b"}}));
  ASSERT_FALSE(two.has_value());
  EXPECT_EQ(two.error().code, Errc::rejected);
}

TEST(StreamSender, NamelessMessagesClaimNothingAndTruncationFails) {
  std::vector<std::byte> ping(kStreamPingBytesMax);
  Writer w(ping);
  ASSERT_TRUE(write_stream_ping(w, PingFrame{5, 1, 2}));
  ping.resize(w.size());
  auto claim = stream_sender_name(ping);
  ASSERT_TRUE(claim.has_value());
  EXPECT_FALSE(claim->has_value());
  const auto msg = push_pull(2, {MemberEntry{2, kB, 3, WireState::alive, {}, "m2"}});
  for (std::size_t n = 0; n < msg.size(); ++n) {
    auto cut = stream_sender_name(std::span(msg).first(n));
    EXPECT_TRUE(!cut.has_value() || !cut->has_value()) << n;  // never a name from a prefix
  }
}

}  // namespace
}  // namespace grapevine::wire
