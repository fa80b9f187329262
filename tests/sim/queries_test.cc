// Serf-style queries on the composite Node (grapevine/query.h), in the simulator with fixed
// seeds: filters by name and by tag, every ack and response gathered once, relays, the
// deadline, duplicates dropped, a query under 1% loss at 50 nodes, and a cluster-wide key
// rotation over the keyring query while multicasts flow.
#include <gtest/gtest.h>

#include <string>

#include "grapevine/query.h"
#include "grapevine/tags.h"
#include "sim/node_cluster.h"

namespace grapevine::sim {
namespace {

NodeClusterOptions options(std::uint32_t n, std::uint64_t seed) {
  NodeClusterOptions o;
  o.nodes = n;
  o.seed = seed;
  o.config.membership = MembershipConfig::lan();
  return o;
}

void echo_handler(NodeCluster& c) {
  c.set_query_handler([](NodeIndex i, const Event& e) -> std::optional<std::string> {
    return "node-" + std::to_string(i) + ":" +
           std::string(reinterpret_cast<const char*>(e.payload.data()), e.payload.size());
  });
}

TEST(Queries, AcksAndResponsesFromEveryMemberOnce) {
  NodeCluster c(options(10, 1));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  echo_handler(c);
  QueryParams p;
  p.request_ack = true;
  auto t = c.query(3, "ping", "x", p);
  ASSERT_TRUE(t.has_value());
  // serf's default: 200 ms * 16 * ceil(log10(11)) = 6.4 s
  EXPECT_EQ(t->deadline - c.now(), Duration::milliseconds(6400));
  ASSERT_TRUE(c.wait_query_done(3, t->id, Duration::seconds(10)));
  const auto* q = c.query_outcome(3, t->id);
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->acks.size(), 10u);
  ASSERT_EQ(q->responses.size(), 10u);
  EXPECT_EQ(q->responses.at(7), "node-7:x");
  EXPECT_EQ(q->events, 20u);  // nothing delivered twice
  EXPECT_EQ(c.node(3).membership().stats().query_responses, 10u);
}

TEST(Queries, FiltersByNameAndTag) {
  NodeCluster c(options(8, 2));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  for (NodeIndex i = 0; i < 8; ++i) {  // role=web on even nodes, role=db on odd ones
    auto meta = encode_tags({{"role", i % 2 == 0 ? "web" : "db"}, {"dc", "eu-1"}});
    c.sim().with_node(i, [&](Machine&, Effects& fx) {
      ASSERT_TRUE(c.node(i).update_meta(c.now(), *meta, fx).has_value());
    });
  }
  c.run_for(Duration::seconds(3));
  echo_handler(c);
  QueryParams by_name;
  by_name.nodes = {"node-1", "node-5", "node-9"};  // node-9 does not exist
  by_name.timeout = Duration::seconds(2);
  auto a = c.query(0, "who", "", by_name);
  QueryParams by_tag;
  by_tag.tags = {{"role", "^w"}, {"dc", "eu"}};  // unanchored, as serf's filter
  by_tag.timeout = Duration::seconds(2);
  auto b = c.query(1, "who", "", by_tag);
  QueryParams none;
  none.tags = {{"missing", "."}};
  none.timeout = Duration::seconds(2);
  auto d = c.query(2, "who", "", none);
  ASSERT_TRUE(a && b && d);
  c.run_for(Duration::seconds(3));
  const auto* qa = c.query_outcome(0, a->id);
  ASSERT_TRUE(qa->done);
  EXPECT_EQ(qa->responses.size(), 2u);
  EXPECT_TRUE(qa->responses.count(1) && qa->responses.count(5));
  const auto* qb = c.query_outcome(1, b->id);
  EXPECT_EQ(qb->responses.size(), 4u);
  for (const auto& [i, _] : qb->responses) EXPECT_EQ(i % 2, 0u);
  EXPECT_TRUE(c.query_outcome(2, d->id)->responses.empty());
  EXPECT_GT(c.node(4).membership().stats().queries_filtered, 0u);
}

TEST(Queries, RelayedAnswersAreDeduplicatedAndTheDeadlineHolds) {
  NodeCluster c(options(12, 3));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  // Node 11 answers late: after the deadline nothing is gathered.
  c.set_query_handler([&](NodeIndex i, const Event&) -> std::optional<std::string> {
    return i == 11 ? std::nullopt : std::optional<std::string>("ok");
  });
  QueryParams p;
  p.request_ack = true;
  p.relay_factor = 3;
  p.timeout = Duration::seconds(2);
  auto t = c.query(0, "relayed", "", p);
  ASSERT_TRUE(t.has_value());
  ASSERT_TRUE(c.wait_query_done(0, t->id, Duration::seconds(3)));
  const auto* q = c.query_outcome(0, t->id);
  EXPECT_EQ(q->acks.size(), 12u);
  EXPECT_EQ(q->responses.size(), 11u);
  EXPECT_EQ(q->events, 23u);
  EXPECT_LE(q->done_at, c.now());
  EXPECT_EQ(q->done_at, t->deadline);
  std::uint64_t relays = 0;
  for (NodeIndex i = 0; i < 12; ++i) relays += c.node(i).membership().stats().query_relays;
  EXPECT_GT(relays, 30u);  // (11 acks + 10 responses) x 3 relays, minus the querier's own
  const auto& s = c.node(0).membership().stats();
  EXPECT_GT(s.query_response_duplicates, 30u);  // the relayed copies, dropped
  // A response after the deadline is refused at the member.
  std::uint64_t ltime = 0;
  std::uint32_t id = 0;
  c.set_query_handler([&](NodeIndex i, const Event& e) -> std::optional<std::string> {
    if (i == 5) ltime = e.ltime, id = e.query_id;
    return std::nullopt;
  });
  auto late = c.query(0, "late", "", p);
  ASSERT_TRUE(late.has_value());
  c.run_for(Duration::seconds(3));
  ASSERT_NE(id, 0u);
  c.sim().with_node(5, [&](Machine&, Effects& fx) {
    auto r = c.node(5).respond(c.now(), ltime, id, {}, fx);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, Errc::rejected);
  });
}

