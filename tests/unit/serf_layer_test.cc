// Serf's protocol layer (core/serf/serf_layer.h) against a fake host: intents and refutation,
// user events, queries (filters, acks, responses, duplicates, relays), serf's internal queries,
// our own queries' collection, and the push-pull state.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/serf/serf_layer.h"

namespace grapevine::detail::serf {
namespace {

ByteSpan bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string str(ByteSpan b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

struct FakeHost final : Host {
  std::vector<Bytes> gossiped;
  std::vector<std::pair<Address, Bytes>> sent;
  std::vector<std::pair<std::string, Address>> table;  // members, self first
  std::vector<Bytes> ring;
  std::vector<KeyOp> key_ops;
  Bytes tags = *encode_tags({{"dc", "east"}});

  void gossip(std::span<const std::byte> m) override { gossiped.emplace_back(m.begin(), m.end()); }
  void send(const Address& to, std::span<const std::byte> m, Effects&) override {
    sent.emplace_back(to, Bytes(m.begin(), m.end()));
  }
  void members(std::vector<HostMember>& out) const override {
    for (const auto& [name, a] : table) {
      HostMember m;
      m.name = name;
      m.address = a;
      m.meta = tags;
      m.vsn = {1, 5, 2, 2, 5, 5};
      out.push_back(m);
    }
  }
  Result<void> change_key(KeyOp op, std::span<const std::byte> key) override {
    if (key.size() != 16) return make_error(Errc::invalid_argument, "bad key");
    key_ops.push_back(op);
    return {};
  }
  std::vector<std::vector<std::byte>> keys() const override { return ring; }
};

struct Events final : Effects {
  std::vector<std::string> user;     // name=payload@ltime
  std::vector<std::string> queries;  // name=payload@ltime#id<from
  void send(const Address&, std::span<const std::byte>) override {}
  void emit(const Event& e) override {
    if (e.kind == EventKind::query) {
      queries.push_back(std::string(e.user_name) + "=" + str(e.payload) + "@" +
                        std::to_string(e.ltime) + "#" + std::to_string(e.query_id) + "<" +
                        std::string(e.subject_name));
    }
    if (e.kind == EventKind::user_event) {
      user.push_back(std::string(e.user_name) + "=" + str(e.payload) + "@" +
                     std::to_string(e.ltime));
    }
  }
};

const Address kSelf = Address::ipv4(127, 0, 0, 1, 7948);
const Address kS1 = Address::ipv4(127, 0, 0, 1, 7946);
const Address kS2 = Address::ipv4(127, 0, 0, 1, 7947);

struct LayerTest : ::testing::Test {
  FakeHost host;
  Events fx;
  Layer layer{LayerConfig{"gv1", kSelf, {{"greet", "hello"}}, Duration::milliseconds(200)}, host,
              42};
  LayerTest() { host.table = {{"gv1", kSelf}, {"s1", kS1}, {"s2", kS2}}; }

  Query query(std::uint64_t ltime, std::uint32_t id, std::string_view name) {
    Query q;
    q.ltime = ltime;
    q.id = id;
    q.addr = wire::ml::ip_bytes(kS1);
    q.port = kS1.port;
    q.source_node = "s1";
    q.flags = kQueryFlagAck;
    q.name = name;
    return q;
  }
  std::vector<QueryResponse> replies_to(const Address& a) {
    std::vector<QueryResponse> out;
    for (const auto& [to, m] : host.sent) {
      if (to != a || m[0] != std::byte(MessageType::query_response)) continue;
      out.push_back(*decode_query_response(ByteSpan(m).subspan(1)));
    }
    return out;
  }
};

TEST_F(LayerTest, JoinAndLeaveIntents) {
  layer.joined();
  ASSERT_EQ(host.gossiped.size(), 1u);
  auto j = decode_join(ByteSpan(host.gossiped[0]).subspan(1));
  EXPECT_EQ(j->node, "gv1");
  EXPECT_EQ(j->ltime, 1u);
  // A newer leave intent about s2: recorded and re-broadcast; an older one dropped.
  layer.on_message(Time::zero(), encode(Leave{5, "s2", false}), fx);
  std::uint64_t t = 0;
  bool leaving = false;
  ASSERT_TRUE(layer.intent_of("s2", t, leaving));
  EXPECT_EQ(t, 5u);
  EXPECT_TRUE(leaving);
  EXPECT_EQ(host.gossiped.size(), 2u);
  layer.on_message(Time::zero(), encode(Leave{4, "s2", false}), fx);
  EXPECT_EQ(host.gossiped.size(), 2u);
  EXPECT_EQ(layer.member_clock(), 6u);  // witnessed
  // A join intent newer than the leave: alive again.
  layer.on_message(Time::zero(), encode(Join{7, "s2"}), fx);
  ASSERT_TRUE(layer.intent_of("s2", t, leaving));
  EXPECT_FALSE(leaving);
  // Our own leave: the member clock, then incremented.
  layer.leave();
  auto l = decode_leave(ByteSpan(host.gossiped.back()).subspan(1));
  EXPECT_EQ(l->node, "gv1");
  EXPECT_EQ(l->ltime, 8u);
  EXPECT_EQ(layer.member_clock(), 9u);
}

TEST_F(LayerTest, RefutesALeaveIntentAboutItself) {
  layer.on_message(Time::zero(), encode(Leave{10, "gv1", false}), fx);
  EXPECT_EQ(layer.stats().refutes, 1u);
  ASSERT_EQ(host.gossiped.size(), 1u);
  auto j = decode_join(ByteSpan(host.gossiped[0]).subspan(1));
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->node, "gv1");
  EXPECT_GT(j->ltime, 10u);
}

TEST_F(LayerTest, UserEventsOnceEachAndRebroadcast) {
  const Bytes e = encode(UserEvent{3, "deploy", bytes_of("v1"), false});
  layer.on_message(Time::zero(), e, fx);
  layer.on_message(Time::zero(), e, fx);
  EXPECT_EQ(fx.user, std::vector<std::string>{"deploy=v1@3"});
  EXPECT_EQ(host.gossiped.size(), 1u);
  auto ltime = layer.user_event("mine", bytes_of("p"), true, fx);
  ASSERT_TRUE(ltime.has_value());
  EXPECT_EQ(*ltime, 4u);
  EXPECT_EQ(fx.user.back(), "mine=p@4");
  EXPECT_EQ(host.gossiped.size(), 2u);
  EXPECT_FALSE(layer.user_event("", {}, false, fx).has_value());
  EXPECT_FALSE(layer.user_event("big", Bytes(600), false, fx).has_value());
}

TEST_F(LayerTest, AnswersQueriesWithAckAndResponse) {
  layer.on_message(Time::zero(), encode(query(3, 77, "greet")), fx);
  auto r = replies_to(kS1);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].flags, kQueryFlagAck);
  EXPECT_EQ(r[0].from, "gv1");
  EXPECT_EQ(r[1].flags, 0u);
  EXPECT_EQ(str(r[1].payload), "hello");
  EXPECT_EQ(r[1].id, 77u);
  EXPECT_EQ(host.gossiped.size(), 1u);  // re-broadcast
  // The same query again: a duplicate, nothing more.
  layer.on_message(Time::zero(), encode(query(3, 77, "greet")), fx);
  EXPECT_EQ(replies_to(kS1).size(), 2u);
  EXPECT_EQ(layer.stats().query_duplicates, 1u);
  // A query without a configured answer: ack only.
  layer.on_message(Time::zero(), encode(query(4, 78, "other")), fx);
  EXPECT_EQ(replies_to(kS1).size(), 3u);
}

