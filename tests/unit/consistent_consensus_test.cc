// Consistent membership (Rapid): Fast Paxos on cut digests. A cut too large for a frame travels
// by digest; a member that decides it without knowing its members waits for the list
// (cut_wanted) and installs once it learns it; an inline list that does not match its digest is
// refused.
#include <gtest/gtest.h>

#include <vector>

#include "core/consistent/consensus.h"

namespace grapevine::detail {
namespace {

Address addr(std::uint32_t i) {
  return Address::ipv4(10, 1, std::uint8_t(i >> 8), std::uint8_t(i), 7946);
}

class Recorder final : public ConsensusHost {
 public:
  void send_to(const Address&, const wire::RapidMessage& m) override { sent.push_back(m.type); }
  void send_to_members(const wire::RapidMessage& m) override { sent.push_back(m.type); }
  std::vector<wire::RapidFrame> sent;
};

struct Group {
  std::vector<Address> members{addr(1), addr(2), addr(3), addr(4), addr(5)};
  Configuration config{members, 10};
  std::vector<Address> big_cut() const {  // 300 joiners: over wire::kCutMembersMax
    std::vector<Address> cut;
    for (std::uint32_t i = 100; i < 400; ++i) cut.push_back(addr(i));
    canonical_cut(cut);
    return cut;
  }
};

TEST(ConsistentConsensus, DecidesALargeCutByDigestAndWaitsForItsMembers) {
  Group g;
  const auto cut = g.big_cut();
  Recorder host;
  // Members 0..3 voted for the cut; member 4 hears only their merged vote (digest, no list).
  std::vector<std::unique_ptr<Consensus>> voters;
  wire::RapidMessage vote;
  for (std::uint32_t i = 0; i < 4; ++i) {
    voters.push_back(std::make_unique<Consensus>(host, g.config.member(i)));
    voters.back()->reset(g.config);
    ASSERT_TRUE(voters.back()->vote(g.config, cut));
    wire::RapidMessage mine;
    ASSERT_TRUE(voters.back()->next_gossip(g.config, mine));
    EXPECT_EQ(mine.count, 0u) << "a cut of 300 is sent by digest";
    EXPECT_EQ(mine.total, 300u);
    if (i > 0) voters[0]->on_vote(g.config, mine);
  }
  ASSERT_TRUE(voters[0]->next_gossip(g.config, vote));
  Consensus late(host, g.config.member(4));
  late.reset(g.config);
  late.on_vote(g.config, vote);  // 4 of 5 votes: the fast quorum
  ASSERT_TRUE(late.has_decided());
  EXPECT_EQ(late.decided(), nullptr);
  ASSERT_TRUE(late.cut_wanted());
  EXPECT_EQ(*late.cut_wanted(), vote.digest);
  auto who = late.voter_of(vote.digest, 7);
  ASSERT_TRUE(who);
  EXPECT_LT(*who, 4u);
  // A wrong list is not taken for it; the right one is.
  auto wrong = cut;
  wrong.pop_back();
  EXPECT_NE(late.learn(g.config, wrong), vote.digest);
  EXPECT_EQ(late.decided(), nullptr);
  EXPECT_EQ(late.learn(g.config, cut), vote.digest);
  ASSERT_NE(late.decided(), nullptr);
  EXPECT_EQ(*late.decided(), cut);
  EXPECT_FALSE(late.cut_wanted());
}

TEST(ConsistentConsensus, SmallCutsTravelInlineAndMustMatchTheirDigest) {
  Group g;
  const std::vector<Address> cut{addr(100), addr(101)};
  Recorder host;
  Consensus a(host, g.config.member(0)), b(host, g.config.member(1));
  a.reset(g.config);
  b.reset(g.config);
  ASSERT_TRUE(a.vote(g.config, cut));
  wire::RapidMessage m;
  ASSERT_TRUE(a.next_gossip(g.config, m));
  EXPECT_EQ(m.count, 2u);
  wire::RapidMessage forged = m;
  forged.addrs[1] = addr(102);  // same digest, other members: refused
  b.on_vote(g.config, forged);
  EXPECT_FALSE(b.most_voted());
  b.on_vote(g.config, m);
  ASSERT_TRUE(b.most_voted());
  ASSERT_NE(b.known(b.most_voted()->digest), nullptr);
  EXPECT_EQ(*b.known(b.most_voted()->digest), cut);
}

}  // namespace
}  // namespace grapevine::detail