TEST(Queries, LimitsAndInternalNames) {
  NodeCluster c(options(3, 4));
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  const std::string big(kQueryBytesMax, 'x');
  EXPECT_EQ(c.query(0, "q", big, {}).error().code, Errc::too_large);
  EXPECT_EQ(c.query(0, "", "", {}).error().code, Errc::invalid_argument);
  EXPECT_EQ(c.query(0, "_grapevine_keys", "", {}).error().code, Errc::invalid_argument);
  QueryParams p;
  p.relay_factor = 6;
  EXPECT_EQ(c.query(0, "q", "", p).error().code, Errc::invalid_argument);
  // A response over the limit is refused with a clear error; a second answer too.
  std::uint64_t ltime = 0;
  std::uint32_t id = 0;
  c.set_query_handler([&](NodeIndex i, const Event& e) -> std::optional<std::string> {
    if (i == 1) ltime = e.ltime, id = e.query_id;
    return std::nullopt;
  });
  ASSERT_TRUE(c.query(0, "q", "", {}).has_value());
  c.run_for(Duration::seconds(1));
  ASSERT_NE(id, 0u);
  c.sim().with_node(1, [&](Machine&, Effects& fx) {
    const std::string huge(kQueryResponseBytesMax, 'y');
    auto r = c.node(1).respond(c.now(), ltime, id, std::as_bytes(std::span(huge)), fx);
    EXPECT_EQ(r.error().code, Errc::too_large);
    EXPECT_TRUE(c.node(1).respond(c.now(), ltime, id, {}, fx).has_value());
    EXPECT_EQ(c.node(1).respond(c.now(), ltime, id, {}, fx).error().code, Errc::invalid_argument);
  });
}

TEST(Queries, EveryResponseUnderOnePercentLossAtFiftyNodes) {
  NodeCluster c(options(50, 5));  // also passes with seeds 6..14
  ASSERT_TRUE(c.wait_converged(Duration::seconds(60)));
  c.set_loss(0.01);
  echo_handler(c);
  QueryParams p;
  p.request_ack = true;
  p.relay_factor = 2;
  for (NodeIndex from : {0u, 17u, 42u}) {
    auto t = c.query(from, "lossy", "p", p);
    ASSERT_TRUE(t.has_value());
    ASSERT_TRUE(c.wait_query_done(from, t->id, Duration::seconds(20)));
    const auto* q = c.query_outcome(from, t->id);
    EXPECT_EQ(q->responses.size(), 50u) << "from " << from;
    EXPECT_EQ(q->acks.size(), 50u) << "from " << from;
    EXPECT_EQ(q->events, 100u);
  }
}

