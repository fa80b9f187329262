// The driver contract on real sockets: callbacks call back into their own node (join, multicast,
// members, force_leave) and the runtime delivers the events of those calls after the callback
// returns, never recursively, with payloads intact; and Runtime::remove_node, also from a node's
// own callback. Meant to run under ASan (the CI's first pass): a callback that invalidated state
// a machine still held would show there.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "live_cluster.h"

namespace grapevine::testing {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

struct Reentrant {
  Runtime rt;
  std::vector<NodeHandle*> nodes;
  std::vector<bool> in_callback;
  std::vector<std::map<MessageId, std::string>> delivered;
  std::vector<std::uint32_t> duplicates, recursions, joined_seen, bad_members;

  explicit Reentrant(std::size_t n, const NodeConfig& base)
      : in_callback(n), delivered(n), duplicates(n), recursions(n), joined_seen(n),
        bad_members(n) {
    for (std::size_t i = 0; i < n; ++i) {
      NodeConfig c = base;
      c.membership.name = LiveCluster::name(i);
      NodeCallbacks cb;
      cb.on_member_event = [this, i](const Event& e) { on_event(i, e); };
      cb.on_delivery = [this, i](const MessageId& id, std::span<const std::byte> p,
                                 std::uint32_t) { on_delivery(i, id, p); };
      auto h = rt.add_node(c, *Address::parse("127.0.0.1:0"), std::move(cb));
      EXPECT_TRUE(h.has_value());
      nodes.push_back(h ? *h : nullptr);
    }
  }

  // Each callback checks it is not nested in another of the same node.
  struct Scope {
    Reentrant& r;
    std::size_t i;
    Scope(Reentrant& rr, std::size_t ii) : r(rr), i(ii) {
      if (r.in_callback[i]) ++r.recursions[i];
      r.in_callback[i] = true;
    }
    ~Scope() { r.in_callback[i] = false; }
  };

  void on_event(std::size_t i, const Event& e) {
    Scope s(*this, i);
    // The member the event is about must be in the list we read from inside the callback.
    bool found = false;
    for (const MemberInfo& m : nodes[i]->members()) found = found || m.id == e.subject_id;
    if (!found || std::string(e.subject_name).empty()) ++bad_members[i];
    EXPECT_FALSE(nodes[i]->force_leave("nobody-by-that-name").has_value());
    if (e.kind == EventKind::joined) {
      // Join again through the newcomer: more members, more events, from inside a callback.
      ++joined_seen[i];
      const Address a = e.subject;
      (void)nodes[i]->join(std::span(&a, 1));
    } else if (e.kind == EventKind::left) {
      // Greet the group about the leaver, from inside the membership callback.
      (void)nodes[i]->multicast(bytes_of("hi from " + LiveCluster::name(i) + " about " +
                                         std::string(e.subject_name)));
    }
  }

