// Sealed native clusters in the simulator, the composite Node hosted directly (docs/security.md):
// a keyed cluster converges and multicasts; a node with the wrong key is never admitted; forged
// plaintext dead/leave/alive frames about real members change nothing (and do change an open
// cluster, so the frames are real); captured sealed packets replayed after a leave, a
// crash-and-rejoin and a multicast change nothing, also at a restarted node and at members
// the packets were not sent to; the same seed gives the same run.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <tuple>
#include <vector>

#include "grapevine/node.h"
#include "sim/simulator.h"

namespace grapevine::sim {
namespace {

using Bytes = std::vector<std::byte>;

Bytes key(std::uint8_t fill) { return Bytes(32, std::byte(fill)); }

// A Node whose inbound datagrams and streams are recorded (while `recording`) for replay.
class Tap final : public Machine {
 public:
  struct Packet {
    Address from;
    Bytes bytes;
    bool stream;
  };
  Tap(const NodeConfig& c, const Address& self, std::uint64_t seed, std::vector<Packet>* log)
      : node(c, self, seed), log_(log) {}
  void on_datagram(Time now, const Address& from, std::span<const std::byte> b,
                   Effects& fx) override {
    if (log_ != nullptr) log_->push_back({from, Bytes(b.begin(), b.end()), false});
    node.on_datagram(now, from, b, fx);
  }
  void on_stream(Time now, const Address& from, std::span<const std::byte> m, StreamId s,
                 Effects& fx) override {
    if (log_ != nullptr) log_->push_back({from, Bytes(m.begin(), m.end()), true});
    node.on_stream(now, from, m, s, fx);
  }
  [[nodiscard]] Result<std::size_t> stream_message_length(
      std::span<const std::byte> r) const override {
    return node.stream_message_length(r);
  }
  void on_timeout(Time now, Effects& fx) override { node.on_timeout(now, fx); }
  [[nodiscard]] Time next_deadline() const noexcept override { return node.next_deadline(); }
  void stop_recording() { log_ = nullptr; }

  Node node;

 private:
  std::vector<Packet>* log_;
};

struct Cluster {
  explicit Cluster(std::uint64_t seed) : sim(NetworkConfig{}, seed), seed_(seed) {}

  NodeIndex add(const NodeConfig& c) {
    const NodeIndex i = NodeIndex(sim.size());
    auto t = std::make_unique<Tap>(c, sim_address(i), derive_seed(seed_, i), &log);
    taps.push_back(t.get());
    return sim.add_node(std::move(t));
  }
  void restart(NodeIndex i, const NodeConfig& c) {
    auto t = std::make_unique<Tap>(c, sim_address(i), derive_seed(seed_, 1000 + i), &log);
    taps[i] = t.get();
    sim.restart(i, std::move(t));
  }
  Node& node(NodeIndex i) { return taps[i]->node; }
  void join(NodeIndex i, NodeIndex seed) {
    const Address seeds[] = {sim_address(seed)};
    sim.with_node(i, [&](Machine&, Effects& fx) { (void)node(i).join(sim.now(), seeds, fx); });
  }
  void deliver(NodeIndex to, const Address& from, std::span<const std::byte> b, bool stream) {
    sim.with_node(to, [&](Machine&, Effects& fx) {
      if (stream) {
        node(to).on_stream(sim.now(), from, b, 0, fx);
      } else {
        node(to).on_datagram(sim.now(), from, b, fx);
      }
    });
  }
  // (id -> (state, incarnation)) as node i sees the group.
  std::map<NodeId, std::pair<MemberState, std::uint32_t>> view_of(NodeIndex i) {
    std::map<NodeId, std::pair<MemberState, std::uint32_t>> v;
    for (const auto& m : node(i).membership().members()) v[m.id] = {m.state, m.incarnation};
    return v;
  }

  Simulator sim;
  std::vector<Tap*> taps;
  std::vector<Tap::Packet> log;

