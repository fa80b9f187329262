// The membership merge rules, one by one, on the full Node in both dialects (issue 14, item 2).
// Both dialects run the same rules (core/membership/membership_node.cc: apply_alive,
// apply_suspect, apply_dead, after memberlist's aliveNode / suspectNode / deadNode); only the
// bytes differ. Each row below is one rule: node 0 lists node 2 in some state at incarnation
// B = 10, then hears (one crafted datagram from node 1, in the dialect's wire format) an alive,
// suspect, dead or left about node 2 at B - 1, B or B + 1, and the row says what node 0 lists
// afterwards and which event it raised. Nothing else runs between the two, so the verdict is
// the rule's alone. Seeds are fixed.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "tests/sim/node_cluster_util.h"
#include "tests/sim/node_rules.h"

namespace grapevine::sim {
namespace {

using rules::Say;

constexpr std::uint32_t kB = 10;
constexpr NodeIndex kObserver = 0, kSender = 1, kSubject = 2;

NodeClusterOptions small(Dialect d, std::uint32_t nodes, std::uint64_t seed = 11) {
  return test::lan_cluster(d, nodes, seed);
}

struct Row {
  MemberState current;  // what node 0 lists about node 2, at incarnation kB
  Say message;
  int delta;            // the message's incarnation: kB + delta
  MemberState want;
  int want_delta;       // the incarnation node 0 lists afterwards: kB + want_delta
  std::optional<EventKind> event;  // the one membership event node 0 raises, if any
  const char* rule;
};

constexpr auto alive = MemberState::alive, suspect = MemberState::suspect,
               failed = MemberState::failed, left = MemberState::left;
constexpr std::optional<EventKind> none = std::nullopt;

// clang-format off
const Row kRows[] = {
  // ---- about an alive member ----
  {alive, Say::alive, -1, alive, 0, none, "an alive at an older incarnation is stale"},
  {alive, Say::alive, 0, alive, 0, none, "an alive at the same incarnation is old news"},
  {alive, Say::alive, +1, alive, +1, none, "an alive at a higher incarnation is taken, silently"},
  {alive, Say::suspect, -1, alive, 0, none, "a suspect at an older incarnation is ignored"},
  {alive, Say::suspect, 0, suspect, 0, EventKind::suspected, "a suspect at the current incarnation makes an alive member suspect"},
  {alive, Say::suspect, +1, suspect, +1, EventKind::suspected, "a suspect at a higher incarnation makes it suspect at that incarnation"},
  {alive, Say::dead, -1, alive, 0, none, "dead about a member at an older incarnation is ignored"},
  {alive, Say::dead, 0, failed, 0, EventKind::failed, "dead at the current incarnation fails an alive member"},
  {alive, Say::dead, +1, failed, +1, EventKind::failed, "dead at a higher incarnation fails it at that incarnation"},
  {alive, Say::left, -1, alive, 0, none, "a leave at an older incarnation is ignored"},
  {alive, Say::left, 0, left, 0, EventKind::left, "a leave at the current incarnation is a leave"},
  {alive, Say::left, +1, left, +1, EventKind::left, "a leave at a higher incarnation is a leave"},
  // ---- about a suspect member ----
  {suspect, Say::alive, -1, suspect, 0, none, "an alive at an older incarnation does not clear a suspicion"},
  {suspect, Say::alive, 0, suspect, 0, none, "an alive at the same incarnation does not clear a suspicion"},
  {suspect, Say::alive, +1, alive, +1, EventKind::alive, "an alive at a higher incarnation clears a suspicion"},
  {suspect, Say::suspect, -1, suspect, 0, none, "a suspect at an older incarnation is ignored"},
  {suspect, Say::suspect, 0, suspect, 0, none, "a second suspect only confirms the suspicion"},
  {suspect, Say::suspect, +1, suspect, 0, none, "a suspect at a higher incarnation about a suspect member only confirms (incarnation kept)"},
  {suspect, Say::dead, -1, suspect, 0, none, "dead at an older incarnation does not fail a suspect"},
  {suspect, Say::dead, 0, failed, 0, EventKind::failed, "dead at the current incarnation fails a suspect"},
  {suspect, Say::dead, +1, failed, +1, EventKind::failed, "dead at a higher incarnation fails a suspect"},
  {suspect, Say::left, -1, suspect, 0, none, "a leave at an older incarnation is ignored"},
  {suspect, Say::left, 0, left, 0, EventKind::left, "a suspect member may still leave"},
  {suspect, Say::left, +1, left, +1, EventKind::left, "a suspect member may leave at a higher incarnation"},
  // ---- about a failed member ----
  {failed, Say::alive, -1, failed, 0, none, "an alive at an older incarnation does not revive a failed member"},
  {failed, Say::alive, 0, failed, 0, none, "an alive at the same incarnation does not revive a failed member"},
  {failed, Say::alive, +1, alive, +1, EventKind::joined, "an alive at a higher incarnation brings a failed member back (joined)"},
  {failed, Say::suspect, -1, failed, 0, none, "a suspect about a failed member is ignored"},
  {failed, Say::suspect, 0, failed, 0, none, "a suspect about a failed member is ignored"},
  {failed, Say::suspect, +1, failed, 0, none, "a suspect about a failed member is ignored, even newer"},
  {failed, Say::dead, -1, failed, 0, none, "dead about a failed member changes nothing"},
  {failed, Say::dead, 0, failed, 0, none, "dead about a failed member changes nothing"},
  {failed, Say::dead, +1, failed, 0, none, "dead about a failed member changes nothing, even newer"},
  {failed, Say::left, -1, failed, 0, none, "a leave at an older incarnation does not touch a failed member"},
  // grapevine's rule (force-leave); memberlist's deadNode ignores a leave about a dead member.
  {failed, Say::left, 0, left, 0, EventKind::left, "a leave supersedes a failure (grapevine; memberlist ignores it)"},
  {failed, Say::left, +1, left, +1, EventKind::left, "a newer leave supersedes a failure (grapevine; memberlist ignores it)"},
  // ---- about a member that left ----
  {left, Say::alive, -1, left, 0, none, "left is final: an older alive is ignored"},
  {left, Say::alive, 0, left, 0, none, "left is final: an alive at the same incarnation is ignored"},
  {left, Say::alive, +1, alive, +1, EventKind::joined, "left is final until the member rejoins with a higher incarnation"},
  {left, Say::suspect, -1, left, 0, none, "left is final: a suspect is ignored"},
  {left, Say::suspect, 0, left, 0, none, "left is final: a suspect is ignored"},
  {left, Say::suspect, +1, left, 0, none, "left is final: a newer suspect is ignored"},
  {left, Say::dead, -1, left, 0, none, "left is final: dead is ignored"},
  {left, Say::dead, 0, left, 0, none, "left is final: dead does not turn a leave into a failure"},
  {left, Say::dead, +1, left, 0, none, "left is final: a newer dead is ignored"},
  {left, Say::left, -1, left, 0, none, "a repeated leave changes nothing"},
  {left, Say::left, 0, left, 0, none, "a repeated leave changes nothing"},
  {left, Say::left, +1, left, 0, none, "a newer leave about a left member changes nothing"},
};
// clang-format on

// Node 0 lists node 2 in `s` at incarnation kB (told so by node 1).
void put_in_state(NodeCluster& c, MemberState s) {
  rules::inject(c, kObserver, kSender, Say::alive, kSubject, kB);
  if (s == suspect) rules::inject(c, kObserver, kSender, Say::suspect, kSubject, kB);
  if (s == failed) rules::inject(c, kObserver, kSender, Say::dead, kSubject, kB);
  if (s == left) rules::inject(c, kObserver, kSender, Say::left, kSubject, kB);
}

std::string describe(const Row& r) {
  return std::string("rule: \"") + r.rule + "\" (" + member_state_name(r.current) + "@B, " +
         rules::say_name(r.message) + "@B" + (r.delta < 0 ? "-1" : r.delta > 0 ? "+1" : "") + ")";
}

void check_rows(Dialect d, MemberState current) {
  for (const Row& r : kRows) {
    if (r.current != current) continue;
    NodeCluster c(small(d, 3));
    ASSERT_TRUE(c.wait_converged(Duration::seconds(10))) << describe(r);
    put_in_state(c, r.current);
    auto before = rules::member(c, kObserver, kSubject);
    ASSERT_TRUE(before && before->state == r.current && before->incarnation == kB) << describe(r);
    const std::size_t events_before = c.events().size();
    rules::inject(c, kObserver, kSender, r.message, kSubject, std::uint32_t(int(kB) + r.delta));
    auto after = rules::member(c, kObserver, kSubject);
    ASSERT_TRUE(after) << describe(r);
    EXPECT_EQ(member_state_name(after->state), std::string(member_state_name(r.want)))
        << describe(r);
    EXPECT_EQ(after->incarnation, std::uint32_t(int(kB) + r.want_delta)) << describe(r);
    std::vector<EventKind> raised;
    for (std::size_t i = events_before; i < c.events().size(); ++i) {
      const ClusterEvent& e = c.events()[i];
      if (e.observer == kObserver && e.kind != EventKind::delivered) raised.push_back(e.kind);
    }
    if (r.event) {
      ASSERT_EQ(raised.size(), 1u) << describe(r);
      EXPECT_EQ(event_kind_name(raised[0]), std::string(event_kind_name(*r.event)))
          << describe(r);
    } else {
      EXPECT_TRUE(raised.empty()) << describe(r) << ": raised " << event_kind_name(raised[0]);
    }
  }
}

class MergeRules : public ::testing::TestWithParam<Dialect> {};

TEST_P(MergeRules, WhatEachMessageDoesToAnAliveMember) { check_rows(GetParam(), alive); }
TEST_P(MergeRules, WhatEachMessageDoesToASuspectMember) { check_rows(GetParam(), suspect); }
TEST_P(MergeRules, WhatEachMessageDoesToAFailedMember) { check_rows(GetParam(), failed); }
TEST_P(MergeRules, WhatEachMessageDoesToAMemberThatLeft) { check_rows(GetParam(), left); }

TEST_P(MergeRules, AnAliveAboutAnUnknownMemberAddsItAsJoined) {
  auto o = small(GetParam(), 4);
  o.join_rate = 1;  // node 3 starts its join at 2 s: node 0 does not know it yet
  NodeCluster c(o);
  c.run_for(Duration::milliseconds(500));
  ASSERT_FALSE(rules::member(c, 0, 3));
  rules::inject(c, 0, 1, Say::alive, 3, 5);
  auto m = rules::member(c, 0, 3);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->state, MemberState::alive);
  EXPECT_EQ(m->incarnation, 5u);
  EXPECT_EQ(rules::events_about(c, 0, 3, EventKind::joined), 1u);
}

TEST_P(MergeRules, SuspectAndDeadAboutAnUnknownMemberAreIgnored) {
  auto o = small(GetParam(), 4);
  o.join_rate = 1;
  NodeCluster c(o);
  c.run_for(Duration::milliseconds(500));
  rules::inject(c, 0, 1, Say::suspect, 3, 5);
  rules::inject(c, 0, 1, Say::dead, 3, 5);
  rules::inject(c, 0, 1, Say::left, 3, 5);
  EXPECT_FALSE(rules::member(c, 0, 3));
}

// memberlist names members; an alive under a known name from another address is a conflict
// (memberlist's ConflictDelegate case) unless the member left, when it is a rejoin from a new
// address, taken whatever its incarnation (memberlist's updatesNode; DeadNodeReclaimTime = 0, so a
// failed member's name is not reclaimed). Native ids are the address, so there it is another member.
TEST(MemberlistRules, AnAliveFromANewAddressIsAConflictUnlessTheMemberLeft) {
  NodeCluster c(small(Dialect::memberlist, 3));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(10)));
  const Address elsewhere = sim_address(40);
  rules::inject(c, kObserver, kSender, Say::alive, kSubject, kB, {}, elsewhere);
  auto m = rules::member(c, kObserver, kSubject);
  EXPECT_EQ(m->address, sim_address(kSubject)) << "alive member: conflict, ignored";
  EXPECT_EQ(m->state, MemberState::alive);
  rules::inject(c, kObserver, kSender, Say::dead, kSubject, m->incarnation);
  rules::inject(c, kObserver, kSender, Say::alive, kSubject, kB, {}, elsewhere);
  m = rules::member(c, kObserver, kSubject);
  EXPECT_EQ(m->address, sim_address(kSubject)) << "failed member: conflict, ignored";
  EXPECT_EQ(m->state, MemberState::failed);
  rules::inject(c, kObserver, kSender, Say::left, kSubject, m->incarnation);
  ASSERT_EQ(rules::member(c, kObserver, kSubject)->state, MemberState::left);
  rules::inject(c, kObserver, kSender, Say::alive, kSubject, 0, {}, elsewhere);
  m = rules::member(c, kObserver, kSubject);
  EXPECT_EQ(m->address, elsewhere) << "left member: a rejoin from a new address, even older";
  EXPECT_EQ(m->state, MemberState::alive);
  EXPECT_EQ(m->incarnation, 0u);
}