  void on_delivery(std::size_t i, const MessageId& id, std::span<const std::byte> p) {
    Scope s(*this, i);
    std::string text(reinterpret_cast<const char*>(p.data()), p.size());
    if (!delivered[i].emplace(id, text).second) ++duplicates[i];
    // Answer every greeting once, from inside the delivery (the leaver stays quiet).
    if (text.rfind("hi ", 0) == 0 && i + 1 != nodes.size()) {
      (void)nodes[i]->multicast(bytes_of("re: " + text));
    }
  }
};

bool converged(Reentrant& r, const std::vector<std::size_t>& live) {
  for (std::size_t i : live) {
    if (r.nodes[i]->membership().member_count(MemberState::alive) != live.size()) return false;
  }
  return true;
}

template <class Done>
bool run_until(Runtime& rt, Done&& done, Duration timeout) {
  const Time t0 = Runtime::now();
  while (!done()) {
    if (Runtime::now() - t0 >= timeout) return false;
    rt.run_for(Duration::milliseconds(20));
  }
  return true;
}

TEST(RuntimeContract, CallbacksCallBackIntoTheirNodeAndEverythingStaysConsistent) {
  const NodeConfig config = fast_local_config();
  constexpr std::size_t kN = 10;
  Reentrant r(kN, config);
  const Address seed = r.nodes[0]->address();
  for (std::size_t i = 1; i < kN; ++i) ASSERT_TRUE(r.nodes[i]->join(std::span(&seed, 1)));
  std::vector<std::size_t> all;
  for (std::size_t i = 0; i < kN; ++i) all.push_back(i);
  ASSERT_TRUE(run_until(r.rt, [&] { return converged(r, all); },
                        convergence_bound(config.membership, kN)));
  // The last node leaves: every other one greets the group from its `left` callback, and
  // answers every greeting from its delivery callback.
  r.nodes[kN - 1]->leave();
  constexpr std::size_t kStaying = kN - 1;
  constexpr std::size_t kExpected = kStaying + kStaying * kStaying;  // greetings and answers
  auto everyone_has_everything = [&] {
    for (std::size_t i = 0; i < kStaying; ++i) {
      if (r.delivered[i].size() != kExpected) return false;
    }
    return true;
  };
  EXPECT_TRUE(run_until(r.rt, everyone_has_everything,
                        spread_bound(config.membership, kN) +
                            multicast_bound(config.multicast, kN) * 2));
  std::size_t greetings = 0, answers = 0;
  for (const auto& [id, text] : r.delivered[0]) {
    greetings += text.rfind("hi from n", 0) == 0;
    answers += text.rfind("re: hi from n", 0) == 0;
  }
  EXPECT_EQ(greetings, kStaying);
  EXPECT_EQ(answers, kStaying * kStaying);
  for (std::size_t i = 0; i < kN; ++i) {
    EXPECT_GT(r.joined_seen[i], 0u) << i;
    EXPECT_EQ(r.recursions[i], 0u) << "a callback ran inside another, node " << i;
    EXPECT_EQ(r.duplicates[i], 0u) << i;
    EXPECT_EQ(r.bad_members[i], 0u) << i;
    if (i < kStaying) {
      EXPECT_EQ(r.delivered[i], r.delivered[0]) << "payloads differ at node " << i;
    }
  }
}

TEST(RuntimeContract, RemoveNodeStopsItAndTheOthersCarryOn) {
  const NodeConfig config = fast_local_config();
  constexpr std::size_t kN = 8;
  Runtime rt;
  std::vector<NodeHandle*> nodes(kN);
  std::vector<std::uint32_t> left_seen(kN);
  for (std::size_t i = 0; i < kN; ++i) {
    NodeConfig c = config;
    c.membership.name = LiveCluster::name(i);
    NodeCallbacks cb;
    cb.on_member_event = [&, i](const Event& e) {
      if (e.kind != EventKind::left) return;
      ++left_seen[i];
      // Node 5 removes itself from inside its own callback when it sees node 7 leave.
      if (i == 5 && e.subject_name == LiveCluster::name(7) && nodes[5] != nullptr) {
        rt.remove_node(nodes[5]);
        nodes[5] = nullptr;
      }
    };
    auto h = rt.add_node(c, *Address::parse("127.0.0.1:0"), std::move(cb));
    ASSERT_TRUE(h.has_value());
    nodes[i] = *h;
  }
  const Address seed = nodes[0]->address();
  for (std::size_t i = 1; i < kN; ++i) ASSERT_TRUE(nodes[i]->join(std::span(&seed, 1)));
  auto alive_everywhere = [&](std::size_t count) {
    for (auto* n : nodes) {
      if (n != nullptr && n->membership().member_count(MemberState::alive) != count) return false;
    }
    return true;
  };
  ASSERT_TRUE(run_until(rt, [&] { return alive_everywhere(kN); },
                        convergence_bound(config.membership, kN)));
  nodes[7]->leave();
  ASSERT_TRUE(run_until(rt, [&] { return nodes[5] == nullptr; },
                        spread_bound(config.membership, kN)));
  rt.remove_node(nodes[7]);
  nodes[7] = nullptr;
  EXPECT_EQ(rt.node_count(), kN - 2);
  // The others see 7 left and 5 failed (it vanished without a word), and keep running.
  auto settled = [&] {
    for (std::size_t i = 0; i < 5; ++i) {
      if (nodes[i]->membership().member_count(MemberState::left) != 1 ||
          nodes[i]->membership().member_count(MemberState::failed) != 1) {
        return false;
      }
    }
    return true;
  };
  EXPECT_TRUE(run_until(rt, settled, failure_detection_bound(config.membership, kN)));
  EXPECT_TRUE(nodes[6]->running());
}

}  // namespace
}  // namespace grapevine::testing