// A query the fixed table does not answer goes to the application (the agent's handlers), which
// answers once, before the deadline, within serf's 1024-byte limit, relays included.
TEST_F(LayerTest, ApplicationAnswersQueriesAsync) {
  Query q = query(4, 78, "other");
  q.payload = bytes_of("in");
  q.timeout_ns = Duration::seconds(2).ns();
  q.relay_factor = 1;
  layer.on_message(Time::zero(), encode(q), fx);
  EXPECT_EQ(fx.queries, std::vector<std::string>{"other=in@4#78<s1"});
  layer.on_message(Time::zero(), encode(query(3, 77, "greet")), fx);
  EXPECT_EQ(fx.queries.size(), 1u);  // answered by the table, not emitted
  const std::size_t before = replies_to(kS1).size();
  EXPECT_EQ(layer.respond(Time::zero(), 4, 79, bytes_of("x"), fx).error().code,
            Errc::invalid_argument);  // unknown id
  EXPECT_EQ(layer.respond(Time::zero(), 4, 78, Bytes(1100), fx).error().code, Errc::too_large);
  ASSERT_TRUE(layer.respond(Time::zero() + Duration::seconds(1), 4, 78, bytes_of("out"), fx));
  auto r = replies_to(kS1);
  ASSERT_EQ(r.size(), before + 1);
  EXPECT_EQ(str(r.back().payload), "out");
  EXPECT_EQ(r.back().id, 78u);
  std::size_t relayed = 0;
  for (const auto& [to, m] : host.sent) relayed += m[0] == std::byte(MessageType::relay);
  EXPECT_EQ(relayed, 2u);  // the ack and the handler's response
  EXPECT_EQ(layer.respond(Time::zero(), 4, 78, bytes_of("again"), fx).error().code,
            Errc::invalid_argument);  // once
  // Past its deadline: refused.
  Query late = query(5, 80, "other");
  late.timeout_ns = Duration::seconds(1).ns();
  layer.on_message(Time::zero(), encode(late), fx);
  EXPECT_EQ(layer.respond(Time::zero() + Duration::seconds(2), 5, 80, bytes_of("x"), fx)
                .error().code,
            Errc::rejected);
  // Bounded: past kReceivedMax newer queries, the oldest is forgotten.
  for (std::uint32_t i = 0; i < Layer::kReceivedMax; ++i) {
    Query n = query(10 + i, 1000 + i, "other");
    n.timeout_ns = Duration::seconds(5).ns();
    layer.on_message(Time::zero(), encode(n), fx);
  }
  EXPECT_EQ(layer.respond(Time::zero(), 5, 80, bytes_of("x"), fx).error().code,
            Errc::invalid_argument);
  EXPECT_TRUE(layer.respond(Time::zero(), 10 + Layer::kReceivedMax - 1,
                            1000 + Layer::kReceivedMax - 1, bytes_of("x"), fx));
}