// A metadata change rides an alive at a higher incarnation and raises `updated` (besides
// `joined` or `alive` when the state changed too); at the same incarnation it is ignored.
TEST_P(MergeRules, NewMetadataNeedsAHigherIncarnationAndRaisesUpdated) {
  NodeCluster c(small(GetParam(), 3));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(10)));
  rules::inject(c, kObserver, kSender, Say::alive, kSubject, kB);
  const std::string meta = "zone=b";
  const auto meta_bytes = std::as_bytes(std::span(meta.data(), meta.size()));
  const Time t0 = c.now();
  rules::inject(c, kObserver, kSender, Say::alive, kSubject, kB, meta_bytes);
  EXPECT_TRUE(rules::member(c, kObserver, kSubject)->meta.empty()) << "same incarnation: stale";
  rules::inject(c, kObserver, kSender, Say::alive, kSubject, kB + 1, meta_bytes);
  EXPECT_EQ(rules::member(c, kObserver, kSubject)->meta.size(), meta.size());
  EXPECT_EQ(rules::events_about(c, kObserver, kSubject, EventKind::updated, t0), 1u);
}

// Anti-entropy (a push-pull's member list) merges by the same rules with one difference, as
// memberlist's mergeState: a remote dead (or suspect) entry only makes us *suspect* (we run
// our own suspicion before failing a member), while a remote left is a leave.
TEST_P(MergeRules, APushPullThatSaysDeadOnlyMakesUsSuspect) {
  NodeCluster c(small(GetParam(), 3));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(10)));
  rules::inject(c, kObserver, kSender, Say::alive, kSubject, kB);
  rules::inject_push_pull(c, kObserver, kSender, wire::WireState::dead, kSubject, kB);
  auto m = rules::member(c, kObserver, kSubject);
  EXPECT_EQ(m->state, MemberState::suspect);
  EXPECT_EQ(m->incarnation, kB);
  EXPECT_EQ(rules::events_about(c, kObserver, kSubject, EventKind::failed), 0u);
}

