// Membership stories on the full Node, both dialects (issue 14, item 2): refutation, a healed
// partition, force-leave, metadata updates, a restart under the same name, and a HyParView
// view beside membership. Each test is one story with a fixed seed and a few simulated seconds
// to a couple of minutes (milliseconds of CPU): a failure is a regression, the seed its repro.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/sim/node_cluster_util.h"
#include "tests/sim/node_rules.h"

namespace grapevine::sim {
namespace {

using rules::Say;

NodeClusterOptions small(Dialect d, std::uint32_t nodes, std::uint64_t seed = 5) {
  return test::lan_cluster(d, nodes, seed);
}

using test::bytes;

std::uint32_t own_incarnation(NodeCluster& c, NodeIndex i) {
  return rules::member(c, i, i)->incarnation;
}

class Stories : public ::testing::TestWithParam<Dialect> {
 protected:
  NodeCluster& converged(std::uint32_t nodes) {
    c_ = std::make_unique<NodeCluster>(small(GetParam(), nodes));
    EXPECT_TRUE(c_->wait_converged(Duration::seconds(20)));
    return *c_;
  }
  std::unique_ptr<NodeCluster> c_;
};

// ---- refutation ----

TEST_P(Stories, AMemberThatHearsItIsSuspectedRefutesAndTheGroupSeesItAliveAgain) {
  NodeCluster& c = converged(5);
  const std::uint32_t inc = own_incarnation(c, 3);
  const Time t0 = c.now();
  rules::inject(c, 0, 1, Say::suspect, 3, inc);  // node 0 suspects node 3 and gossips it
  ASSERT_EQ(rules::member(c, 0, 3)->state, MemberState::suspect);
  ASSERT_TRUE(rules::wait_for(c, [&] { return rules::all_see_at(c, 3, MemberState::alive, inc + 1); },
                     Duration::seconds(5)));
  EXPECT_EQ(own_incarnation(c, 3), inc + 1);
  EXPECT_EQ(c.node(3).membership().stats().refutations, 1u);
  EXPECT_EQ(rules::events_about(c, 0, 3, EventKind::alive, t0), 1u);
  EXPECT_EQ(c.false_failures(), 0u);
}

TEST_P(Stories, AMemberDeclaredDeadWhileAliveRefutesAndRejoinsEverywhere) {
  NodeCluster& c = converged(5);
  const std::uint32_t inc = own_incarnation(c, 3);
  const Time t0 = c.now();
  rules::inject(c, 0, 1, Say::dead, 3, inc);
  ASSERT_EQ(rules::member(c, 0, 3)->state, MemberState::failed);
  ASSERT_TRUE(rules::wait_for(c, [&] { return rules::all_see_at(c, 3, MemberState::alive, inc + 1); },
                     Duration::seconds(10)));
  EXPECT_GE(c.node(3).membership().stats().refutations, 1u);
  EXPECT_EQ(rules::events_about(c, 0, 3, EventKind::failed, t0), 1u);
  EXPECT_EQ(rules::events_about(c, 0, 3, EventKind::joined, t0), 1u);
}

TEST_P(Stories, ARefutationJumpsPastTheAccusedIncarnation) {
  NodeCluster& c = converged(4);
  const std::uint32_t inc = own_incarnation(c, 2);
  rules::inject(c, 2, 1, Say::suspect, 2, inc + 7);  // an accusation from the future
  EXPECT_EQ(own_incarnation(c, 2), inc + 8);        // max(own + 1, accused + 1)
  ASSERT_TRUE(rules::wait_for(c, [&] { return rules::all_see_at(c, 2, MemberState::alive, inc + 8); },
                     Duration::seconds(5)));
}

TEST_P(Stories, AnAccusationAtAnOlderIncarnationIsNotWorthARefutation) {
  NodeCluster& c = converged(4);
  rules::inject(c, 2, 1, Say::suspect, 2, own_incarnation(c, 2));  // refuted: now inc + 1
  const std::uint32_t inc = own_incarnation(c, 2);
  const auto refutations = c.node(2).membership().stats().refutations;
  rules::inject(c, 2, 1, Say::suspect, 2, inc - 1);
  rules::inject(c, 2, 1, Say::dead, 2, inc - 1);
  EXPECT_EQ(own_incarnation(c, 2), inc);
  EXPECT_EQ(c.node(2).membership().stats().refutations, refutations);
}

TEST_P(Stories, AnAliveAboutItselfThatItNeverSentIsRefuted) {
  NodeCluster& c = converged(4);
  const std::uint32_t inc = own_incarnation(c, 2);
  rules::inject(c, 2, 1, Say::alive, 2, inc);  // same incarnation, same (empty) meta: nothing
  EXPECT_EQ(own_incarnation(c, 2), inc);
  rules::inject(c, 2, 1, Say::alive, 2, inc + 2);  // someone speaks for us: outbid it
  EXPECT_EQ(own_incarnation(c, 2), inc + 3);
  rules::inject(c, 2, 1, Say::alive, 2, inc, bytes("not mine"));  // older: ignored
  EXPECT_EQ(own_incarnation(c, 2), inc + 3);
}

TEST_P(Stories, ALeavingMemberDoesNotRefuteItsOwnLeave) {
  NodeCluster& c = converged(5);
  c.leave(4);
  ASSERT_TRUE(c.wait_all_see(4, MemberState::left, Duration::seconds(10)));
  const std::uint32_t inc = rules::member(c, 0, 4)->incarnation;
  rules::inject(c, 4, 1, Say::dead, 4, inc);
  EXPECT_EQ(c.node(4).membership().stats().refutations, 0u);
  c.run_for(Duration::seconds(5));
  EXPECT_TRUE(c.all_see(4, MemberState::left));
}

// ---- partition heal ----

TEST_P(Stories, TwoSidesOfAPartitionGiveEachOtherUpAndMergeAfterTheHeal) {
  NodeCluster& c = converged(6);
  c.partition({{0, 1, 2}, {3, 4, 5}});
  auto each_side_failed_the_other = [&] {
    for (NodeIndex a = 0; a < 6; ++a) {
      for (NodeIndex b = 0; b < 6; ++b) {
        if (c.reachable(a, b)) continue;
        if (rules::member(c, a, b)->state != MemberState::failed) return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(rules::wait_for(c, each_side_failed_the_other, Duration::seconds(60)));
  EXPECT_EQ(c.false_failures(), 0u);
  c.heal();
  ASSERT_TRUE(c.wait_converged(Duration::seconds(90)));
  for (NodeIndex j = 0; j < 6; ++j) EXPECT_TRUE(c.all_see(j, MemberState::alive)) << j;
}

// ---- force-leave ----

TEST_P(Stories, AFailedMemberForceLeftAtOneNodeIsSeenAsLeftEverywhere) {
  NodeCluster& c = converged(5);
  c.crash(4);
  ASSERT_TRUE(c.wait_all_see(4, MemberState::failed, Duration::seconds(40)));
  const Time t0 = c.now();
  ASSERT_TRUE(rules::force_leave(c, 0, 4));
  EXPECT_EQ(rules::member(c, 0, 4)->state, MemberState::left);
  ASSERT_TRUE(c.wait_all_see(4, MemberState::left, Duration::seconds(10)));
  for (NodeIndex k = 0; k < 4; ++k) {
    EXPECT_EQ(rules::events_about(c, k, 4, EventKind::left, t0), 1u) << k;
  }
}

TEST_P(Stories, ForceLeaveOfAnAliveOrUnknownMemberIsRefused) {
  NodeCluster& c = converged(5);
  auto alive = rules::force_leave(c, 0, 3);
  ASSERT_FALSE(alive);
  EXPECT_EQ(alive.error().code, Errc::invalid_argument);
  auto unknown = rules::force_leave(c, 0, 42);  // no "node-42"
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::invalid_argument);
  // A suspect member is not failed either.
  rules::inject(c, 0, 1, Say::suspect, 3, rules::member(c, 0, 3)->incarnation);
  EXPECT_FALSE(rules::force_leave(c, 0, 3));
  c.run_for(Duration::seconds(3));
  EXPECT_TRUE(c.all_see(3, MemberState::alive));
}

// ---- metadata ----

TEST_P(Stories, AMetadataUpdateReachesEveryNodeWithAHigherIncarnation) {
  NodeCluster& c = converged(6);
  const std::uint32_t inc = own_incarnation(c, 2);
  const Time t0 = c.now();
  const std::string meta = "role=db";
  ASSERT_TRUE(rules::update_meta(c, 2, bytes(meta)));
  EXPECT_EQ(own_incarnation(c, 2), inc + 1);
  auto everyone_has_it = [&] {
    for (NodeIndex k = 0; k < 6; ++k) {
      auto m = rules::member(c, k, 2);
      if (!m || m->incarnation != inc + 1 ||
          std::string(reinterpret_cast<const char*>(m->meta.data()), m->meta.size()) != meta) {
        return false;
      }
    }
    return true;
  };
  ASSERT_TRUE(rules::wait_for(c, everyone_has_it, Duration::seconds(5)));
  for (NodeIndex k = 0; k < 6; ++k) {
    if (k == 2) continue;
    EXPECT_EQ(rules::events_about(c, k, 2, EventKind::updated, t0), 1u) << k;
    EXPECT_EQ(rules::events_about(c, k, 2, EventKind::joined, t0), 0u) << k;
  }
  EXPECT_TRUE(c.all_see(2, MemberState::alive));
}

TEST_P(Stories, MetadataOverFiveHundredTwelveBytesIsRefused) {
  NodeCluster& c = converged(3);
  std::vector<std::byte> big(513, std::byte{'x'});
  auto r = rules::update_meta(c, 1, big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::too_large);
}

// ---- restart with the same name ----

TEST_P(Stories, ARestartedMemberComesBackAliveEverywhereUnderOneEntry) {
  NodeCluster& c = converged(5);
  c.crash(3);
  ASSERT_TRUE(c.wait_all_see(3, MemberState::failed, Duration::seconds(40)));
  const std::uint32_t failed_at = rules::member(c, 0, 3)->incarnation;
  c.restart(3);
  // The fresh process starts at incarnation 0 (native) or 1 (memberlist); the group's entry
  // says failed at `failed_at`, so it must hear of its own death and outbid it.
  ASSERT_TRUE(rules::wait_for(c, [&] { return rules::all_see_at(c, 3, MemberState::alive, failed_at + 1); },
                     Duration::seconds(40)));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(20)));
  // One entry per name everywhere: both dialects key a member by something a restart keeps
  // (native: the address; memberlist: the name), and NodeCluster restarts at the same address.
  for (NodeIndex k = 0; k < 5; ++k) {
    EXPECT_EQ(rules::entries_named(c, k, 3), 1u) << "node " << k;
  }
  EXPECT_EQ(c.false_failures(), 0u);
}

TEST_P(Stories, AMemberThatLeftAndRestartsRejoinsAboveItsTombstone) {
  NodeCluster& c = converged(5);
  c.leave(3);
  ASSERT_TRUE(c.wait_all_see(3, MemberState::left, Duration::seconds(10)));
  const std::uint32_t left_at = rules::member(c, 0, 3)->incarnation;
  c.crash(3);
  c.run_for(Duration::seconds(5));
  const Time t0 = c.now();
  c.restart(3);  // fresh state: it must hear of its own leave and outbid the tombstone
  ASSERT_TRUE(rules::wait_for(
      c, [&] { return rules::all_see_at(c, 3, MemberState::alive, left_at + 1); },
      Duration::seconds(30)));
  for (NodeIndex k = 0; k < 5; ++k) {
    if (k != 3) {
      EXPECT_EQ(rules::events_about(c, k, 3, EventKind::joined, t0), 1u) << k;
    }
  }
  EXPECT_TRUE(c.wait_converged(Duration::seconds(10)));
}

INSTANTIATE_TEST_SUITE_P(Both, Stories, ::testing::Values(Dialect::native, Dialect::memberlist),
                         [](const auto& info) { return std::string(dialect_name(info.param)); });

// ---- a view beside membership (native only: NodeConfig::view) ----

bool in_view(NodeCluster& c, NodeIndex k, NodeIndex j) {
  auto v = c.node(k).view()->view();
  return std::find(v.begin(), v.end(), sim_address(j)) != v.end();
}

TEST(ViewBesideMembership, TheViewFormsMulticastRidesPlumtreeAndACrashLeavesEveryView) {
  auto o = small(Dialect::native, 8);
  ViewConfig v;
  v.kind = ViewKind::hyparview;
  v.period = Duration::seconds(2);
  o.config.view = v;
  NodeCluster c(o);
  ASSERT_TRUE(c.wait_converged(Duration::seconds(20)));
  c.run_for(Duration::seconds(5));
  for (NodeIndex k = 0; k < 8; ++k) {
    ASSERT_NE(c.node(k).view(), nullptr);
    EXPECT_FALSE(c.node(k).view()->view().empty()) << k;
    EXPECT_LE(c.node(k).view()->view().size(), v.hyparview_active_size) << k;
    for (const Address& a : c.node(k).view()->view()) {  // active views are symmetric
      NodeIndex j = 0;
      while (j < 8 && sim_address(j) != a) ++j;
      ASSERT_LT(j, 8u);
      EXPECT_TRUE(in_view(c, j, k)) << k << " lists " << j << " but not back";
    }
  }
  auto id = c.multicast(6, bytes("over the tree"));
  ASSERT_TRUE(id);
  EXPECT_TRUE(c.wait_all_delivered(*id, Duration::seconds(5)));
  EXPECT_EQ(c.node(0).multicast_protocol().stats().data_sent, 0u)
      << "the gossip multicast stays idle when a view carries the broadcasts";
  c.crash(5);
  ASSERT_TRUE(c.wait_all_see(5, MemberState::failed, Duration::seconds(40)));
  auto out_of_every_view = [&] {
    for (NodeIndex k = 0; k < 8; ++k) {
      if (c.active(k) && in_view(c, k, 5)) return false;
    }
    return true;
  };
  EXPECT_TRUE(rules::wait_for(c, out_of_every_view, Duration::seconds(20)));
  auto id2 = c.multicast(0, bytes("after the crash"));
  ASSERT_TRUE(id2);
  EXPECT_TRUE(c.wait_all_delivered(*id2, Duration::seconds(5)));
}

}  // namespace
}  // namespace grapevine::sim