TEST_F(LayerTest, FiltersAndNoBroadcast) {
  Query q = query(5, 1, "greet");
  const std::string_view others[] = {"s2"};
  const Bytes node_filter = encode_node_filter(others);
  q.filters.emplace_back(node_filter);
  layer.on_message(Time::zero(), encode(q), fx);
  EXPECT_TRUE(replies_to(kS1).empty());  // not for us
  EXPECT_EQ(host.gossiped.size(), 1u);   // but passed on
  Query t = query(6, 2, "greet");
  const Bytes tag_ok = encode_tag_filter("dc", "^ea");
  t.filters.emplace_back(tag_ok);
  t.flags |= kQueryFlagNoBroadcast;
  layer.on_message(Time::zero(), encode(t), fx);
  EXPECT_EQ(replies_to(kS1).size(), 2u);
  EXPECT_EQ(host.gossiped.size(), 1u);  // no re-broadcast
  Query bad = query(7, 3, "greet");
  const Bytes tag_bad = encode_tag_filter("dc", "west");
  bad.filters.emplace_back(tag_bad);
  layer.on_message(Time::zero(), encode(bad), fx);
  EXPECT_EQ(replies_to(kS1).size(), 2u);
}

TEST_F(LayerTest, RelaysAnswersAndForwardsRelays) {
  Query q = query(5, 9, "greet");
  q.relay_factor = 1;
  layer.on_message(Time::zero(), encode(q), fx);
  std::size_t relayed = 0;
  for (const auto& [to, m] : host.sent) relayed += m[0] == std::byte(MessageType::relay);
  EXPECT_EQ(relayed, 2u);  // the ack and the response, once each
  host.sent.clear();
  const Bytes inner = encode(QueryResponse{5, 9, "s2", kQueryFlagAck, {}});
  layer.on_message(Time::zero(), encode_relay(Relay{wire::ml::ip_bytes(kS1), kS1.port, "s1", inner}),
                   fx);
  ASSERT_EQ(host.sent.size(), 1u);
  EXPECT_EQ(host.sent[0].first, kS1);
  EXPECT_EQ(host.sent[0].second, inner);
}