TEST_P(MergeRules, APushPullThatSaysLeftIsALeave) {
  NodeCluster c(small(GetParam(), 3));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(10)));
  rules::inject(c, kObserver, kSender, Say::alive, kSubject, kB);
  rules::inject_push_pull(c, kObserver, kSender, wire::WireState::left, kSubject, kB);
  EXPECT_EQ(rules::member(c, kObserver, kSubject)->state, MemberState::left);
}

TEST_P(MergeRules, APushPullWithANewerAliveClearsASuspicionAndAnOlderOneDoesNot) {
  NodeCluster c(small(GetParam(), 3));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(10)));
  rules::inject(c, kObserver, kSender, Say::alive, kSubject, kB);
  rules::inject(c, kObserver, kSender, Say::suspect, kSubject, kB);
  rules::inject_push_pull(c, kObserver, kSender, wire::WireState::alive, kSubject, kB);
  EXPECT_EQ(rules::member(c, kObserver, kSubject)->state, MemberState::suspect);
  rules::inject_push_pull(c, kObserver, kSender, wire::WireState::alive, kSubject, kB + 1);
  EXPECT_EQ(rules::member(c, kObserver, kSubject)->state, MemberState::alive);
}

INSTANTIATE_TEST_SUITE_P(Both, MergeRules,
                         ::testing::Values(Dialect::native, Dialect::memberlist),
                         [](const auto& info) { return std::string(dialect_name(info.param)); });

}  // namespace
}  // namespace grapevine::sim
