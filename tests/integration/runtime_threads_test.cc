// RuntimeOptions::threads (src/io/runtime_loops.cc): the nodes spread over several event loops,
// each on its own thread. Real sockets on loopback. What must hold: the nodes of different loops
// meet through their sockets as nodes of one loop do (join, gossip, multicast, failure
// detection); their callbacks really run on different threads; with shared sockets each loop
// has its own port; posted tasks run with every loop paused; stop() ends run().
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "live_cluster.h"

namespace grapevine::testing {
namespace {

struct ThreadedGroup {
  ThreadedGroup(std::size_t n, const RuntimeOptions& o, const std::function<Address(std::size_t)>& at)
      : rt(o), failed_seen(n, 0), delivered(n, 0) {
    const NodeConfig base = fast_local_config();
    for (std::size_t i = 0; i < n; ++i) {
      NodeConfig c = base;
      c.membership.name = "t" + std::to_string(i);
      NodeCallbacks cb;
      cb.on_member_event = [this, i](const Event& e) {
        std::lock_guard<std::mutex> lock(mu);
        callback_threads.insert(std::this_thread::get_id());
        if (e.kind == EventKind::failed) ++failed_seen[i];
      };
      cb.on_delivery = [this, i](const MessageId&, std::span<const std::byte>, std::uint32_t) {
        std::lock_guard<std::mutex> lock(mu);
        ++delivered[i];
      };
      auto h = rt.add_node(c, at(i), std::move(cb));
      EXPECT_TRUE(h) << "add_node " << i << ": " << (h ? "" : h.error().detail);
      nodes.push_back(h ? *h : nullptr);
    }
  }
  // The predicate runs between run_for() calls: no loop runs then.
  bool run_until(const std::function<bool()>& done, Duration timeout) {
    const Time end = Runtime::now() + timeout;
    while (!done() && Runtime::now() < end) rt.run_for(Duration::milliseconds(10));
    return done();
  }
  bool all_list_alive(std::size_t count) const {
    for (auto* n : nodes) {
      if (n->running() && n->membership().member_count(MemberState::alive) != count) return false;
    }
    return true;
  }
  void join_all() {
    const Address seed = nodes[0]->address();
    for (std::size_t i = 1; i < nodes.size(); ++i) EXPECT_TRUE(nodes[i]->join(std::span(&seed, 1)));
  }

  Runtime rt;
  std::vector<NodeHandle*> nodes;
  std::mutex mu;  // the callbacks of different loops run at once
  std::vector<int> failed_seen, delivered;
  std::set<std::thread::id> callback_threads;
};

RuntimeOptions two_loops() {
  RuntimeOptions o;
  o.threads = 2;
  return o;
}

Address any_port(std::size_t) { return *Address::parse("127.0.0.1:0"); }

TEST(RuntimeThreads, NodesOnTwoLoopsJoinGossipAndDetectACrash) {
  const NodeConfig base = fast_local_config();
  ThreadedGroup g(6, two_loops(), any_port);
  ASSERT_EQ(g.rt.node_count(), 6u);
  g.join_all();
  ASSERT_TRUE(g.run_until([&] { return g.all_list_alive(6); },
                          convergence_bound(base.membership, 6)));
  {
    std::lock_guard<std::mutex> lock(g.mu);
    EXPECT_EQ(g.callback_threads.size(), 2u) << "each loop's callbacks on its own thread";
  }

  const std::string text = "across loops";
  ASSERT_TRUE(g.nodes[1]->multicast(std::as_bytes(std::span(text.data(), text.size()))));
  ASSERT_TRUE(g.run_until([&] {
    return std::all_of(g.delivered.begin(), g.delivered.end(), [](int d) { return d >= 1; });
  }, multicast_bound(base.multicast, 6)));

  g.nodes[4]->crash();  // on loop 0 (nodes are dealt round-robin): seen failed by both loops
  ASSERT_TRUE(g.run_until([&] {
    for (std::size_t i : {0, 1, 2, 3, 5}) {
      if (g.failed_seen[i] == 0) return false;
    }
    return true;
  }, failure_detection_bound(base.membership, 6)));
  g.rt.remove_node(g.nodes[4]);
  EXPECT_EQ(g.rt.node_count(), 5u);
}

// Shared sockets: loop k's nodes on loop k's port, so the nodes alternate between two ports.
TEST(RuntimeThreads, SharedSocketsGiveEachLoopItsOwnPort) {
  RuntimeOptions o = two_loops();
  o.shared_sockets = true;
  o.shared_udp_sockets = 2;
  const auto at = [](std::size_t i) { return Address::ipv4(127, 0, 98, std::uint8_t(1 + i), 0); };
  for (std::size_t i = 0; i < 4; ++i) o.allowed_cidrs.push_back(Cidr{at(i), 32});
  ThreadedGroup g(4, o, at);
  EXPECT_EQ(g.nodes[0]->address().port, g.nodes[2]->address().port);
  EXPECT_EQ(g.nodes[1]->address().port, g.nodes[3]->address().port);
  EXPECT_NE(g.nodes[0]->address().port, g.nodes[1]->address().port);
  g.join_all();
  ASSERT_TRUE(g.run_until([&] { return g.all_list_alive(4); },
                          convergence_bound(fast_local_config().membership, 4)));
  for (auto* n : g.nodes) {
    EXPECT_EQ(n->io_stats().datagrams_denied + n->io_stats().streams_denied, 0u)
        << "a datagram or stream left from an address not its node's";
  }
}

// A task posted from another thread runs while no loop does (it reads every node, on both
// loops) and its stop() ends run(); a stop() before run() makes run() return at once.
TEST(RuntimeThreads, PostedTasksRunWithTheLoopsPausedAndStopEndsRun) {
  ThreadedGroup g(4, two_loops(), any_port);
  g.join_all();
  std::atomic<int> ran{0};
  std::size_t listed = 0;
  std::thread poster([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    g.rt.post([&] {
      for (auto* n : g.nodes) listed += n->membership().member_count(MemberState::alive);
      ++ran;
      g.rt.stop();
    });
  });
  const Time t0 = Runtime::now();
  g.rt.run();  // returns only through the posted task's stop()
  poster.join();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_GE(listed, 4u);
  EXPECT_LT(Runtime::now() - t0, Duration::seconds(10));

  g.rt.stop();
  const Time t1 = Runtime::now();
  g.rt.run_for(Duration::seconds(5));
  EXPECT_LT(Runtime::now() - t1, Duration::seconds(1)) << "a stop() before run() ends it at once";
}

}  // namespace
}  // namespace grapevine::testing