TEST_F(LayerTest, InternalQueries) {
  // _serf_ping: the ack only.
  layer.on_message(Time::zero(), encode(query(1, 1, "_serf_ping")), fx);
  EXPECT_EQ(replies_to(kS1).size(), 1u);
  // _serf_conflict about s2: s2 as we know it.
  Query c = query(2, 2, "_serf_conflict");
  c.payload = bytes_of("s2");
  layer.on_message(Time::zero(), encode(c), fx);
  auto r = replies_to(kS1);
  ASSERT_EQ(r.size(), 3u);
  ASSERT_EQ(r[2].payload[0], std::byte(MessageType::conflict_response));
  auto m = decode_conflict(r[2].payload.subspan(1));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->name, "s2");
  EXPECT_EQ(m->port, kS2.port);
  EXPECT_EQ(m->status, 1);
  // About ourselves: no answer.
  Query self = query(3, 3, "_serf_conflict");
  self.payload = bytes_of("gv1");
  layer.on_message(Time::zero(), encode(self), fx);
  EXPECT_EQ(replies_to(kS1).size(), 4u);  // the ack only
  // Key queries without a keyring: serf's message.
  layer.on_message(Time::zero(), encode(query(4, 4, "_serf_list-keys")), fx);
  auto k = decode_key_response(replies_to(kS1).back().payload.subspan(1));
  ASSERT_TRUE(k.has_value());
  EXPECT_FALSE(k->result);
  EXPECT_EQ(k->message, "Keyring is empty (encryption not enabled)");
  // With a keyring: list in base64, install through the host.
  host.ring = {Bytes(16, std::byte{0})};
  layer.on_message(Time::zero(), encode(query(5, 5, "_serf_list-keys")), fx);
  k = decode_key_response(replies_to(kS1).back().payload.subspan(1));
  ASSERT_TRUE(k->result);
  EXPECT_EQ(k->keys, std::vector<std::string>{"AAAAAAAAAAAAAAAAAAAAAA=="});
  EXPECT_EQ(k->primary_key, "AAAAAAAAAAAAAAAAAAAAAA==");
  Query install = query(6, 6, "_serf_install-key");
  const Bytes req = encode_key_request(Bytes(16, std::byte{1}));
  install.payload = req;
  layer.on_message(Time::zero(), encode(install), fx);
  k = decode_key_response(replies_to(kS1).back().payload.subspan(1));
  EXPECT_TRUE(k->result);
  EXPECT_EQ(host.key_ops, std::vector<KeyOp>{KeyOp::install});
  Query bad = query(7, 7, "_serf_use-key");
  const Bytes short_key = encode_key_request(Bytes(5, std::byte{1}));
  bad.payload = short_key;
  layer.on_message(Time::zero(), encode(bad), fx);
  k = decode_key_response(replies_to(kS1).back().payload.subspan(1));
  EXPECT_FALSE(k->result);
  EXPECT_EQ(k->message, "bad key");
}

TEST_F(LayerTest, CollectsItsOwnQuery) {
  QueryParams p;
  p.request_ack = true;
  p.timeout = Duration::seconds(2);
  auto ltime = layer.query(Time::zero(), "greet", bytes_of("hi"), p, fx);
  ASSERT_TRUE(ltime.has_value());
  ASSERT_EQ(host.gossiped.size(), 1u);
  auto q = decode_query(ByteSpan(host.gossiped[0]).subspan(1));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->source_node, "gv1");
  EXPECT_EQ(q->port, kSelf.port);
  EXPECT_EQ(q->timeout_ns, Duration::seconds(2).ns());
  // Our own answers went to ourselves; feed them back, then s1's, one twice.
  for (const auto& [to, m] : host.sent) layer.on_message(Time::zero(), m, fx);
  const Bytes ack = encode(QueryResponse{*ltime, q->id, "s1", kQueryFlagAck, {}});
  const Bytes resp = encode(QueryResponse{*ltime, q->id, "s1", 0, bytes_of("yo")});
  layer.on_message(Time::zero(), ack, fx);
  layer.on_message(Time::zero(), resp, fx);
  layer.on_message(Time::zero(), resp, fx);
  const Bytes wrong_id = encode(QueryResponse{*ltime, q->id + 1, "s2", 0, bytes_of("x")});
  layer.on_message(Time::zero(), wrong_id, fx);
  const QueryResult* r = layer.query_result(*ltime);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->acks, (std::vector<std::string>{"gv1", "s1"}));
  ASSERT_EQ(r->responses.size(), 2u);
  EXPECT_EQ(r->responses[1].first, "s1");
  EXPECT_FALSE(r->done);
  // After the deadline: done, late answers ignored.
  layer.on_timeout(Time::zero() + Duration::seconds(3));
  EXPECT_TRUE(layer.query_result(*ltime)->done);
  layer.on_message(Time::zero() + Duration::seconds(3),
                   encode(QueryResponse{*ltime, q->id, "s2", kQueryFlagAck, {}}), fx);
  EXPECT_EQ(layer.query_result(*ltime)->acks.size(), 2u);
  EXPECT_FALSE(layer.query(Time::zero(), "_serf_ping", {}, p, fx).has_value());
}

