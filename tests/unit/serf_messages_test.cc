// Serf's messages (core/serf/messages.h): golden bytes from the Debian agent's encoding,
// round trips of every type, any key order, limits and malformed input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/serf/messages.h"

namespace grapevine::detail::serf {
namespace {

ByteSpan bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
std::string str(ByteSpan b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
Bytes hex(std::string_view h) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(std::byte(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(SerfMessages, JoinGolden) {
  // service-layer.md A.3: 01 82 a5"LTime" 05 a4"Node" a4"cpp1".
  const Bytes golden = hex("0182a54c54696d6505a44e6f6465a463707031");
  EXPECT_EQ(encode(Join{5, "cpp1"}), golden);
  auto j = decode_join(ByteSpan(golden).subspan(1));
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->ltime, 5u);
  EXPECT_EQ(j->node, "cpp1");
}

TEST(SerfMessages, NodeFilterGolden) {
  // service-layer.md A.3: 00 91 a4"cpp1".
  const std::string_view nodes[] = {"cpp1"};
  EXPECT_EQ(encode_node_filter(nodes), hex("0091a463707031"));
  const Bytes nf = encode_node_filter(nodes);
  auto f = decode_filter(nf);
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->is_tag);
  ASSERT_EQ(f->nodes.size(), 1u);
  EXPECT_EQ(f->nodes[0], "cpp1");
  const Bytes tf = encode_tag_filter("role", "^web$");
  auto t = decode_filter(tf);
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(t->is_tag);
  EXPECT_EQ(t->tag, "role");
  EXPECT_EQ(t->expr, "^web$");
  EXPECT_FALSE(decode_filter(hex("07c0")).has_value());
}

TEST(SerfMessages, LeaveAndUserEventRoundTrip) {
  const Bytes l = encode(Leave{9, "gv1", true});
  EXPECT_EQ(l[0], std::byte(MessageType::leave));
  auto dl = decode_leave(ByteSpan(l).subspan(1));
  ASSERT_TRUE(dl.has_value());
  EXPECT_EQ(dl->ltime, 9u);
  EXPECT_EQ(dl->node, "gv1");
  EXPECT_TRUE(dl->prune);

  const Bytes e = encode(UserEvent{300, "deploy", bytes_of("v1.2.3"), true});
  auto de = decode_user_event(ByteSpan(e).subspan(1));
  ASSERT_TRUE(de.has_value());
  EXPECT_EQ(de->ltime, 300u);
  EXPECT_EQ(de->name, "deploy");
  EXPECT_EQ(str(de->payload), "v1.2.3");
  EXPECT_TRUE(de->cc);
}

TEST(SerfMessages, QueryAndResponseRoundTrip) {
  const Bytes filter = encode_tag_filter("dc", "east");
  Query q;
  q.ltime = 7;
  q.id = 0xdeadbeef;
  q.addr = wire::ml::ip_bytes(Address::ipv4(127, 0, 0, 1, 7946));
  q.port = 7946;
  q.source_node = "s1";
  q.filters.emplace_back(filter);
  q.flags = kQueryFlagAck;
  q.relay_factor = 2;
  q.timeout_ns = 3'200'000'000;
  q.name = "greet";
  q.payload = bytes_of("hi");
  const Bytes raw = encode(q);
  auto d = decode_query(ByteSpan(raw).subspan(1));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ltime, 7u);
  EXPECT_EQ(d->id, 0xdeadbeefu);
  EXPECT_EQ(d->addr.size, 4);
  EXPECT_EQ(d->port, 7946);
  EXPECT_EQ(d->source_node, "s1");
  ASSERT_EQ(d->filters.size(), 1u);
  EXPECT_TRUE(std::equal(d->filters[0].begin(), d->filters[0].end(), filter.begin()));
  EXPECT_EQ(d->flags, kQueryFlagAck);
  EXPECT_EQ(d->relay_factor, 2);
  EXPECT_EQ(d->timeout_ns, 3'200'000'000);
  EXPECT_EQ(d->name, "greet");
  EXPECT_EQ(str(d->payload), "hi");

  const Bytes r = encode(QueryResponse{7, 0xdeadbeef, "gv1", 0, bytes_of("hello")});
  auto dr = decode_query_response(ByteSpan(r).subspan(1));
  ASSERT_TRUE(dr.has_value());
  EXPECT_EQ(dr->from, "gv1");
  EXPECT_EQ(str(dr->payload), "hello");
  // An ack: flags 1, nil payload.
  const Bytes a = encode(QueryResponse{7, 1, "gv1", kQueryFlagAck, {}});
  auto da = decode_query_response(ByteSpan(a).subspan(1));
  ASSERT_TRUE(da.has_value());
  EXPECT_EQ(da->flags, kQueryFlagAck);
  EXPECT_TRUE(da->payload.empty());
}

TEST(SerfMessages, PushPullRoundTrip) {
  PushPull pp;
  pp.ltime = 12;
  pp.status_ltimes = {{"s1", 3}, {"gv1", 5}};
  pp.left_members = {"s2"};
  pp.event_ltime = 40;
  pp.events = {UserEvent{39, "deploy", bytes_of("v1"), false}};
  pp.query_ltime = 8;
  const Bytes raw = encode(pp);
  auto d = decode_push_pull(ByteSpan(raw).subspan(1));
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->ltime, 12u);
  ASSERT_EQ(d->status_ltimes.size(), 2u);
  EXPECT_EQ(d->status_ltimes[1].first, "gv1");
  EXPECT_EQ(d->status_ltimes[1].second, 5u);
  ASSERT_EQ(d->left_members.size(), 1u);
  EXPECT_EQ(d->left_members[0], "s2");
  EXPECT_EQ(d->event_ltime, 40u);
  ASSERT_EQ(d->events.size(), 1u);
  EXPECT_EQ(d->events[0].ltime, 39u);
  EXPECT_EQ(d->events[0].name, "deploy");
  EXPECT_EQ(d->query_ltime, 8u);
  // serf's ring with empty slots (nil) decodes to no events.
  const Bytes serf_ring = hex("82a64576656e747392c0c0a54c54696d6503");
  auto ring = decode_push_pull(serf_ring);
  ASSERT_TRUE(ring.has_value());
  EXPECT_TRUE(ring->events.empty());
  EXPECT_EQ(ring->ltime, 3u);
}

TEST(SerfMessages, KeysConflictRelay) {
  KeyResponse k;
  k.result = true;
  k.keys = {"a2V5MQ==", "a2V5Mg=="};
  k.primary_key = "a2V5MQ==";
  const Bytes rk = encode(k);
  auto dk = decode_key_response(ByteSpan(rk).subspan(1));
  ASSERT_TRUE(dk.has_value());
  EXPECT_TRUE(dk->result);
  EXPECT_EQ(dk->keys, k.keys);
  EXPECT_EQ(dk->primary_key, "a2V5MQ==");

  const Bytes key(16, std::byte{7});
  const Bytes req = encode_key_request(key);
  auto dreq = decode_key_request(ByteSpan(req).subspan(1));
  ASSERT_TRUE(dreq.has_value());
  EXPECT_EQ(dreq->size(), 16u);

  ConflictMember c;
  c.name = "gv1";
  c.addr = wire::ml::ip_bytes(Address::ipv4(127, 0, 0, 1, 1));
  c.port = 7948;
  c.tags = {{"dc", "east"}};
  c.status = 1;
  c.vsn = {1, 5, 2, 2, 5, 5};
  const Bytes rc = encode_conflict(&c);
  auto dc = decode_conflict(ByteSpan(rc).subspan(1));
  ASSERT_TRUE(dc.has_value());
  EXPECT_EQ(dc->name, "gv1");
  EXPECT_EQ(dc->port, 7948);
  EXPECT_EQ(dc->tags, c.tags);
  EXPECT_EQ(dc->vsn, c.vsn);
  const Bytes nil_member = encode_conflict(nullptr);
  auto nil = decode_conflict(ByteSpan(nil_member).subspan(1));
  ASSERT_TRUE(nil.has_value());
  EXPECT_TRUE(nil->name.empty());

  const Bytes inner = encode(QueryResponse{1, 2, "x", kQueryFlagAck, {}});
  const Bytes relay = encode_relay(Relay{c.addr, 7946, "s1", inner});
  auto dr = decode_relay(ByteSpan(relay).subspan(1));
  ASSERT_TRUE(dr.has_value());
  EXPECT_EQ(dr->port, 7946);
  EXPECT_EQ(dr->dest_name, "s1");
  EXPECT_TRUE(std::equal(dr->inner.begin(), dr->inner.end(), inner.begin(), inner.end()));
}

TEST(SerfMessages, MalformedAndLimits) {
  EXPECT_FALSE(decode_join(hex("82a54c54696d65")).has_value());        // truncated
  EXPECT_FALSE(decode_join(hex("82a54c54696d65a1")).has_value());      // string for LTime
  EXPECT_FALSE(decode_query(hex("81a441646472a3010203")).has_value());  // 3-byte address
  // 17 filters: over kFiltersMax.
  Bytes many = hex("81a746696c74657273dc0011");
  for (int i = 0; i < 17; ++i) many.push_back(std::byte{0xa0});
  EXPECT_FALSE(decode_query(many).has_value());
  // Keys in any order, unknown keys skipped.
  const Bytes any_order = hex("83a44e6f6465a178a3466f6fc0a54c54696d6502");
  auto j = decode_join(any_order);
  ASSERT_TRUE(j.has_value());
  EXPECT_EQ(j->node, "x");
  EXPECT_EQ(j->ltime, 2u);
}

}  // namespace
}  // namespace grapevine::detail::serf