TEST(Queries, KeyRotationOverQueriesWhileMulticastsFlow) {
  using Bytes = std::vector<std::byte>;
  const Bytes k1(32, std::byte(1)), k2(32, std::byte(2));
  NodeClusterOptions o = options(12, 6);
  o.config.membership.memberlist.keys = {k1};
  NodeCluster c(o);
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  std::vector<MessageId> sent;
  auto rotate = [&](KeyringCommand cmd, const Bytes& key, std::uint32_t want_ok) {
    auto t = c.keyring_query(4, cmd, key);
    ASSERT_TRUE(t.has_value());
    for (int k = 0; k < 4; ++k) {  // multicasts while the step spreads
      const std::string m = "m" + std::to_string(sent.size());
      auto id = c.multicast(NodeIndex((sent.size() * 5) % 12), std::as_bytes(std::span(m)));
      ASSERT_TRUE(id.has_value());
      sent.push_back(*id);
      c.run_for(Duration::milliseconds(500));
    }
    ASSERT_TRUE(c.wait_query_done(4, t->id, Duration::seconds(10)));
    const auto* q = c.query_outcome(4, t->id);
    ASSERT_EQ(q->responses.size(), 12u) << keyring_command_name(cmd);
    std::uint32_t ok = 0;
    for (const auto& [i, bytes] : q->responses) {
      auto a = decode_keyring_answer(std::as_bytes(std::span(bytes)));
      ASSERT_TRUE(a.has_value());
      ok += a->ok ? 1 : 0;
    }
    EXPECT_EQ(ok, want_ok) << keyring_command_name(cmd);
  };
  rotate(KeyringCommand::remove, k1, 0);  // the primary: refused by every member
  rotate(KeyringCommand::use, k2, 0);     // not installed: refused by every member
  rotate(KeyringCommand::install, k2, 12);
  rotate(KeyringCommand::use, k2, 12);
  rotate(KeyringCommand::remove, k1, 12);
  rotate(KeyringCommand::list, {}, 12);
  c.run_for(Duration::seconds(5));
  EXPECT_TRUE(c.converged());
  EXPECT_EQ(c.false_failures(), 0u);
  for (const auto& id : sent) EXPECT_TRUE(c.all_delivered(id));
  for (NodeIndex i = 0; i < 12; ++i) {
    EXPECT_EQ(c.node(i).keyring(), std::vector<Bytes>{k2}) << i;
    EXPECT_EQ(c.node(i).seal_stats().rejected[std::size_t(SealReject::wrong_key)], 0u) << i;
  }
}

// A keyring query's default timeout is at least kKeyringQueryTimeoutMin: with local timings
// (100 ms gossip) 3 members' default query timeout is 1.6 s, short enough for a loaded CI host to
// miss one member's answer (integration.keys_rotation under ASan). An explicit timeout is kept.
TEST(Queries, KeyringQueriesWaitAtLeastTheKeyringMinimum) {
  NodeClusterOptions o = options(3, 8);
  o.config.membership = MembershipConfig::local();
  o.config.membership.memberlist.keys = {std::vector<std::byte>(32, std::byte(1))};
  NodeCluster c(o);
  ASSERT_TRUE(c.wait_converged(Duration::seconds(30)));
  const Time issued = c.now();
  auto t = c.keyring_query(0, KeyringCommand::list, {});
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->deadline - issued, kKeyringQueryTimeoutMin);
  auto q = c.query(0, "plain", "", QueryParams{});
  ASSERT_TRUE(q.has_value());
  EXPECT_LT(q->deadline - issued, kKeyringQueryTimeoutMin);  // ordinary queries keep theirs
  QueryParams p;
  p.timeout = Duration::milliseconds(700);
  auto e = c.keyring_query(1, KeyringCommand::list, {}, p);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->deadline - issued, p.timeout);  // no time passed between the calls
  ASSERT_TRUE(c.wait_query_done(0, t->id, Duration::seconds(10)));
  EXPECT_EQ(c.query_outcome(0, t->id)->responses.size(), 3u);
}

}  // namespace
}  // namespace grapevine::sim