// The re-ask (serf_layer.h): at 1/4 and 1/2 of the timeout the very bytes gossiped (same LTime
// and ID, which serf drops as a duplicate where it has them) go to each member that has neither
// acked nor answered and passes the filters; none after the second round or once done.
TEST_F(LayerTest, ReasksSilentMembersWithTheSameQueryTwice) {
  host.table.push_back({"s3", Address::ipv4(127, 0, 0, 1, 7949)});
  QueryParams p;
  p.request_ack = true;
  p.timeout = Duration::seconds(4);
  p.tags = {{"dc", "^ea"}};  // every member's tags (FakeHost): dc=east
  auto ltime = layer.query(Time::zero(), "greet", bytes_of("hi"), p, fx);
  ASSERT_TRUE(ltime.has_value());
  ASSERT_EQ(host.gossiped.size(), 1u);
  const Bytes gossiped = host.gossiped[0];
  auto q = decode_query(ByteSpan(gossiped).subspan(1));
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(layer.next_deadline(), Time::zero() + Duration::seconds(1));
  layer.on_message(Time::zero(), encode(QueryResponse{*ltime, q->id, "s1", kQueryFlagAck, {}}),
                   fx);
  layer.on_message(Time::zero(), encode(QueryResponse{*ltime, q->id, "s2", 0, bytes_of("yo")}),
                   fx);
  host.sent.clear();
  layer.on_timeout(Time::zero() + Duration::milliseconds(999), fx);
  EXPECT_TRUE(host.sent.empty());
  layer.on_timeout(Time::zero() + Duration::seconds(1), fx);
  ASSERT_EQ(host.sent.size(), 1u);  // s3 only: s1 acked, s2 answered, gv1 is us
  EXPECT_EQ(host.sent[0].first.port, 7949);
  EXPECT_EQ(host.sent[0].second, gossiped);
  EXPECT_EQ(layer.next_deadline(), Time::zero() + Duration::seconds(2));
  layer.on_timeout(Time::zero() + Duration::seconds(2), fx);
  EXPECT_EQ(host.sent.size(), 2u);
  EXPECT_EQ(layer.next_deadline(), Time::zero() + Duration::seconds(4));  // only the deadline
  layer.on_timeout(Time::zero() + Duration::seconds(3), fx);
  EXPECT_EQ(host.sent.size(), 2u);
  EXPECT_EQ(layer.stats().query_reasks, 2u);
  // A filter s3 fails: nobody is re-asked.
  QueryParams west = p;
  west.tags = {{"dc", "west"}};
  ASSERT_TRUE(layer.query(Time::zero() + Duration::seconds(5), "greet", {}, west, fx));
  layer.on_timeout(Time::zero() + Duration::seconds(7), fx);
  EXPECT_EQ(host.sent.size(), 2u);
}