 private:
  std::uint64_t seed_;
};

NodeConfig keyed(std::vector<Bytes> keys, std::string label = {}) {
  NodeConfig c;
  c.membership.memberlist.keys = std::move(keys);
  c.membership.memberlist.label = std::move(label);
  return c;
}

std::uint64_t count_deliveries(Cluster& c, std::uint64_t* total) {
  c.sim.set_observer([total](Time, NodeIndex, const Event& e) {
    if (e.kind == EventKind::delivered) ++*total;
  });
  return *total;
}

// Builds, joins and converges `n` nodes of config `c`; returns when all list all as alive.
void converge(Cluster& cl, const NodeConfig& c, std::uint32_t n) {
  for (std::uint32_t i = 0; i < n; ++i) cl.add(c);
  for (std::uint32_t i = 1; i < n; ++i) cl.join(i, 0);
  const bool ok = cl.sim.run_until(
      [&] {
        for (std::uint32_t i = 0; i < n; ++i) {
          if (cl.node(i).membership().member_count(MemberState::alive) != n) return false;
        }
        return true;
      },
      cl.sim.now() + Duration::seconds(30));
  ASSERT_TRUE(ok) << "the cluster did not converge";
}

TEST(SealCluster, KeyedClusterConvergesAndMulticasts) {
  Cluster cl(11);
  std::uint64_t delivered = 0;
  count_deliveries(cl, &delivered);
  converge(cl, keyed({key(1)}, "prod"), 8);
  const Bytes payload(100, std::byte(7));
  cl.sim.with_node(3, [&](Machine&, Effects& fx) {
    ASSERT_TRUE(cl.node(3).multicast(cl.sim.now(), payload, fx).has_value());
  });
  cl.sim.run_for(Duration::seconds(10));
  EXPECT_EQ(delivered, 8u);
  for (NodeIndex i = 0; i < 8; ++i) {
    const auto& s = cl.node(i).seal_stats();
    EXPECT_GT(s.sealed, 0u);
    EXPECT_GT(s.opened, 0u);
    EXPECT_EQ(s.rejected_total(), 0u) << i;
  }
}

TEST(SealCluster, WrongKeyIsNeverAdmitted) {
  Cluster cl(12);
  converge(cl, keyed({key(1)}), 5);
  const NodeIndex intruder = cl.add(keyed({key(2)}));
  cl.join(intruder, 0);
  cl.sim.run_for(Duration::seconds(60));
  for (NodeIndex i = 0; i < 5; ++i) {
    EXPECT_EQ(cl.node(i).membership().members().size(), 5u) << i;
  }
  EXPECT_EQ(cl.node(intruder).membership().members().size(), 1u);
  EXPECT_GT(cl.node(0).seal_stats().rejected[std::size_t(SealReject::wrong_key)], 0u);
  // A keyless joiner neither.
  const NodeIndex open = cl.add(NodeConfig{});
  cl.join(open, 1);
  cl.sim.run_for(Duration::seconds(30));
  EXPECT_EQ(cl.node(1).membership().members().size(), 5u);
  EXPECT_GT(cl.node(1).seal_stats().rejected[std::size_t(SealReject::plaintext_refused)], 0u);
}

void varint(Bytes& b, std::uint64_t v) {
  do {
    std::uint8_t x = v & 0x7f;
    v >>= 7;
    b.push_back(std::byte(v != 0 ? (x | 0x80) : x));
  } while (v != 0);
}
void frame(Bytes& out, std::uint8_t type, const Bytes& body) {
  out.push_back(std::byte(type));
  varint(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
}

// A plaintext native datagram declaring every member of `victims` left (dead, from == id) and
// failed (dead from another id), with incarnations well above the current ones.
Bytes forged_deaths(const std::map<NodeId, std::pair<MemberState, std::uint32_t>>& victims) {
  Bytes d{std::byte(1)};  // kNativeVersion
  for (const auto& [id, st] : victims) {
    Bytes body;
    varint(body, id);
    varint(body, st.second + 5);
    varint(body, id);  // from == id: a leave
    frame(d, 0x26, body);
  }
  return d;
}

void forge(bool keys) {
  Cluster cl(13);
  converge(cl, keys ? keyed({key(1)}) : NodeConfig{}, 5);
  std::uint64_t departures = 0;  // left/failed events anywhere while under attack
  cl.sim.set_observer([&](Time, NodeIndex, const Event& e) {
    if (e.kind == EventKind::left || e.kind == EventKind::failed) ++departures;
  });
  const auto before = cl.view_of(2);
  const Address attacker = Address::ipv4_u32(0xC0A80001, 7946);
  for (int round = 0; round < 200; ++round) {
    for (NodeIndex i = 0; i < 5; ++i) {
      cl.deliver(i, attacker, forged_deaths(cl.view_of(i)), false);
    }
    cl.sim.run_for(Duration::milliseconds(50));
  }
  cl.sim.run_for(Duration::seconds(5));
  if (keys) {
    EXPECT_EQ(departures, 0u);
    for (NodeIndex i = 0; i < 5; ++i) {
      EXPECT_EQ(cl.node(i).membership().member_count(MemberState::alive), 5u) << i;
      EXPECT_EQ(cl.node(i).seal_stats().rejected[std::size_t(SealReject::plaintext_refused)],
                200u);
    }
    EXPECT_EQ(cl.view_of(2), before);
  } else {
    // The control: without keys the same frames make members leave (each then refutes with a
    // higher incarnation, and the attacker forges again: the group flaps).
    EXPECT_GT(departures, 100u);
    EXPECT_NE(cl.view_of(2), before);
  }
}

TEST(SealCluster, ForgedPlaintextDeathsChangeNothing) { forge(true); }
TEST(SealCluster, ForgedPlaintextDeathsDoEvictMembersOfAnOpenCluster) { forge(false); }

// Captures every packet of a join, a multicast, a leave, a crash and a rejoin (with a higher
// incarnation), then replays all of it to every node, inside and past the freshness window.
TEST(SealCluster, ReplayedPacketsChangeNothing) {
  Cluster cl(14);
  std::uint64_t delivered = 0;
  std::uint64_t delivered_at_restarted = 0;  // by node 4's second life
  bool restarted = false;
  cl.sim.set_observer([&](Time, NodeIndex i, const Event& e) {
    if (e.kind != EventKind::delivered) return;
    ++delivered;
    if (i == 4 && restarted) ++delivered_at_restarted;
  });
  const NodeConfig c = keyed({key(1)});
  converge(cl, c, 6);
  cl.sim.with_node(2, [&](Machine&, Effects& fx) {
    ASSERT_TRUE(cl.node(2).multicast(cl.sim.now(), Bytes(10, std::byte(1)), fx).has_value());
  });
  cl.sim.run_for(Duration::seconds(5));
  ASSERT_EQ(delivered, 6u);
  cl.sim.with_node(5, [&](Machine&, Effects& fx) { cl.node(5).leave(cl.sim.now(), fx); });
  cl.sim.run_for(Duration::seconds(5));
  cl.sim.crash(4);
  cl.sim.run_for(Duration::seconds(20));
  ASSERT_EQ(cl.node(0).membership().member_count(MemberState::failed), 1u);
  cl.restart(4, c);
  restarted = true;
  cl.join(4, 0);
  cl.sim.run_for(Duration::seconds(15));
  ASSERT_EQ(cl.node(0).membership().member_count(MemberState::alive), 5u);
  ASSERT_EQ(cl.node(0).membership().member_count(MemberState::left), 1u);
  for (Tap* t : cl.taps) t->stop_recording();
  const std::vector<Tap::Packet> captured = std::move(cl.log);
  ASSERT_GT(captured.size(), 100u);

  std::uint64_t restarted_seen = delivered_at_restarted;
  for (Duration later : {Duration::seconds(1), Duration::seconds(120)}) {
    cl.sim.run_for(later);
    std::vector<std::map<NodeId, std::pair<MemberState, std::uint32_t>>> before;
    for (NodeIndex i = 0; i < 5; ++i) before.push_back(cl.view_of(i));
    const std::uint64_t delivered_before = delivered;
    for (NodeIndex i = 0; i < 5; ++i) {
      for (const auto& p : captured) cl.deliver(i, p.from, p.bytes, p.stream);
    }
    cl.sim.run_for(Duration::seconds(10));
    for (NodeIndex i = 0; i < 5; ++i) {
      const auto after = cl.view_of(i);
      for (const auto& [id, st] : before[i]) EXPECT_EQ(after.at(id), st) << i;
      // Nothing appears either, not even at the restarted node 4, which never saw the first
      // run's packets: they were sealed before it started (SealConfig::start_slack), so they
      // are stale to it although they are inside max_age.
      for (const auto& [id, st] : after) EXPECT_EQ(before[i].count(id), 1u) << i << ' ' << id;
    }
    // Nor is anything delivered again: node 4's second life never had the multicast, but the
    // packets carrying it were sealed before it started.
    EXPECT_EQ(delivered, delivered_before);
    EXPECT_EQ(delivered_at_restarted, restarted_seen);
    restarted_seen = delivered_at_restarted;
  }
  const auto& s = cl.node(0).seal_stats();
  EXPECT_GT(s.rejected[std::size_t(SealReject::replayed)], 0u);
  EXPECT_GT(s.rejected[std::size_t(SealReject::stale)], 0u);
}

// A multicast's sealed packets replayed to members they were not sent to, after the multicast
// store's default retention (120 periods: 12 s here) but inside the seal's window (max_age
// 60 s): each member's tag cache holds only what it accepted itself, so for the copies sent to
// others only the multicast's memory of the id stops a second delivery (which the receiver
// would then spread to everyone). A keyed Node keeps ids for 2 x max_age. Found by
// tests/integration/netns_hostile.sh.
TEST(SealCluster, ReplayToOtherMembersOfAForgottenMulticastDeliversNothing) {
  Cluster cl(15);
  std::uint64_t delivered = 0;
  count_deliveries(cl, &delivered);
  NodeConfig c = keyed({key(1)});
  c.multicast.period = Duration::milliseconds(100);
  converge(cl, c, 4);
  cl.log.clear();
  cl.sim.with_node(0, [&](Machine&, Effects& fx) {
    ASSERT_TRUE(cl.node(0).multicast(cl.sim.now(), Bytes(10, std::byte(3)), fx).has_value());
  });
  cl.sim.run_for(Duration::seconds(5));
  ASSERT_EQ(delivered, 4u);
  for (Tap* t : cl.taps) t->stop_recording();
  const std::vector<Tap::Packet> captured = std::move(cl.log);
  cl.sim.run_for(Duration::seconds(25));  // 30 s on: past 120 periods, inside max_age
  for (NodeIndex i = 0; i < 4; ++i) {
    for (const auto& p : captured) cl.deliver(i, p.from, p.bytes, p.stream);
  }
  cl.sim.run_for(Duration::seconds(5));
  EXPECT_EQ(delivered, 4u);
  std::uint64_t replayed = 0;
  for (NodeIndex i = 0; i < 4; ++i) {
    replayed += cl.node(i).seal_stats().rejected[std::size_t(SealReject::replayed)];
  }
  EXPECT_GT(replayed, 0u);  // the copies each member had accepted itself
}

// docs/security.md's fallback argument: past the tag cache (its size exceeded, here 1 tag), a
// replay inside max_age passes the seal and only the components' own rules stand. They hold:
// the join's alive and push-pull, the multicast and the leave, replayed to every remaining
// member 5 s later, change no state or incarnation, add nobody and deliver nothing again.
TEST(SealCluster, ReplaysPastAnOverflowingTagCacheChangeNothing) {
  Cluster cl(16);
  std::uint64_t delivered = 0;
  count_deliveries(cl, &delivered);
  NodeConfig c = keyed({key(1)});
  c.seal.replay_cache_max = 1;
  cl.log.clear();
  converge(cl, c, 5);
  cl.sim.with_node(1, [&](Machine&, Effects& fx) {
    ASSERT_TRUE(cl.node(1).multicast(cl.sim.now(), Bytes(10, std::byte(4)), fx).has_value());
  });
  cl.sim.run_for(Duration::seconds(5));
  ASSERT_EQ(delivered, 5u);
  cl.sim.with_node(4, [&](Machine&, Effects& fx) { cl.node(4).leave(cl.sim.now(), fx); });
  cl.sim.run_for(Duration::seconds(5));
  cl.sim.crash(4);
  for (Tap* t : cl.taps) t->stop_recording();
  const std::vector<Tap::Packet> captured = std::move(cl.log);
  ASSERT_GT(captured.size(), 50u);
  cl.sim.run_for(Duration::seconds(5));
  std::vector<std::map<NodeId, std::pair<MemberState, std::uint32_t>>> before;
  for (NodeIndex i = 0; i < 4; ++i) before.push_back(cl.view_of(i));
  ASSERT_EQ(cl.node(0).membership().member_count(MemberState::left), 1u);
  std::uint64_t opened_before = 0;
  for (NodeIndex i = 0; i < 4; ++i) opened_before += cl.node(i).seal_stats().opened;
  for (NodeIndex i = 0; i < 4; ++i) {
    for (const auto& p : captured) cl.deliver(i, p.from, p.bytes, p.stream);
  }
  cl.sim.run_for(Duration::seconds(10));
  std::uint64_t opened_after = 0;
  for (NodeIndex i = 0; i < 4; ++i) {
    EXPECT_EQ(cl.view_of(i), before[i]) << i;
    opened_after += cl.node(i).seal_stats().opened;
  }
  // The replays did pass the seal: each was delivered to four members, and nearly all opened.
  EXPECT_GT(opened_after - opened_before, 3 * captured.size());
  EXPECT_EQ(delivered, 5u);
}

// memberlist's transition, three rolling steps: each step's cluster is half the previous
// configuration, half the next, and must converge.
NodeConfig transition(bool keyed_node, bool verify_incoming, bool verify_outgoing) {
  NodeConfig c = keyed_node ? keyed({key(1)}) : NodeConfig{};
  c.membership.memberlist.gossip_verify_incoming = verify_incoming;
  c.membership.memberlist.gossip_verify_outgoing = verify_outgoing;
  return c;
}

TEST(SealCluster, TransitionFromOpenToSealedInThreeRollingSteps) {
  const NodeConfig steps[] = {transition(false, true, true), transition(true, false, false),
                              transition(true, false, true), transition(true, true, true)};
  for (int step = 0; step < 3; ++step) {
    SCOPED_TRACE(step);
    Cluster cl(30 + std::uint64_t(step));
    for (NodeIndex i = 0; i < 6; ++i) cl.add(i % 2 == 0 ? steps[step] : steps[step + 1]);
    for (NodeIndex i = 1; i < 6; ++i) cl.join(i, 0);
    const bool ok = cl.sim.run_until(
        [&] {
          for (NodeIndex i = 0; i < 6; ++i) {
            if (cl.node(i).membership().member_count(MemberState::alive) != 6) return false;
          }
          return true;
        },
        cl.sim.now() + Duration::seconds(30));
    EXPECT_TRUE(ok);
    cl.sim.run_for(Duration::seconds(40));  // push-pulls (streams) included
    for (NodeIndex i = 0; i < 6; ++i) {
      EXPECT_EQ(cl.node(i).membership().member_count(MemberState::alive), 6u) << i;
      EXPECT_EQ(cl.node(i).seal_stats().rejected_total(), 0u) << i;
    }
  }
}

std::uint64_t run_hash(std::uint64_t seed, const NodeConfig& c) {
  Cluster cl(seed);
  converge(cl, c, 10);
  cl.sim.with_node(1, [&](Machine&, Effects& fx) {
    (void)cl.node(1).multicast(cl.sim.now(), Bytes(10, std::byte(1)), fx);
  });
  cl.sim.run_for(Duration::seconds(20));
  return cl.sim.delivery_hash();
}

TEST(SealCluster, SameSeedSameRunWithEncryption) {
  const NodeConfig c = keyed({key(1)}, "prod");
  EXPECT_EQ(run_hash(21, c), run_hash(21, c));
  EXPECT_NE(run_hash(21, c), run_hash(22, c));
}

}  // namespace
}  // namespace grapevine::sim
