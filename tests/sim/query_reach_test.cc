// A query must reach every live member of a small group within its timeout (querymiss): with the
// local profile a holder piggybacks a query on at most retransmit_mult x ceil(log10(n + 1)) = 2
// datagrams, which probes and acks spend on the same peer, so gossip alone left a member of 3
// without the query (integration.keys_rotation saw `keys install` answered by 2 of 3). The
// querier now re-asks, by one direct datagram each, the members that have neither acked nor
// answered by a fraction of the timeout (queries.h). Fixed seeds.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "grapevine/query.h"
#include "sim/node_cluster.h"

namespace grapevine::sim {
namespace {

struct Reach {
  int runs = 0, missed = 0;  // queries, and those some live member never answered
  std::uint64_t reasks = 0;  // re-ask datagrams the queriers sent
};

enum class Kind { keyring, query_with_ack, query_no_ack };

// One group of n, converged; then node (seed % n) issues one query as the CLI would:
// `keys list` (keyring query, 5 s), `query` (acks asked, the default timeout), or a query
// without acks. Did every member answer before the deadline?
bool every_member_answered(std::uint32_t n, std::uint64_t seed, const MembershipConfig& m,
                           Kind kind, Reach& out) {
  NodeClusterOptions o;
  o.nodes = n;
  o.seed = seed;
  o.config.membership = m;
  if (kind == Kind::keyring) {
    o.config.membership.memberlist.keys = {std::vector<std::byte>(32, std::byte(7))};
  }
  NodeCluster c(o);
  if (!c.wait_converged(Duration::seconds(30))) return false;
  c.run_for(Duration::milliseconds(std::int64_t(seed * 37 % 1000)));  // any phase of the probes
  c.set_query_handler([](NodeIndex, const Event&) -> std::optional<std::string> { return "ok"; });
  const NodeIndex from = NodeIndex(seed % n);
  QueryParams p;
  p.request_ack = kind == Kind::query_with_ack;
  auto t = kind == Kind::keyring ? c.keyring_query(from, KeyringCommand::list, {})
                                 : c.query(from, "q", "", p);
  EXPECT_TRUE(t.has_value());
  if (!t) return false;
  EXPECT_TRUE(c.wait_query_done(from, t->id, Duration::seconds(15)));
  const auto* q = c.query_outcome(from, t->id);
  ++out.runs;
  out.reasks += c.node(from).membership().stats().query_reasks;
  const bool all = q->responses.size() == n;
  out.missed += all ? 0 : 1;
  return all;
}

Reach reach(std::uint32_t n, const MembershipConfig& m, Kind kind, std::uint64_t seeds) {
  Reach r;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    const bool all = every_member_answered(n, seed, m, kind, r);
    EXPECT_TRUE(all) << "n=" << n << " seed " << seed << ": a member never answered";
  }
  return r;
}

// The regression: with the local profile, 300 seeds of `keys list` at 3 members, 100 at 4 and
// 30 of `query` (acks asked) at 9. Gossip alone left a member without the query in 2, 11 and
// 21 of them (the survey below has 300 seeds of each); with the re-ask every member answers,
// at about a re-ask datagram per missed member. Which seeds miss moves with any change to the
// timers' random draws (the rare miss at 3 members may then fall outside these 300 seeds), so
// the check that the scenario still shows misses is on all three sizes together.
TEST(QueryReach, EveryMemberOfASmallGroupAnswersWithTheLocalProfile) {
  const MembershipConfig local = MembershipConfig::local();
  const Reach three = reach(3, local, Kind::keyring, 300);
  EXPECT_EQ(three.missed, 0);
  const Reach four = reach(4, local, Kind::keyring, 100);
  EXPECT_EQ(four.missed, 0);
  EXPECT_LT(four.reasks, 30u);  // about one per miss, not one per member and query
  const Reach nine = reach(9, local, Kind::query_with_ack, 30);
  EXPECT_EQ(nine.missed, 0);
  EXPECT_GT(three.reasks + four.reasks + nine.reasks, 5u)
      << "hardly a run needed a re-ask: the scenario no longer shows the miss";
}

// A query nobody answers (no handler, no ack) costs at most kQueryReaskRounds re-ask datagrams
// per other member; a query with a node filter re-asks only the named members.
TEST(QueryReach, ReaskCostIsBounded) {
  NodeClusterOptions o;
  o.nodes = 6;
  o.seed = 11;
  o.config.membership = MembershipConfig::local();
  NodeCluster c(o);
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  auto t = c.query(0, "silent", "", QueryParams{});
  ASSERT_TRUE(t.has_value());
  ASSERT_TRUE(c.wait_query_done(0, t->id, Duration::seconds(10)));
  EXPECT_EQ(c.node(0).membership().stats().query_reasks, 2u * 5u);
  QueryParams named;
  named.nodes = {"node-3"};
  named.request_ack = true;
  auto u = c.query(1, "named", "", named);
  ASSERT_TRUE(u.has_value());
  ASSERT_TRUE(c.wait_query_done(1, u->id, Duration::seconds(10)));
  EXPECT_EQ(c.query_outcome(1, u->id)->acks.size(), 1u);
  EXPECT_LE(c.node(1).membership().stats().query_reasks, 2u);  // node-3 at most, twice
}

// A manual survey (QUERY_REACH_SEEDS=300 ./sim_tests --gtest_filter='QueryReach.Survey'
// --gtest_also_run_disabled_tests): misses and re-asks per group size and profile.
TEST(QueryReach, DISABLED_Survey) {
  const char* env = std::getenv("QUERY_REACH_SEEDS");
  const std::uint64_t seeds = env ? std::strtoull(env, nullptr, 10) : 300;
  for (const char* profile : {"local", "lan"}) {
    const MembershipConfig m =
        std::string(profile) == "local" ? MembershipConfig::local() : MembershipConfig::lan();
    for (std::uint32_t n : {3u, 4u, 6u, 9u}) {
      for (Kind kind : {Kind::keyring, Kind::query_with_ack, Kind::query_no_ack}) {
        const Reach r = reach(n, m, kind, seeds);
        std::printf("profile=%s n=%u kind=%s runs=%d missed=%d reasks=%llu\n", profile, n,
                    kind == Kind::keyring ? "keys" : kind == Kind::query_with_ack ? "ack" : "noack",
                    r.runs, r.missed, static_cast<unsigned long long>(r.reasks));
      }
    }
  }
}

}  // namespace
}  // namespace grapevine::sim