// Our push-pull carries our recent events (serf's Events); a joiner replays them only with
// set_replay (serf's -replay), and without it never delivers them, even from a later exchange.
TEST_F(LayerTest, JoinReplaysPushPullEventsIffReplay) {
  ASSERT_TRUE(layer.user_event("old1", bytes_of("a"), false, fx).has_value());
  layer.on_message(Time::zero(), encode(UserEvent{7, "old2", bytes_of("b"), true}), fx);
  const Bytes state = layer.local_state();
  auto pp = decode_push_pull(ByteSpan(state).subspan(1));
  ASSERT_TRUE(pp.has_value());
  ASSERT_EQ(pp->events.size(), 2u);
  EXPECT_EQ(pp->events[1].name, "old2");
  EXPECT_FALSE(pp->events[1].cc);  // serf's ring keeps {Name, Payload}: replays are CC=false
  for (bool replay : {false, true}) {
    FakeHost h;
    h.table = {{"j", kS2}};
    Events jfx;
    Layer joiner(LayerConfig{"j", kS2, {}, Duration::milliseconds(200)}, h, 3);
    joiner.set_replay(replay);
    joiner.merge_remote_state(Time::zero(), state, true, jfx);
    joiner.merge_remote_state(Time::zero(), state, false, jfx);  // a later periodic exchange
    if (replay) {
      EXPECT_EQ(jfx.user, (std::vector<std::string>{"old1=a@1", "old2=b@7"}));
    } else {
      EXPECT_TRUE(jfx.user.empty());
    }
    EXPECT_EQ(joiner.event_clock(), layer.event_clock());
    EXPECT_TRUE(h.gossiped.empty());  // replayed events are not gossiped again
  }
}

TEST_F(LayerTest, PushPullStateMerges) {
  layer.joined();
  layer.on_message(Time::zero(), encode(Leave{5, "s2", false}), fx);
  ASSERT_TRUE(layer.user_event("e", {}, false, fx).has_value());
  FakeHost other_host;
  other_host.table = {{"s1", kS1}};
  Events other_fx;
  Layer other(LayerConfig{"s1", kS1, {}, Duration::milliseconds(200)}, other_host, 1);
  const Bytes state = layer.local_state();
  auto pp = decode_push_pull(ByteSpan(state).subspan(1));
  ASSERT_TRUE(pp.has_value());
  EXPECT_EQ(pp->ltime, layer.member_clock());
  EXPECT_EQ(pp->status_ltimes.size(), 3u);
  other.merge_remote_state(Time::zero(), state, false, other_fx);
  EXPECT_EQ(other.member_clock(), layer.member_clock());
  EXPECT_EQ(other.event_clock(), layer.event_clock());
  std::uint64_t t = 0;
  bool leaving = true;
  ASSERT_TRUE(other.intent_of("gv1", t, leaving));
  EXPECT_EQ(t, 1u);
  EXPECT_FALSE(leaving);
  // A join's push-pull: events before it are not delivered, even when replayed later.
  Events joiner_fx;
  Layer joiner(LayerConfig{"s3", kS2, {}, Duration::milliseconds(200)}, other_host, 2);
  PushPull old;
  old.event_ltime = 10;
  old.events = {UserEvent{4, "before", {}, false}};
  const Bytes old_state = encode(old);
  joiner.merge_remote_state(Time::zero(), old_state, true, joiner_fx);
  joiner.merge_remote_state(Time::zero(), old_state, false, joiner_fx);
  joiner.on_message(Time::zero(), encode(UserEvent{12, "after", {}, false}), joiner_fx);
  EXPECT_EQ(joiner_fx.user, std::vector<std::string>{"after=@12"});
  // Garbage state is counted, not applied.
  const Bytes junk = {std::byte(MessageType::push_pull), std::byte{0xc1}};
  other.merge_remote_state(Time::zero(), junk, false, other_fx);
  EXPECT_EQ(other.stats().malformed, 1u);
}

}  // namespace
}  // namespace grapevine::detail::serf

namespace grapevine::detail::serf {
namespace {

TEST_F(LayerTest, OwnQueryWithFilters) {
  QueryParams p;
  p.tags = {{"role", "^web$"}};
  p.nodes = {"s1"};
  p.timeout = Duration::seconds(1);
  auto ltime = layer.query(Time::zero(), "greet", {}, p, fx);
  ASSERT_TRUE(ltime.has_value());
  EXPECT_TRUE(replies_to(kSelf).empty());  // we are neither s1 nor role=web
  auto q = decode_query(ByteSpan(host.gossiped.back()).subspan(1));
  ASSERT_TRUE(q.has_value());
  ASSERT_EQ(q->filters.size(), 2u);
}

}  // namespace
}  // namespace grapevine::detail::serf
