// A joiner does not re-gossip the members of its seed's join reply (MembershipConfig::
// join_reply_gossip off, the default; native dialect), except the reply's newest
// join_reply_gossip_newest. LAN timings, 1-5 ms links, fixed seeds:
//  - 200 nodes joining at 200 per second converge as soon as with memberlist's re-gossip, with
//    no false failure, and send fewer updates (each join re-queues the reply's newest 64
//    records, not all of them; with none re-gossiped, fewer still);
//  - a storm (200 joining in the same instant through 3 seeds) still converges in about a
//    second: the reply's newest entries, the joiners just before, are still re-gossiped
//    (without them it waited for anti-entropy, 10-28 s);
//  - the memberlist dialect is unchanged: every entry of a push-pull is re-gossiped.
#include <gtest/gtest.h>

#include <cstdio>

#include "sim/node_cluster.h"
#include "tests/sim/node_cluster_util.h"

namespace grapevine::sim {
namespace {

struct JoinRun {
  double converged_s = -1;  // until every node lists all alive; -1: not within 20 s
  std::uint64_t updates_sent = 0, queued_push_pull = 0, quiet = 0;  // summed, until then
  std::uint64_t false_failures = 0;
};

NodeClusterOptions options(Dialect dialect, bool regossip, double rate, std::uint32_t seeds,
                           std::uint64_t seed, std::uint32_t newest) {
  NodeClusterOptions o = test::lan_cluster(dialect, 200, seed);
  o.join_rate = rate;
  o.seeds = seeds;
  o.record_events = false;
  o.config.membership.join_reply_gossip = regossip;
  o.config.membership.join_reply_gossip_newest = newest;
  return o;
}

JoinRun run(const NodeClusterOptions& o) {
  NodeCluster c(o);
  JoinRun r;
  const auto took = test::run_until_done(
      c, [&] { return c.converged(); }, Duration::seconds(20), Duration::milliseconds(20));
  if (took) r.converged_s = took->to_seconds();  // the first join is at time 0
  for (std::uint32_t i = 0; i < c.size(); ++i) {
    const MembershipStats& s = c.node(i).membership().stats();
    r.updates_sent += s.updates_sent;
    r.queued_push_pull += s.alive_queued_push_pull;
    r.quiet += s.alive_join_reply_quiet;
  }
  c.run_for(Duration::seconds(5));  // a false failure would show by now (LAN suspicion)
  r.false_failures = c.false_failures();
  return r;
}

JoinRun join(Dialect dialect, bool regossip, double rate, std::uint32_t seeds,
             std::uint64_t seed,
             std::uint32_t newest = MembershipConfig{}.join_reply_gossip_newest) {
  return run(options(dialect, regossip, rate, seeds, seed, newest));
}

void print(const char* what, const JoinRun& r) {
  std::printf("%s: %.2f s, %llu updates sent, %llu alive queued from push-pulls, %llu not\n",
              what, r.converged_s, static_cast<unsigned long long>(r.updates_sent),
              static_cast<unsigned long long>(r.queued_push_pull),
              static_cast<unsigned long long>(r.quiet));
}

TEST(NodeJoinReplyGossip, TwoHundredJoinersSendFewerUpdatesAndConvergeAsSoon) {
  for (std::uint64_t seed : {5}) {  // seed 9 too before: 6 s under ASan, the same outcome
    const JoinRun quiet = join(Dialect::native, false, 200, 1, seed);  // the newest 64 loud
    const JoinRun none = join(Dialect::native, false, 200, 1, seed, 0);
    const JoinRun loud = join(Dialect::native, true, 200, 1, seed);
    print("quiet but the newest 64", quiet);
    print("quiet", none);
    print("re-gossip", loud);
    ASSERT_GT(quiet.converged_s, 0.0);
    ASSERT_GT(none.converged_s, 0.0);
    ASSERT_GT(loud.converged_s, 0.0);
    // The last join starts at 199 / 200 s.
    EXPECT_LT(quiet.converged_s, loud.converged_s + 0.2);
    // Without the newest 64, what the reply taught reaches the others by the catch-up round,
    // which now waits for the news to stop (arm_catch_up): about one delay (1 s) later.
    EXPECT_LT(none.converged_s, loud.converged_s + 1.2);
    EXPECT_EQ(loud.quiet, 0u);
    // Each join re-queues at most the reply's newest 64 (of up to 200) or none of it.
    EXPECT_GT(quiet.quiet, 0u);
    EXPECT_LT(double(quiet.queued_push_pull), 0.6 * double(loud.queued_push_pull));
    EXPECT_LT(double(quiet.updates_sent), 0.85 * double(loud.updates_sent));
    EXPECT_LT(double(none.queued_push_pull), 0.1 * double(loud.queued_push_pull));
    EXPECT_LT(double(none.updates_sent), 0.7 * double(loud.updates_sent));
    EXPECT_EQ(quiet.false_failures, 0u);
    EXPECT_EQ(none.false_failures, 0u);
    EXPECT_EQ(loud.false_failures, 0u);
  }
}

TEST(NodeJoinReplyGossip, AStormThroughThreeSeedsStillConvergesInAboutASecond) {
  for (std::uint64_t seed : {1, 2}) {
    const JoinRun r = join(Dialect::native, false, 100000, 3, seed);
    print("storm", r);
    ASSERT_GT(r.converged_s, 0.0);
    EXPECT_LT(r.converged_s, 2.5);
    EXPECT_GT(r.quiet, 0u);
    EXPECT_EQ(r.false_failures, 0u);
  }
}

// Every detector merges join replies quietly (they once stayed loud under phi for a false
// failure that was phi's own: membership.h, the phi settings). The heartbeat detectors spread
// counters in their own rows, so the join converges as soon, with fewer updates.
TEST(NodeJoinReplyGossip, PhiDetectorMergesJoinRepliesQuietlyToo) {
  NodeClusterOptions quiet = options(Dialect::native, false, 200, 1, 5, 64);
  quiet.config.membership.detector = Detector::phi;
  NodeClusterOptions loud = quiet;
  loud.config.membership.join_reply_gossip = true;
  const JoinRun q = run(quiet), l = run(loud);
  print("phi quiet but the newest 64", q);
  print("phi re-gossip", l);
  ASSERT_GT(q.converged_s, 0.0);
  ASSERT_GT(l.converged_s, 0.0);
  EXPECT_LT(q.converged_s, l.converged_s + 0.2);
  EXPECT_GT(q.quiet, 0u);
  EXPECT_EQ(l.quiet, 0u);
  EXPECT_LT(double(q.updates_sent), 0.85 * double(l.updates_sent));
  EXPECT_EQ(q.false_failures, 0u);
  EXPECT_EQ(l.false_failures, 0u);
}

TEST(NodeJoinReplyGossip, MemberlistDialectReGossipsEveryEntry) {
  // 100 members and no newest entry kept loud (the native dialect would merge them all quietly):
  // 200 took 6 s under ASan.
  NodeClusterOptions o = options(Dialect::memberlist, false, 200, 1, 5, 0);
  o.nodes = 100;
  const JoinRun r = run(o);
  print("memberlist", r);
  ASSERT_GT(r.converged_s, 0.0);
  EXPECT_EQ(r.quiet, 0u);
  EXPECT_GT(r.queued_push_pull, 0u);
  EXPECT_EQ(r.false_failures, 0u);
  o.config.membership.dialect = Dialect::native;  // the same run in the native dialect
  EXPECT_GT(run(o).quiet, 0u);
}

}  // namespace
}  // namespace grapevine::sim
