// The nodes' clock under a stalled loop (RuntimeOptions::turn_time_max, src/io/runtime.cc): with
// thousands of nodes in one process a loop turn can take seconds, and a suspicion's wall-clock
// timeout then expires while its refutation waits turns to spread (docs/performance.md, "Toward
// 10,000 nodes": 337,801 false failures at 5,000). With turn_time_max the nodes' clock advances
// at most that much per turn, so a stalled process stretches its own timeouts. Real sockets on
// 127.0.0.1, kernel-picked ports; the stall is a posted task that sleeps each turn.
#include <chrono>
#include <thread>

#include "live_cluster.h"

namespace grapevine::testing {
namespace {

constexpr Duration kTurn = Duration::milliseconds(100);  // each stalled turn sleeps this long

struct Pair {
  explicit Pair(Duration turn_time_max) : rt(options(turn_time_max)) {
    NodeCallbacks cb;
    cb.on_member_event = [this](const Event& e) {
      if (e.kind == EventKind::failed && e.subject_id == b_id) ++a_saw_b_failed;
    };
    a = *rt.add_node(fast_local_config(), Address::ipv4(127, 0, 0, 1, 0), cb);
    b = *rt.add_node(fast_local_config(), Address::ipv4(127, 0, 0, 1, 0), {});
    b_id = node_id_of(b->address());
    const Address seed = a->address();
    EXPECT_TRUE(b->join(std::span(&seed, 1)));
  }
  static RuntimeOptions options(Duration turn_time_max) {
    RuntimeOptions o;
    o.turn_time_max = turn_time_max;
    return o;
  }
  // Turns the loop in slices until `done` or `d` of wall time has passed.
  bool run_until(const std::function<bool()>& done, Duration d) {
    const Time end = Runtime::now() + d;
    while (!done() && Runtime::now() < end) rt.run_for(Duration::milliseconds(20));
    return done();
  }
  // Every turn until `until` sleeps kTurn: a process short of CPU.
  void stall_until(Time until) {
    rt.post([this, until] {
      if (Runtime::now() >= until) return;
      std::this_thread::sleep_for(std::chrono::nanoseconds(kTurn.ns()));
      stall_until(until);
    });
  }
  bool joined() const {
    return a->membership().member_count(MemberState::alive) == 2 &&
           b->membership().member_count(MemberState::alive) == 2;
  }

  Runtime rt;
  NodeHandle* a = nullptr;
  NodeHandle* b = nullptr;
  NodeId b_id = 0;
  int a_saw_b_failed = 0;
};

// Lifeguard, local timings / 4: probe 250 ms, suspicion timeout 750 ms with two members, so a
// crash is failed ~1 s after it on a loop that keeps up. Turns of 100 ms with the nodes' clock
// capped at 5 ms a turn: 2 s of stalled wall time are ~0.1 s of the nodes' time, too little to
// suspect and fail; once the loop keeps up again the crash is failed as usual.
TEST(RuntimeStallClock, StalledTurnsStretchTheNodesTimeouts) {
  Pair p(Duration::milliseconds(5));
  ASSERT_TRUE(p.run_until([&] { return p.joined(); }, Duration::seconds(5)));
  const Duration before = p.rt.withheld();
  p.b->crash();
  p.stall_until(Runtime::now() + Duration::seconds(2));
  p.rt.run_for(Duration::seconds(2));
  EXPECT_EQ(p.a_saw_b_failed, 0) << "a stalled process failed a member on wall-clock time";
  // ~19 turns of 100 ms, each withholding all but 5 ms (fewer turns on a slow machine: each
  // then withholds more).
  EXPECT_GE((p.rt.withheld() - before).to_seconds(), 1.0);
  EXPECT_TRUE(p.run_until([&] { return p.a_saw_b_failed > 0; }, Duration::seconds(10)))
      << "timeouts stretch, they do not vanish";
}

// The same stall without the cap (the default, one node per process): the nodes see the wall
// clock, so the crash is failed within the stall.
TEST(RuntimeStallClock, WithoutTheCapTheNodesSeeTheWallClock) {
  Pair p(Duration::zero());
  ASSERT_TRUE(p.run_until([&] { return p.joined(); }, Duration::seconds(5)));
  p.b->crash();
  p.stall_until(Runtime::now() + Duration::seconds(6));
  EXPECT_TRUE(p.run_until([&] { return p.a_saw_b_failed > 0; }, Duration::seconds(6)));
  EXPECT_EQ(p.rt.withheld(), Duration::zero());
}

}  // namespace
}  // namespace grapevine::testing
